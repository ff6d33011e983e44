//! The operations: one typed function per use case of the contract (API.md §4–§7) — accept a
//! send, report its status, queue an inbound text, manage accounts, codes, keywords, messages,
//! lists and contacts, import contacts and write delivery reports. The public API, the admin
//! API, the console and the CLI are thin adapters over them.
//! It must not know HTTP, JSON bodies or HTML: callers hand it typed requests (what they read)
//! and get typed results or one [`ServiceError`]; validation rules live in `domain`, this crate
//! gathers the facts they need from the store.

pub mod admin;
pub mod credentials;
mod error;
pub mod folders;
pub mod import;
mod import_send;
mod inbound;
mod input;
mod jobs;
mod sends;
mod sms_messages;
mod transactional;

use std::sync::Arc;

use domain::clock::Clock;
use store::Store;

pub use error::{ServiceError, ServiceResult};
pub use import_send::{ImportSendRequest, ImportSendStatus};
pub use inbound::{
    KeywordRequest, KeywordToDelete, QueuedMo, SubscriptionsFound, SubscriptionsRequest,
};
pub use input::Field;
pub use jobs::ImportRequest;
pub use sends::{describe, IdempotentRequest, Page, SendReport};
pub use transactional::{TxMessageStatus, TxResponse, TxState};

/// Who asks for an operation of `/sms/v1` (API.md §2): the API client, the account it acts in
/// and its scopes. The console acts as the client [`CONSOLE_CLIENT`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub client_id: String,
    pub account_id: String,
    pub scopes: Vec<String>,
}

/// Scopes a client can hold, in the order `/v2/token` reports them (API.md §2).
pub const ALL_SCOPES: [&str; 3] = ["sms_read", "sms_send", "sms_write"];

/// The client recorded on sends started from the console (minted client IDs are 24 characters,
/// so it names no API client).
pub const CONSOLE_CLIENT: &str = "console";

/// What the operations need to know of the configuration.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Names of the configured carriers (a code names one of them).
    pub carriers: Vec<String>,
    /// `api.timestamps = "utc"`: how dates written into report files read (API.md §1).
    pub timestamps_utc: bool,
}

/// The operations over one store: cheap to clone.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    settings: Settings,
    folders: Arc<folders::AccountFolders>,
    /// The engine, for inbound texts (`queueMO`) and to wake it; absent where none runs (CLI).
    engine: Option<engine::Engine>,
    /// Woken when new work (a send) was recorded.
    waker: Arc<tokio::sync::Notify>,
}

impl Service {
    /// `data_dir` holds the accounts' import and report folders (API.md §6).
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        settings: Settings,
        data_dir: &std::path::Path,
        engine: Option<engine::Engine>,
    ) -> Service {
        let waker = engine.as_ref().map_or_else(
            || Arc::new(tokio::sync::Notify::new()),
            engine::Engine::waker,
        );
        let inner = Arc::new(Inner {
            store,
            clock,
            settings,
            folders: Arc::new(folders::AccountFolders::new(data_dir)),
            engine,
            waker,
        });
        // The engine claims imports and reports and runs them here.
        if let Some(engine) = &inner.engine {
            jobs::register(engine, &inner);
        }
        Service { inner }
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Each account's import and report folders (API.md §6).
    pub fn folders(&self) -> &folders::AccountFolders {
        &self.inner.folders
    }

    /// Woken when new work was recorded (the engine's waker when there is an engine).
    pub fn waker(&self) -> Arc<tokio::sync::Notify> {
        self.inner.waker.clone()
    }

    /// At start (`serve`, every node): every account's folders (API.md §6).
    pub async fn prepare_folders(&self) -> Result<(), folders::FolderError> {
        folders::prepare(self.store(), self.folders()).await
    }
}
