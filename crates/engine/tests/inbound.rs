//! The engine's inbound path: an inbound text reported by any carrier through its event sink is
//! recorded, matched to the code it was sent to, and handled as a keyword.

use std::sync::Arc;

use carrier::CarrierEvent;
use domain::clock::{Clock, ManualClock};
use store::prelude::*;
use store::{NewAccount, NewCode};

#[tokio::test]
async fn inbound_texts_from_a_carrier_are_recorded_against_their_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = store_sqlite::SqliteStore::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let store: Arc<dyn Store> = Arc::new(store);
    store
        .create_account(NewAccount {
            id: "acme".into(),
            name: "Acme".into(),
            created_at: 0,
        })
        .await
        .expect("account");
    store
        .create_code(NewCode {
            id: "c".into(),
            account_id: "acme".into(),
            code: "88976".into(),
            country_code: "US".into(),
            kind: "short".into(),
            carrier: "simulator".into(),
            opt_out_text: None,
            help_text: None,
            created_at: 0,
        })
        .await
        .expect("code");
    let (tx, rx) = carrier::event_channel();
    let clock = Arc::new(ManualClock::new(1_000));
    let engine = engine::Engine::new(
        store.clone(),
        Vec::new(),
        rx,
        clock.clone() as Arc<dyn Clock>,
        engine::EngineConfig::new("test"),
    );
    tx.send(CarrierEvent::Inbound {
        carrier: "simulator".into(),
        from: "15555555510".into(),
        to: "88976".into(),
        text: "STOP".into(),
    })
    .await
    .expect("event");
    engine.run_until_idle().await.expect("engine");
    let recorded = store.inbound_page(0, 10).await.expect("page");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].account_id.as_deref(), Some("acme"));
    assert_eq!(recorded[0].code.as_deref(), Some("88976"));
    assert_eq!(recorded[0].text.from, "15555555510");
    assert_eq!(recorded[0].text.text, "STOP");
    assert_eq!(recorded[0].text.received_at, 1_000);
    // It was handled as a keyword (API.md §6): STOP is confirmed once, by a send of replies
    // routed like any send (here to a carrier this engine does not have: refused, 2500).
    let sends = store
        .list_sends("acme", store::SendQuery::default())
        .await
        .expect("sends");
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].kind, store::SendKind::Mo);
    assert_eq!(sends[0].count, 1);
    let tracking = store
        .tracking_page(&sends[0].token, 1, 10)
        .await
        .expect("tracking");
    assert_eq!(tracking.len(), 1);
    assert_eq!(tracking[0].mobile_number, "15555555510");
    assert_eq!(
        tracking[0].text.as_deref(),
        Some(engine::keywords::DEFAULT_OPT_OUT_TEXT)
    );
}
