//! What both backends share about codes and keywords: the lookup keys, the statements both
//! dialects read alike (written once, with `$N` parameters), the rows with their mapping to
//! [`Code`] and [`Keyword`], and the operations that run them, generic over the database
//! ([`Sql`]). `double_opt_in` is an INTEGER 0/1 column on both backends, read and bound as an
//! `i32`. Nothing about codes stays per backend but which pool runs the operations.

use sqlx::{Executor, FromRow};

use crate::account_rows::AccountRef;
use crate::sql::{self, id_key, Arg, Sql};
use crate::{
    bad_value, Code, CodePatch, Keyword, KeywordPatch, NewCode, NewKeyword, StoreError, StoreResult,
};

/// The lookup key of a keyword. Keywords are words texted by people, so this folds case beyond
/// ASCII (`ÚNETE` and `únete` are one keyword).
pub fn keyword_key(keyword: &str) -> String {
    keyword.to_lowercase()
}

/// The lookup key of a code string (digits in practice; compared ignoring ASCII case all the same).
pub fn code_key(code: &str) -> String {
    code.to_ascii_lowercase()
}

/// Records a new code of the account `$1` (its pk).
pub const INSERT_CODE: &str = "INSERT INTO codes (account_pk, id, id_key, code, code_key, \
     country_code, kind, carrier, opt_out_text, help_text, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// The account's (`$1`, its pk) code named by ID key (`$2`) or by code key (`$3`); an ID match
/// wins.
pub const CODE_BY_ID_OR_STRING: &str = "SELECT id, code, country_code, kind, carrier, \
     opt_out_text, help_text, created_at \
     FROM codes WHERE account_pk = $1 AND (id_key = $2 OR code_key = $3) \
     ORDER BY id_key = $2 DESC LIMIT 1";

/// The account's (`$1`, its pk) codes, oldest first.
pub const CODES_OF_ACCOUNT: &str = "SELECT id, code, country_code, kind, carrier, \
     opt_out_text, help_text, created_at FROM codes WHERE account_pk = $1 ORDER BY pk";

/// The pk and canonical string of the account's (`$1`, its pk) code by its key (`$2`).
pub const CODE_BY_STRING: &str =
    "SELECT pk, code FROM codes WHERE account_pk = $1 AND code_key = $2";

/// Deletes the code of the account `$1` (its key) named by ID key (`$2`) or code key (`$3`); an
/// ID match wins. Keywords and their subscriptions go by ON DELETE CASCADE.
pub const DELETE_CODE: &str = "DELETE FROM codes WHERE pk = (SELECT c.pk FROM codes c \
     JOIN accounts a ON a.pk = c.account_pk \
     WHERE a.id_key = $1 AND (c.id_key = $2 OR c.code_key = $3) \
     ORDER BY c.id_key = $2 DESC LIMIT 1)";

/// Patches the code of the account `$1` (its pk) named as in [`CODE_BY_ID_OR_STRING`]: `$4` to
/// `$6` replace when not NULL, `$8` (`$10`) replaces the opt-out (help) text when `$7` (`$9`).
pub const UPDATE_CODE: &str = "UPDATE codes SET country_code = coalesce($4, country_code), \
     kind = coalesce($5, kind), carrier = coalesce($6, carrier), \
     opt_out_text = CASE WHEN $7 THEN $8 ELSE opt_out_text END, \
     help_text = CASE WHEN $9 THEN $10 ELSE help_text END \
     WHERE pk = (SELECT pk FROM codes WHERE account_pk = $1 \
                 AND (id_key = $2 OR code_key = $3) ORDER BY id_key = $2 DESC LIMIT 1) \
     RETURNING id, code, country_code, kind, carrier, opt_out_text, help_text, created_at";

/// Records a new keyword of the account `$1` (its pk) on the code `$2` (its pk).
pub const INSERT_KEYWORD: &str = "INSERT INTO keywords (account_pk, code_pk, id, id_key, \
     keyword, keyword_key, response, double_opt_in, confirm_text, created_at, opt_in) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

