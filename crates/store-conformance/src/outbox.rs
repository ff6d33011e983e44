//! The simulator carrier's outbox.

use store::*;

use crate::helpers::*;

pub async fn outbox_pages_in_acceptance_order(store: &dyn Store) {
    let item = |to: &str, token: Option<&str>, url: Option<&str>| OutboxItem {
        carrier: "simulator".to_string(),
        from: "88976".to_string(),
        to: to.to_string(),
        text: format!("Hello {to} \u{20ac}"),
        content_url: url.map(str::to_string),
        encoding: "UCS-2".to_string(),
        segments: 1,
        token_id: token.map(str::to_string),
        accepted_at: T0,
    };
    let first = vec![
        item(D3, Some("tok"), None),
        item(D1, None, Some("https://example.com/a.png")),
        item(D2, Some("tok"), None),
    ];
    let seqs = ok(store.outbox_append(&first).await, "append");
    assert_eq!(seqs.len(), 3);
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "increasing: {seqs:?}");
    assert_eq!(
        ok(store.outbox_append(&[]).await, "append nothing"),
        Vec::<i64>::new()
    );
    let more = ok(
        store.outbox_append(&[item(D4, None, None)]).await,
        "append more",
    );
    assert!(more[0] > seqs[2]);

    let page = ok(store.outbox_page(0, 2).await, "first page");
    assert_eq!(
        page,
        vec![
            OutboxEntry {
                seq: seqs[0],
                item: first[0].clone(),
            },
            OutboxEntry {
                seq: seqs[1],
                item: first[1].clone(),
            },
        ]
    );
    let page = ok(store.outbox_page(seqs[1], 10).await, "next page");
    assert_eq!(
        page.iter()
            .map(|e| (e.seq, e.item.to.as_str()))
            .collect::<Vec<_>>(),
        vec![(seqs[2], D2), (more[0], D4)]
    );
    assert_eq!(ok(store.outbox_page(more[0], 10).await, "end"), Vec::new());
}
