//! Accepted sends and the idempotency keys of the send endpoints (API.md §4, §5, §7).
//! `create_send` is on the API's hot path: one statement, keyed or not. The rows, reads and the
//! insert's binding are shared ([`store::send_rows`], with the trait's forwarding in
//! `send_store!`); the insert's statement (SQLite checks the key in it), the committer that
//! batches the writes on the single writer, and the read-back of a key's send are this backend's.

use store::send_rows::{self, find_keyed, IDEMPOTENCY_WINDOW};

use store::{CreatedSend, NewSend, StoreError, StoreResult};

use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

pub(crate) use store::select_send;
pub(crate) use store::send_rows::{accepted, SendRow};

use crate::{db, id_key, SqliteStore};

/// A send's insert: the account resolves inside it, and with an idempotency key (`$21`, `$22`)
/// nothing is inserted while the key names a send of the same client and account created after
/// `$20 - $25` (now less the window). Without a key they are NULL and NOT EXISTS holds.
const INSERT_SEND: &str = concat!(
    store::insert_send_columns!(),
    "SELECT $1, $2, a.pk, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
     $18, $19, ",
    send_state!(New),
    ", 0, '[]', $20, $21, $22, $23, $24 FROM accounts a \
     WHERE a.id_key = $3 AND NOT EXISTS (SELECT 1 FROM sends p \
     WHERE p.idempotency_client_key = $21 AND p.idempotency_key = $22 \
     AND p.account_pk = a.pk AND p.created_at > $20 - $25) \
     RETURNING (SELECT id FROM accounts WHERE pk = account_pk)"
);

/// A send waiting for the committer, and where its outcome goes.
pub(crate) type PendingSend = (NewSend, oneshot::Sender<StoreResult<CreatedSend>>);

/// Sends accepted at the same moment commit together (group commit): under load, one write
/// transaction carries many sends, so the single writer connection is not the limit.
const MAX_GROUP: usize = 128;

// A page without a limit: a negative LIMIT is none.
store::send_store!(SqliteStore, reads: reader, unlimited: Some(-1), create_send: create_send_now);

impl SqliteStore {
    /// Records a send through the committer task.
    async fn create_send_now(&self, new: NewSend) -> StoreResult<CreatedSend> {
        let (reply, outcome) = oneshot::channel();
        self.sends
            .send((new, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the send committer has stopped".into()))?;
        outcome
            .await
            .map_err(|_| StoreError::Unavailable("the send committer has stopped".into()))?
    }
}

/// The committer: takes every send waiting (up to `MAX_GROUP`), inserts them in one
/// `BEGIN IMMEDIATE` transaction, in arrival order (so a key used twice in one group names the
/// first), commits once and answers each. Ends when the store is dropped.
pub(crate) async fn committer(
    writer: SqlitePool,
    reader: SqlitePool,
    mut queue: mpsc::Receiver<PendingSend>,
) {
    while let Some(first) = queue.recv().await {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match queue.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let outcomes = match insert_group(&writer, &group).await {
            Ok(inserted) => inserted,
            // One bad row must not fail its neighbours: retry each on its own.
            Err(_) if group.len() > 1 => {
                let mut one_by_one = Vec::with_capacity(group.len());
                for pending in &group {
                    let outcome = match insert_group(&writer, std::slice::from_ref(pending)).await {
                        Ok(mut single) => single.pop().unwrap_or_else(|| {
                            Outcome::Failed(StoreError::Other("no insert outcome".into()))
                        }),
                        Err(e) => Outcome::Failed(e),
                    };
                    one_by_one.push(outcome);
                }
                one_by_one
            }
            Err(e) => vec![Outcome::Failed(e)],
        };
        for ((new, reply), outcome) in group.into_iter().zip(outcomes) {
            let answer = match outcome {
                Outcome::Failed(e) => Err(e),
                Outcome::Inserted(account_id) => {
                    Ok(CreatedSend::Created(accepted(new, account_id)))
                }
                Outcome::NotInserted => existing(&reader, &new).await,
            };
            let _ = reply.send(answer);
        }
    }
}

/// What one insert of a group did.
enum Outcome {
    Inserted(String),
    /// No such account, or the idempotency key names an earlier send.
    NotInserted,
    Failed(StoreError),
}

impl From<StoreResult<Option<String>>> for Outcome {
    fn from(r: StoreResult<Option<String>>) -> Outcome {
        match r {
            Ok(Some(account_id)) => Outcome::Inserted(account_id),
            Ok(None) => Outcome::NotInserted,
            Err(e) => Outcome::Failed(e),
        }
    }
}

/// The earlier send an idempotency key names (the insert added nothing), or NotFound.
pub(crate) async fn existing(reader: &SqlitePool, new: &NewSend) -> StoreResult<CreatedSend> {
    let Some(idem) = &new.idempotency else {
        return Err(StoreError::NotFound);
    };
    let (send, request_hash) = find_keyed(
        reader,
        &id_key(&new.account_id),
        &id_key(&idem.client_id),
        &idem.key,
        new.created_at,
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    Ok(CreatedSend::Existing { send, request_hash })
}

/// Inserts a group in one transaction; per send, the account ID when it was inserted.
async fn insert_group(writer: &SqlitePool, group: &[PendingSend]) -> StoreResult<Vec<Outcome>> {
    let mut tx = writer
        .begin_with("BEGIN IMMEDIATE")
        .await
        .map_err(db("begin write transaction"))?;
    let mut outcomes = Vec::with_capacity(group.len());
    for (new, _) in group {
        outcomes.push(Outcome::from(Ok(insert_one(&mut tx, new).await?)));
    }
    tx.commit().await.map_err(db("commit sends"))?;
    Ok(outcomes)
}

/// One send: the account resolves inside the statement, and with an idempotency key nothing is
/// inserted while the key names a send of the same client and account of the last 24 hours.
pub(crate) async fn insert_one(
    tx: &mut Transaction<'static, Sqlite>,
    new: &NewSend,
) -> StoreResult<Option<String>> {
    send_rows::insert(&mut **tx, INSERT_SEND, Some(IDEMPOTENCY_WINDOW), new).await
}