/// `SELECT` of a keyword row, followed by the given clauses.
#[macro_export]
macro_rules! select_keyword {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT k.id, c.code, k.keyword, k.response, k.double_opt_in, k.confirm_text, \
             k.created_at, k.opt_in FROM keywords k JOIN codes c ON c.pk = k.code_pk ",
            $($clauses),+
        )
    };
}

/// The account's (`$1`, its pk) keyword by its ID key (`$2`).
pub const KEYWORD_BY_KEY: &str = select_keyword!("WHERE k.account_pk = $1 AND k.id_key = $2");

/// The account's (`$1`, its pk) keywords, oldest first.
pub const KEYWORDS_OF_ACCOUNT: &str = select_keyword!("WHERE k.account_pk = $1 ORDER BY k.pk");

/// The pk, canonical code string and canonical keyword of the account's (`$1`, its pk) keyword
/// by code key (`$2`) and keyword key (`$3`).
pub const KEYWORD_BY_NAME: &str = "SELECT k.pk, c.code, k.keyword FROM codes c \
     JOIN keywords k ON k.code_pk = c.pk \
     WHERE c.account_pk = $1 AND c.code_key = $2 AND k.keyword_key = $3";

/// Deletes the keyword of the account `$1` (its key) by its ID key (`$2`). Subscriptions go by
/// ON DELETE CASCADE.
pub const DELETE_KEYWORD: &str = "DELETE FROM keywords \
     WHERE account_pk = (SELECT pk FROM accounts WHERE id_key = $1) AND id_key = $2";

/// Patches the keyword of the account `$1` (its pk) by its ID key (`$2`): `$4` (`$7`) replaces
/// the response (confirmation text) when `$3` (`$6`), `$5` the flag when not NULL.
pub const UPDATE_KEYWORD: &str = "UPDATE keywords \
     SET response = CASE WHEN $3 THEN $4 ELSE response END, \
     double_opt_in = coalesce($5, double_opt_in), \
     confirm_text = CASE WHEN $6 THEN $7 ELSE confirm_text END, \
     opt_in = CASE WHEN $8 THEN $9 ELSE opt_in END \
     WHERE account_pk = $1 AND id_key = $2";

/// A code as [`CODE_BY_ID_OR_STRING`], [`CODES_OF_ACCOUNT`] and [`UPDATE_CODE`] read it.
#[derive(sqlx::FromRow)]
pub struct CodeRow {
    id: String,
    code: String,
    country_code: String,
    kind: String,
    carrier: String,
    opt_out_text: Option<String>,
    help_text: Option<String>,
    created_at: i64,
}

impl CodeRow {
    pub fn into_code(self, account_id: &str) -> Code {
        Code {
            id: self.id,
            account_id: account_id.to_string(),
            code: self.code,
            country_code: self.country_code,
            kind: self.kind,
            carrier: self.carrier,
            opt_out_text: self.opt_out_text,
            help_text: self.help_text,
            created_at: self.created_at,
        }
    }
}

/// A keyword as [`select_keyword!`] reads it.
#[derive(sqlx::FromRow)]
pub struct KeywordRow {
    id: String,
    code: String,
    keyword: String,
    response: Option<String>,
    double_opt_in: i32,
    confirm_text: Option<String>,
    created_at: i64,
    /// An opt-in message's rules, as JSON (`domain::OptInRules`).
    opt_in: Option<String>,
}

impl KeywordRow {
    pub fn into_keyword(self, account_id: &str) -> StoreResult<Keyword> {
        let opt_in = match &self.opt_in {
            None => None,
            Some(text) => Some(
                serde_json::from_str(text).map_err(|_| bad_value("keyword opt-in rules", text))?,
            ),
        };
        Ok(Keyword {
            id: self.id,
            account_id: account_id.to_string(),
            code: self.code,
            keyword: self.keyword,
            response: self.response,
            double_opt_in: self.double_opt_in != 0,
            confirm_text: self.confirm_text,
            created_at: self.created_at,
            opt_in,
        })
    }
}

