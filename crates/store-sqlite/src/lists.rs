//! Contact lists, their memberships and the contacts behind them (API.md §4 "Audience", §6
//! queueImport, §7). A contact is one per number per account and owns the attributes; a
//! membership is only (list, number). `lists.size` is kept in step with `list_members` in the
//! same transaction, so reading a list never counts its members.

use async_trait::async_trait;
use serde::Serialize;
use store::ContactStore;

use sqlx::{Sqlite, Transaction};
use store::{
    merge_attributes, merge_rows, Contact, ContactList, ContactRow, MemberCounts, Millis, NewList,
    StoreError, StoreResult, SubscribeTo,
};

use crate::codes::keyword_by_name;
use crate::{
    account, attributes_from_json, attributes_to_json, db, id_key, now_millis, AccountRef,
    SqliteStore,
};

#[derive(sqlx::FromRow)]
struct ListRow {
    id: String,
    name: String,
    size: i64,
    created_at: i64,
    last_change_at: i64,
}

impl ListRow {
    fn into_list(self, account_id: &str) -> ContactList {
        ContactList {
            id: self.id,
            account_id: account_id.to_string(),
            name: self.name,
            size: self.size,
            created_at: self.created_at,
            last_change_at: self.last_change_at,
        }
    }
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn create_list(&self, new: NewList) -> StoreResult<ContactList> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        sqlx::query(
            "INSERT INTO lists (account_pk, id, id_key, name, size, created_at, last_change_at) \
             VALUES (?1, ?2, ?3, ?4, 0, ?5, ?5)",
        )
        .bind(owner.pk)
        .bind(&new.id)
        .bind(id_key(&new.id))
        .bind(&new.name)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db("insert list"))?;
        tx.commit().await.map_err(db("commit list"))?;
        Ok(ContactList {
            id: new.id,
            account_id: owner.id,
            name: new.name,
            size: 0,
            created_at: new.created_at,
            last_change_at: new.created_at,
        })
    }

    async fn get_list(&self, account_id: &str, id: &str) -> StoreResult<ContactList> {
        let owner = account(&self.reader, account_id).await?;
        let row = sqlx::query_as::<_, ListRow>(
            "SELECT id, name, size, created_at, last_change_at FROM lists \
             WHERE account_pk = ?1 AND id_key = ?2",
        )
        .bind(owner.pk)
        .bind(id_key(id))
        .fetch_optional(&self.reader)
        .await
        .map_err(db("get list"))?
        .ok_or(StoreError::NotFound)?;
        Ok(row.into_list(&owner.id))
    }

    async fn list_lists(&self, account_id: &str) -> StoreResult<Vec<ContactList>> {
        let owner = account(&self.reader, account_id).await?;
        let rows = sqlx::query_as::<_, ListRow>(
            "SELECT id, name, size, created_at, last_change_at FROM lists \
             WHERE account_pk = ?1 ORDER BY pk",
        )
        .bind(owner.pk)
        .fetch_all(&self.reader)
        .await
        .map_err(db("list lists"))?;
        Ok(rows.into_iter().map(|r| r.into_list(&owner.id)).collect())
    }

    async fn delete_list(&self, account_id: &str, id: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        // Memberships go by ON DELETE CASCADE; contacts stay (they belong to the account).
        let deleted = sqlx::query("DELETE FROM lists WHERE account_pk = ?1 AND id_key = ?2")
            .bind(owner.pk)
            .bind(id_key(id))
            .execute(&mut *tx)
            .await
            .map_err(db("delete list"))?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db("commit list deletion"))
    }

    async fn resolve_lists(
        &self,
        account_id: &str,
        ids: &[String],
    ) -> StoreResult<Vec<Option<String>>> {
        let owner = account(&self.reader, account_id).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|id| id_key(id)).collect();
        let keys = serde_json::to_string(&keys)
            .map_err(|e| StoreError::Other(format!("encode list IDs: {e}")))?;
        // One row per given ID, in order (`key` is the array index); id_key is unique per account.
        let resolved: Vec<(Option<String>,)> = sqlx::query_as(
            "SELECT l.id FROM json_each(?2) AS j \
             LEFT JOIN lists l ON l.account_pk = ?1 AND l.id_key = j.value \
             ORDER BY j.key",
        )
        .bind(owner.pk)
        .bind(keys)
        .fetch_all(&self.reader)
        .await
        .map_err(db("resolve lists"))?;
        if resolved.len() != ids.len() {
            return Err(StoreError::Other(format!(
                "resolving {} list IDs gave {} rows",
                ids.len(),
                resolved.len()
            )));
        }
        Ok(resolved.into_iter().map(|(id,)| id).collect())
    }

    /// One batch in one write transaction, with a fixed number of statements whatever its size: the
    /// batch travels as one JSON parameter that `json_each` turns back into rows. Attribute merging
    /// happens here (it needs the stored attributes), everything else is set-wise SQL.
    async fn upsert_members(
        &self,
        account_id: &str,
        list_id: &str,
        rows: &[ContactRow],
        subscribe: Option<&SubscribeTo>,
        now: Millis,
    ) -> StoreResult<MemberCounts> {
        let mut tx = self.write().await?;
        let counts = upsert_members_in(&mut tx, account_id, list_id, rows, subscribe, now).await?;
        tx.commit().await.map_err(db("commit members"))?;
        Ok(counts)
    }

    async fn remove_member(
        &self,
        account_id: &str,
        list_id: &str,
        mobile_number: &str,
    ) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let list_pk = list_pk(&mut *tx, &owner, list_id).await?;
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

    async fn get_contact(&self, account_id: &str, mobile_number: &str) -> StoreResult<Contact> {
        self.contacts_of(account_id, &[mobile_number.to_string()])
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    async fn contacts_of(&self, account_id: &str, numbers: &[String]) -> StoreResult<Vec<Contact>> {
        let owner = account(&self.reader, account_id).await?;
        if numbers.is_empty() {
            return Ok(Vec::new());
        }
        let numbers = serde_json::to_string(numbers)
            .map_err(|e| StoreError::Other(format!("encode mobile numbers: {e}")))?;
        sqlx::query_as::<_, StoredContact>(
            "SELECT mobile_number, subscriber_key, attributes FROM contacts \
             WHERE account_pk = ?1 AND mobile_number IN (SELECT value FROM json_each(?2)) \
             ORDER BY mobile_number",
        )
        .bind(owner.pk)
        .bind(numbers)
        .fetch_all(&self.reader)
        .await
        .map_err(db("get contacts"))?
        .into_iter()
        .map(|row| {
            Ok(Contact {
                attributes: attributes_from_json(&row.attributes)?,
                mobile_number: row.mobile_number,
                subscriber_key: row.subscriber_key,
            })
        })
        .collect()
    }

    async fn numbers_of_subscriber_key(
        &self,
        account_id: &str,
        subscriber_key: &str,
    ) -> StoreResult<Vec<String>> {
        let owner = account(&self.reader, account_id).await?;
        sqlx::query_scalar(
            "SELECT mobile_number FROM contacts WHERE account_pk = ?1 AND subscriber_key = ?2 \
             ORDER BY mobile_number",
        )
        .bind(owner.pk)
        .bind(subscriber_key)
        .fetch_all(&self.reader)
        .await
        .map_err(db("find contacts by subscriber key"))
    }
}

