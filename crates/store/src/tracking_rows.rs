//! What both backends share about a send's status: the reads both dialects spell alike
//! (written once, with `$N` parameters) and the tracking row with its mapping to
//! [`TrackingRow`]. The aggregate counts and the waiting-recipient gauge, whose SQL differs
//! (types of `NULL` and of booleans), stay each backend's own.

use crate::{bad_value, Outcome, StoreResult, TrackingRow};

/// A page of the send's (`$1`, its pk) tracking entries, `$2` long, from offset `$3`, by number.
pub const TRACKING_PAGE: &str = "SELECT mobile_number, status_code, outcome, segments, \
     encoding, note, updated_at, \
     coalesce(text, (SELECT b.text FROM batch_texts b WHERE b.pk = text_pk)) AS text \
     FROM recipients WHERE send_pk = $1 AND expansion_suppressed = 0 \
     ORDER BY mobile_number, list_pk LIMIT $2 OFFSET $3";

/// Whether a recipient of the send `$1` (its pk) waits in the queue.
pub const RECIPIENT_WAITING: &str = concat!(
    "SELECT EXISTS (SELECT 1 FROM recipients WHERE send_pk = $1 AND state = ",
    recipient_state!(ready),
    ")"
);

/// Sends counted by state.
pub const SENDS_BY_STATE: &str = "SELECT state, count(*) FROM sends GROUP BY state";

/// The recipients being handed over, counted.
pub const RECIPIENTS_SUBMITTING: &str = concat!(
    "SELECT count(*) FROM recipients WHERE state = ",
    recipient_state!(submitting)
);

/// A tracking entry as [`TRACKING_PAGE`] reads it.
#[derive(sqlx::FromRow)]
pub struct TrackingDbRow {
    mobile_number: String,
    status_code: i32,
    outcome: Option<String>,
    segments: Option<i32>,
    encoding: Option<String>,
    note: Option<String>,
    updated_at: i64,
    text: Option<String>,
}

impl TrackingDbRow {
    pub fn into_tracking_row(self) -> StoreResult<TrackingRow> {
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(stored) => {
                Some(Outcome::parse(stored).ok_or_else(|| bad_value("recipient outcome", stored))?)
            }
        };
        Ok(TrackingRow {
            mobile_number: self.mobile_number,
            text: self.text,
            status_code: self.status_code,
            outcome,
            segments: self.segments,
            encoding: self.encoding,
            note: self.note,
            updated_at: self.updated_at,
        })
    }
}
