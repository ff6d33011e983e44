//! The clock the API reads (see `domain::clock`).

pub use domain::clock::{Clock, ManualClock, SystemClock};
