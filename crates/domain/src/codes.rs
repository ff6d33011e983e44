//! Standard status codes of a recipient (API.md §5): the i32 values of the wire, their names
//! and descriptions.

pub const QUEUED: i32 = 1000;
pub const QUEUE_FAILURE: i32 = 1500;
pub const VALIDATION_ERROR: i32 = 1501;
pub const DELIVERED_TO_AGGREGATOR: i32 = 2000;
pub const FAILED_TO_AGGREGATOR: i32 = 2500;
pub const UNKNOWN_TO_AGGREGATOR: i32 = 2501;
pub const THROTTLED: i32 = 2600;
pub const ENROUTE: i32 = 3000;
pub const SENT_TO_CARRIER: i32 = 3001;
pub const ACCEPTED_BY_CARRIER: i32 = 3002;
pub const UNKNOWN: i32 = 3400;
pub const DELIVERED: i32 = 4000;
pub const UNDELIVERABLE: i32 = 4500;
pub const EXPIRED: i32 = 4501;
pub const DELETED: i32 = 4502;
pub const REJECTED: i32 = 4503;

/// The tracking description (and recipient note) of a recipient whose text was over 1,600
/// characters after `%%Name%%` substitution: status 1501, never sent (API.md §1).
pub const TEXT_TOO_LONG: &str = "Text too long after substitution";

/// The note of a recipient whose hand-over was interrupted by a stopped process: status 3400,
/// never resubmitted (API.md §4.6).
pub const UNKNOWN_AFTER_CRASH: &str = "Process stopped after hand-off; delivery unknown.";

/// Short name and description of a recipient's code: the code's own, except a 1501 that
/// carries a note (such as [`TEXT_TOO_LONG`]), which the note describes.
pub fn describe_recipient(code: i32, note: Option<&str>) -> (&'static str, &str) {
    match (code, note) {
        (VALIDATION_ERROR, Some(note)) => (describe(code).0, note),
        _ => describe(code),
    }
}

/// Short name and description of a standard code.
pub fn describe(code: i32) -> (&'static str, &'static str) {
    match code {
        QUEUED => ("Queued", "Queued"),
        QUEUE_FAILURE => ("Queue failure", "Queue failure"),
        VALIDATION_ERROR => ("Validation error", "Validation error"),
        DELIVERED_TO_AGGREGATOR => ("Sent", "Delivered to aggregator"),
        FAILED_TO_AGGREGATOR => ("Failed", "Failed to aggregator"),
        UNKNOWN_TO_AGGREGATOR => ("Unknown", "Unknown to aggregator"),
        THROTTLED => ("Throttled", "Throttled by aggregator"),
        ENROUTE => ("Enroute", "Enroute"),
        SENT_TO_CARRIER => ("Sent", "Sent to carrier"),
        ACCEPTED_BY_CARRIER => ("Accepted", "Accepted by carrier"),
        UNKNOWN => ("Unknown", "Unknown"),
        DELIVERED => ("Delivered", "Delivered to handset"),
        UNDELIVERABLE => ("Undeliverable", "Undeliverable"),
        EXPIRED => ("Expired", "Expired"),
        DELETED => ("Deleted", "Deleted"),
        REJECTED => ("Rejected", "Rejected"),
        _ => ("Unknown", "Unknown"),
    }
}
