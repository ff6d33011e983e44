//! Short and long codes and the keywords on them (API.md §6, §7): the shared operations of
//! `store::code_rows`, all on the pool. Deleting either cascades, in the schema, to the keywords and
//! subscriptions below it.

use async_trait::async_trait;
use store::code_rows;
use store::{Code, CodePatch, CodeStore, Keyword, KeywordPatch, NewCode, NewKeyword, StoreResult};

use crate::PgStore;

pub(crate) use store::code_rows::{code_key, keyword_by_name, keyword_key, CodeRow};

#[async_trait]
impl CodeStore for PgStore {
    async fn create_code(&self, new: NewCode) -> StoreResult<Code> {
        code_rows::create_code(&self.pool, new).await
    }

    async fn get_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<Code> {
        code_rows::get_code(&self.pool, account_id, id_or_code).await
    }

    async fn list_codes(&self, account_id: &str) -> StoreResult<Vec<Code>> {
        code_rows::list_codes(&self.pool, account_id).await
    }

    async fn delete_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<()> {
        code_rows::delete_code(&self.pool, account_id, id_or_code).await
    }

    async fn create_keyword(&self, new: NewKeyword) -> StoreResult<Keyword> {
        code_rows::create_keyword(&self.pool, new).await
    }

    async fn get_keyword(&self, account_id: &str, id: &str) -> StoreResult<Keyword> {
        code_rows::get_keyword(&self.pool, account_id, id).await
    }

    async fn list_keywords(&self, account_id: &str) -> StoreResult<Vec<Keyword>> {
        code_rows::list_keywords(&self.pool, account_id).await
    }

    async fn delete_keyword(&self, account_id: &str, id: &str) -> StoreResult<()> {
        code_rows::delete_keyword(&self.pool, account_id, id).await
    }

    async fn update_code(
        &self,
        account_id: &str,
        id_or_code: &str,
        patch: CodePatch,
    ) -> StoreResult<Code> {
        code_rows::update_code(&self.pool, account_id, id_or_code, patch).await
    }

    async fn update_keyword(
        &self,
        account_id: &str,
        id: &str,
        patch: KeywordPatch,
    ) -> StoreResult<Keyword> {
        code_rows::update_keyword(&self.pool, account_id, id, patch).await
    }
}
