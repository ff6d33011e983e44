//! Short and long codes and the keywords on them (API.md §6, §7): the shared operations of
//! `store::code_rows`, reads on the readers, writes (one statement each after the lookups) on the writer. Deleting either cascades, in the schema, to the keywords and
//! subscriptions below it.

use async_trait::async_trait;
use store::code_rows;
use store::{Code, CodePatch, CodeStore, Keyword, KeywordPatch, NewCode, NewKeyword, StoreResult};

use crate::SqliteStore;

pub(crate) use store::code_rows::{code_key, keyword_by_name, keyword_key, CodeRow};

#[async_trait]
impl CodeStore for SqliteStore {
    async fn create_code(&self, new: NewCode) -> StoreResult<Code> {
        code_rows::create_code(&self.writer, new).await
    }

    async fn get_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<Code> {
        code_rows::get_code(&self.reader, account_id, id_or_code).await
    }

    async fn list_codes(&self, account_id: &str) -> StoreResult<Vec<Code>> {
        code_rows::list_codes(&self.reader, account_id).await
    }

    async fn delete_code(&self, account_id: &str, id_or_code: &str) -> StoreResult<()> {
        code_rows::delete_code(&self.writer, account_id, id_or_code).await
    }

    async fn create_keyword(&self, new: NewKeyword) -> StoreResult<Keyword> {
        code_rows::create_keyword(&self.writer, new).await
    }

    async fn get_keyword(&self, account_id: &str, id: &str) -> StoreResult<Keyword> {
        code_rows::get_keyword(&self.reader, account_id, id).await
    }

    async fn list_keywords(&self, account_id: &str) -> StoreResult<Vec<Keyword>> {
        code_rows::list_keywords(&self.reader, account_id).await
    }

    async fn delete_keyword(&self, account_id: &str, id: &str) -> StoreResult<()> {
        code_rows::delete_keyword(&self.writer, account_id, id).await
    }

    async fn update_code(
        &self,
        account_id: &str,
        id_or_code: &str,
        patch: CodePatch,
    ) -> StoreResult<Code> {
        code_rows::update_code(&self.writer, account_id, id_or_code, patch).await
    }

    async fn update_keyword(
        &self,
        account_id: &str,
        id: &str,
        patch: KeywordPatch,
    ) -> StoreResult<Keyword> {
        code_rows::update_keyword(&self.writer, account_id, id, patch).await
    }
}
