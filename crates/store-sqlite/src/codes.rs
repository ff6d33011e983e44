//! Short and long codes and the keywords on them (API.md §6, §7). Deleting either cascades, in
//! the schema, to the keywords and subscriptions below it.

use async_trait::async_trait;
use store::CodeStore;

use store::code_rows::{
    bind_new_code, CODES_OF_ACCOUNT, CODE_BY_ID_OR_STRING, CODE_BY_STRING, INSERT_CODE,
    KEYWORDS_OF_ACCOUNT, KEYWORD_BY_KEY,
};
use store::{Code, CodePatch, Keyword, KeywordPatch, NewCode, NewKeyword, StoreError, StoreResult};

use crate::{account, db, id_key, AccountRef, SqliteStore};

pub(crate) use store::code_rows::{code_key, keyword_key, CodeRow};

/// The pk of the account's code named by ID or by code string; an ID match wins.
const CODE_BY_ID_OR_CODE: &str = "SELECT pk FROM codes WHERE account_pk = ?1 \
     AND (id_key = ?2 OR code_key = ?3) ORDER BY id_key = ?2 DESC LIMIT 1";

#[async_trait]
impl CodeStore for SqliteStore {
    async fn create_code(&self, new: NewCode) -> StoreResult<Code> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        bind_new_code(sqlx::query(INSERT_CODE), &new, owner.pk)
            .execute(&mut *tx)
            .await
            .map_err(db("insert code"))?;
        tx.commit().await.map_err(db("commit code"))?;
        Ok(Code {
            id: new.id,
            account_id: owner.id,
            code: new.code,
            country_code: new.country_code,
            kind: new.kind,
            carrier: new.carrier,
            opt_out_text: new.opt_out_text,
            help_text: new.help_text,
            created_at: new.created_at,
        })
    }

    async fn get_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<Code> {
        let owner = account(&self.reader, account_id).await?;
        let row = sqlx::query_as::<_, CodeRow>(CODE_BY_ID_OR_STRING)
            .bind(owner.pk)
            .bind(id_key(id_or_code))
            .bind(code_key(id_or_code))
            .fetch_optional(&self.reader)
            .await
            .map_err(db("get code"))?
            .ok_or(StoreError::NotFound)?;
        Ok(row.into_code(&owner.id))
    }

    async fn list_codes(&self, account_id: &str) -> StoreResult<Vec<Code>> {
        let owner = account(&self.reader, account_id).await?;
        let rows = sqlx::query_as::<_, CodeRow>(CODES_OF_ACCOUNT)
            .bind(owner.pk)
            .fetch_all(&self.reader)
            .await
            .map_err(db("list codes"))?;
        Ok(rows.into_iter().map(|r| r.into_code(&owner.id)).collect())
    }

    async fn delete_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let code_pk: i64 = sqlx::query_scalar(CODE_BY_ID_OR_CODE)
            .bind(owner.pk)
            .bind(id_key(id_or_code))
            .bind(code_key(id_or_code))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("find code to delete"))?
            .ok_or(StoreError::NotFound)?;
        // Keywords and their subscriptions go by ON DELETE CASCADE.
        sqlx::query("DELETE FROM codes WHERE pk = ?1")
            .bind(code_pk)
            .execute(&mut *tx)
            .await
            .map_err(db("delete code"))?;
        tx.commit().await.map_err(db("commit code deletion"))
    }

    async fn create_keyword(&self, new: NewKeyword) -> StoreResult<Keyword> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, &new.account_id).await?;
        let (code_pk, code) = code_by_string(&mut *tx, &owner, &new.code).await?;
        sqlx::query(
            "INSERT INTO keywords (account_pk, code_pk, id, id_key, keyword, keyword_key, response, \
             double_opt_in, confirm_text, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(owner.pk)
        .bind(code_pk)
        .bind(&new.id)
        .bind(id_key(&new.id))
        .bind(&new.keyword)
        .bind(keyword_key(&new.keyword))
        .bind(&new.response)
        .bind(new.double_opt_in)
        .bind(&new.confirm_text)
        .bind(new.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db("insert keyword"))?;
        tx.commit().await.map_err(db("commit keyword"))?;
        Ok(Keyword {
            id: new.id,
            account_id: owner.id,
            code,
            keyword: new.keyword,
            response: new.response,
            double_opt_in: new.double_opt_in,
            confirm_text: new.confirm_text,
            created_at: new.created_at,
        })
    }

    async fn get_keyword(&self, account_id: &str, id: &str) -> StoreResult<Keyword> {
        let owner = account(&self.reader, account_id).await?;
        let row = sqlx::query_as::<_, KeywordRow>(KEYWORD_BY_KEY)
            .bind(owner.pk)
            .bind(id_key(id))
            .fetch_optional(&self.reader)
            .await
            .map_err(db("get keyword"))?
            .ok_or(StoreError::NotFound)?;
        Ok(row.into_keyword(&owner.id))
    }

    async fn list_keywords(&self, account_id: &str) -> StoreResult<Vec<Keyword>> {
        let owner = account(&self.reader, account_id).await?;
        let rows = sqlx::query_as::<_, KeywordRow>(KEYWORDS_OF_ACCOUNT)
            .bind(owner.pk)
            .fetch_all(&self.reader)
            .await
            .map_err(db("list keywords"))?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_keyword(&owner.id))
            .collect())
    }

    async fn delete_keyword(&self, account_id: &str, id: &str) -> StoreResult<()> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        // Subscriptions go by ON DELETE CASCADE.
        let deleted = sqlx::query("DELETE FROM keywords WHERE account_pk = ?1 AND id_key = ?2")
            .bind(owner.pk)
            .bind(id_key(id))
            .execute(&mut *tx)
            .await
            .map_err(db("delete keyword"))?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        tx.commit().await.map_err(db("commit keyword deletion"))
    }

    async fn update_code(
        &self,
        account_id: &str,
        id_or_code: &str,
        patch: CodePatch,
    ) -> StoreResult<Code> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let code_pk: i64 = sqlx::query_scalar(CODE_BY_ID_OR_CODE)
            .bind(owner.pk)
            .bind(id_key(id_or_code))
            .bind(code_key(id_or_code))
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("find code to update"))?
            .ok_or(StoreError::NotFound)?;
        let row = sqlx::query_as::<_, CodeRow>(
            "UPDATE codes SET country_code = coalesce(?2, country_code), kind = coalesce(?3, kind), \
             carrier = coalesce(?4, carrier), \
             opt_out_text = CASE WHEN ?5 THEN ?6 ELSE opt_out_text END, \
             help_text = CASE WHEN ?7 THEN ?8 ELSE help_text END \
             WHERE pk = ?1 \
             RETURNING id, code, country_code, kind, carrier, opt_out_text, help_text, created_at",
        )
        .bind(code_pk)
        .bind(&patch.country_code)
        .bind(&patch.kind)
        .bind(&patch.carrier)
        .bind(patch.opt_out_text.is_some())
        .bind(patch.opt_out_text.flatten())
        .bind(patch.help_text.is_some())
        .bind(patch.help_text.flatten())
        .fetch_one(&mut *tx)
        .await
        .map_err(db("update code"))?;
        tx.commit().await.map_err(db("commit code update"))?;
        Ok(row.into_code(&owner.id))
    }

    async fn update_keyword(
        &self,
        account_id: &str,
        id: &str,
        patch: KeywordPatch,
    ) -> StoreResult<Keyword> {
        let mut tx = self.write().await?;
        let owner = account(&mut *tx, account_id).await?;
        let updated = sqlx::query(
            "UPDATE keywords SET response = CASE WHEN ?3 THEN ?4 ELSE response END, \
             double_opt_in = coalesce(?5, double_opt_in), \
             confirm_text = CASE WHEN ?6 THEN ?7 ELSE confirm_text END \
             WHERE account_pk = ?1 AND id_key = ?2",
        )
        .bind(owner.pk)
        .bind(id_key(id))
        .bind(patch.response.is_some())
        .bind(patch.response.flatten())
        .bind(patch.double_opt_in)
        .bind(patch.confirm_text.is_some())
        .bind(patch.confirm_text.flatten())
        .execute(&mut *tx)
        .await
        .map_err(db("update keyword"))?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        let row = sqlx::query_as::<_, KeywordRow>(KEYWORD_BY_KEY)
            .bind(owner.pk)
            .bind(id_key(id))
            .fetch_one(&mut *tx)
            .await
            .map_err(db("read the updated keyword"))?;
        tx.commit().await.map_err(db("commit keyword update"))?;
        Ok(row.into_keyword(&owner.id))
    }
}

