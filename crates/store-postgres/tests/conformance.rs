//! The store conformance suite against PostgreSQL, one fresh database per test, plus what is
//! particular to this backend: several stores (processes) on one database, work signals,
//! migrations and readiness.
//!
//! These tests need a server: they are `#[ignore]`d, and run with
//! `TIDINGS_TEST_DATABASE_URL=postgres://USER@HOST:PORT/DB cargo test -p store-postgres --
//! --include-ignored`. Told to run without that variable, or with a server they cannot reach,
//! they fail; they never skip.

use std::ops::Deref;
use std::time::Duration;

use futures::StreamExt;
use store::prelude::*;
use store::StoreError;
use store_conformance as conformance;
use store_postgres::PgStore;
use test_database::TestDatabase;

/// A store on a fresh database that is dropped with it.
struct TestStore {
    store: PgStore,
    db: TestDatabase,
}

impl Deref for TestStore {
    type Target = PgStore;
    fn deref(&self) -> &PgStore {
        &self.store
    }
}

impl TestStore {
    /// Another store (another process's view) on the same database.
    async fn another(&self) -> PgStore {
        connect(self.db.url()).await
    }
}

async fn connect(url: &str) -> PgStore {
    match PgStore::connect(url).await {
        Ok(store) => store,
        Err(e) => panic!("connect to the test database: {e}"),
    }
}

async fn unmigrated_store() -> TestStore {
    let Some(base) = TestDatabase::base_url_from_env() else {
        panic!(
            "{} is not set: the PostgreSQL tests need a server, e.g. \
             {}=postgres://postgres@127.0.0.1:5432/test",
            test_database::TEST_DATABASE_URL_VAR,
            test_database::TEST_DATABASE_URL_VAR,
        );
    };
    let db = match TestDatabase::create(&base).await {
        Ok(db) => db,
        Err(e) => panic!("cannot create a test database: {e}"),
    };
    let store = connect(db.url()).await;
    TestStore { store, db }
}

async fn fresh_store() -> TestStore {
    let store = unmigrated_store().await;
    if let Err(e) = store.migrate().await {
        panic!("migrate: {e}");
    }
    store
}

store_conformance::store_conformance_tests!(
    #[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
    fresh_store()
);

/// The many-workers behaviours again, each worker on its own store (its own pool, as separate
/// processes would be) on one database.
mod three_processes {
    use super::*;

    macro_rules! on_three_stores {
        ($($behaviour:ident),+ $(,)?) => {
            $(
                #[tokio::test]
                #[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
                async fn $behaviour() {
                    let a = fresh_store().await;
                    let b = a.another().await;
                    let c = a.another().await;
                    conformance::$behaviour(&[&*a as &dyn Store, &b, &c]).await;
                }
            )+
        };
    }

    on_three_stores!(
        concurrent_claims_hand_out_each_recipient_once_on,
        concurrent_schedulers_claim_each_due_send_once_on,
        a_taken_over_send_is_expanded_by_its_new_owner_only_on,
        identical_idempotent_sends_at_once_record_one_send_on,
        canceling_during_dispatch_settles_each_recipient_once_on,
        concurrent_recoveries_settle_each_expired_hand_over_once_on,
        receipt_batches_at_once_apply_every_receipt_on,
    );
}

