//! Short and long codes and the keywords on them (API.md §6, §7). Deleting either cascades, in
//! the schema, to the keywords and subscriptions below it.

use async_trait::async_trait;
use store::CodeStore;

use store::code_rows::{
    bind_new_code, CODES_OF_ACCOUNT, CODE_BY_ID_OR_STRING, CODE_BY_STRING, INSERT_CODE,
    KEYWORDS_OF_ACCOUNT, KEYWORD_BY_KEY,
};
use store::{Code, CodePatch, Keyword, KeywordPatch, NewCode, NewKeyword, StoreError, StoreResult};

use crate::{account, db, flag, flag_value, id_key, parent_gone, AccountRef, PgStore};

pub(crate) use store::code_rows::{code_key, keyword_key, CodeRow};

#[async_trait]
impl CodeStore for PgStore {
    async fn create_code(&self, new: NewCode) -> StoreResult<Code> {
        let owner = account(&self.pool, &new.account_id).await?;
        bind_new_code(sqlx::query(INSERT_CODE), &new, owner.pk)
            .execute(&self.pool)
            .await
            .map_err(db("insert code"))?;
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
        let owner = account(&self.pool, account_id).await?;
        let row = sqlx::query_as::<_, CodeRow>(CODE_BY_ID_OR_STRING)
            .bind(owner.pk)
            .bind(id_key(id_or_code))
            .bind(code_key(id_or_code))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("get code"))?
            .ok_or(StoreError::NotFound)?;
        Ok(row.into_code(&owner.id))
    }

    async fn list_codes(&self, account_id: &str) -> StoreResult<Vec<Code>> {
        let owner = account(&self.pool, account_id).await?;
        let rows = sqlx::query_as::<_, CodeRow>(CODES_OF_ACCOUNT)
            .bind(owner.pk)
            .fetch_all(&self.pool)
            .await
            .map_err(db("list codes"))?;
        Ok(rows.into_iter().map(|r| r.into_code(&owner.id)).collect())
    }

    /// One statement; an ID match wins over a code-string match. Keywords and their subscriptions
    /// go by ON DELETE CASCADE.
    async fn delete_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<()> {
        let deleted = sqlx::query(
            "DELETE FROM codes WHERE pk = (SELECT c.pk FROM codes c \
             JOIN accounts a ON a.pk = c.account_pk \
             WHERE a.id_key = $1 AND (c.id_key = $2 OR c.code_key = $3) \
             ORDER BY c.id_key = $2 DESC LIMIT 1)",
        )
        .bind(id_key(account_id))
        .bind(id_key(id_or_code))
        .bind(code_key(id_or_code))
        .execute(&self.pool)
        .await
        .map_err(db("delete code"))?
        .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// A code deleted between its lookup and the insert is NotFound, as if it had gone before.
    async fn create_keyword(&self, new: NewKeyword) -> StoreResult<Keyword> {
        let owner = account(&self.pool, &new.account_id).await?;
        let (code_pk, code) = code_by_string(&self.pool, &owner, &new.code).await?;
        sqlx::query(
            "INSERT INTO keywords (account_pk, code_pk, id, id_key, keyword, keyword_key, response, \
             double_opt_in, confirm_text, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(owner.pk)
        .bind(code_pk)
        .bind(&new.id)
        .bind(id_key(&new.id))
        .bind(&new.keyword)
        .bind(keyword_key(&new.keyword))
        .bind(&new.response)
        .bind(flag_value(new.double_opt_in))
        .bind(&new.confirm_text)
        .bind(new.created_at)
        .execute(&self.pool)
        .await
        .map_err(parent_gone("insert keyword"))?;
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
        let owner = account(&self.pool, account_id).await?;
        let row = sqlx::query_as::<_, KeywordRow>(KEYWORD_BY_KEY)
            .bind(owner.pk)
            .bind(id_key(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(db("get keyword"))?
            .ok_or(StoreError::NotFound)?;
        Ok(row.into_keyword(&owner.id))
    }

    async fn list_keywords(&self, account_id: &str) -> StoreResult<Vec<Keyword>> {
        let owner = account(&self.pool, account_id).await?;
        let rows = sqlx::query_as::<_, KeywordRow>(KEYWORDS_OF_ACCOUNT)
            .bind(owner.pk)
            .fetch_all(&self.pool)
            .await
            .map_err(db("list keywords"))?;
        Ok(rows
            .into_iter()
            .map(|r| r.into_keyword(&owner.id))
            .collect())
    }

    /// Subscriptions go by ON DELETE CASCADE.
    async fn delete_keyword(&self, account_id: &str, id: &str) -> StoreResult<()> {
        let deleted = sqlx::query(
            "DELETE FROM keywords WHERE account_pk = (SELECT pk FROM accounts WHERE id_key = $1) \
             AND id_key = $2",
        )
        .bind(id_key(account_id))
        .bind(id_key(id))
        .execute(&self.pool)
        .await
        .map_err(db("delete keyword"))?
        .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn update_code(
        &self,
        account_id: &str,
        id_or_code: &str,
        patch: CodePatch,
    ) -> StoreResult<Code> {
        let owner = account(&self.pool, account_id).await?;
        let row = sqlx::query_as::<_, CodeRow>(
            "UPDATE codes SET country_code = coalesce($4, country_code), kind = coalesce($5, kind), \
             carrier = coalesce($6, carrier), \
             opt_out_text = CASE WHEN $7 THEN $8 ELSE opt_out_text END, \
             help_text = CASE WHEN $9 THEN $10 ELSE help_text END \
             WHERE pk = (SELECT pk FROM codes WHERE account_pk = $1 \
                         AND (id_key = $2 OR code_key = $3) ORDER BY id_key = $2 DESC LIMIT 1) \
             RETURNING id, code, country_code, kind, carrier, opt_out_text, help_text, created_at",
        )
        .bind(owner.pk)
        .bind(id_key(id_or_code))
        .bind(code_key(id_or_code))
        .bind(&patch.country_code)
        .bind(&patch.kind)
        .bind(&patch.carrier)
        .bind(patch.opt_out_text.is_some())
        .bind(patch.opt_out_text.flatten())
        .bind(patch.help_text.is_some())
        .bind(patch.help_text.flatten())
        .fetch_optional(&self.pool)
        .await
        .map_err(db("update code"))?
        .ok_or(StoreError::NotFound)?;
        Ok(row.into_code(&owner.id))
    }

    async fn update_keyword(
        &self,
        account_id: &str,
        id: &str,
        patch: KeywordPatch,
    ) -> StoreResult<Keyword> {
        let owner = account(&self.pool, account_id).await?;
        let updated = sqlx::query(
            "UPDATE keywords SET response = CASE WHEN $3 THEN $4 ELSE response END, \
             double_opt_in = coalesce($5, double_opt_in), \
             confirm_text = CASE WHEN $6 THEN $7 ELSE confirm_text END \
             WHERE account_pk = $1 AND id_key = $2",
        )
        .bind(owner.pk)
        .bind(id_key(id))
        .bind(patch.response.is_some())
        .bind(patch.response.flatten())
        .bind(patch.double_opt_in.map(flag_value))
        .bind(patch.confirm_text.is_some())
        .bind(patch.confirm_text.flatten())
        .execute(&self.pool)
        .await
        .map_err(db("update keyword"))?
        .rows_affected();
        if updated == 0 {
            return Err(StoreError::NotFound);
        }
        self.get_keyword(account_id, id).await
    }
}

/// The pk and canonical code string of the account's code with this code string.
pub(crate) async fn code_by_string<'e, E>(
    executor: E,
    owner: &AccountRef,
    code: &str,
) -> StoreResult<(i64, String)>
where
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
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
    double_opt_in: i32,
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
            double_opt_in: flag(self.double_opt_in),
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
    E: sqlx::Executor<'e, Database = sqlx::Postgres>,
{
    sqlx::query_as(
        "SELECT k.pk, c.code, k.keyword FROM codes c JOIN keywords k ON k.code_pk = c.pk \
         WHERE c.account_pk = $1 AND c.code_key = $2 AND k.keyword_key = $3",
    )
    .bind(owner.pk)
    .bind(code_key(code))
    .bind(keyword_key(keyword))
    .fetch_optional(executor)
    .await
    .map_err(db("resolve keyword"))?
    .ok_or(StoreError::NotFound)
}