async fn list_pk<'e, E>(executor: E, owner: &AccountRef, list_id: &str) -> StoreResult<i64>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query_scalar("SELECT pk FROM lists WHERE account_pk = ?1 AND id_key = ?2")
        .bind(owner.pk)
        .bind(id_key(list_id))
        .fetch_optional(executor)
        .await
        .map_err(db("resolve list"))?
        .ok_or(StoreError::NotFound)
}

#[derive(sqlx::FromRow)]
struct StoredContact {
    mobile_number: String,
    subscriber_key: Option<String>,
    attributes: String,
}

/// The body of `upsert_members` (one batch in one write transaction, with a fixed number of
/// statements whatever its size: the batch travels as one JSON parameter that `json_each` turns
/// back into rows), inside the caller's write transaction (an import job writes
/// its checkpoint in the same one).
pub(crate) async fn upsert_members_in(
    tx: &mut Transaction<'static, Sqlite>,
    account_id: &str,
    list_id: &str,
    rows: &[ContactRow],
    subscribe: Option<&SubscribeTo>,
    now: Millis,
) -> StoreResult<MemberCounts> {
    // Rows for one number merge in batch order: attributes accumulate, a later key wins.
    let (numbers, mut pending) = merge_rows(rows);
    let numbers_json = serde_json::to_string(&numbers)
        .map_err(|e| StoreError::Other(format!("encode mobile numbers: {e}")))?;

    let owner = account(&mut **tx, account_id).await?;
    let list_pk = list_pk(&mut **tx, &owner, list_id).await?;
    let keyword_pk = match subscribe {
        Some(to) => Some(
            keyword_by_name(&mut **tx, &owner, &to.code, &to.keyword)
                .await?
                .0,
        ),
        None => None,
    };
    if numbers.is_empty() {
        return Ok(MemberCounts::default());
    }

    // Contacts: read the stored ones of the batch, merge, write all back in one statement.
    let stored = sqlx::query_as::<_, StoredContact>(
        "SELECT mobile_number, subscriber_key, attributes FROM contacts \
         WHERE account_pk = ?1 AND mobile_number IN (SELECT value FROM json_each(?2))",
    )
    .bind(owner.pk)
    .bind(&numbers_json)
    .fetch_all(&mut **tx)
    .await
    .map_err(db("read contacts of the batch"))?;
    for contact in stored {
        let Some(entry) = pending.get_mut(contact.mobile_number.as_str()) else {
            continue;
        };
        let mut attributes = attributes_from_json(&contact.attributes)?;
        merge_attributes(&mut attributes, &entry.attributes);
        entry.attributes = attributes;
        if entry.subscriber_key.is_none() {
            entry.subscriber_key = contact.subscriber_key;
        }
    }
    let mut contacts = Vec::with_capacity(numbers.len());
    for number in &numbers {
        let Some(entry) = pending.get(number) else {
            continue;
        };
        contacts.push(ContactJson {
            n: number,
            k: entry.subscriber_key.as_deref(),
            a: attributes_to_json(&entry.attributes)?,
        });
    }
    let contacts_json = serde_json::to_string(&contacts)
        .map_err(|e| StoreError::Other(format!("encode contacts: {e}")))?;
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
    .execute(&mut **tx)
    .await
    .map_err(db("upsert contacts"))?;

    // Memberships: the new ones are the rows this inserts.
    let added = sqlx::query(
        "INSERT INTO list_members (list_pk, mobile_number, added_at) \
         SELECT ?1, j.value, ?3 FROM json_each(?2) AS j WHERE true \
         ON CONFLICT (list_pk, mobile_number) DO NOTHING",
    )
    .bind(list_pk)
    .bind(&numbers_json)
    .bind(now)
    .execute(&mut **tx)
    .await
    .map_err(db("insert memberships"))?
    .rows_affected();
    if added > 0 {
        let added = i64::try_from(added)
            .map_err(|_| StoreError::Other(format!("{added} members added")))?;
        sqlx::query("UPDATE lists SET size = size + ?2, last_change_at = ?3 WHERE pk = ?1")
            .bind(list_pk)
            .bind(added)
            .bind(now)
            .execute(&mut **tx)
            .await
            .map_err(db("update list size"))?;
    }

    // Subscriptions: new ones are Subscribed; an opted-out number stays opted out (of the
    // keyword, or of the whole code by text: API.md §6), a subscribed one keeps its opt-in date,
    // a pending double opt-in is settled by the import's consent.
    if let Some(keyword_pk) = keyword_pk {
        sqlx::query(concat!(
            "INSERT INTO subscriptions (keyword_pk, mobile_number, account_pk, status, \
             opt_in_date, opt_out_date) \
             SELECT ?1, j.value, ?2, ",
            subscription_status!(Subscribed),
            ", ?4, NULL FROM json_each(?3) AS j \
             WHERE NOT EXISTS (SELECT 1 FROM code_opt_outs o WHERE o.mobile_number = j.value \
             AND o.code_pk = (SELECT code_pk FROM keywords WHERE pk = ?1)) \
             ON CONFLICT (keyword_pk, mobile_number) DO UPDATE SET \
             status = ",
            subscription_status!(Subscribed),
            ", opt_in_date = excluded.opt_in_date, pending_since = NULL, \
             pending_previous = NULL \
             WHERE subscriptions.status = ",
            subscription_status!(InProgress)
        ))
        .bind(keyword_pk)
        .bind(owner.pk)
        .bind(&numbers_json)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(db("subscribe batch"))?;
    }

    let total = u64::try_from(rows.len())
        .map_err(|_| StoreError::Other(format!("{} rows in one batch", rows.len())))?;
    Ok(MemberCounts {
        added,
        updated: total.saturating_sub(added),
    })
}

/// A contact as the upsert reads it from `json_each`: `{"n": mobile_number, "k": subscriber_key,
/// "a": attributes as JSON text}`.
#[derive(Serialize)]
struct ContactJson<'a> {
    n: &'a str,
    k: Option<&'a str>,
    a: String,
}