/// Waits (5 s at most) for the next signal of `signals`; false when none came.
async fn signaled(signals: &mut futures::stream::BoxStream<'static, ()>) -> bool {
    matches!(
        tokio::time::timeout(Duration::from_secs(5), signals.next()).await,
        Ok(Some(()))
    )
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
async fn work_made_by_one_process_signals_the_others() {
    let a = fresh_store().await;
    let b = a.another().await;
    let mut signals = match b.work_signals().await {
        Ok(Some(s)) => s,
        other => panic!("PostgreSQL gives work signals, got {:?}", other.map(|_| ())),
    };
    a.create_account(store::NewAccount {
        id: "acme".into(),
        name: "Acme".into(),
        created_at: 1,
    })
    .await
    .unwrap();
    let send = store::NewSend {
        token: "signal000000000000000000000".into(),
        account_id: "acme".into(),
        client_id: None,
        kind: store::SendKind::List,
        message_id: store::EncodedId::parse("m").expect("a well-formed ID"),
        code: "88976".into(),
        text: "hi".into(),
        content_url: None,
        target_list_ids: vec!["l".into()],
        exclusion_list_ids: vec![],
        allow_duplication: false,
        window: None,
        send_time: None,
        due_at: 1_000,
        segments: 1,
        encoding: store::Encoding::Gsm7,
        created_at: 1_000,
        idempotency: None,
    };
    a.create_send(send).await.unwrap();
    assert!(signaled(&mut signals).await, "a due send wakes the others");

    let claimed = a
        .claim_due_sends("stopping", 1_000, 60_000, 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    a.release_leases("stopping").await.unwrap();
    assert!(
        signaled(&mut signals).await,
        "given-back leases wake the others"
    );

    a.cancel_send("signal000000000000000000000", 2_000)
        .await
        .unwrap();
    assert!(signaled(&mut signals).await, "a cancel wakes the others");
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
async fn ready_fails_before_migrate_and_succeeds_after() {
    let store = unmigrated_store().await;
    match store.ready().await {
        Err(StoreError::Unavailable(_)) => {}
        other => panic!("ready before migrate: expected Unavailable, got {other:?}"),
    }
    store.migrate().await.unwrap();
    store.ready().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
async fn processes_starting_together_migrate_once() {
    let first = unmigrated_store().await;
    let others = [first.another().await, first.another().await];
    let (a, b, c) = tokio::join!(first.migrate(), others[0].migrate(), others[1].migrate());
    a.unwrap();
    b.unwrap();
    c.unwrap();
    first.ready().await.unwrap();
    others[1].ready().await.unwrap();
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
async fn every_table_has_the_sqlite_schema_names() {
    let store = fresh_store().await;
    let tables = store.tables().await.unwrap();
    assert_eq!(
        tables,
        [
            "accounts",
            "clients",
            "access_tokens",
            "codes",
            "keywords",
            "subscriptions",
            "messages",
            "contacts",
            "lists",
            "list_members",
            "outbox",
            "list_jobs",
            "code_opt_outs",
            "batch_texts",
            "recipients",
            "inbound_texts",
            "send_definitions",
            "sends",
            "send_numbers",
            "tx_messages",
            "event_sequences",
            "tx_events",
        ]
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
async fn an_unreachable_server_is_unavailable() {
    // Port 1 on loopback: nothing listens there.
    match PgStore::connect("postgres://postgres@127.0.0.1:1/none").await {
        Err(StoreError::Unavailable(m)) => assert!(m.contains("127.0.0.1:1"), "{m}"),
        other => panic!("expected Unavailable, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL: set TIDINGS_TEST_DATABASE_URL, run with --include-ignored"]
async fn an_audience_expanded_by_one_process_signals_the_others() {
    let a = fresh_store().await;
    let now = 1_000;
    a.create_account(store::NewAccount {
        id: "acme".into(),
        name: "Acme".into(),
        created_at: now,
    })
    .await
    .unwrap();
    a.create_code(store::NewCode {
        id: "code".into(),
        account_id: "acme".into(),
        code: "88976".into(),
        country_code: "US".into(),
        kind: "short".into(),
        carrier: "simulator".into(),
        opt_out_text: None,
        help_text: None,
        created_at: now,
    })
    .await
    .unwrap();
    a.create_keyword(store::NewKeyword {
        id: "join".into(),
        account_id: "acme".into(),
        code: "88976".into(),
        keyword: "JOIN".into(),
        response: None,
        double_opt_in: false,
        confirm_text: None,
        created_at: now,
        opt_in: None,
    })
    .await
    .unwrap();
    a.create_list(store::NewList {
        id: "list".into(),
        account_id: "acme".into(),
        name: "List".into(),
        created_at: now,
        hidden: false,
        counts_rows: false,
    })
    .await
    .unwrap();
    a.create_message(store::NewMessage {
        id: "msg".into(),
        account_id: "acme".into(),
        name: "Msg".into(),
        code: "88976".into(),
        text: "hi".into(),
        status: store::MessageStatus::Active,
        target_list_ids: vec!["list".into()],
        exclusion_list_ids: vec![],
        content_url: None,
        created_at: now,
    })
    .await
    .unwrap();
    let rows: Vec<store::ContactRow> = ["15550000001", "15550000002"]
        .iter()
        .map(|n| store::ContactRow {
            mobile_number: n.to_string(),
            subscriber_key: None,
            attributes: Default::default(),
        })
        .collect();
    let join = store::SubscribeTo {
        code: "88976".into(),
        keyword: "JOIN".into(),
    };
    a.upsert_members("acme", "list", &rows, Some(&join), now)
        .await
        .unwrap();
    // Scheduled for later: accepting it signals nothing.
    let send = store::NewSend {
        token: "expanded00000000000000000000".into(),
        account_id: "acme".into(),
        client_id: None,
        kind: store::SendKind::List,
        message_id: store::EncodedId::parse("msg").expect("a well-formed ID"),
        code: "88976".into(),
        text: "hi".into(),
        content_url: None,
        target_list_ids: vec!["list".into()],
        exclusion_list_ids: vec![],
        allow_duplication: false,
        window: None,
        send_time: Some(now + 10),
        due_at: now + 10,
        segments: 1,
        encoding: store::Encoding::Gsm7,
        created_at: now,
        idempotency: None,
    };
    a.create_send(send).await.unwrap();

    let b = a.another().await;
    let mut signals = match b.work_signals().await {
        Ok(Some(s)) => s,
        other => panic!("PostgreSQL gives work signals, got {:?}", other.map(|_| ())),
    };
    let claimed = a
        .claim_due_sends("expander", now + 10, now + 60_000, 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let expanded = a
        .expand_batch(
            "expanded00000000000000000000",
            "expander",
            100,
            now + 10,
            now + 60_000,
        )
        .await
        .unwrap();
    assert_eq!(expanded, store::Expansion::Done { recipients: 2 });
    assert!(
        signaled(&mut signals).await,
        "a send ready to hand over wakes the others"
    );
}
