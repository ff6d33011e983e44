//! The store conformance suite: one public async function per behaviour that every backend must
//! show, grouped by area, and [`store_conformance_tests!`] to run them all as `#[tokio::test]`s in a
//! backend's test crate. A dev-dependency only: no production crate depends on it.
//!
//! Every function takes a fresh, migrated, empty store and panics when the backend misbehaves (they
//! are test bodies). They need no async runtime of their own (the macro's tests bring one).
//! The behaviours are those of the role traits' docs (`store`) and API.md §3, §4, §5, §6 and §7.

mod accounts;
mod catalog;
mod concurrency;
mod contact_sends;
mod contacts;
mod definitions;
mod dispatch;
mod expansion;
mod helpers;
mod inbound;
mod jobs;
mod outbox;
mod sends;
mod tracking;
mod transactional;

pub use accounts::*;
pub use catalog::*;
pub use concurrency::*;
pub use contact_sends::*;
pub use contacts::*;
pub use definitions::*;
pub use dispatch::*;
pub use expansion::*;
pub use inbound::*;
pub use jobs::*;
pub use outbox::*;
pub use sends::*;
pub use tracking::*;
pub use transactional::*;

/// Runs every behaviour of this module as a `#[tokio::test]`.
///
/// `$factory` is an expression evaluating to a future (e.g. `fresh_store()` for an
/// `async fn fresh_store()`) whose output derefs to something that coerces to `&dyn Store`
/// (`Box<dyn Store>`, `Arc<SqliteStore>`, a guard struct holding a temp dir, ...). It is evaluated
/// once per test and must yield a fresh, migrated, empty store. The crate invoking the macro needs
/// `tokio` (with the `macros` and `rt` features) as a dependency.
///
/// An attribute before the factory is put on every test, e.g.
/// `store_conformance_tests!(#[ignore = "needs a server"] fresh_store())` for a backend whose
/// tests need a server that a plain `cargo test` may not have.
#[macro_export]
macro_rules! store_conformance_tests {
    (#[$attribute:meta] $factory:expr) => {
        $crate::store_conformance_tests!(@all [#[$attribute]] $factory);
    };
    ($factory:expr) => {
        $crate::store_conformance_tests!(@all [] $factory);
    };
    (@all $attributes:tt $factory:expr) => {
        $crate::store_conformance_tests!(@each $attributes $factory;
            migrate_is_idempotent_and_leaves_the_store_ready,
            account_resolves_ignoring_case_with_its_canonical_id,
            account_id_equal_ignoring_case_conflicts,
            client_resolves_ignoring_case_and_lists_by_account,
            client_id_equal_ignoring_case_conflicts,
            token_is_found_until_it_expires,
            revoking_a_client_deletes_its_tokens,
            code_resolves_by_id_or_code_string,
            codes_and_keywords_are_updated_field_by_field,
            code_conflicts_on_code_string_or_id,
            keyword_resolves_ignoring_case_and_conflicts_per_code,
            keyword_keeps_its_opt_in_rules,
            deleting_a_keyword_removes_it_and_its_subscriptions,
            deleting_a_code_removes_its_keywords_and_subscriptions,
            message_round_trips_and_resolves_ignoring_case,
            message_patch_changes_only_the_given_fields,
            deleted_message_is_not_found,
            definition_round_trips_resolves_ignoring_case_and_conflicts_on_key_or_name,
            definitions_list_by_status_in_order_and_by_page,
            definition_patch_changes_only_the_given_fields_and_archive_frees_the_key,
            message_keys_are_claimed_once_per_account_for_72_hours,
            transactional_numbers_follow_the_definitions_subscription_rules,
            an_inactive_definition_holds_its_sends_until_active,
            not_sent_events_are_numbered_in_one_sequence_per_account,
            list_round_trips_and_resolves_ignoring_case,
            resolve_lists_returns_canonical_ids_in_order,
            upsert_members_counts_added_and_updated,
            upsert_members_merges_attributes_and_subscriber_key,
            upsert_members_to_unknown_list_or_keyword_is_not_found_and_writes_nothing,
            upsert_members_subscribe_creates_subscriptions_but_respects_opt_outs,
            remove_member_updates_the_list_and_keeps_the_contact,
            deleting_a_list_removes_its_memberships,
            set_subscription_sets_dates_when_the_status_changes,
            subscriptions_of_are_ordered_by_code_then_keyword,
            subscriptions_on_code_are_those_of_the_numbers_on_that_code,
            contacts_of_are_the_accounts_contacts_among_the_numbers,
            send_round_trips_every_field,
            send_token_equal_ignoring_case_conflicts,
            idempotency_key_reused_within_24_hours_returns_the_earlier_send,
            idempotency_key_expires_after_24_hours,
            idempotency_key_is_scoped_to_the_client,
            find_idempotent_send_names_the_keys_send_for_24_hours,
            list_sends_is_newest_first_with_state_filter_and_paging,
            account_scoped_methods_of_an_unknown_account_are_not_found,
            fan_out_is_one_recipient_per_subscribed_number_minus_exclusions,
            fan_out_with_duplication_is_one_recipient_per_membership,
            a_list_that_counts_rows_gives_one_recipient_per_row_with_duplication,
            expansion_in_small_batches_equals_one_batch_and_resumes_without_repeating,
            send_whose_message_list_or_code_was_deleted_fails_with_a_reason,
            due_sends_are_claimed_oldest_first_and_only_when_due,
            expired_expansion_lease_is_taken_over_and_lost_by_its_old_owner,
            claim_hands_out_ready_recipients_once_and_suppresses_opted_out_numbers,
            recorded_submissions_settle_recipients_and_finish_the_send,
            expired_submissions_become_unknown_and_expired_claims_are_taken_again,
            a_late_answer_replaces_recoverys_unknown,
            a_late_answer_that_nothing_left_reopens_a_send_recovery_finished,
            only_the_claims_owner_marks_renews_and_records,
            renewed_leases_outlive_their_first_end,
            a_canceled_send_takes_its_claims_back_and_a_late_requeue_is_canceled,
            released_claims_are_claimable_at_once,
            receipts_raise_codes_and_only_a_throttled_code_may_go_down,
            a_throttled_submission_is_queued_again_until_its_retry_decides,
            unmatched_receipts_are_those_without_a_recorded_submission,
            canceling_settles_waiting_recipients_and_final_sends_conflict,
            a_paused_send_counts_waiting_recipients_as_deferred,
            queue_gauges_count_sends_by_state_and_waiting_deferred_and_leased_recipients,
            tracking_is_ordered_by_number_then_list_and_paged,
            send_next_at_follows_the_send,
            delivery_methods_of_an_unknown_token_are_not_found,
            outbox_pages_in_acceptance_order,
            inbound_texts_are_matched_to_the_code_routed_to_their_carrier,
            concurrent_claims_hand_out_each_recipient_once,
            concurrent_schedulers_claim_each_due_send_once,
            a_taken_over_send_is_expanded_by_its_new_owner_only,
            identical_idempotent_sends_at_once_record_one_send,
            canceling_during_dispatch_settles_each_recipient_once,
            concurrent_recoveries_settle_each_expired_hand_over_once,
            receipt_batches_at_once_apply_every_receipt,
            contact_send_records_its_numbers_and_expands_to_subscribed_ones_with_their_texts,
            contact_send_subscribe_and_resubscribe_change_subscriptions_at_acceptance,
            contact_send_honours_idempotency_keys_and_unknown_keywords_write_nothing,
            codes_for_inbound_are_every_code_routed_to_the_carrier_oldest_first,
            record_mo_records_texts_subscriptions_and_a_ready_send_of_replies,
            replies_are_claimed_without_a_subscription_and_carry_their_text,
            lapse_pending_reverts_or_removes_requests_older_than_the_cutoff,
            history_of_replies_and_of_a_contact_send,
            numbers_of_subscriber_key_are_the_contacts_with_that_key,
            list_jobs_record_progress_until_final,
            client_secret_hash_is_replaced_only_while_it_is_the_old_one,
            purging_expired_tokens_deletes_only_expired_ones,
            idempotency_keys_are_scoped_by_client_and_account,
            contact_number_without_text_is_a_1501_recipient_never_sent,
            record_mo_batches_records_every_account_or_none,
            an_opt_out_of_a_code_keeps_imports_and_subscribe_from_every_keyword_of_it,
            a_subscription_remembers_whether_its_last_opt_out_came_by_text,
            texts_repeated_in_a_batch_are_stored_once_and_read_back_everywhere,
        );
    };
    (@each $attributes:tt $factory:expr; $($behaviour:ident),+ $(,)?) => {
        $(
            $crate::store_conformance_tests!(@one $attributes $factory; $behaviour);
        )+
    };
    (@one [$($attribute:tt)*] $factory:expr; $behaviour:ident) => {
        $($attribute)*
        #[tokio::test]
        async fn $behaviour() {
            let store = $factory.await;
            $crate::$behaviour(&*store).await;
        }
    };
}