/// The opt-in rules as stored (JSON), when the keyword has any.
fn opt_in_json(rules: &Option<domain::OptInRules>) -> StoreResult<Option<String>> {
    rules
        .as_ref()
        .map(|r| {
            serde_json::to_string(r)
                .map_err(|e| StoreError::Other(format!("encode keyword opt-in rules: {e}")))
        })
        .transpose()
}

/// The pk and canonical string of a code, as [`CODE_BY_STRING`] reads them.
#[derive(sqlx::FromRow)]
pub struct CodeRef {
    pub pk: i64,
    pub code: String,
}

/// A keyword's pk with its code's and its own canonical spelling, as [`KEYWORD_BY_NAME`] reads
/// them.
#[derive(sqlx::FromRow)]
pub struct KeywordRef {
    pub pk: i64,
    pub code: String,
    pub keyword: String,
}

// ---- the operations both backends run alike ---------------------------------------------------

/// The pk and canonical code string of the account's code with this code string.
pub async fn code_by_string<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &AccountRef,
    code: &str,
) -> StoreResult<(i64, String)>
where
    CodeRef: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, CodeRef>(CODE_BY_STRING)
        .arg(owner.pk)
        .arg(code_key(code))
        .fetch_optional(db)
        .await
        .map_err(sql::db("resolve code"))?
        .map(|c| (c.pk, c.code))
        .ok_or(StoreError::NotFound)
}

/// The pk, canonical code string and canonical keyword of a keyword named by code string and
/// keyword (both ignoring case).
pub async fn keyword_by_name<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    owner: &AccountRef,
    code: &str,
    keyword: &str,
) -> StoreResult<(i64, String, String)>
where
    KeywordRef: for<'r> FromRow<'r, DB::Row>,
{
    sqlx::query_as::<DB, KeywordRef>(KEYWORD_BY_NAME)
        .arg(owner.pk)
        .arg(code_key(code))
        .arg(keyword_key(keyword))
        .fetch_optional(db)
        .await
        .map_err(sql::db("resolve keyword"))?
        .map(|k| (k.pk, k.code, k.keyword))
        .ok_or(StoreError::NotFound)
}

/// Records a new code of an existing account (accounts are never deleted, so resolving it first
/// cannot race with anything).
pub async fn create_code<'e, DB, E>(db: E, new: NewCode) -> StoreResult<Code>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, &new.account_id).await?;
    sqlx::query::<DB>(INSERT_CODE)
        .arg(owner.pk)
        .arg(new.id.as_str())
        .arg(id_key(&new.id))
        .arg(new.code.as_str())
        .arg(code_key(&new.code))
        .arg(new.country_code.as_str())
        .arg(new.kind.as_str())
        .arg(new.carrier.as_str())
        .arg(new.opt_out_text.as_deref())
        .arg(new.help_text.as_deref())
        .arg(new.created_at)
        .execute(db)
        .await
        .map_err(sql::db("insert code"))?;
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

pub async fn get_code<'e, DB, E>(db: E, account_id: &str, id_or_code: &str) -> StoreResult<Code>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    CodeRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let row = sqlx::query_as::<DB, CodeRow>(CODE_BY_ID_OR_STRING)
        .arg(owner.pk)
        .arg(id_key(id_or_code))
        .arg(code_key(id_or_code))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get code"))?
        .ok_or(StoreError::NotFound)?;
    Ok(row.into_code(&owner.id))
}

pub async fn list_codes<'e, DB, E>(db: E, account_id: &str) -> StoreResult<Vec<Code>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    CodeRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let rows = sqlx::query_as::<DB, CodeRow>(CODES_OF_ACCOUNT)
        .arg(owner.pk)
        .fetch_all(db)
        .await
        .map_err(sql::db("list codes"))?;
    Ok(rows.into_iter().map(|r| r.into_code(&owner.id)).collect())
}

