//! The trait implementations both backends generate from one macro each: every generated method
//! forwards to the shared operation of its area, on the pool the backend names (`reads` for the
//! reads, `writes` for the single-statement writes) or inside the write transaction its `begin`
//! method opens (settled with [`settle`](crate::sql::settle)). What really differs per backend
//! (a statement with arrays or JSON, a lock, a group commit) is a method or function of the backend
//! that the macro is given by name; `signal` names the field whose `raise()` tells other processes
//! that work waits (PostgreSQL's; SQLite, owned by one process, has none).
//!
//! Each macro must be invoked where the backend's named methods and functions are in scope, in a
//! crate that depends on `async_trait` and `sqlx`.

/// Implements [`AccountStore`](crate::AccountStore) with [`account_rows`](crate::account_rows):
/// reads on `reads`, writes on `writes`. The backend supplies `revoke_client` and
/// `replace_client_secret_hash`, methods of its store with the trait's parameters.
#[macro_export]
macro_rules! account_store {
    ($store:ty, reads: $reads:ident, writes: $writes:ident, revoke_client: $revoke:ident,
     replace_client_secret_hash: $replace:ident) => {
        #[::async_trait::async_trait]
        impl $crate::AccountStore for $store {
            async fn create_account(
                &self,
                new: $crate::NewAccount,
            ) -> $crate::StoreResult<$crate::Account> {
                $crate::account_rows::create_account(&self.$writes, new).await
            }

            async fn get_account(&self, id: &str) -> $crate::StoreResult<$crate::Account> {
                $crate::account_rows::get_account(&self.$reads, id).await
            }

            async fn list_accounts(&self) -> $crate::StoreResult<Vec<$crate::Account>> {
                $crate::account_rows::list_accounts(&self.$reads).await
            }

            async fn create_client(
                &self,
                new: $crate::NewClient,
            ) -> $crate::StoreResult<$crate::Client> {
                $crate::account_rows::create_client(&self.$writes, new).await
            }

            async fn get_client(&self, client_id: &str) -> $crate::StoreResult<$crate::Client> {
                $crate::account_rows::get_client(&self.$reads, client_id).await
            }

            async fn list_clients(
                &self,
                account_id: &str,
            ) -> $crate::StoreResult<Vec<$crate::Client>> {
                $crate::account_rows::list_clients(&self.$reads, account_id).await
            }

            async fn revoke_client(
                &self,
                account_id: &str,
                client_id: &str,
            ) -> $crate::StoreResult<()> {
                self.$revoke(account_id, client_id).await
            }

            async fn insert_token(&self, new: $crate::NewAccessToken) -> $crate::StoreResult<()> {
                $crate::account_rows::insert_token(&self.$writes, new).await
            }

            async fn find_token(
                &self,
                token_hash: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<Option<$crate::AccessToken>> {
                $crate::account_rows::find_token(&self.$reads, token_hash, now).await
            }

            async fn replace_client_secret_hash(
                &self,
                client_id: &str,
                old_hash: &str,
                new_hash: &str,
            ) -> $crate::StoreResult<bool> {
                self.$replace(client_id, old_hash, new_hash).await
            }

            async fn purge_expired_tokens(&self, now: $crate::Millis) -> $crate::StoreResult<u64> {
                $crate::account_rows::purge_expired_tokens(&self.$writes, now).await
            }
        }
    };
}

/// Implements [`SubscriptionStore`](crate::SubscriptionStore) with
/// [`subscription_rows`](crate::subscription_rows) for a backend whose database is `db`: reads on
/// `reads`, the lapse in a transaction of `begin`. `set_subscription` says where the account and
/// keyword lookups and the upsert run: `on $pool` (one statement each on that pool: a keyword
/// deleted meanwhile fails the upsert's foreign key) or `in $begin` (one transaction). The backend
/// supplies `keyword_by_name` (its keyword lookup), `numbers` (how it binds a set of numbers,
/// a [`NumberSet`](crate::subscription_rows::NumberSet)) and `on_code`, its statement of
/// `subscriptions_on_code` with that set.
#[macro_export]
macro_rules! subscription_store {
    ($store:ty, db: $db:ty, reads: $reads:ident, begin: $begin:ident,
     set_subscription: $how:ident $where:ident, keyword_by_name: $keyword:path,
     numbers: $numbers:ty, on_code: $on_code:expr) => {
        #[::async_trait::async_trait]
        impl $crate::SubscriptionStore for $store {
            async fn set_subscription(
                &self,
                account_id: &str,
                to: &$crate::SubscribeTo,
                mobile_number: &str,
                status: $crate::SubscriptionStatus,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::Subscription> {
                $crate::set_subscription_in!(
                    $how $where, self, $keyword, account_id, to, mobile_number, status, now
                )
            }

            async fn subscriptions_of(
                &self,
                account_id: &str,
                mobile_number: &str,
            ) -> $crate::StoreResult<Vec<$crate::Subscription>> {
                $crate::subscription_rows::subscriptions_of(&self.$reads, account_id, mobile_number)
                    .await
            }

            async fn subscriptions_on_code(
                &self,
                account_id: &str,
                code: &str,
                numbers: &[String],
            ) -> $crate::StoreResult<Vec<$crate::Subscription>> {
                $crate::subscription_rows::subscriptions_on_code::<_, _, $numbers>(
                    &self.$reads,
                    $on_code,
                    account_id,
                    code,
                    numbers,
                )
                .await
            }

            async fn lapse_pending(&self, cutoff: $crate::Millis) -> $crate::StoreResult<u64> {
                let mut tx = self.$begin().await?;
                let work = $crate::subscription_rows::lapse_pending::<$db>(&mut tx, cutoff)
                    .await
                    .map($crate::sql::Ending::Commit);
                $crate::sql::settle(tx, work, "commit lapsed opt-in requests").await
            }
        }
    };
}

/// The body of [`subscription_store!`]'s `set_subscription`: the account, the keyword by name
/// and the upsert, `on` a pool or `in` one write transaction.
#[doc(hidden)]
#[macro_export]
macro_rules! set_subscription_in {
    (on $pool:ident, $this:ident, $keyword:path, $account_id:ident, $to:ident, $number:ident,
     $status:ident, $now:ident) => {{
        let owner = $crate::sql::account(&$this.$pool, $account_id).await?;
        let (pk, code, keyword) = $keyword(&$this.$pool, &owner, &$to.code, &$to.keyword).await?;
        let keyword = $crate::subscription_rows::KeywordOf { pk, code, keyword };
        $crate::subscription_rows::set_subscription(
            &$this.$pool,
            &owner,
            keyword,
            $number,
            $status,
            $now,
        )
        .await
    }};
    (in $begin:ident, $this:ident, $keyword:path, $account_id:ident, $to:ident, $number:ident,
     $status:ident, $now:ident) => {{
        let mut tx = $this.$begin().await?;
        let owner = $crate::sql::account(&mut *tx, $account_id).await?;
        let (pk, code, keyword) = $keyword(&mut *tx, &owner, &$to.code, &$to.keyword).await?;
        let keyword = $crate::subscription_rows::KeywordOf { pk, code, keyword };
        let subscription = $crate::subscription_rows::set_subscription(
            &mut *tx, &owner, keyword, $number, $status, $now,
        )
        .await?;
        tx.commit()
            .await
            .map_err($crate::sql::db("commit subscription"))?;
        Ok(subscription)
    }};
}
