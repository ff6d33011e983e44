//! Lists, their contacts (a JSON batch or a streamed CSV file) and subscriptions (API.md §7).

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use store::{
    Account, Attributes, ContactList, ContactRow, MemberCounts, NewList, Store, StoreError,
    SubscribeTo, Subscription, SubscriptionStatus,
};

use super::explicit_id;
use crate::error::named;
use crate::import::{self, Batcher, ChunkReader, Flush, ImportError, ImportReport};
use crate::{Field, Service, ServiceError, ServiceResult};

/// Most contacts of one JSON import: with their attributes, what one request stores stays
/// within the 2 MiB of API.md §1 (larger lists go by CSV, which is streamed).
pub const MAX_JSON_CONTACTS: usize = 5_000;

/// A new list as asked for.
#[derive(Debug, Clone, Default)]
pub struct ListRequest {
    pub id: Field<String>,
    pub name: Field<String>,
    pub problems: Vec<String>,
}

/// A keyword to subscribe imported numbers to, by code and word.
#[derive(Debug, Clone, Default)]
pub struct SubscribeRequest {
    pub code: Field<String>,
    pub keyword: Field<String>,
}

/// One contact of a JSON import, as read.
#[derive(Debug, Clone)]
pub enum ContactEntry {
    /// An entry that could not be read: its value as given and why (the row is rejected).
    Unreadable { value: String, reason: String },
    Given {
        mobile_number: Option<String>,
        subscriber_key: Option<String>,
        /// The subscriber key's field as spelled (for its §1 message).
        key_field: String,
        /// Attributes in the order given.
        attributes: Vec<(String, String)>,
    },
}

/// `POST /admin/v1/accounts/{acct}/lists/{id}/contacts` with a JSON body, as read.
#[derive(Debug, Clone, Default)]
pub struct ContactsImport {
    pub contacts: Field<Vec<ContactEntry>>,
    /// `None`: no subscription asked for (or an unreadable one, already reported).
    pub subscribe: Option<SubscribeRequest>,
    pub problems: Vec<String>,
}

/// A subscription an operator sets (`POST /admin/v1/accounts/{acct}/subscriptions`).
#[derive(Debug, Clone, Default)]
pub struct SubscriptionChange {
    pub mobile_number: Field<String>,
    pub code: Field<String>,
    pub keyword: Field<String>,
    pub status: Field<String>,
    pub problems: Vec<String>,
}

impl Service {
    /// `POST /admin/v1/accounts/{acct}/lists`.
    pub async fn create_list(
        &self,
        account: &Account,
        request: ListRequest,
    ) -> ServiceResult<ContactList> {
        let mut errors = request.problems;
        let id = explicit_id(&request.id, "List", &mut errors);
        let name = request
            .name
            .required("name", &mut errors)
            .map(str::to_string);
        ServiceError::check(errors)?;
        let id = id.unwrap_or_else(domain::mint_id);
        self.store()
            .create_list(NewList {
                id: id.clone(),
                account_id: account.id.clone(),
                name: name.unwrap_or_default(),
                created_at: self.now(),
                hidden: false,
                counts_rows: false,
            })
            .await
            .map_err(named(&format!("List {id}")))
    }

    pub async fn lists(&self, account: &Account) -> ServiceResult<Vec<ContactList>> {
        Ok(self.store().list_lists(&account.id).await?)
    }

    pub async fn list(&self, account: &Account, id: &str) -> ServiceResult<ContactList> {
        self.store()
            .get_list(&account.id, id)
            .await
            .map_err(named(&format!("List {id}")))
    }

    pub async fn delete_list(&self, account: &Account, id: &str) -> ServiceResult<()> {
        self.store()
            .delete_list(&account.id, id)
            .await
            .map_err(named(&format!("List {id}")))
    }

    /// `DELETE /admin/v1/accounts/{acct}/lists/{id}/contacts/{mobileNumber}`.
    pub async fn remove_contact(
        &self,
        account: &Account,
        list: &str,
        number: &str,
    ) -> ServiceResult<()> {
        let digits = number.strip_prefix('+').unwrap_or(number);
        self.store()
            .remove_member(&account.id, list, digits)
            .await
            .map_err(named(&format!("Contact {number} of list {list}")))
    }