/// One statement; an ID match wins over a code-string match.
pub async fn delete_code<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_id: &str,
    id_or_code: &str,
) -> StoreResult<()> {
    let deleted = sqlx::query::<DB>(DELETE_CODE)
        .arg(id_key(account_id))
        .arg(id_key(id_or_code))
        .arg(code_key(id_or_code))
        .execute(db)
        .await
        .map_err(sql::db("delete code"))
        .map(sql::affected::<DB>)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One statement after the account's lookup; an ID match wins over a code-string match.
pub async fn update_code<'e, DB, E>(
    db: E,
    account_id: &str,
    id_or_code: &str,
    patch: CodePatch,
) -> StoreResult<Code>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    CodeRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let row = sqlx::query_as::<DB, CodeRow>(UPDATE_CODE)
        .arg(owner.pk)
        .arg(id_key(id_or_code))
        .arg(code_key(id_or_code))
        .arg(patch.country_code)
        .arg(patch.kind)
        .arg(patch.carrier)
        .arg(patch.opt_out_text.is_some())
        .arg(patch.opt_out_text.flatten())
        .arg(patch.help_text.is_some())
        .arg(patch.help_text.flatten())
        .fetch_optional(db)
        .await
        .map_err(sql::db("update code"))?
        .ok_or(StoreError::NotFound)?;
    Ok(row.into_code(&owner.id))
}

/// A code deleted between its lookup and the insert is NotFound, as if it had gone before.
pub async fn create_keyword<'e, DB, E>(db: E, new: NewKeyword) -> StoreResult<Keyword>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    CodeRef: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, &new.account_id).await?;
    let (code_pk, code) = code_by_string(db, &owner, &new.code).await?;
    let opt_in = opt_in_json(&new.opt_in)?;
    sqlx::query::<DB>(INSERT_KEYWORD)
        .arg(owner.pk)
        .arg(code_pk)
        .arg(new.id.as_str())
        .arg(id_key(&new.id))
        .arg(new.keyword.as_str())
        .arg(keyword_key(&new.keyword))
        .arg(&new.response)
        .arg(i32::from(new.double_opt_in))
        .arg(&new.confirm_text)
        .arg(new.created_at)
        .arg(opt_in)
        .execute(db)
        .await
        .map_err(sql::parent_gone("insert keyword"))?;
    Ok(Keyword {
        id: new.id,
        account_id: owner.id,
        code,
        keyword: new.keyword,
        response: new.response,
        double_opt_in: new.double_opt_in,
        confirm_text: new.confirm_text,
        created_at: new.created_at,
        opt_in: new.opt_in,
    })
}

pub async fn get_keyword<'e, DB, E>(db: E, account_id: &str, id: &str) -> StoreResult<Keyword>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    KeywordRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let row = sqlx::query_as::<DB, KeywordRow>(KEYWORD_BY_KEY)
        .arg(owner.pk)
        .arg(id_key(id))
        .fetch_optional(db)
        .await
        .map_err(sql::db("get keyword"))?
        .ok_or(StoreError::NotFound)?;
    row.into_keyword(&owner.id)
}

pub async fn list_keywords<'e, DB, E>(db: E, account_id: &str) -> StoreResult<Vec<Keyword>>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    KeywordRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let rows = sqlx::query_as::<DB, KeywordRow>(KEYWORDS_OF_ACCOUNT)
        .arg(owner.pk)
        .fetch_all(db)
        .await
        .map_err(sql::db("list keywords"))?;
    rows.into_iter()
        .map(|r| r.into_keyword(&owner.id))
        .collect()
}

