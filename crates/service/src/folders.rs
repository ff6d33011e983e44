//! Each account's own folders in the data directory (API.md §6): `imports/<accountId>/`, the
//! only place queueImport reads files from, and `reports/<accountId>/`, where deliveryReport
//! writes. No account reaches another's folder. `serve` creates both (mode 0700) for every
//! account at start ([`prepare`]) and whenever an account is created or looked up
//! ([`AccountFolders::ensure`]), on every node; files left directly in `imports/` are no longer
//! read, and [`prepare`] says so once.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The folders of every account under one data directory, remembering which accounts' folders
/// this process has already made sure of (at most one entry per account that exists).
#[derive(Debug)]
pub struct AccountFolders {
    data_dir: PathBuf,
    ready: Mutex<HashSet<String>>,
}

/// A folder could not be made, or the accounts could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    #[error("cannot create {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot list the accounts whose folders to create: {0}")]
    Store(#[from] store::StoreError),
}

impl AccountFolders {
    pub fn new(data_dir: &Path) -> AccountFolders {
        AccountFolders {
            data_dir: data_dir.to_path_buf(),
            ready: Mutex::new(HashSet::new()),
        }
    }

    /// `<data dir>/imports/`: only account folders belong there.
    pub fn imports_root(&self) -> PathBuf {
        self.data_dir.join("imports")
    }

    /// `<data dir>/imports/<accountId>/`: the account's import files. `account_id` is the
    /// account's stored ID (API.md §3: `[A-Za-z0-9_-]`, so it is one plain path component).
    pub fn imports(&self, account_id: &str) -> PathBuf {
        self.imports_root().join(account_id)
    }

    /// `<data dir>/reports/<accountId>/`: the account's delivery reports.
    pub fn reports(&self, account_id: &str) -> PathBuf {
        self.data_dir.join("reports").join(account_id)
    }

    /// Creates the account's two folders (mode 0700, with any missing parent) unless this
    /// process already did. An existing folder is left as it is.
    pub fn ensure(&self, account_id: &str) -> Result<(), FolderError> {
        if self.lock().contains(account_id) {
            return Ok(());
        }
        for dir in [self.imports(account_id), self.reports(account_id)] {
            create_private_dir(&dir).map_err(|source| FolderError::Create {
                path: dir.clone(),
                source,
            })?;
        }
        self.lock().insert(account_id.to_string());
        Ok(())
    }

    /// [`ensure`](Self::ensure) where a failure must not fail the request that looked the
    /// account up: it is logged (the import or report that needs the folder reports its own
    /// failure).
    pub fn ensure_or_log(&self, account_id: &str) {
        if let Err(e) = self.ensure(account_id) {
            tracing::warn!(account = %account_id, error = %e, "cannot create the account's folders");
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A directory and its missing parents, mode 0700 where the platform has modes.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// At start (`serve`, every node): the folders of every account, and one warning when files
/// lie directly in `imports/`, where nothing reads them any more.
pub async fn prepare(
    store: &dyn store::Store,
    folders: &AccountFolders,
) -> Result<(), FolderError> {
    for account in store.list_accounts().await? {
        folders.ensure(&account.id)?;
    }
    let loose = loose_import_files(&folders.imports_root());
    if loose > 0 {
        tracing::warn!(
            files = loose,
            dir = %folders.imports_root().display(),
            "files directly in the imports folder are no longer read: move each into \
             imports/<accountId>/, the folder of the account that imports it"
        );
    }
    Ok(())
}

/// How many entries of `dir` are not directories (files and links left from before accounts
/// had folders).
fn loose_import_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| !t.is_dir()))
                .count()
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ensure_creates_both_private_folders_once_and_counts_loose_files() {
        let root = tempfile::tempdir().expect("temp dir");
        let folders = AccountFolders::new(&root.path().join("data"));
        folders.ensure("Acme").expect("ensure");
        for dir in [folders.imports("Acme"), folders.reports("Acme")] {
            let meta = std::fs::metadata(&dir).expect("folder exists");
            assert!(meta.is_dir(), "{}", dir.display());
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                assert_eq!(
                    meta.permissions().mode() & 0o777,
                    0o700,
                    "{}",
                    dir.display()
                );
            }
        }
        // Remembered: a folder removed behind the process's back is not made again.
        std::fs::remove_dir(folders.reports("Acme")).expect("remove");
        folders.ensure("Acme").expect("ensure again");
        assert!(!folders.reports("Acme").exists());

        assert_eq!(loose_import_files(&folders.imports_root()), 0);
        std::fs::write(folders.imports_root().join("old.csv"), "x").expect("loose file");
        assert_eq!(loose_import_files(&folders.imports_root()), 1);
        assert_eq!(loose_import_files(&root.path().join("missing")), 0);
    }
}
