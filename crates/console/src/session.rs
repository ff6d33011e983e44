//! Server-side console sessions: a random cookie value names a session kept in memory (only its
//! SHA-256 is kept, like access tokens), with its CSRF token, an absolute expiry after
//! `console.session_minutes`, a one-time notice and the reports of recent CSV imports.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use subtle::ConstantTimeEq;

use api::auth::{hash_token, random_alnum};
use service::import::ImportReport;

/// Import reports kept per session (the newest ones).
const KEPT_IMPORTS: usize = 5;

/// A CSV import's outcome, shown on its list's page.
#[derive(Debug, Clone)]
pub struct StoredImport {
    pub id: u64,
    pub account_id: String,
    pub list_id: String,
    pub file_name: String,
    pub report: ImportReport,
}

struct Session {
    csrf: String,
    expires_at: i64,
    notice: Option<String>,
    imports: VecDeque<StoredImport>,
    next_import: u64,
}

/// What a request sees of its session.
#[derive(Clone)]
pub struct SessionView {
    /// The hashed cookie value: the session's key.
    pub key: String,
    pub csrf: String,
    pub expires_at: i64,
    /// A one-time notice (taken by this request).
    pub notice: Option<String>,
}

impl std::fmt::Debug for SessionView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionView")
            .field("key", &"<redacted>")
            .field("csrf", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("notice", &self.notice)
            .finish()
    }
}

/// The outcome of looking a cookie up.
pub enum Lookup {
    Valid(SessionView),
    /// The session existed and has expired (it is now forgotten).
    Expired,
    /// No cookie, or not a session this process knows.
    Unknown,
}

/// Every live session of this process.
pub struct Sessions {
    inner: Mutex<HashMap<String, Session>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            inner: Mutex::new(HashMap::new()),
        }
    }
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session; returns the cookie value (shown once, kept only hashed).
    pub fn create(&self, now: i64, lifetime_ms: i64) -> String {
        let cookie = random_alnum(43);
        let mut all = self.lock();
        all.retain(|_, s| s.expires_at > now);
        all.insert(
            hash_token(&cookie),
            Session {
                csrf: random_alnum(43),
                expires_at: now.saturating_add(lifetime_ms),
                notice: None,
                imports: VecDeque::new(),
                next_import: 1,
            },
        );
        cookie
    }

    /// Finds the session named by a cookie value, taking its notice when `take_notice`.
    pub fn lookup(&self, cookie: Option<&str>, now: i64, take_notice: bool) -> Lookup {
        let Some(cookie) = cookie else {
            return Lookup::Unknown;
        };
        let key = hash_token(cookie);
        let mut all = self.lock();
        let Some(session) = all.get_mut(&key) else {
            return Lookup::Unknown;
        };
        if session.expires_at <= now {
            all.remove(&key);
            return Lookup::Expired;
        }
        let notice = if take_notice {
            session.notice.take()
        } else {
            None
        };
        Lookup::Valid(SessionView {
            csrf: session.csrf.clone(),
            expires_at: session.expires_at,
            notice,
            key,
        })
    }

    /// True while the session with this key is live (for long-running streams).
    pub fn is_live(&self, key: &str, now: i64) -> bool {
        self.lock().get(key).is_some_and(|s| s.expires_at > now)
    }

    /// Ends a session (sign-out).
    pub fn remove(&self, key: &str) {
        self.lock().remove(key);
    }

    /// Leaves a notice for the session's next page.
    pub fn notify(&self, key: &str, notice: impl Into<String>) {
        if let Some(s) = self.lock().get_mut(key) {
            s.notice = Some(notice.into());
        }
    }

    /// Keeps an import report; returns its number.
    pub fn keep_import(
        &self,
        key: &str,
        account_id: &str,
        list_id: &str,
        file_name: &str,
        report: ImportReport,
    ) -> Option<u64> {
        let mut all = self.lock();
        let s = all.get_mut(key)?;
        let id = s.next_import;
        s.next_import += 1;
        s.imports.push_back(StoredImport {
            id,
            account_id: account_id.to_string(),
            list_id: list_id.to_string(),
            file_name: file_name.to_string(),
            report,
        });
        while s.imports.len() > KEPT_IMPORTS {
            s.imports.pop_front();
        }
        Some(id)
    }

    /// A kept import report of this session.
    pub fn import(&self, key: &str, id: u64) -> Option<StoredImport> {
        self.lock()
            .get(key)?
            .imports
            .iter()
            .find(|i| i.id == id)
            .cloned()
    }

    /// How many sessions are live (for tests and diagnostics).
    pub fn len(&self, now: i64) -> usize {
        self.lock().values().filter(|s| s.expires_at > now).count()
    }

    pub fn is_empty(&self, now: i64) -> bool {
        self.len(now) == 0
    }
}

