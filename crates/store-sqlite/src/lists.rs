//! Contact lists, their memberships and the contacts behind them (API.md §4 "Audience", §6
//! queueImport, §7): `store::list_rows`'s operations (`contact_store!`), reads on the readers,
//! writes on the writer, and here the statements that carry a batch as JSON (`json_each`) and
//! the removal of a member (a write transaction). A contact is one per number per account and owns
//! the attributes; a membership is only (list, number). `lists.size` is kept in step with
//! `list_members` in the same transaction, so reading a list never counts its members.

use serde::Serialize;
use sqlx::{Sqlite, SqliteConnection};
use store::list_rows::{self, BatchStatements, ContactsWriter, Prepared, StoredContact};
use store::{Contact, Millis, StoreError, StoreResult};

use crate::{account, attributes_to_json, db, now_millis, to_json, SqliteStore};

store::contact_store!(
    SqliteStore,
    reads: reader,
    writes: writer,
    begin: write,
    resolve_lists: resolve_lists_in,
    upsert_members_in: list_rows::upsert_members_in::<Sqlite, Contacts>,
    remove_member: remove_member_now,
    contacts_of: contacts_of_batch
);

impl SqliteStore {
    /// One row per given ID, in order (`key` is the array index); id_key is unique per account.
    async fn resolve_lists_in(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        const RESOLVE: &str = "SELECT l.id FROM json_each($2) AS j \
             LEFT JOIN lists l ON l.account_pk = $1 AND l.id_key = j.value \
             ORDER BY j.key";
        list_rows::resolve_lists(&self.reader, account_id, ids, RESOLVE, |keys| {
            to_json(&keys, "list IDs")
        })
        .await
    }

    async fn remove_member_now(
        &self,
        account_id: &str,
        list_id: &str,
        mobile_number: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let list_pk = list_rows::list_pk(&mut *tx, &owner, list_id).await?;
        let removed =
            sqlx::query("DELETE FROM list_members WHERE list_pk = ?1 AND mobile_number = ?2")
                .bind(list_pk)
                .bind(mobile_number)
                .execute(&mut *tx)
                .await
                .map_err(db("remove member"))?
                .rows_affected();
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        // The trait gives no `now` here: the wall clock, never moving the list's time backwards.
        sqlx::query(
            "UPDATE lists SET size = size - 1, last_change_at = max(last_change_at, ?2) WHERE pk = ?1",
        )
        .bind(list_pk)
        .bind(now_millis())
        .execute(&mut *tx)
        .await
        .map_err(db("update list size"))?;
        tx.commit().await.map_err(db("commit member removal"))
    }

    async fn contacts_of_batch(
        &self,
        account_id: &str,
        numbers: &[String],
    ) -> StoreResult<Vec<Contact>> {
        const CONTACTS: &str = "SELECT mobile_number, subscriber_key, attributes FROM contacts \
             WHERE account_pk = $1 AND mobile_number IN (SELECT value FROM json_each($2)) \
             ORDER BY mobile_number";
        list_rows::contacts_of(&self.reader, account_id, numbers, CONTACTS, |numbers| {
            to_json(numbers, "mobile numbers")
        })
        .await
    }
}

/// SQLite's contacts of an import's batch: the batch travels as one JSON parameter that
/// `json_each` turns back into rows; the stored contacts are read, merged and written back in one
/// statement (the write transaction is the lock).
pub(crate) struct Contacts;

impl ContactsWriter<Sqlite> for Contacts {
    type Numbers = String;
    const STATEMENTS: BatchStatements =
        store::batch_statements!(from: "json_each($2) AS j", number: "j.value");

    async fn write_contacts(
        conn: &mut SqliteConnection,
        prepared: &mut Prepared<'_>,
        now: Millis,
    ) -> StoreResult<String> {
        let numbers = &prepared.numbers;
        let pending = &mut prepared.pending;
        let numbers_json = to_json(numbers, "mobile numbers")?;
        let owner = &prepared.target.owner;

        // Contacts: read the stored ones of the batch, merge, write all back in one statement.
        let stored = sqlx::query_as::<_, StoredContact>(
            "SELECT mobile_number, subscriber_key, attributes FROM contacts \
             WHERE account_pk = ?1 AND mobile_number IN (SELECT value FROM json_each(?2))",
        )
        .bind(owner.pk)
        .bind(&numbers_json)
        .fetch_all(&mut *conn)
        .await
        .map_err(db("read contacts of the batch"))?;
        list_rows::merge_stored(pending, stored)?;
        let mut contacts = Vec::with_capacity(numbers.len());
        for number in numbers {
            let Some(entry) = pending.get(number) else {
                continue;
            };
            contacts.push(ContactJson {
                n: number,
                k: entry.subscriber_key.as_deref(),
                a: attributes_to_json(&entry.attributes)?,
            });
        }
        let contacts_json = to_json(&contacts, "contacts")?;
        sqlx::query(
            "INSERT INTO contacts (account_pk, mobile_number, subscriber_key, attributes, created_at, \
             updated_at) \
             SELECT ?1, json_extract(j.value, '$.n'), json_extract(j.value, '$.k'), \
             json_extract(j.value, '$.a'), ?3, ?3 FROM json_each(?2) AS j WHERE true \
             ON CONFLICT (account_pk, mobile_number) DO UPDATE SET \
             subscriber_key = excluded.subscriber_key, attributes = excluded.attributes, \
             updated_at = excluded.updated_at",
        )
        .bind(owner.pk)
        .bind(&contacts_json)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db("upsert contacts"))?;

        Ok(numbers_json)
    }
}

/// A contact as the upsert reads it from `json_each`: `{"n": mobile_number, "k": subscriber_key,
/// "a": attributes as JSON text}`.
#[derive(Serialize)]
struct ContactJson<'a> {
    n: &'a str,
    k: Option<&'a str>,
    a: String,
}
