//! The `tidings` binary's library half: configuration, wiring, graceful shutdown and the
//! operator CLI. It holds no business logic: the CLI drives the admin API in-process, so both
//! share one set of rules and one JSON shape.

pub mod cli;
pub mod config;
pub mod metrics;
pub mod server;
pub mod smsc;
pub mod startup;
pub mod transfer;

pub use config::Config;
pub use startup::{Application, EngineMode};
