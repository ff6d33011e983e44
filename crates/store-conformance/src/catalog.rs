//! Codes, keywords and messages.

use store::*;

use crate::helpers::*;

// ---- codes and keywords -----------------------------------------------------------------------

pub async fn codes_and_keywords_are_updated_field_by_field(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    let code = ok(
        store.create_code(new_code("acme", "Code-1", "88976")).await,
        "create code",
    );
    let unchanged = ok(
        store
            .update_code("ACME", "code-1", CodePatch::default())
            .await,
        "empty code patch",
    );
    assert_eq!(unchanged, code, "an empty patch changes nothing");
    let patched = ok(
        store
            .update_code(
                "acme",
                "88976",
                CodePatch {
                    carrier: Some("acme-smpp".into()),
                    kind: Some("long".into()),
                    opt_out_text: Some(None),
                    help_text: Some(Some("Text HELP for help.".into())),
                    ..CodePatch::default()
                },
            )
            .await,
        "patch code by its code string",
    );
    assert_eq!(
        patched,
        Code {
            carrier: "acme-smpp".into(),
            kind: "long".into(),
            opt_out_text: None,
            help_text: Some("Text HELP for help.".into()),
            ..code.clone()
        }
    );
    assert_eq!(ok(store.get_code("acme", "Code-1").await, "get"), patched);
    assert_not_found(
        store
            .update_code("other", "code-1", CodePatch::default())
            .await,
        "another account's code",
    );
    assert_not_found(
        store
            .update_code("acme", "nosuchcode", CodePatch::default())
            .await,
        "unknown code",
    );

    let keyword = ok(
        store
            .create_keyword(new_keyword("acme", "Kw-1", "88976", "JOIN"))
            .await,
        "create keyword",
    );
    let patched = ok(
        store
            .update_keyword(
                "acme",
                "KW-1",
                KeywordPatch {
                    response: Some(None),
                    double_opt_in: Some(true),
                    confirm_text: Some(Some("Reply Y to confirm.".into())),
                    opt_in: None,
                },
            )
            .await,
        "patch keyword",
    );
    assert_eq!(
        patched,
        Keyword {
            response: None,
            double_opt_in: true,
            confirm_text: Some("Reply Y to confirm.".into()),
            ..keyword.clone()
        }
    );
    let back = ok(
        store
            .update_keyword(
                "acme",
                "kw-1",
                KeywordPatch {
                    double_opt_in: Some(false),
                    ..KeywordPatch::default()
                },
            )
            .await,
        "patch one field",
    );
    assert_eq!(
        back,
        Keyword {
            double_opt_in: false,
            ..patched.clone()
        }
    );
    assert_eq!(ok(store.get_keyword("acme", "kw-1").await, "get"), back);
    // Opt-in rules are set, changed and removed as a whole.
    let rules = domain::OptInRules {
        kind: domain::OptInType::Double,
        name: "Deals".into(),
        valid_responses: vec!["SURE".into()],
        ..domain::OptInRules::default()
    };
    let with_rules = ok(
        store
            .update_keyword(
                "acme",
                "kw-1",
                KeywordPatch {
                    opt_in: Some(Some(rules.clone())),
                    ..KeywordPatch::default()
                },
            )
            .await,
        "set opt-in rules",
    );
    assert_eq!(with_rules.opt_in.as_ref(), Some(&rules));
    assert_eq!(
        ok(store.get_keyword("acme", "kw-1").await, "get").opt_in,
        Some(rules)
    );
    let without = ok(
        store
            .update_keyword(
                "acme",
                "kw-1",
                KeywordPatch {
                    opt_in: Some(None),
                    ..KeywordPatch::default()
                },
            )
            .await,
        "remove opt-in rules",
    );
    assert_eq!(without, back);
    assert_not_found(
        store
            .update_keyword("other", "kw-1", KeywordPatch::default())
            .await,
        "another account's keyword",
    );
}

