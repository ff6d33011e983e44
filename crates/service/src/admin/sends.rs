//! The sends of an account, newest first; a send's status whatever its account; canceling a
//! send; what the simulator carrier accepted (API.md §7).

use store::{Account, OutboxEntry, Send, SendQuery, SendState, StoreError};

use crate::{Page, SendReport, Service, ServiceError, ServiceResult};

/// `GET /admin/v1/accounts/{acct}/sends` parameters as given.
#[derive(Debug, Clone, Default)]
pub struct SendsQuery {
    pub state: Option<String>,
    pub limit: Option<String>,
    pub after: Option<String>,
}

/// A page of sends and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct SendsPage {
    pub sends: Vec<Send>,
    pub next: Option<String>,
}

/// A page of the simulator's outbox and the cursor of the next page.
#[derive(Debug, Clone)]
pub struct OutboxPage {
    pub items: Vec<OutboxEntry>,
    pub next: Option<i64>,
}

impl Service {
    /// `GET /admin/v1/accounts/{acct}/sends?state=&limit=&after=`.
    pub async fn sends(&self, account: &Account, query: SendsQuery) -> ServiceResult<SendsPage> {
        let mut errors = Vec::new();
        let filter = match query.state.filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => {
                let parsed = SendState::parse(&raw);
                if parsed.is_none() {
                    errors.push(format!("{raw} isn't a valid value for state."));
                }
                parsed
            }
        };
        let limit = match query.limit {
            None => 100,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if n >= 1 => n.min(1000),
                _ => {
                    errors.push(format!("{raw} isn't a valid value for limit."));
                    100
                }
            },
        };
        ServiceError::check(errors)?;
        let after = query.after.filter(|s| !s.is_empty());
        // `after` naming no send of the account is a bad cursor, not a server failure.
        let shown = after.clone().unwrap_or_default();
        self.sends_page(account, filter, after, limit)
            .await?
            .ok_or_else(|| ServiceError::invalid(format!("{shown} isn't a valid value for after.")))
    }

    /// A page of the account's sends (newest first) in state `state` after the send `after`;
    /// `None` when `after` names no send of the account.
    pub async fn sends_page(
        &self,
        account: &Account,
        state: Option<SendState>,
        after: Option<String>,
        limit: u32,
    ) -> ServiceResult<Option<SendsPage>> {
        let sends = match self
            .store()
            .list_sends(
                &account.id,
                SendQuery {
                    state,
                    after,
                    limit,
                },
            )
            .await
        {
            Ok(sends) => sends,
            Err(StoreError::NotFound) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let next = (sends.len() == limit as usize)
            .then(|| sends.last().map(|s| s.token.clone()))
            .flatten();
        Ok(Some(SendsPage { sends, next }))
    }

    /// A send of the account by token.
    pub async fn send(&self, account: &Account, token: &str) -> ServiceResult<Send> {
        match self.store().get_send(&account.id, token).await {
            Ok(send) => Ok(send),
            Err(StoreError::NotFound) => {
                Err(ServiceError::NotFound(format!("Send {token} not found.")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A send of the account with its counts at this moment and when it may go next.
    pub async fn send_progress(
        &self,
        account: &Account,
        token: &str,
    ) -> ServiceResult<(Send, store::SendCounts, Option<i64>)> {
        let send = self.send(account, token).await?;
        let counts = self.store().send_counts(&send.token, self.now()).await?;
        let next_at = self.store().send_next_at(&send.token).await?;
        Ok((send, counts, next_at))
    }

    /// `GET /admin/v1/sends/{tokenId}`: a send's status (API.md §5, first page) whatever its
    /// account, with that account.
    pub async fn any_send_report(&self, token: &str) -> ServiceResult<(Account, SendReport)> {
        for account in self.store().list_accounts().await? {
            match self.store().get_send(&account.id, token).await {
                Ok(send) => {
                    let page = Page {
                        number: 1,
                        size: 1000,
                    };
                    return Ok((account, self.send_report(send, page).await?));
                }
                Err(StoreError::NotFound) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ServiceError::NotFound(format!("Send {token} not found.")))
    }

    /// `POST /admin/v1/sends/{tokenId}/cancel`: how many recipients will not be texted.
    pub async fn cancel_send(&self, token: &str) -> ServiceResult<u64> {
        match self.store().cancel_send(token, self.now()).await {
            Ok(n) => Ok(n),
            Err(StoreError::NotFound) => {
                Err(ServiceError::NotFound(format!("Send {token} not found.")))
            }
            Err(StoreError::Conflict(_)) => Err(ServiceError::Conflict(format!(
                "Send {token} is already final and can't be canceled."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// `GET /admin/v1/outbox?after={seq}&limit={n}` with the parameters as given.
    pub async fn outbox(
        &self,
        after: Option<&str>,
        limit: Option<&str>,
    ) -> ServiceResult<OutboxPage> {
        let mut errors = Vec::new();
        let after = match after.filter(|s| !s.is_empty()) {
            None => 0,
            Some(raw) => raw.parse::<i64>().unwrap_or_else(|_| {
                errors.push(format!("{raw} isn't a valid value for after."));
                0
            }),
        };
        let limit = match limit.filter(|s| !s.is_empty()) {
            None => 1000,
            Some(raw) => match raw.parse::<u32>() {
                Ok(n) if n >= 1 => n.min(10_000),
                _ => {
                    errors.push(format!("{raw} isn't a valid value for limit."));
                    1000
                }
            },
        };
        ServiceError::check(errors)?;
        self.outbox_page(after, limit).await
    }

    /// A page of what the simulator carrier accepted, after sequence number `after`.
    pub async fn outbox_page(&self, after: i64, limit: u32) -> ServiceResult<OutboxPage> {
        let items = self.store().outbox_page(after, limit).await?;
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|e| e.seq))
            .flatten();
        Ok(OutboxPage { items, next })
    }
}
