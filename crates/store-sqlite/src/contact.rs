//! `messageContact` sends (API.md §6): recording the explicit audience with the send and applying
//! the `Subscribe`/`Resubscribe` options at acceptance, in one write transaction, its numbers
//! travelling as JSON. The history of a send and the trait's implementation
//! (`contact_send_store!`) are shared in `store::contact_rows`.

use serde::Serialize;
use sqlx::Sqlite;
use store::contact_rows::{self, OptionStatements};
use store::{ContactAudience, CreatedSend, NewSend, StoreResult};

use crate::sends::{accepted, existing, insert_one};
use crate::{db, to_json, SqliteStore};

store::contact_send_store!(SqliteStore, reads: reader, create: record_contact_send);

impl SqliteStore {
    /// One write transaction: the send (with the idempotency rule of `create_send`), its numbers,
    /// the subscriber keys on the contacts, and the subscription options.
    async fn record_contact_send(
        &self,
        new: NewSend,
        audience: ContactAudience,
    ) -> StoreResult<CreatedSend> {
        let mut tx = self.write().await?;
        let (owner, keyword_pk) =
            contact_rows::send_target::<Sqlite>(&mut *tx, &new, &audience).await?;
        let Some(account_id) = insert_one(&mut tx, &new).await? else {
            // The idempotency key names an earlier send: nothing is written.
            drop(tx);
            return existing(&self.reader, &new).await;
        };
        let send_pk = contact_rows::new_send_pk(&mut *tx, &new.token).await?;
        let numbers: Vec<NumberRow> = audience
            .numbers
            .iter()
            .enumerate()
            .map(|(i, n)| {
                NumberRow(
                    &n.mobile_number,
                    i,
                    n.text.as_deref(),
                    n.subscriber_key.as_deref(),
                )
            })
            .collect();
        let numbers = to_json(&numbers, "contact numbers")?;
        sqlx::query(
            "INSERT INTO send_numbers (send_pk, mobile_number, position, text) \
             SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?2) AS j \
             WHERE true ON CONFLICT (send_pk, mobile_number) DO NOTHING",
        )
        .bind(send_pk)
        .bind(&numbers)
        .execute(&mut *tx)
        .await
        .map_err(db("record the numbers of a contact send"))?;
        sqlx::query(
            "INSERT INTO contacts (account_pk, mobile_number, subscriber_key, attributes, \
             created_at, updated_at) \
             SELECT ?1, j.value ->> 0, j.value ->> 3, '{}', ?3, ?3 FROM json_each(?2) AS j \
             WHERE j.value ->> 3 IS NOT NULL \
             ON CONFLICT (account_pk, mobile_number) DO UPDATE SET \
             subscriber_key = excluded.subscriber_key, updated_at = excluded.updated_at",
        )
        .bind(owner.pk)
        .bind(&numbers)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db("record subscriber keys"))?;
        if let (Some(options), Some(keyword_pk)) = (&audience.subscribe, keyword_pk) {
            contact_rows::apply_options::<Sqlite, _>(
                &mut *tx,
                &OPTIONS,
                options,
                keyword_pk,
                owner.pk,
                numbers.as_str(),
                new.created_at,
            )
            .await?;
        }
        tx.commit().await.map_err(db("commit contact send"))?;
        Ok(CreatedSend::Created(accepted(new, account_id)))
    }
}

/// The subscription options, the numbers read from the JSON of [`NumberRow`]s.
const OPTIONS: OptionStatements = store::option_statements!(
    in_batch: "IN (SELECT j.value ->> 0 FROM json_each($2) AS j)",
    select: "SELECT",
    from: "json_each($2) AS j",
    number: "j.value ->> 0",
    at: "$4"
);

/// One number of a contact send's audience, as the statements read it from `json_each`:
/// `[mobile_number, position, text, subscriber_key]`.
#[derive(Serialize)]
struct NumberRow<'a>(&'a str, usize, Option<&'a str>, Option<&'a str>);