pub async fn code_resolves_by_id_or_code_string(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    let code = ok(
        store.create_code(new_code("ACME", "Code-1", "88976")).await,
        "create code",
    );
    assert_eq!(
        code,
        Code {
            id: "Code-1".to_string(),
            account_id: "acme".to_string(),
            code: "88976".to_string(),
            country_code: "US".to_string(),
            kind: "short".to_string(),
            carrier: "simulator".to_string(),
            opt_out_text: Some("You are unsubscribed.".to_string()),
            help_text: Some("Reply STOP to stop.".to_string()),
            created_at: T0,
        }
    );
    for id_or_code in ["Code-1", "code-1", "CODE-1", "88976"] {
        assert_eq!(
            ok(store.get_code("Acme", id_or_code).await, "get code"),
            code,
            "get_code({id_or_code:?})"
        );
    }
    assert_not_found(
        store.get_code("other", "code-1").await,
        "other's code by ID",
    );
    assert_not_found(
        store.get_code("other", "88976").await,
        "other's code by code string",
    );
    assert_not_found(store.get_code("acme", "12345").await, "unknown code");
    assert_eq!(ok(store.list_codes("acme").await, "list codes"), vec![code]);
    assert!(ok(store.list_codes("other").await, "list other's codes").is_empty());

    let mut long = new_code("other", "code-1", "88976");
    long.kind = "long".to_string();
    long.opt_out_text = None;
    long.help_text = None;
    let theirs = ok(
        store.create_code(long).await,
        "same ID and code string in another account",
    );
    assert_eq!(theirs.account_id, "other");
    assert_eq!(theirs.kind, "long");
    assert_eq!(theirs.opt_out_text, None);
    assert_eq!(theirs.help_text, None);
}

pub async fn code_conflicts_on_code_string_or_id(store: &dyn Store) {
    given_account(store, "acme").await;
    given_code(store, "acme", "code-1", "88976").await;
    assert_conflict(
        store.create_code(new_code("acme", "code-2", "88976")).await,
        "same code string",
    );
    assert_conflict(
        store.create_code(new_code("acme", "CODE-1", "12345")).await,
        "code ID equal ignoring case",
    );
    assert_eq!(ok(store.list_codes("acme").await, "list codes").len(), 1);
    assert_not_found(
        store
            .create_code(new_code("nobody", "code-3", "12345"))
            .await,
        "code of an unknown account",
    );
}

pub async fn keyword_resolves_ignoring_case_and_conflicts_per_code(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "77777").await;

    let mut new = new_keyword("ACME", "Kw-1", "88976", "Join");
    new.double_opt_in = true;
    new.confirm_text = Some("Reply Y to confirm.".to_string());
    let keyword = ok(store.create_keyword(new).await, "create keyword");
    assert_eq!(
        keyword,
        Keyword {
            id: "Kw-1".to_string(),
            account_id: "acme".to_string(),
            code: "88976".to_string(),
            keyword: "Join".to_string(),
            response: Some("Welcome!".to_string()),
            double_opt_in: true,
            confirm_text: Some("Reply Y to confirm.".to_string()),
            created_at: T0,
            opt_in: None,
        }
    );
    for spelling in ["Kw-1", "kw-1", "KW-1"] {
        assert_eq!(
            ok(store.get_keyword("Acme", spelling).await, "get keyword"),
            keyword,
            "get_keyword({spelling:?})"
        );
    }
    assert_not_found(store.get_keyword("acme", "kw-9").await, "unknown keyword");
    assert_not_found(store.get_keyword("other", "kw-1").await, "other's keyword");

    assert_conflict(
        store
            .create_keyword(new_keyword("acme", "kw-2", "88976", "JOIN"))
            .await,
        "keyword equal ignoring case on the same code",
    );
    assert_conflict(
        store
            .create_keyword(new_keyword("acme", "KW-1", "77777", "news"))
            .await,
        "keyword ID equal ignoring case",
    );
    assert_not_found(
        store
            .create_keyword(new_keyword("acme", "kw-4", "99999", "JOIN"))
            .await,
        "keyword on an unknown code",
    );
    assert_not_found(
        store
            .create_keyword(new_keyword("other", "kw-5", "88976", "JOIN"))
            .await,
        "keyword on another account's code",
    );
    let mut plain = new_keyword("acme", "kw-3", "77777", "JOIN");
    plain.response = None;
    let on_other_code = ok(
        store.create_keyword(plain).await,
        "same keyword on another code",
    );
    assert_eq!(on_other_code.code, "77777");
    assert_eq!(on_other_code.response, None);
    assert!(!on_other_code.double_opt_in);

    let mut all = ok(store.list_keywords("acme").await, "list keywords");
    all.sort_by_key(|a| a.id.to_lowercase());
    assert_eq!(all, vec![keyword, on_other_code]);
    assert!(ok(store.list_keywords("other").await, "list other's keywords").is_empty());
}

