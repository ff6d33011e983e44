//! What both backends share about codes and keywords: the lookup keys, the statements both
//! dialects read alike (written once, with `$N` parameters), the binding of a new code, and the
//! code row with its mapping to [`Code`]. The keyword row (a boolean on SQLite, an integer flag
//! on PostgreSQL), the updates and the deletions stay each backend's own.

use sqlx::{Database, Encode, Type};

use crate::{Code, NewCode, Statement};

/// The lookup key of a keyword. Keywords are words texted by people, so this folds case beyond
/// ASCII (`ÚNETE` and `únete` are one keyword).
pub fn keyword_key(keyword: &str) -> String {
    keyword.to_lowercase()
}

/// The lookup key of a code string (digits in practice; compared ignoring ASCII case all the same).
pub fn code_key(code: &str) -> String {
    code.to_ascii_lowercase()
}

/// Records a new code: bound by [`bind_new_code`].
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

/// `SELECT` of a keyword row, followed by the given clauses.
#[macro_export]
macro_rules! select_keyword {
    ($($clauses:literal),+) => {
        concat!(
            "SELECT k.id, c.code, k.keyword, k.response, k.double_opt_in, k.confirm_text, \
             k.created_at FROM keywords k JOIN codes c ON c.pk = k.code_pk ",
            $($clauses),+
        )
    };
}

/// The account's (`$1`, its pk) keyword by its ID key (`$2`).
pub const KEYWORD_BY_KEY: &str = select_keyword!("WHERE k.account_pk = $1 AND k.id_key = $2");

/// The account's (`$1`, its pk) keywords, oldest first.
pub const KEYWORDS_OF_ACCOUNT: &str = select_keyword!("WHERE k.account_pk = $1 ORDER BY k.pk");

/// Binds [`INSERT_CODE`]'s parameters.
pub fn bind_new_code<'q, DB>(
    query: Statement<'q, DB>,
    new: &'q NewCode,
    account_pk: i64,
) -> Statement<'q, DB>
where
    DB: Database,
    &'q str: Encode<'q, DB> + Type<DB>,
    String: Encode<'q, DB> + Type<DB>,
    Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: Encode<'q, DB> + Type<DB>,
{
    query
        .bind(account_pk)
        .bind(new.id.as_str())
        .bind(new.id.to_ascii_lowercase())
        .bind(new.code.as_str())
        .bind(code_key(&new.code))
        .bind(new.country_code.as_str())
        .bind(new.kind.as_str())
        .bind(new.carrier.as_str())
        .bind(new.opt_out_text.as_deref())
        .bind(new.help_text.as_deref())
        .bind(new.created_at)
}

/// A code as [`CODE_BY_ID_OR_STRING`] and [`CODES_OF_ACCOUNT`] read it.
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