    /// The keyword `keyword` on the account's code `code`, or the message why not.
    pub async fn subscribe_target(
        &self,
        account_id: &str,
        code: &str,
        keyword: &str,
    ) -> ServiceResult<Result<SubscribeTo, String>> {
        let code = match self.store().get_code(account_id, code).await {
            Ok(c) => c,
            Err(StoreError::NotFound) => return Ok(Err(format!("Code {code} isn't valid."))),
            Err(e) => return Err(e.into()),
        };
        let found = self
            .keyword_on_code(account_id, &code.code, keyword)
            .await?;
        Ok(match found {
            Some(k) => Ok(SubscribeTo {
                code: code.code,
                keyword: k.keyword,
            }),
            None => Err(format!(
                "Keyword {keyword} isn't valid for the code {}.",
                code.code
            )),
        })
    }

    /// Imports a JSON batch of contacts into the account's list: bad rows are reported, good
    /// rows imported (API.md §7).
    pub async fn import_contacts(
        &self,
        account: &Account,
        list: &ContactList,
        request: ContactsImport,
    ) -> ServiceResult<ImportReport> {
        let mut errors = request.problems;
        let contacts = match request.contacts {
            Field::Given(items) if items.len() > MAX_JSON_CONTACTS => {
                errors.push(format!(
                    "The count of contacts can't exceed {MAX_JSON_CONTACTS}."
                ));
                None
            }
            Field::Given(items) => Some(items),
            Field::Unreadable => None,
            Field::Absent | Field::Null => {
                errors.push("contacts is required.".into());
                None
            }
        };
        let mut subscribe = None;
        if let Some(sub) = request.subscribe {
            let code = sub.code.required("code", &mut errors).map(str::to_string);
            let keyword = sub
                .keyword
                .required("keyword", &mut errors)
                .map(str::to_string);
            if let (Some(code), Some(keyword)) = (code, keyword) {
                match self.subscribe_target(&account.id, &code, &keyword).await? {
                    Ok(to) => subscribe = Some(to),
                    Err(message) => errors.push(message),
                }
            }
        }
        ServiceError::check(errors)?;

        let mut rows = Vec::new();
        let mut report = ImportReport::default();
        for (i, entry) in contacts.into_iter().flatten().enumerate() {
            let row = i as u64 + 1;
            let (number, key, key_field, given) = match entry {
                ContactEntry::Unreadable { value, reason } => {
                    report.reject(row, &value, reason);
                    continue;
                }
                ContactEntry::Given {
                    mobile_number,
                    subscriber_key,
                    key_field,
                    attributes,
                } => (mobile_number, subscriber_key, key_field, attributes),
            };
            // API.md §1 limits: an over-long key or attribute rejects the row, not the import.
            let too_long = domain::limits::contact_messages(
                &key_field,
                key.as_deref(),
                given.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
            if let Some(first) = too_long.into_iter().next() {
                report.reject(row, number.as_deref().unwrap_or(""), first);
                continue;
            }
            let attributes: Attributes = given
                .into_iter()
                .map(|(k, v)| (k, serde_json::Value::String(v)))
                .collect();
            let raw = number.unwrap_or_default();
            match import::parse_number(&raw) {
                Ok(n) => rows.push(ContactRow {
                    mobile_number: n.as_str().to_string(),
                    subscriber_key: key.filter(|k| !k.trim().is_empty()),
                    attributes,
                }),
                Err(reason) => report.reject(row, &raw, reason),
            }
        }
        let mut sink = self.members_sink(account, list, subscribe);
        tokio::task::spawn_blocking(move || {
            let mut batcher = Batcher::new(&mut sink);
            batcher.report = report;
            for row in rows {
                batcher.push(row)?;
            }
            batcher.finish()
        })
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::from)
    }