/// An opt-in message's rules (API.md §6b) are kept with its keyword, as given.
pub async fn keyword_keeps_its_opt_in_rules(store: &dyn Store) {
    given_account(store, "Acme").await;
    given_code(store, "Acme", "Code-1", "88976").await;
    let rules = domain::OptInRules {
        kind: domain::OptInType::Age,
        name: "Club".into(),
        minimum_age: Some(18),
        invalid_age_text: Some("Too young".into()),
        error_text: Some("Send your age".into()),
        duplicate_text: Some("Already in".into()),
        start_date: domain::Day::parse("1/1/2015"),
        end_date: domain::Day::parse("2035-12-31"),
        next_keyword: Some("ZIP".into()),
        ..domain::OptInRules::default()
    };
    let mut new = new_keyword("Acme", "Kw-Age", "88976", "Club");
    new.double_opt_in = true;
    new.opt_in = Some(rules.clone());
    let created = ok(store.create_keyword(new).await, "create keyword");
    assert_eq!(created.opt_in.as_ref(), Some(&rules));
    let read = ok(store.get_keyword("Acme", "kw-age").await, "get keyword");
    assert_eq!(read, created);
    let listed = ok(store.list_keywords("Acme").await, "list keywords");
    assert_eq!(listed, vec![created]);
    // A keyword without rules reads back without them.
    let plain = given_keyword(store, "Acme", "Kw-2", "88976", "Plain").await;
    assert_eq!(plain.opt_in, None);
    assert_eq!(
        ok(store.get_keyword("Acme", "Kw-2").await, "get keyword").opt_in,
        None
    );
}

pub async fn deleting_a_keyword_removes_it_and_its_subscriptions(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_keyword(store, "acme", "kw-1", "88976", "JOIN").await;
    given_keyword(store, "acme", "kw-2", "88976", "NEWS").await;
    for keyword in ["JOIN", "NEWS"] {
        subscribe(
            store,
            "acme",
            &to("88976", keyword),
            N1,
            SubscriptionStatus::Subscribed,
            T0,
        )
        .await;
    }

    assert_not_found(
        store.delete_keyword("other", "kw-1").await,
        "delete another account's keyword",
    );
    ok(store.delete_keyword("ACME", "KW-1").await, "delete keyword");
    assert_not_found(store.get_keyword("acme", "kw-1").await, "deleted keyword");
    assert_not_found(
        store.delete_keyword("acme", "kw-1").await,
        "delete a deleted keyword",
    );
    let news = subscription(
        N1,
        "88976",
        "NEWS",
        SubscriptionStatus::Subscribed,
        Some(T0),
        None,
    );
    assert_eq!(subscriptions(store, "acme", N1).await, vec![news.clone()]);

    // A keyword created again under the same name starts without subscriptions.
    given_keyword(store, "acme", "kw-3", "88976", "JOIN").await;
    assert_eq!(subscriptions(store, "acme", N1).await, vec![news]);
}