/// One statement.
pub async fn delete_keyword<'e, DB: Sql>(
    db: impl Executor<'e, Database = DB>,
    account_id: &str,
    id: &str,
) -> StoreResult<()> {
    let deleted = sqlx::query::<DB>(DELETE_KEYWORD)
        .arg(id_key(account_id))
        .arg(id_key(id))
        .execute(db)
        .await
        .map_err(sql::db("delete keyword"))
        .map(sql::affected::<DB>)?;
    if deleted == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// Patches the keyword, then reads it back.
pub async fn update_keyword<'e, DB, E>(
    db: E,
    account_id: &str,
    id: &str,
    patch: KeywordPatch,
) -> StoreResult<Keyword>
where
    DB: Sql,
    E: Executor<'e, Database = DB> + Copy,
    AccountRef: for<'r> FromRow<'r, DB::Row>,
    KeywordRow: for<'r> FromRow<'r, DB::Row>,
{
    let owner = sql::account(db, account_id).await?;
    let opt_in = match &patch.opt_in {
        Some(rules) => Some(opt_in_json(rules)?),
        None => None,
    };
    let updated = sqlx::query::<DB>(UPDATE_KEYWORD)
        .arg(owner.pk)
        .arg(id_key(id))
        .arg(patch.response.is_some())
        .arg(patch.response.flatten())
        .arg(patch.double_opt_in.map(i32::from))
        .arg(patch.confirm_text.is_some())
        .arg(patch.confirm_text.flatten())
        .arg(opt_in.is_some())
        .arg(opt_in.flatten())
        .execute(db)
        .await
        .map_err(sql::db("update keyword"))
        .map(sql::affected::<DB>)?;
    if updated == 0 {
        return Err(StoreError::NotFound);
    }
    get_keyword(db, account_id, id).await
}

/// Implements [`CodeStore`](crate::CodeStore) for a backend's store type with the operations
/// above: `reads` names the field (a pool) that runs the reads, `writes` the one that runs the
/// writes (one statement each after the lookups). The backend crate must depend on
/// `async_trait`.
#[macro_export]
macro_rules! code_store {
    ($store:ty, reads: $reads:ident, writes: $writes:ident) => {
        #[::async_trait::async_trait]
        impl $crate::CodeStore for $store {
            async fn create_code(&self, new: $crate::NewCode) -> $crate::StoreResult<$crate::Code> {
                $crate::code_rows::create_code(&self.$writes, new).await
            }

            async fn get_code(
                &self,
                account_id: &str,
                id_or_code: &str,
            ) -> $crate::StoreResult<$crate::Code> {
                $crate::code_rows::get_code(&self.$reads, account_id, id_or_code).await
            }

            async fn list_codes(&self, account_id: &str) -> $crate::StoreResult<Vec<$crate::Code>> {
                $crate::code_rows::list_codes(&self.$reads, account_id).await
            }

            async fn delete_code(
                &self,
                account_id: &str,
                id_or_code: &str,
            ) -> $crate::StoreResult<()> {
                $crate::code_rows::delete_code(&self.$writes, account_id, id_or_code).await
            }

            async fn create_keyword(
                &self,
                new: $crate::NewKeyword,
            ) -> $crate::StoreResult<$crate::Keyword> {
                $crate::code_rows::create_keyword(&self.$writes, new).await
            }

            async fn get_keyword(
                &self,
                account_id: &str,
                id: &str,
            ) -> $crate::StoreResult<$crate::Keyword> {
                $crate::code_rows::get_keyword(&self.$reads, account_id, id).await
            }

            async fn list_keywords(
                &self,
                account_id: &str,
            ) -> $crate::StoreResult<Vec<$crate::Keyword>> {
                $crate::code_rows::list_keywords(&self.$reads, account_id).await
            }

            async fn delete_keyword(&self, account_id: &str, id: &str) -> $crate::StoreResult<()> {
                $crate::code_rows::delete_keyword(&self.$writes, account_id, id).await
            }

            async fn update_code(
                &self,
                account_id: &str,
                id_or_code: &str,
                patch: $crate::CodePatch,
            ) -> $crate::StoreResult<$crate::Code> {
                $crate::code_rows::update_code(&self.$writes, account_id, id_or_code, patch).await
            }

            async fn update_keyword(
                &self,
                account_id: &str,
                id: &str,
                patch: $crate::KeywordPatch,
            ) -> $crate::StoreResult<$crate::Keyword> {
                $crate::code_rows::update_keyword(&self.$writes, account_id, id, patch).await
            }
        }
    };
}
