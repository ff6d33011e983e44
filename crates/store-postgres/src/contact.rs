//! `messageContact` sends (API.md §6): recording the explicit audience with the send and applying
//! the `Subscribe`/`Resubscribe` options at acceptance, its numbers travelling as arrays. The
//! history of a send and the trait's implementation (`contact_send_store!`) are shared in
//! `store::contact_rows`.

use store::contact_rows::{self, OptionStatements};
use store::{ContactAudience, CreatedSend, NewSend, StoreResult};

use crate::sends::{accepted, existing, insert};
use sqlx::{Postgres, Transaction};

use crate::{db, settle, Ending, PgStore};

store::contact_send_store!(PgStore, reads: pool, create: record_contact_send);

impl PgStore {
    /// One transaction: the send (with the idempotency rule of `create_send`), its numbers, the
    /// subscriber keys on the contacts, and the subscription options.
    async fn record_contact_send(
        &self,
        new: NewSend,
        audience: ContactAudience,
    ) -> StoreResult<CreatedSend> {
        let mut tx = self.begin().await?;
        let work = create_in(&mut tx, &new, &audience).await;
        let Some(account_id) = settle(tx, work, "commit contact send").await? else {
            // The idempotency key names an earlier send: nothing was written.
            return existing(self, &new).await;
        };
        if new.due_at <= new.created_at {
            self.signal.raise();
        }
        Ok(CreatedSend::Created(accepted(new, account_id)))
    }
}

/// The work of `create_contact_send`: the account ID when the send was recorded.
async fn create_in(
    tx: &mut Transaction<'static, Postgres>,
    new: &NewSend,
    audience: &ContactAudience,
) -> StoreResult<Ending<Option<String>>> {
    let (owner, keyword_pk) =
        contact_rows::send_target::<Postgres>(&mut **tx, new, audience).await?;
    let Some(account_id) = insert(&mut **tx, new).await? else {
        return Ok(Ending::Rollback(None));
    };
    let send_pk = contact_rows::new_send_pk(&mut **tx, &new.token).await?;
    let numbers: Vec<&str> = audience
        .numbers
        .iter()
        .map(|n| n.mobile_number.as_str())
        .collect();
    let positions: Vec<i32> = (0..audience.numbers.len())
        .map(|i| i32::try_from(i).unwrap_or(i32::MAX))
        .collect();
    // NULL: over 1,600 characters after substitution (API.md §1), never stored.
    let texts: Vec<Option<&str>> = audience.numbers.iter().map(|n| n.text.as_deref()).collect();
    let keys: Vec<Option<&str>> = audience
        .numbers
        .iter()
        .map(|n| n.subscriber_key.as_deref())
        .collect();
    sqlx::query(
        "INSERT INTO send_numbers (send_pk, mobile_number, position, text) \
         SELECT $1, u.number, u.position, u.text \
         FROM unnest($2::text[], $3::integer[], $4::text[]) AS u (number, position, text) \
         ON CONFLICT (send_pk, mobile_number) DO NOTHING",
    )
    .bind(send_pk)
    .bind(&numbers)
    .bind(&positions)
    .bind(&texts)
    .execute(&mut **tx)
    .await
    .map_err(db("record the numbers of a contact send"))?;
    // One row per number (a later key for a repeated number wins, as in request order).
    sqlx::query(
        "INSERT INTO contacts (account_pk, mobile_number, subscriber_key, attributes, \
         created_at, updated_at) \
         SELECT DISTINCT ON (u.number) $1, u.number, u.key, '{}', $4, $4 \
         FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (number, key, n) \
         WHERE u.key IS NOT NULL ORDER BY u.number, u.n DESC \
         ON CONFLICT (account_pk, mobile_number) DO UPDATE SET \
         subscriber_key = excluded.subscriber_key, updated_at = excluded.updated_at",
    )
    .bind(owner.pk)
    .bind(&numbers)
    .bind(&keys)
    .bind(new.created_at)
    .execute(&mut **tx)
    .await
    .map_err(db("record subscriber keys"))?;
    if let (Some(options), Some(keyword_pk)) = (&audience.subscribe, keyword_pk) {
        contact_rows::apply_options::<Postgres, _>(
            &mut **tx,
            &OPTIONS,
            options,
            keyword_pk,
            owner.pk,
            numbers.as_slice(),
            new.created_at,
        )
        .await?;
    }
    Ok(Ending::Commit(Some(account_id)))
}

/// The subscription options, the numbers read from an array.
const OPTIONS: OptionStatements = store::option_statements!(
    in_batch: "= ANY($2)",
    select: "SELECT DISTINCT",
    from: "unnest($2::text[]) AS n",
    number: "n",
    at: "$4::bigint"
);
