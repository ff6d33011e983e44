//! The admin operations (API.md §7): what the MobileConnect UI does — accounts, API clients,
//! codes, keywords, messages, lists and contacts, subscriptions, and the sends of an account.
//! The admin API, the console and the CLI all run these.

mod accounts;
mod catalog;
mod lists;
mod sends;

pub use accounts::{ClientRequest, MintedClient, NewAccountRequest};
pub use catalog::{
    CodeChanges, CodeRequest, KeywordChanges, MessageChanges, MessageRequest,
    OperatorKeywordRequest, DEFAULT_HELP_TEXT, DEFAULT_OPT_OUT_TEXT,
};
pub use lists::{
    ContactEntry, ContactsImport, ListRequest, SubscribeRequest, SubscriptionChange,
    MAX_JSON_CONTACTS,
};
pub use sends::{OutboxPage, SendsPage, SendsQuery};

use domain::EncodedId;
use store::Account;

use crate::error::named;
use crate::{Field, Service, ServiceResult};

impl Service {
    /// The account an admin path names; looked up, its folders exist on this node (API.md §6).
    pub async fn account(&self, raw: &str) -> ServiceResult<Account> {
        if EncodedId::parse(raw).is_none() {
            return Err(crate::ServiceError::NotFound(format!(
                "Account {raw} not found."
            )));
        }
        let account = self
            .store()
            .get_account(raw)
            .await
            .map_err(named(&format!("Account {raw}")))?;
        self.folders().ensure_or_log(&account.id);
        Ok(account)
    }
}

/// An optional explicit ID of a new object of `kind`, checked against API.md §3.
fn explicit_id(id: &Field<String>, kind: &str, errors: &mut Vec<String>) -> Option<String> {
    let raw = id.given()?;
    if EncodedId::parse(raw).is_none() {
        errors.push(format!("{kind} id {raw} isn't valid."));
        return None;
    }
    Some(raw.clone())
}

/// The API.md §1 text limit for the admin field `field`.
fn check_text(field: &str, text: Option<&str>, errors: &mut Vec<String>) {
    if let Some(m) = text.and_then(|t| domain::limits::check_text(field, t)) {
        errors.push(m);
    }
}