/// Compares a CSRF token given with a form to the expected one, in constant time.
pub fn csrf_matches(given: Option<&str>, expected: &str) -> bool {
    match given {
        Some(g) if !g.is_empty() && !expected.is_empty() => {
            bool::from(g.as_bytes().ct_eq(expected.as_bytes()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_expires_after_its_lifetime_and_is_forgotten() {
        let sessions = Sessions::default();
        let cookie = sessions.create(1_000, 60_000);
        assert!(matches!(
            sessions.lookup(Some(&cookie), 60_999, false),
            Lookup::Valid(_)
        ));
        assert!(matches!(
            sessions.lookup(Some(&cookie), 61_000, false),
            Lookup::Expired
        ));
        assert!(matches!(
            sessions.lookup(Some(&cookie), 61_000, false),
            Lookup::Unknown
        ));
    }

    #[test]
    fn unknown_cookies_and_removed_sessions_are_not_sessions() {
        let sessions = Sessions::default();
        assert!(matches!(sessions.lookup(None, 0, false), Lookup::Unknown));
        assert!(matches!(
            sessions.lookup(Some("nope"), 0, false),
            Lookup::Unknown
        ));
        let cookie = sessions.create(0, 10);
        let Lookup::Valid(view) = sessions.lookup(Some(&cookie), 1, false) else {
            panic!("session expected");
        };
        sessions.remove(&view.key);
        assert!(matches!(
            sessions.lookup(Some(&cookie), 1, false),
            Lookup::Unknown
        ));
    }

    #[test]
    fn a_notice_is_shown_once() {
        let sessions = Sessions::default();
        let cookie = sessions.create(0, 1_000);
        let Lookup::Valid(view) = sessions.lookup(Some(&cookie), 1, true) else {
            panic!("session expected");
        };
        sessions.notify(&view.key, "Saved.");
        let Lookup::Valid(first) = sessions.lookup(Some(&cookie), 2, true) else {
            panic!("session expected");
        };
        assert_eq!(first.notice.as_deref(), Some("Saved."));
        let Lookup::Valid(second) = sessions.lookup(Some(&cookie), 3, true) else {
            panic!("session expected");
        };
        assert_eq!(second.notice, None);
    }

    #[test]
    fn debug_output_hides_the_session_key_and_csrf_token() {
        let sessions = Sessions::default();
        let cookie = sessions.create(0, 1_000);
        let Lookup::Valid(view) = sessions.lookup(Some(&cookie), 1, false) else {
            panic!("session expected");
        };
        let shown = format!("{view:?}");
        assert!(
            !shown.contains(&view.csrf) && !shown.contains(&view.key),
            "{shown}"
        );
    }

    #[test]
    fn csrf_needs_the_exact_token() {
        assert!(csrf_matches(Some("abc"), "abc"));
        assert!(!csrf_matches(Some("abd"), "abc"));
        assert!(!csrf_matches(Some(""), "abc"));
        assert!(!csrf_matches(None, "abc"));
        assert!(!csrf_matches(Some(""), ""));
    }

    #[test]
    fn only_the_newest_imports_are_kept() {
        let sessions = Sessions::default();
        let cookie = sessions.create(0, 1_000);
        let Lookup::Valid(view) = sessions.lookup(Some(&cookie), 1, false) else {
            panic!("session expected");
        };
        let ids: Vec<u64> = (0..7)
            .filter_map(|_| {
                sessions.keep_import(&view.key, "a", "l", "f.csv", ImportReport::default())
            })
            .collect();
        assert_eq!(ids, vec![1, 2, 3, 4, 5, 6, 7]);
        assert!(sessions.import(&view.key, 2).is_none());
        assert!(sessions.import(&view.key, 3).is_some());
        assert!(sessions.import(&view.key, 7).is_some());
    }
}
