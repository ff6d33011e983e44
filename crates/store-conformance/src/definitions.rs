//! Transactional send definitions (API.md §9 "Definitions", "Listing").

use store::*;

use crate::helpers::*;

fn definition(key: &str, name: &str, created_at: Millis) -> Definition {
    Definition {
        account_id: "ACME".to_string(),
        definition_id: format!("id-{key}"),
        definition_key: key.to_string(),
        name: name.to_string(),
        description: None,
        status: DefinitionStatus::Active,
        message: "Your code is %%code%%".to_string(),
        short_code: "88976".to_string(),
        country_code: Some("US".to_string()),
        keyword: "JOIN".to_string(),
        auto_add_subscriber: true,
        update_subscriber: true,
        created_at,
        modified_at: created_at,
    }
}

fn keys(page: &DefinitionPage) -> Vec<&str> {
    page.definitions
        .iter()
        .map(|d| d.definition_key.as_str())
        .collect()
}

fn query(filter: StatusFilter, order: DefinitionOrder, descending: bool) -> DefinitionQuery {
    DefinitionQuery {
        filter,
        order,
        descending,
        page: 1,
        page_size: 100,
    }
}

pub async fn definition_round_trips_resolves_ignoring_case_and_conflicts_on_key_or_name(
    store: &dyn Store,
) {
    given_account(store, "acme").await;
    let created = ok(
        store
            .create_definition(definition("Account-Reset", "reset", T0))
            .await,
        "create",
    );
    assert_eq!(created.account_id, "acme", "the account's canonical ID");
    let mut expected = definition("Account-Reset", "reset", T0);
    expected.account_id = "acme".to_string();
    assert_eq!(created, expected);
    assert_eq!(
        ok(store.get_definition("ACME", "account-reset").await, "get"),
        expected
    );
    for (key, name) in [("ACCOUNT-RESET", "other"), ("other", "reset")] {
        assert!(
            matches!(
                store.create_definition(definition(key, name, T0)).await,
                Err(StoreError::Conflict(_))
            ),
            "{key} / {name}"
        );
    }
    assert!(matches!(
        store.get_definition("acme", "missing").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store.get_definition("nobody", "account-reset").await,
        Err(StoreError::NotFound)
    ));
}

pub async fn definitions_list_by_status_in_order_and_by_page(store: &dyn Store) {
    given_account(store, "acme").await;
    for (i, (key, name)) in [("b-key", "zeta"), ("a-key", "eta"), ("c-key", "alpha")]
        .into_iter()
        .enumerate()
    {
        let at = T0 + i64::try_from(i).unwrap_or_default() * 1000;
        ok(
            store.create_definition(definition(key, name, at)).await,
            "create",
        );
    }
    ok(
        store
            .update_definition(
                "acme",
                "c-key",
                DefinitionPatch {
                    status: Some(DefinitionStatus::Inactive),
                    ..DefinitionPatch::default()
                },
                T0 + 5000,
            )
            .await,
        "deactivate",
    );
    let list =
        |q: DefinitionQuery| async move { ok(store.list_definitions("acme", &q).await, "list") };
    let all = list(query(
        StatusFilter::Any,
        DefinitionOrder::CreatedDate,
        false,
    ))
    .await;
    assert_eq!(
        (keys(&all), all.count),
        (vec!["b-key", "a-key", "c-key"], 3)
    );
    let by_name = list(query(StatusFilter::Any, DefinitionOrder::Name, false)).await;
    assert_eq!(keys(&by_name), ["c-key", "a-key", "b-key"]);
    let by_key_desc = list(query(
        StatusFilter::Any,
        DefinitionOrder::DefinitionKey,
        true,
    ))
    .await;
    assert_eq!(keys(&by_key_desc), ["c-key", "b-key", "a-key"]);
    let modified = list(query(
        StatusFilter::Any,
        DefinitionOrder::ModifiedDate,
        true,
    ))
    .await;
    assert_eq!(keys(&modified)[0], "c-key");
    let active = list(query(
        StatusFilter::Is(DefinitionStatus::Active),
        DefinitionOrder::CreatedDate,
        false,
    ))
    .await;
    assert_eq!((keys(&active), active.count), (vec!["b-key", "a-key"], 2));
    let not_active = list(query(
        StatusFilter::IsNot(DefinitionStatus::Active),
        DefinitionOrder::CreatedDate,
        false,
    ))
    .await;
    assert_eq!(keys(&not_active), ["c-key"]);
    let mut second = query(StatusFilter::Any, DefinitionOrder::CreatedDate, false);
    second.page = 2;
    second.page_size = 2;
    let second = list(second).await;
    assert_eq!(
        (keys(&second), second.count),
        (vec!["c-key"], 3),
        "count is every match"
    );
}

pub async fn definition_patch_changes_only_the_given_fields_and_archive_frees_the_key(
    store: &dyn Store,
) {
    given_account(store, "acme").await;
    ok(
        store
            .create_definition(definition("reset", "reset", T0))
            .await,
        "create",
    );
    ok(
        store
            .create_definition(definition("other", "other", T0))
            .await,
        "create other",
    );
    let patched = ok(
        store
            .update_definition(
                "acme",
                "RESET",
                DefinitionPatch {
                    description: Some(Some("new".to_string())),
                    message: Some("Changed".to_string()),
                    country_code: Some(None),
                    auto_add_subscriber: Some(false),
                    ..DefinitionPatch::default()
                },
                T0 + 10,
            )
            .await,
        "patch",
    );
    let mut expected = definition("reset", "reset", T0);
    expected.account_id = "acme".to_string();
    expected.description = Some("new".to_string());
    expected.message = "Changed".to_string();
    expected.country_code = None;
    expected.auto_add_subscriber = false;
    expected.modified_at = T0 + 10;
    assert_eq!(patched, expected);
    assert_eq!(
        ok(store.get_definition("acme", "reset").await, "get"),
        expected
    );
    let taken = store
        .update_definition(
            "acme",
            "reset",
            DefinitionPatch {
                name: Some("other".to_string()),
                ..DefinitionPatch::default()
            },
            T0 + 20,
        )
        .await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

    let archived = ok(
        store
            .archive_definition("acme", "Reset", "deletedkey0000000000000000", T0 + 30)
            .await,
        "archive",
    );
    assert_eq!(
        (archived.definition_key.as_str(), archived.status),
        ("deletedkey0000000000000000", DefinitionStatus::Deleted)
    );
    assert!(matches!(
        store.get_definition("acme", "reset").await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .archive_definition("acme", "reset", "again0000000000000000000000", T0 + 40)
            .await,
        Err(StoreError::NotFound)
    ));
    // Key and name are free at once; the archived one is listed only when asked for.
    ok(
        store
            .create_definition(definition("reset", "reset", T0 + 50))
            .await,
        "create again",
    );
    let all = ok(
        store
            .list_definitions(
                "acme",
                &query(StatusFilter::Any, DefinitionOrder::CreatedDate, false),
            )
            .await,
        "list",
    );
    assert_eq!(keys(&all), ["other", "reset"]);
    let deleted = ok(
        store
            .list_definitions(
                "acme",
                &query(
                    StatusFilter::Is(DefinitionStatus::Deleted),
                    DefinitionOrder::CreatedDate,
                    false,
                ),
            )
            .await,
        "list deleted",
    );
    assert_eq!(keys(&deleted), ["deletedkey0000000000000000"]);
}
