//! Accepted sends and the idempotency keys of the send endpoints (API.md §4, §5, §7).
//! `create_send` is on the API's hot path: one statement, keyed or not. PostgreSQL commits
//! concurrent sends of many connections together on its own (group commit of the WAL), so
//! each send is its own transaction. The rows, reads and the insert's binding are shared
//! ([`store::send_rows`], with the trait's forwarding in `send_store!`); the insert's statement
//! (kept unique by the `sends_idempotency_window` exclusion constraint) and the read-back of a
//! key's send are this backend's.

use store::send_rows::{self, find_keyed};

use store::{CreatedSend, NewSend, StoreError, StoreResult};

pub(crate) use store::select_send;
pub(crate) use store::send_rows::{accepted, SendRow};

use crate::{account, id_key, PgStore};

/// A send's insert: the account resolves inside it; with an idempotency key, a send of the same
/// account, client and key less than 24 hours away violates `sends_idempotency_window` and
/// nothing is inserted.
const INSERT_SEND: &str = concat!(
    "WITH owner AS (SELECT pk, id FROM accounts WHERE id_key = $3), inserted AS ( ",
    store::insert_send_columns!(),
    "SELECT $1, $2, owner.pk, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, \
     $17, $18, $19, ",
    send_state!(New),
    ", 0, '[]', $20, $21, $22, $23, $24 FROM owner \
     ON CONFLICT ON CONSTRAINT sends_idempotency_window DO NOTHING \
     RETURNING account_pk) \
     SELECT owner.id FROM inserted JOIN owner ON owner.pk = inserted.account_pk"
);

// A page without a limit: LIMIT NULL is none.
store::send_store!(PgStore, reads: pool, unlimited: None, create_send: create_send_now);

impl PgStore {
    /// One statement. The account resolves inside it; with an idempotency key, a send of the same
    /// account, client and key less than 24 hours away violates `sends_idempotency_window` and the insert
    /// does nothing (waiting, if that send is still being inserted by another transaction, for its
    /// outcome): the key's send is then read back. A token equal to another ignoring case violates
    /// `token_key`'s uniqueness: Conflict.
    async fn create_send_now(&self, new: NewSend) -> StoreResult<CreatedSend> {
        let inserted = insert(&self.pool, &new).await?;
        if let Some(account_id) = inserted {
            if new.due_at <= new.created_at {
                self.signal.raise();
            }
            return Ok(CreatedSend::Created(accepted(new, account_id)));
        }
        existing(self, &new).await
    }
}

/// Nothing was inserted for `new`: no such account (NotFound), or its idempotency key names an
/// earlier send, which is read back.
pub(crate) async fn existing(store: &PgStore, new: &NewSend) -> StoreResult<CreatedSend> {
    let client_key = new.idempotency.as_ref().map(|i| id_key(&i.client_id));
    let key = new.idempotency.as_ref().map(|i| i.key.as_str());
    account(&store.pool, &new.account_id).await?;
    let (Some(client_key), Some(key)) = (client_key, key) else {
        return Err(StoreError::Other(
            "a send without an idempotency key was not inserted".into(),
        ));
    };
    let (send, request_hash) = find_keyed(
        &store.pool,
        &id_key(&new.account_id),
        &client_key,
        key,
        new.created_at,
    )
    .await?
    .ok_or_else(|| {
        StoreError::Other("an idempotency key conflicted with a send that is gone".into())
    })?;
    Ok(CreatedSend::Existing { send, request_hash })
}

/// The insert of `create`, on any executor (a contact send inserts inside its transaction).
/// The account ID when inserted; `None` when the account does not exist or the idempotency key
/// names an earlier send.
pub(crate) async fn insert<'e, E>(executor: E, new: &NewSend) -> StoreResult<Option<String>>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    send_rows::insert(executor, INSERT_SEND, None, new).await
}
