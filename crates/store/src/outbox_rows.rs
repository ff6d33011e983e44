//! What both backends share about the outbox: the page read (written once, with `$N`
//! parameters) and its row with the mapping to [`OutboxEntry`]. The append, whose batching and
//! ordering guarantee differ (`json_each` under the single writer on SQLite, `unnest` under a
//! table lock on PostgreSQL), stays each backend's own.

use crate::{OutboxEntry, OutboxItem};

/// The outbox rows after sequence number `$1`, at most `$2`, in order.
pub const OUTBOX_PAGE: &str = "SELECT seq, carrier, source, destination, text, content_url, \
     encoding, segments, token_id, accepted_at FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2";

/// An outbox row as [`OUTBOX_PAGE`] reads it.
#[derive(sqlx::FromRow)]
pub struct OutboxRow {
    seq: i64,
    carrier: String,
    source: String,
    destination: String,
    text: String,
    content_url: Option<String>,
    encoding: String,
    segments: i32,
    token_id: Option<String>,
    accepted_at: i64,
}

impl From<OutboxRow> for OutboxEntry {
    fn from(r: OutboxRow) -> OutboxEntry {
        OutboxEntry {
            seq: r.seq,
            item: OutboxItem {
                carrier: r.carrier,
                from: r.source,
                to: r.destination,
                text: r.text,
                content_url: r.content_url,
                encoding: r.encoding,
                segments: r.segments,
                token_id: r.token_id,
                accepted_at: r.accepted_at,
            },
        }
    }
}