pub async fn deleting_a_code_removes_its_keywords_and_subscriptions(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "Code-2", "77777").await;
    given_keyword(store, "acme", "kw-1", "88976", "JOIN").await;
    given_keyword(store, "acme", "kw-2", "77777", "JOIN").await;
    for code in ["88976", "77777"] {
        subscribe(
            store,
            "acme",
            &to(code, "JOIN"),
            N1,
            SubscriptionStatus::Subscribed,
            T0,
        )
        .await;
    }

    assert_not_found(
        store.delete_code("other", "88976").await,
        "delete another account's code",
    );
    ok(
        store.delete_code("acme", "88976").await,
        "delete code by code string",
    );
    assert_not_found(store.get_code("acme", "code-1").await, "deleted code");
    assert_not_found(
        store.get_keyword("acme", "kw-1").await,
        "keyword of a deleted code",
    );
    ok(
        store.get_keyword("acme", "kw-2").await,
        "keyword of another code",
    );
    assert_eq!(
        subscriptions(store, "acme", N1).await,
        vec![subscription(
            N1,
            "77777",
            "JOIN",
            SubscriptionStatus::Subscribed,
            Some(T0),
            None
        )]
    );

    ok(
        store.delete_code("acme", "CODE-2").await,
        "delete code by ID",
    );
    assert_not_found(
        store.delete_code("acme", "code-2").await,
        "delete a deleted code",
    );
    assert!(subscriptions(store, "acme", N1).await.is_empty());
    assert!(ok(store.list_keywords("acme").await, "list keywords").is_empty());

    // Created again, the code and keyword start empty.
    given_code(store, "acme", "code-3", "88976").await;
    given_keyword(store, "acme", "kw-3", "88976", "JOIN").await;
    assert!(subscriptions(store, "acme", N1).await.is_empty());
}

// ---- messages ---------------------------------------------------------------------------------

pub async fn message_round_trips_and_resolves_ignoring_case(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;

    let message = ok(
        store.create_message(new_message("ACME", "Msg-1")).await,
        "create message",
    );
    let expected = Message {
        id: "Msg-1".to_string(),
        account_id: "acme".to_string(),
        name: "Welcome".to_string(),
        code: "88976".to_string(),
        text: "Hello %%FirstName%%".to_string(),
        status: MessageStatus::Active,
        target_list_ids: strings(&["List-A"]),
        exclusion_list_ids: strings(&["list-b"]),
        content_url: Some("https://example.com/a.png".to_string()),
        created_at: T0,
        updated_at: T0,
    };
    assert_eq!(message, expected);
    for spelling in ["Msg-1", "msg-1", "MSG-1"] {
        assert_eq!(
            ok(store.get_message("Acme", spelling).await, "get message"),
            expected,
            "get_message({spelling:?})"
        );
    }

    let mut draft = new_message("acme", "msg-2");
    draft.status = MessageStatus::Draft;
    draft.target_list_ids = Vec::new();
    draft.exclusion_list_ids = Vec::new();
    draft.content_url = None;
    draft.created_at = T0 + 1;
    let draft = ok(store.create_message(draft).await, "create draft");
    assert_eq!(draft.status, MessageStatus::Draft);
    assert!(draft.target_list_ids.is_empty() && draft.exclusion_list_ids.is_empty());
    assert_eq!(draft.content_url, None);
    assert_eq!(draft.updated_at, T0 + 1);

    let mut all = ok(store.list_messages("acme").await, "list messages");
    all.sort_by_key(|a| a.id.to_lowercase());
    assert_eq!(all, vec![expected, draft]);

    assert_conflict(
        store.create_message(new_message("acme", "MSG-1")).await,
        "message ID equal ignoring case",
    );
    let mut unknown_code = new_message("acme", "msg-3");
    unknown_code.code = "12345".to_string();
    assert_not_found(
        store.create_message(unknown_code).await,
        "message on an unknown code",
    );
    assert_not_found(
        store.create_message(new_message("other", "msg-4")).await,
        "message on another account's code",
    );
    assert_not_found(store.get_message("other", "msg-1").await, "other's message");
    assert!(ok(store.list_messages("other").await, "list other's messages").is_empty());
}