/// The pk and canonical code string of the account's code with this code string.
pub(crate) async fn code_by_string<'e, E>(
    executor: E,
    owner: &AccountRef,
    code: &str,
) -> StoreResult<(i64, String)>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query_as(CODE_BY_STRING)
        .bind(owner.pk)
        .bind(code_key(code))
        .fetch_optional(executor)
        .await
        .map_err(db("resolve code"))?
        .ok_or(StoreError::NotFound)
}

#[derive(sqlx::FromRow)]
struct KeywordRow {
    id: String,
    code: String,
    keyword: String,
    response: Option<String>,
    double_opt_in: bool,
    confirm_text: Option<String>,
    created_at: i64,
}

impl KeywordRow {
    fn into_keyword(self, account_id: &str) -> Keyword {
        Keyword {
            id: self.id,
            account_id: account_id.to_string(),
            code: self.code,
            keyword: self.keyword,
            response: self.response,
            double_opt_in: self.double_opt_in,
            confirm_text: self.confirm_text,
            created_at: self.created_at,
        }
    }
}

/// The pk, canonical code string and canonical keyword of a keyword named by code string and
/// keyword (both ignoring case).
pub(crate) async fn keyword_by_name<'e, E>(
    executor: E,
    owner: &AccountRef,
    code: &str,
    keyword: &str,
) -> StoreResult<(i64, String, String)>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    sqlx::query_as(
        "SELECT k.pk, c.code, k.keyword FROM codes c JOIN keywords k ON k.code_pk = c.pk \
         WHERE c.account_pk = ?1 AND c.code_key = ?2 AND k.keyword_key = ?3",
    )
    .bind(owner.pk)
    .bind(code_key(code))
    .bind(keyword_key(keyword))
    .fetch_optional(executor)
    .await
    .map_err(db("resolve keyword"))?
    .ok_or(StoreError::NotFound)
}
