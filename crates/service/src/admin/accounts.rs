//! Accounts and API clients (API.md §7).

use store::{Account, Client, NewAccount, NewClient, StoreError};

use super::explicit_id;
use crate::credentials::{hash_secret, random_alnum};
use crate::error::named;
use crate::{Field, Service, ServiceError, ServiceResult, ALL_SCOPES};

/// A new account as asked for.
#[derive(Debug, Clone, Default)]
pub struct NewAccountRequest {
    pub id: Field<String>,
    pub name: Field<String>,
    /// Messages of reading the request (API.md §1), first in the answer.
    pub problems: Vec<String>,
}

/// A new API client as asked for.
#[derive(Debug, Clone, Default)]
pub struct ClientRequest {
    /// `None`: every scope.
    pub scopes: Option<Vec<String>>,
    /// Further accounts the client may act for.
    pub accounts: Vec<String>,
    pub problems: Vec<String>,
}

/// A client just created, with its secret (shown this once: only its hash is kept).
#[derive(Debug, Clone)]
pub struct MintedClient {
    pub client: Client,
    pub secret: String,
}

impl Service {
    /// `POST /admin/v1/accounts`: also makes the account's folders (API.md §6), whichever way the
    /// account was created.
    pub async fn create_account(&self, request: NewAccountRequest) -> ServiceResult<Account> {
        let mut errors = request.problems;
        let id = explicit_id(&request.id, "Account", &mut errors);
        let name = request
            .name
            .required("name", &mut errors)
            .map(str::to_string);
        ServiceError::check(errors)?;
        let id = id.unwrap_or_else(domain::mint_id);
        let account = self
            .store()
            .create_account(NewAccount {
                id: id.clone(),
                name: name.unwrap_or_default(),
                created_at: self.now(),
            })
            .await
            .map_err(named(&format!("Account {id}")))?;
        self.folders().ensure_or_log(&account.id);
        Ok(account)
    }

    pub async fn accounts(&self) -> ServiceResult<Vec<Account>> {
        Ok(self.store().list_accounts().await?)
    }

    /// `POST /admin/v1/accounts/{acct}/clients`: a client ID and a 40-character secret (238
    /// random bits, so a fast keyed hash suffices at rest, API.md §2).
    pub async fn create_client(
        &self,
        account: &Account,
        request: ClientRequest,
    ) -> ServiceResult<MintedClient> {
        let mut errors = request.problems;
        let scopes: Vec<String> = match request.scopes {
            None => ALL_SCOPES.iter().map(|s| s.to_string()).collect(),
            Some(given) => {
                for s in &given {
                    if !ALL_SCOPES.contains(&s.as_str()) {
                        errors.push(format!("{s} isn't a valid scope."));
                    }
                }
                ALL_SCOPES
                    .iter()
                    .filter(|s| given.iter().any(|g| g == *s))
                    .map(|s| s.to_string())
                    .collect()
            }
        };
        let mut accounts = Vec::new();
        for other in &request.accounts {
            match self.store().get_account(other).await {
                Ok(a) if a.id != account.id && !accounts.contains(&a.id) => accounts.push(a.id),
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.push(format!("Account {other} not found.")),
                Err(e) => return Err(e.into()),
            }
        }
        ServiceError::check(errors)?;
        let client_id = random_alnum(24).to_ascii_lowercase();
        let secret = random_alnum(40);
        let secret_hash = hash_secret(&secret)?;
        let client = self
            .store()
            .create_client(NewClient {
                client_id,
                secret_hash,
                account_id: account.id.clone(),
                scopes,
                accounts,
                created_at: self.now(),
            })
            .await?;
        Ok(MintedClient { client, secret })
    }

    pub async fn clients(&self, account: &Account) -> ServiceResult<Vec<Client>> {
        Ok(self.store().list_clients(&account.id).await?)
    }

    pub async fn revoke_client(&self, account: &Account, client_id: &str) -> ServiceResult<()> {
        self.store()
            .revoke_client(&account.id, client_id)
            .await
            .map_err(named(&format!("Client {client_id}")))?;
        Ok(())
    }
}
