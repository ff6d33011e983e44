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

/// What a backend's own function runs on: `on $pool` passes a reference to that pool, `in $begin`
/// a write transaction opened with that method (the function commits it).
#[doc(hidden)]
#[macro_export]
macro_rules! run_on {
    (on $pool:ident, $this:ident) => {
        &$this.$pool
    };
    (in $begin:ident, $this:ident) => {
        $this.$begin().await?
    };
}

/// Implements [`TrackingStore`](crate::TrackingStore) with
/// [`tracking_rows`](crate::tracking_rows), every read on `reads` after the send is found by its
/// token ([`SEND_REF`](crate::dispatch_rows::SEND_REF)). The backend supplies nothing else.
#[macro_export]
macro_rules! tracking_store {
    ($store:ty, reads: $reads:ident) => {
        #[::async_trait::async_trait]
        impl $crate::TrackingStore for $store {
            async fn send_counts(
                &self,
                token: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::SendCounts> {
                let send = $crate::dispatch_rows::send_ref(
                    &self.$reads,
                    $crate::dispatch_rows::SEND_REF,
                    token,
                )
                .await?;
                $crate::tracking_rows::send_counts(
                    &self.$reads,
                    send.pk,
                    &send.state,
                    send.next_at,
                    now,
                )
                .await
            }

            async fn tracking_page(
                &self,
                token: &str,
                page: u32,
                page_size: u32,
            ) -> $crate::StoreResult<Vec<$crate::TrackingRow>> {
                let send = $crate::dispatch_rows::send_ref(
                    &self.$reads,
                    $crate::dispatch_rows::SEND_REF,
                    token,
                )
                .await?;
                $crate::tracking_rows::tracking_page(&self.$reads, send.pk, page, page_size).await
            }

            async fn send_next_at(
                &self,
                token: &str,
            ) -> $crate::StoreResult<Option<$crate::Millis>> {
                let send = $crate::dispatch_rows::send_ref(
                    &self.$reads,
                    $crate::dispatch_rows::SEND_REF,
                    token,
                )
                .await?;
                $crate::tracking_rows::send_next_at(
                    &self.$reads,
                    send.pk,
                    &send.state,
                    send.due_at,
                    send.next_at,
                )
                .await
            }

            async fn queue_gauges(
                &self,
                now: $crate::Millis,
            ) -> $crate::StoreResult<$crate::QueueGauges> {
                $crate::tracking_rows::queue_gauges(&self.$reads, now).await
            }
        }
    };
}

/// Implements [`OutboxStore`](crate::OutboxStore): pages with
/// [`outbox_rows`](crate::outbox_rows) on `reads`; an empty append does nothing, any other is the
/// backend's `outbox_append`, a method of its store with the trait's parameters.
#[macro_export]
macro_rules! outbox_store {
    ($store:ty, reads: $reads:ident, outbox_append: $append:ident) => {
        #[::async_trait::async_trait]
        impl $crate::OutboxStore for $store {
            async fn outbox_append(
                &self,
                items: &[$crate::OutboxItem],
            ) -> $crate::StoreResult<Vec<i64>> {
                if items.is_empty() {
                    return Ok(Vec::new());
                }
                self.$append(items).await
            }

            async fn outbox_page(
                &self,
                after: i64,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::OutboxEntry>> {
                $crate::outbox_rows::outbox_page(&self.$reads, after, limit).await
            }
        }
    };
}

/// Implements [`SendStore`](crate::SendStore) with [`send_rows`](crate::send_rows): reads on
/// `reads`, a page without a limit bound as `unlimited` (see
/// [`list_sends`](crate::send_rows::list_sends)). The backend supplies `create_send`, a method of
/// its store with the trait's parameters.
#[macro_export]
macro_rules! send_store {
    ($store:ty, reads: $reads:ident, unlimited: $unlimited:expr, create_send: $create:ident) => {
        #[::async_trait::async_trait]
        impl $crate::SendStore for $store {
            async fn create_send(
                &self,
                new: $crate::NewSend,
            ) -> $crate::StoreResult<$crate::CreatedSend> {
                self.$create(new).await
            }

            async fn find_idempotent_send(
                &self,
                account_id: &str,
                client_id: &str,
                key: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<Option<($crate::Send, String)>> {
                $crate::send_rows::find_keyed(
                    &self.$reads,
                    &$crate::sql::id_key(account_id),
                    &$crate::sql::id_key(client_id),
                    key,
                    now,
                )
                .await
            }

            async fn get_send(
                &self,
                account_id: &str,
                token: &str,
            ) -> $crate::StoreResult<$crate::Send> {
                $crate::send_rows::get_send(&self.$reads, account_id, token).await
            }

            async fn list_sends(
                &self,
                account_id: &str,
                query: $crate::SendQuery,
            ) -> $crate::StoreResult<Vec<$crate::Send>> {
                $crate::send_rows::list_sends(&self.$reads, account_id, query, $unlimited).await
            }
        }
    };
}

/// Implements [`InboundStore`](crate::InboundStore) with [`inbound_rows`](crate::inbound_rows)
/// for a backend whose database is `db`: reads on `reads`, each recording in one transaction of
/// `begin`, under `mo`'s [`LOCK_TEXTS`](crate::inbound_rows::MoBatchSql::LOCK_TEXTS) when it has
/// one. The backend supplies `mo` (its part of recording texts, a
/// [`MoBatchSql`](crate::inbound_rows::MoBatchSql)), `numbers` (how it binds a set of numbers)
/// and `opt_outs`, its statement of `opt_outs_on_code` with that set; with `signal`, recorded
/// replies raise it.
#[macro_export]
macro_rules! inbound_store {
    ($store:ty, db: $db:ty, reads: $reads:ident, begin: $begin:ident, mo: $mo:ty,
     numbers: $numbers:ty, opt_outs: $opt_outs:expr $(, signal: $signal:ident)?) => {
        #[::async_trait::async_trait]
        impl $crate::InboundStore for $store {
            async fn record_inbound(
                &self,
                text: $crate::InboundText,
            ) -> $crate::StoreResult<$crate::InboundRecord> {
                let mut tx = self.$begin().await?;
                let work = async {
                    if let Some(lock) = <$mo as $crate::inbound_rows::MoBatchSql<$db>>::LOCK_TEXTS {
                        ::sqlx::query::<$db>(lock)
                            .execute(&mut *tx)
                            .await
                            .map_err($crate::sql::db("lock inbound texts"))?;
                    }
                    $crate::inbound_rows::record_inbound::<$db>(&mut tx, text)
                        .await
                        .map($crate::sql::Ending::Commit)
                }
                .await;
                $crate::sql::settle(tx, work, "commit an inbound text").await
            }

            async fn inbound_page(
                &self,
                after: i64,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::InboundRecord>> {
                $crate::inbound_rows::inbound_page(&self.$reads, after, limit).await
            }

            async fn codes_for_inbound(
                &self,
                carrier: &str,
                to: &str,
            ) -> $crate::StoreResult<Vec<$crate::Code>> {
                $crate::inbound_rows::codes_for_inbound(&self.$reads, carrier, to).await
            }

            async fn opt_outs_on_code(
                &self,
                account_id: &str,
                code: &str,
                numbers: &[String],
            ) -> $crate::StoreResult<Vec<$crate::CodeOptOut>> {
                $crate::inbound_rows::opt_outs_on_code::<_, _, $numbers>(
                    &self.$reads,
                    $opt_outs,
                    account_id,
                    code,
                    numbers,
                )
                .await
            }

            async fn record_mo_batches(
                &self,
                batches: Vec<$crate::MoBatch>,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.$begin().await?;
                let work = $crate::inbound_rows::record_mo_batches::<$db, $mo>(&mut tx, &batches)
                    .await
                    .map($crate::sql::Ending::Commit);
                #[allow(unused_variables)]
                let replies = $crate::sql::settle(tx, work, "commit inbound texts").await?;
                $(if replies {
                    self.$signal.raise();
                })?
                Ok(())
            }
        }
    };
}

/// Implements [`JobStore`](crate::JobStore) with the shared job operations: reads on `reads`,
/// single-statement writes on `writes`, a new job and an import batch in a transaction of `begin`
/// (an import batch rolled back when another process holds the job now). The backend supplies
/// `upsert_members` ([`list_rows::upsert_members_in`](crate::list_rows::upsert_members_in) with
/// its database and contacts writer) and
/// `claim_jobs`, a function taking what [`run_on!`] gives (`on` a pool or `in` a write
/// transaction) and the trait's parameters; the claimed jobs are returned oldest first.
#[macro_export]
macro_rules! job_store {
    ($store:ty, reads: $reads:ident, writes: $writes:ident, begin: $begin:ident,
     upsert_members: $upsert:expr, claim_jobs: $claim:path, $how:ident $where:ident) => {
        #[::async_trait::async_trait]
        impl $crate::JobStore for $store {
            async fn create_list_job(
                &self,
                new: $crate::NewListJob,
            ) -> $crate::StoreResult<$crate::ListJob> {
                $crate::create_job(self.$begin().await?, new).await
            }

            async fn claim_jobs(
                &self,
                owner: &str,
                now: $crate::Millis,
                lease_until: $crate::Millis,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::ListJob>> {
                if !$crate::any_job_due(&self.$reads, now).await? {
                    return Ok(Vec::new());
                }
                let on = $crate::run_on!($how $where, self);
                let mut jobs = $claim(on, owner, now, lease_until, limit).await?;
                jobs.sort_by_key(|j| j.created_at);
                Ok(jobs)
            }

            async fn record_job(&self, update: &$crate::JobUpdate) -> $crate::StoreResult<bool> {
                // One statement: its own transaction.
                $crate::record_job_in(&self.$writes, update, &$crate::MemberCounts::default())
                    .await
            }

            async fn import_batch(
                &self,
                job: &$crate::JobUpdate,
                account_id: &str,
                list_id: &str,
                rows: &[$crate::ContactRow],
                subscribe: Option<&$crate::SubscribeTo>,
            ) -> $crate::StoreResult<Option<$crate::MemberCounts>> {
                let mut tx = self.$begin().await?;
                let work = async {
                    let counts =
                        ($upsert)(
                            &mut tx,
                            $crate::list_rows::MemberBatch {
                                account_id,
                                list_id,
                                rows,
                                subscribe,
                                now: job.now,
                            },
                        )
                        .await?;
                    // Another process holding the job now: none of this batch is written.
                    Ok(if $crate::record_job_in(&mut *tx, job, &counts).await? {
                        $crate::sql::Ending::Commit(Some(counts))
                    } else {
                        $crate::sql::Ending::Rollback(None)
                    })
                }
                .await;
                $crate::sql::settle(tx, work, "commit import batch").await
            }

            async fn release_jobs(&self, owner: &str) -> $crate::StoreResult<u64> {
                $crate::release_job_leases(&self.$writes, owner).await
            }

            async fn get_list_job(
                &self,
                account_id: &str,
                token: &str,
            ) -> $crate::StoreResult<$crate::ListJob> {
                $crate::read_list_job(&self.$reads, account_id, token).await
            }
        }
    };
}

/// Implements [`ExpansionStore`](crate::ExpansionStore): a batch is
/// [`expand_in`](crate::expansion::expand_in) with the backend's `dialect` in a transaction of
/// `begin`, committed with the context `commit_context` gives for its outcome; with `signal`, a
/// send expanded into recipients raises it (any process may hand them over). The backend supplies
/// `claim_due_sends` (a function taking what [`run_on!`] gives and the trait's parameters; a
/// claim of no sends does nothing) and `release_leases`, a method of its store.
#[macro_export]
macro_rules! expansion_store {
    ($store:ty, begin: $begin:ident, dialect: $dialect:ty, commit_context: $context:expr,
     claim_due_sends: $claim:path, $how:ident $where:ident, release_leases: $release:ident
     $(, signal: $signal:ident)?) => {
        #[::async_trait::async_trait]
        impl $crate::ExpansionStore for $store {
            async fn claim_due_sends(
                &self,
                owner: &str,
                now: $crate::Millis,
                lease_until: $crate::Millis,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::Send>> {
                if limit == 0 {
                    return Ok(Vec::new());
                }
                let on = $crate::run_on!($how $where, self);
                $claim(on, owner, now, lease_until, limit).await
            }

            async fn expand_batch(
                &self,
                token: &str,
                owner: &str,
                batch: u32,
                now: $crate::Millis,
                lease_until: $crate::Millis,
            ) -> $crate::StoreResult<$crate::Expansion> {
                let mut tx = self.$begin().await?;
                let work = $crate::expansion::expand_in::<$dialect>(
                    &mut tx,
                    token,
                    owner,
                    batch,
                    now,
                    lease_until,
                )
                .await;
                let context: &'static str = ($context)(&work);
                let expansion = $crate::sql::settle(tx, work, context).await?;
                $(if matches!(expansion, $crate::Expansion::Done { recipients } if recipients > 0) {
                    self.$signal.raise();
                })?
                Ok(expansion)
            }

            async fn release_leases(&self, owner: &str) -> $crate::StoreResult<()> {
                self.$release(owner).await
            }
        }
    };
}

/// Implements [`DispatchStore`](crate::DispatchStore) with
/// [`dispatch_rows`](crate::dispatch_rows) for a backend whose database is `db`: reads on
/// `reads`, single-statement writes on `writes`, transactions opened with `begin` and settled
/// here. The backend supplies its forms of a batch (`dispatchable_sends`, its statement of
/// dispatchable sends, with `carriers` giving the carriers to leave out in the form it binds;
/// `keyed`, its [`Keyed`](crate::dispatch_rows::Keyed) statements, with `keys` giving a batch of
/// recipient keys in the form it binds), its claim (`claim`, a
/// [`ClaimBatch`](crate::dispatch_rows::ClaimBatch) struct with `owner`, `now` and `lease_until`
/// fields and a `Default`, and `claim_lock`, appended to the claim's read of the send), the
/// functions running `record_submissions` and `recover_expired` inside the transaction, and
/// methods of its store for the rest (the trait's parameters; an empty `unmatched_receipts`
/// returns nothing without them).
#[macro_export]
macro_rules! dispatch_store {
    ($store:ty, db: $db:ty, reads: $reads:ident, writes: $writes:ident, begin: $begin:ident,
     dispatchable_sends: $dispatchable:expr, carriers: $carriers:path,
     keyed: $keyed:expr, keys: $keys:path, claim: $claim:ident, claim_lock: $lock:expr,
     record_submissions: $record:path, recover_expired: $recover:path,
     finish_if_done: $finish:ident, apply_receipts: $apply:ident,
     unmatched_receipts: $unmatched:ident, cancel_send: $cancel:ident) => {
        #[::async_trait::async_trait]
        impl $crate::DispatchStore for $store {
            async fn dispatchable_sends(
                &self,
                now: $crate::Millis,
                limit: u32,
                except: &[String],
            ) -> $crate::StoreResult<Vec<$crate::DispatchSend>> {
                let except = $carriers(except)?;
                $crate::dispatch_rows::dispatchable_sends(
                    &self.$reads,
                    $dispatchable,
                    now,
                    limit,
                    except,
                )
                .await
            }

            async fn pause_send(
                &self,
                token: &str,
                until: $crate::Millis,
            ) -> $crate::StoreResult<()> {
                $crate::dispatch_rows::pause_send(&self.$writes, token, until).await
            }

            async fn claim_recipients(
                &self,
                token: &str,
                owner: &str,
                now: $crate::Millis,
                lease_until: $crate::Millis,
                limit: u32,
            ) -> $crate::StoreResult<Vec<$crate::ClaimedRecipient>> {
                let statement = [$crate::dispatch_rows::SEND_REF, $lock].concat();
                let mut tx = self.$begin().await?;
                let work = async {
                    let send = $crate::dispatch_rows::send_ref(&mut *tx, &statement, token).await?;
                    let mut batch = $claim {
                        owner,
                        now,
                        lease_until,
                        ..Default::default()
                    };
                    $crate::dispatch_rows::claim::<$db, _>(&mut *tx, &send, limit, &mut batch).await
                }
                .await;
                $crate::sql::settle(tx, work, "commit claimed recipients").await
            }

            async fn mark_submitting(
                &self,
                owner: &str,
                ids: &[i64],
                now: $crate::Millis,
                lease_until: $crate::Millis,
            ) -> $crate::StoreResult<Vec<i64>> {
                let keyed = &$keyed;
                $crate::dispatch_rows::mark_submitting(
                    &self.$writes,
                    keyed,
                    ids,
                    $keys,
                    owner,
                    now,
                    lease_until,
                )
                .await
            }

            async fn renew_leases(
                &self,
                owner: &str,
                ids: &[i64],
                lease_until: $crate::Millis,
            ) -> $crate::StoreResult<u64> {
                let keyed = &$keyed;
                $crate::dispatch_rows::renew_leases(
                    &self.$writes,
                    keyed,
                    ids,
                    $keys,
                    owner,
                    lease_until,
                )
                .await
            }

            async fn record_submissions(
                &self,
                owner: &str,
                results: &[$crate::SubmissionResult],
                now: $crate::Millis,
            ) -> $crate::StoreResult<()> {
                if results.is_empty() {
                    return Ok(());
                }
                let mut tx = self.$begin().await?;
                let work = $record(&mut tx, owner, results, now).await;
                $crate::sql::settle(tx, work, "commit submissions").await
            }

            async fn finish_if_done(
                &self,
                token: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<bool> {
                self.$finish(token, now).await
            }

            async fn recover_expired(&self, now: $crate::Millis) -> $crate::StoreResult<u64> {
                let mut tx = self.$begin().await?;
                let work = $recover(&mut tx, now).await;
                $crate::sql::settle(tx, work, "commit recovery").await
            }

            async fn apply_receipts(
                &self,
                receipts: &[$crate::Receipt],
                now: $crate::Millis,
            ) -> $crate::StoreResult<u64> {
                self.$apply(receipts, now).await
            }

            async fn unmatched_receipts(
                &self,
                receipts: &[$crate::Receipt],
            ) -> $crate::StoreResult<Vec<usize>> {
                if receipts.is_empty() {
                    return Ok(Vec::new());
                }
                self.$unmatched(receipts).await
            }

            async fn cancel_send(
                &self,
                token: &str,
                now: $crate::Millis,
            ) -> $crate::StoreResult<u64> {
                self.$cancel(token, now).await
            }
        }
    };
}