    /// Where an import on the blocking pool writes its batches: the list's members, now.
    fn members_sink(
        &self,
        account: &Account,
        list: &ContactList,
        subscribe: Option<SubscribeTo>,
    ) -> impl FnMut(Flush<'_>) -> Result<MemberCounts, ImportError> + Send + 'static {
        let store: Arc<dyn Store> = self.inner.store.clone();
        let (account_id, list_id) = (account.id.clone(), list.id.clone());
        let now = self.now();
        let handle = tokio::runtime::Handle::current();
        move |batch: Flush<'_>| {
            handle
                .block_on(store.upsert_members(
                    &account_id,
                    &list_id,
                    batch.rows,
                    subscribe.as_ref(),
                    now,
                ))
                .map_err(ImportError::from)
        }
    }

    /// Imports a CSV file (a header row naming `mobileNumber`, optionally `subscriberKey`, and
    /// attributes) into the account's list as its chunks arrive: memory stays bounded whatever
    /// its size (DESIGN.md "One streaming CSV importer"). The file as a whole refused (no
    /// `mobileNumber` column, empty) is `Invalid` with the reason. A chunk that is an error ends
    /// the file there (the caller knows why).
    pub async fn import_contacts_csv<S>(
        &self,
        account: &Account,
        list: &ContactList,
        subscribe: Option<SubscribeTo>,
        chunks: S,
    ) -> ServiceResult<ImportReport>
    where
        S: Stream<Item = Result<Bytes, std::io::Error>> + Send,
    {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        let mut sink = self.members_sink(account, list, subscribe);
        let worker = tokio::task::spawn_blocking(move || {
            import::import_csv(ChunkReader::new(rx), &mut sink)
        });
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            let failed = chunk.is_err();
            if tx.send(chunk).await.is_err() || failed {
                break;
            }
        }
        drop(tx);
        worker
            .await
            .map_err(ServiceError::internal)?
            .map_err(ServiceError::from)
    }

    /// `POST /admin/v1/accounts/{acct}/subscriptions`: sets one subscription, as an operator
    /// would in the UI.
    pub async fn set_subscription(
        &self,
        account: &Account,
        change: SubscriptionChange,
    ) -> ServiceResult<Subscription> {
        let mut errors = change.problems;
        let number = change
            .mobile_number
            .required("mobileNumber", &mut errors)
            .map(str::to_string);
        let code = change
            .code
            .required("code", &mut errors)
            .map(str::to_string);
        let keyword = change
            .keyword
            .required("keyword", &mut errors)
            .map(str::to_string);
        let status = match change.status.required("status", &mut errors) {
            Some(raw) => {
                let parsed = SubscriptionStatus::parse(raw);
                if parsed.is_none() {
                    errors.push(format!("{raw} isn't a valid subscription status."));
                }
                parsed
            }
            None => None,
        };
        let number = match number.as_deref().map(import::parse_number) {
            Some(Ok(n)) => Some(n),
            Some(Err(reason)) => {
                errors.push(reason);
                None
            }
            None => None,
        };
        let mut target = None;
        if let (Some(code), Some(keyword)) = (&code, &keyword) {
            match self.subscribe_target(&account.id, code, keyword).await? {
                Ok(to) => target = Some(to),
                Err(message) => errors.push(message),
            }
        }
        ServiceError::check(errors)?;
        let (Some(number), Some(target), Some(status)) = (number, target, status) else {
            return Err(ServiceError::internal(
                "validated subscription without its fields",
            ));
        };
        Ok(self
            .store()
            .set_subscription(&account.id, &target, number.as_str(), status, self.now())
            .await?)
    }

    /// `GET /admin/v1/accounts/{acct}/subscriptions?mobileNumber=`: a number's subscriptions.
    pub async fn number_subscriptions(
        &self,
        account: &Account,
        mobile_number: &str,
    ) -> ServiceResult<Vec<Subscription>> {
        let number = import::parse_number(mobile_number).map_err(ServiceError::invalid)?;
        Ok(self
            .store()
            .subscriptions_of(&account.id, number.as_str())
            .await?)
    }
}
