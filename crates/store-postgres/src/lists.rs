//! Contact lists, their memberships and the contacts behind them (API.md §4 "Audience", §6
//! queueImport, §7): `store::list_rows`'s operations on the pool (`contact_store!`), and here the
//! statements that carry a batch as arrays (`unnest`, `= ANY`), the one-statement removal of a
//! member, and the row locks of an import. A contact is one per number per account and owns the
//! attributes; a membership is only (list, number). `lists.size` is kept in step with
//! `list_members` in the same transaction, so reading a list never counts its members.

use store::list_rows::{self, BatchStatements, ContactsWriter, Prepared, StoredContact};
use store::{Contact, Millis, StoreError, StoreResult};

use sqlx::{PgConnection, Postgres};

use crate::{attributes_to_json, db, id_key, now_millis, PgStore};

store::contact_store!(
    PgStore,
    reads: pool,
    writes: pool,
    begin: begin,
    resolve_lists: resolve_lists_in,
    upsert_members_in: list_rows::upsert_members_in::<Postgres, Contacts>,
    remove_member: remove_member_now,
    contacts_of: contacts_of_batch
);

impl PgStore {
    /// One row per given ID, in order; `id_key` is unique per account.
    async fn resolve_lists_in(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        const RESOLVE: &str =
            "SELECT l.id FROM unnest($2::text[]) WITH ORDINALITY AS j (key, ord) \
             LEFT JOIN lists l ON l.account_pk = $1 AND l.id_key = j.key \
             ORDER BY j.ord";
        list_rows::resolve_lists(&self.pool, account_id, ids, RESOLVE, Ok).await
    }

    async fn remove_member_now(
        &self,
        account_id: &str,
        list_id: &str,
        mobile_number: &str,
    ) -> StoreResult<()> {
        let changed: Option<i64> = sqlx::query_scalar(
            "WITH list AS (SELECT l.pk FROM lists l JOIN accounts a ON a.pk = l.account_pk \
                 WHERE a.id_key = $1 AND l.id_key = $2), \
             removed AS (DELETE FROM list_members m USING list \
                 WHERE m.list_pk = list.pk AND m.mobile_number = $3 RETURNING m.list_pk) \
             UPDATE lists SET size = size - 1, last_change_at = GREATEST(last_change_at, $4) \
             WHERE pk IN (SELECT list_pk FROM removed) RETURNING pk",
        )
        .bind(id_key(account_id))
        .bind(id_key(list_id))
        .bind(mobile_number)
        .bind(now_millis())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("remove member"))?;
        changed.map(|_| ()).ok_or(StoreError::NotFound)
    }

    async fn contacts_of_batch(
        &self,
        account_id: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Contact>> {
        const CONTACTS: &str = "SELECT mobile_number, subscriber_key, attributes FROM contacts \
             WHERE account_pk = $1 AND mobile_number = ANY($2) ORDER BY mobile_number";
        list_rows::contacts_of(&self.pool, account_id, numbers, CONTACTS, Ok).await
    }
}

/// PostgreSQL's contacts of an import's batch: the batch travels as arrays that `unnest` turns
/// back into rows. Attribute merging happens under the contacts' row locks, so concurrent
/// imports touching one contact merge one after the other and none is lost: every contact of the
/// batch exists (an empty one is inserted when missing) and is locked, in number order, before
/// it is read. Everything is written in number order, so two batches never wait for each other
/// in a cycle.
pub(crate) struct Contacts;

impl ContactsWriter<Postgres> for Contacts {
    type Numbers = Vec<String>;
    const STATEMENTS: BatchStatements =
        store::batch_statements!(from: "unnest($2::text[]) AS n", number: "n");

    async fn write_contacts(
        conn: &mut PgConnection,
        prepared: &mut Prepared<'_>,
        now: Millis,
    ) -> StoreResult<Vec<String>> {
        let mut numbers: Vec<String> = prepared.numbers.iter().map(|n| n.to_string()).collect();
        numbers.sort_unstable();
        let owner = &prepared.target.owner;
        let pending = &mut prepared.pending;

        sqlx::query(
            "INSERT INTO contacts (account_pk, mobile_number, attributes, created_at, updated_at) \
             SELECT $1, n, '{}', $3, $3 FROM unnest($2::text[]) AS n \
             ON CONFLICT (account_pk, mobile_number) DO NOTHING",
        )
        .bind(owner.pk)
        .bind(&numbers)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db("insert new contacts"))?;
        let stored = sqlx::query_as::<_, StoredContact>(
            "SELECT mobile_number, subscriber_key, attributes FROM contacts \
             WHERE account_pk = $1 AND mobile_number = ANY($2) ORDER BY mobile_number FOR UPDATE",
        )
        .bind(owner.pk)
        .bind(&numbers)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("lock contacts of the batch"))?;
        list_rows::merge_stored(pending, stored)?;
        let mut keys = Vec::with_capacity(numbers.len());
        let mut attributes = Vec::with_capacity(numbers.len());
        for number in &numbers {
            let entry = pending
                .get(number.as_str())
                .ok_or_else(|| StoreError::Other(format!("number {number} left the batch")))?;
            keys.push(entry.subscriber_key.clone());
            attributes.push(attributes_to_json(&entry.attributes)?);
        }
        sqlx::query(
            "UPDATE contacts SET subscriber_key = u.k, attributes = u.a, updated_at = $5 \
             FROM unnest($2::text[], $3::text[], $4::text[]) AS u (n, k, a) \
             WHERE contacts.account_pk = $1 AND contacts.mobile_number = u.n",
        )
        .bind(owner.pk)
        .bind(&numbers)
        .bind(&keys)
        .bind(&attributes)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db("update contacts"))?;

        Ok(numbers)
    }
}