pub async fn message_patch_changes_only_the_given_fields(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    given_code(store, "acme", "code-2", "77777").await;
    let original = ok(
        store.create_message(new_message("acme", "Msg-1")).await,
        "create message",
    );

    let renamed = ok(
        store
            .update_message(
                "ACME",
                "MSG-1",
                MessagePatch {
                    name: Some("Renamed".to_string()),
                    ..MessagePatch::default()
                },
                T0 + 1_000,
            )
            .await,
        "rename",
    );
    let mut expected = original.clone();
    expected.name = "Renamed".to_string();
    expected.updated_at = T0 + 1_000;
    assert_eq!(renamed, expected);
    assert_eq!(
        ok(store.get_message("acme", "msg-1").await, "get renamed"),
        expected
    );

    let patched = ok(
        store
            .update_message(
                "acme",
                "msg-1",
                MessagePatch {
                    name: None,
                    code: Some("77777".to_string()),
                    text: Some("New text".to_string()),
                    status: Some(MessageStatus::Inactive),
                    target_list_ids: Some(strings(&["list-c", "List-D"])),
                    exclusion_list_ids: Some(Vec::new()),
                    content_url: Some(None),
                },
                T0 + 2_000,
            )
            .await,
        "patch every field",
    );
    let expected = Message {
        name: "Renamed".to_string(),
        code: "77777".to_string(),
        text: "New text".to_string(),
        status: MessageStatus::Inactive,
        target_list_ids: strings(&["list-c", "List-D"]),
        exclusion_list_ids: Vec::new(),
        content_url: None,
        updated_at: T0 + 2_000,
        ..original.clone()
    };
    assert_eq!(patched, expected);
    assert_eq!(
        ok(store.get_message("acme", "msg-1").await, "get patched"),
        expected
    );

    let with_url = ok(
        store
            .update_message(
                "acme",
                "msg-1",
                MessagePatch {
                    content_url: Some(Some("https://example.com/b.gif".to_string())),
                    ..MessagePatch::default()
                },
                T0 + 3_000,
            )
            .await,
        "set content URL",
    );
    assert_eq!(
        with_url.content_url.as_deref(),
        Some("https://example.com/b.gif")
    );
    assert_eq!(with_url.text, "New text", "other fields are kept");

    let before = ok(store.get_message("acme", "msg-1").await, "get message");
    assert_not_found(
        store
            .update_message(
                "acme",
                "msg-1",
                MessagePatch {
                    name: Some("Lost".to_string()),
                    code: Some("12345".to_string()),
                    ..MessagePatch::default()
                },
                T0 + 4_000,
            )
            .await,
        "patch to an unknown code",
    );
    assert_eq!(
        ok(store.get_message("acme", "msg-1").await, "get message"),
        before,
        "a failed patch changes nothing"
    );
    assert_not_found(
        store
            .update_message("other", "msg-1", MessagePatch::default(), T0 + 5_000)
            .await,
        "patch another account's message",
    );
    assert_not_found(
        store
            .update_message("acme", "msg-9", MessagePatch::default(), T0 + 5_000)
            .await,
        "patch an unknown message",
    );
}

pub async fn deleted_message_is_not_found(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    given_code(store, "acme", "code-1", "88976").await;
    ok(
        store.create_message(new_message("acme", "Msg-1")).await,
        "create message",
    );
    ok(
        store.create_message(new_message("acme", "msg-2")).await,
        "create message",
    );
    assert_not_found(
        store.delete_message("other", "msg-1").await,
        "delete another account's message",
    );
    ok(
        store.delete_message("ACME", "MSG-1").await,
        "delete message",
    );
    assert_not_found(store.get_message("acme", "msg-1").await, "deleted message");
    assert_not_found(
        store.delete_message("acme", "msg-1").await,
        "delete a deleted message",
    );
    let remaining: Vec<String> = ok(store.list_messages("acme").await, "list messages")
        .into_iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(remaining, strings(&["msg-2"]));
    ok(
        store.create_message(new_message("acme", "msg-1")).await,
        "a deleted message's ID can be used again",
    );
}
