//! Migrations, accounts, API clients, tokens and credentials.

use store::*;

use crate::helpers::*;

// ---- migrations -------------------------------------------------------------------------------

pub async fn migrate_is_idempotent_and_leaves_the_store_ready(store: &dyn Store) {
    ok(store.ready().await, "ready on a migrated store");
    ok(store.migrate().await, "migrate again");
    ok(store.migrate().await, "migrate a third time");
    ok(store.ready().await, "ready after migrating again");
}

// ---- accounts ---------------------------------------------------------------------------------

pub async fn account_resolves_ignoring_case_with_its_canonical_id(store: &dyn Store) {
    let acme = ok(
        store
            .create_account(NewAccount {
                id: "AcmeCo".to_string(),
                name: "Acme".to_string(),
                created_at: T0,
            })
            .await,
        "create account",
    );
    assert_eq!(
        acme,
        Account {
            id: "AcmeCo".to_string(),
            name: "Acme".to_string(),
            created_at: T0,
        }
    );
    for spelling in ["AcmeCo", "acmeco", "ACMECO"] {
        assert_eq!(
            ok(store.get_account(spelling).await, "get account"),
            acme,
            "get_account({spelling:?})"
        );
    }
    assert_not_found(store.get_account("Acme").await, "unknown account");

    let other = given_account(store, "other").await;
    let mut all = ok(store.list_accounts().await, "list accounts");
    all.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(all, vec![acme, other]);
}

pub async fn account_id_equal_ignoring_case_conflicts(store: &dyn Store) {
    given_account(store, "acme").await;
    assert_conflict(
        store
            .create_account(NewAccount {
                id: "ACME".to_string(),
                name: "Shouting Acme".to_string(),
                created_at: T0,
            })
            .await,
        "account ID equal ignoring case",
    );
    let all = ok(store.list_accounts().await, "list accounts");
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].name, "acme name", "the first account is untouched");
}

// ---- clients and tokens -----------------------------------------------------------------------

pub async fn client_resolves_ignoring_case_and_lists_by_account(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "Other").await;

    let mut new = new_client("Client-One", "ACME");
    new.accounts = strings(&["Other"]);
    let client = ok(store.create_client(new).await, "create client");
    let expected = Client {
        client_id: "Client-One".to_string(),
        secret_hash: new_client("", "").secret_hash,
        account_id: "acme".to_string(),
        scopes: strings(&["sms_send", "sms_read"]),
        accounts: strings(&["Other"]),
        created_at: T0,
        revoked_at: None,
    };
    assert_eq!(client, expected);
    for spelling in ["Client-One", "client-one", "CLIENT-ONE"] {
        assert_eq!(
            ok(store.get_client(spelling).await, "get client"),
            expected,
            "get_client({spelling:?})"
        );
    }
    assert_not_found(store.get_client("client-two").await, "unknown client");

    let mut theirs = new_client("their-client", "other");
    theirs.scopes = Vec::new();
    let theirs = ok(store.create_client(theirs).await, "create other's client");
    assert_eq!(theirs.account_id, "Other");
    assert!(theirs.scopes.is_empty());

    assert_eq!(
        ok(store.list_clients("Acme").await, "list clients"),
        vec![expected]
    );
    assert_eq!(
        ok(store.list_clients("OTHER").await, "list other's clients"),
        vec![theirs]
    );
    assert_not_found(
        store.create_client(new_client("lost", "nobody")).await,
        "client of an unknown account",
    );
}

pub async fn client_id_equal_ignoring_case_conflicts(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client",
    );
    assert_conflict(
        store.create_client(new_client("CLIENT-ONE", "acme")).await,
        "client ID equal ignoring case",
    );
    assert_conflict(
        store.create_client(new_client("Client-One", "other")).await,
        "client IDs are unique across accounts",
    );
}

pub async fn token_is_found_until_it_expires(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "Other").await;
    let mut new = new_client("client-one", "acme");
    new.accounts = strings(&["Other"]);
    ok(store.create_client(new).await, "create client");

    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let expires_at = T0 + HOUR;
    ok(
        store
            .insert_token(new_token(hash, "CLIENT-ONE", "other", expires_at))
            .await,
        "insert token",
    );
    let expected = Some(store::AccessToken {
        client_id: "client-one".to_string(),
        account_id: "Other".to_string(),
        scopes: strings(&["sms_send"]),
        expires_at,
    });
    assert_eq!(
        ok(store.find_token(hash, T0).await, "find fresh token"),
        expected
    );
    assert_eq!(
        ok(
            store.find_token(hash, expires_at - 1).await,
            "find token at its last millisecond"
        ),
        expected
    );
    assert_eq!(
        ok(
            store.find_token(hash, expires_at).await,
            "find token at expiry"
        ),
        None
    );
    assert_eq!(
        ok(
            store.find_token(hash, expires_at + DAY).await,
            "find token after expiry"
        ),
        None
    );
    assert_eq!(
        ok(
            store.find_token(&"0".repeat(64), T0).await,
            "find unknown token"
        ),
        None
    );
    assert_not_found(
        store
            .insert_token(new_token(&"1".repeat(64), "nobody", "acme", expires_at))
            .await,
        "token of an unknown client",
    );
}

pub async fn revoking_a_client_deletes_its_tokens(store: &dyn Store) {
    given_account(store, "acme").await;
    given_account(store, "other").await;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client one",
    );
    ok(
        store.create_client(new_client("client-two", "acme")).await,
        "create client two",
    );
    let (h1, h2, h3) = ("a".repeat(64), "b".repeat(64), "c".repeat(64));
    let expires_at = T0 + HOUR;
    for (hash, client) in [(&h1, "client-one"), (&h2, "client-two")] {
        ok(
            store
                .insert_token(new_token(hash, client, "acme", expires_at))
                .await,
            "insert token",
        );
    }

    assert_not_found(
        store.revoke_client("other", "client-one").await,
        "revoke another account's client",
    );
    assert_not_found(
        store.revoke_client("acme", "client-three").await,
        "revoke an unknown client",
    );
    assert!(
        ok(store.find_token(&h1, T0).await, "token before revoke").is_some(),
        "a failed revoke leaves tokens alone"
    );

    ok(store.revoke_client("ACME", "CLIENT-ONE").await, "revoke");
    let revoked = ok(store.get_client("client-one").await, "get revoked client");
    assert!(revoked.revoked_at.is_some(), "revoked_at is set");
    assert_eq!(
        ok(store.find_token(&h1, T0).await, "revoked client's token"),
        None
    );
    assert!(
        ok(store.find_token(&h2, T0).await, "other client's token").is_some(),
        "other clients keep their tokens"
    );

    // A token of a revoked client is never found, however it got there.
    let _ = store
        .insert_token(new_token(&h3, "client-one", "acme", expires_at))
        .await;
    assert_eq!(
        ok(store.find_token(&h3, T0).await, "token issued after revoke"),
        None
    );
    let _ = store.revoke_client("acme", "client-one").await;
    assert!(
        ok(store.get_client("client-one").await, "get client")
            .revoked_at
            .is_some(),
        "a client stays revoked"
    );
}

// ---- credentials: secret-hash upgrade and expired-token purge (API.md §2, §8) -----------------

pub async fn client_secret_hash_is_replaced_only_while_it_is_the_old_one(store: &dyn Store) {
    given_account(store, "acme").await;
    let old = new_client("client-one", "acme").secret_hash;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client",
    );
    let hash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    ok(
        store
            .insert_token(new_token(hash, "client-one", "acme", T0 + HOUR))
            .await,
        "insert token",
    );

    let replaced = ok(
        store
            .replace_client_secret_hash("CLIENT-ONE", &old, "hmac-sha256$salt$new")
            .await,
        "replace hash",
    );
    assert!(replaced, "the stored hash was the old one: replaced");
    let client = ok(store.get_client("client-one").await, "get client");
    assert_eq!(client.secret_hash, "hmac-sha256$salt$new");

    let again = ok(
        store
            .replace_client_secret_hash("client-one", &old, "hmac-sha256$salt$other")
            .await,
        "replace hash again",
    );
    assert!(
        !again,
        "the stored hash is no longer the old one: not replaced"
    );
    let client = ok(store.get_client("client-one").await, "get client");
    assert_eq!(client.secret_hash, "hmac-sha256$salt$new");
    assert!(
        ok(store.find_token(hash, T0).await, "find token").is_some(),
        "the client's tokens outlive the upgrade"
    );

    assert_not_found(
        store
            .replace_client_secret_hash("nobody", &old, "hmac-sha256$salt$new")
            .await,
        "unknown client",
    );
}

pub async fn purging_expired_tokens_deletes_only_expired_ones(store: &dyn Store) {
    given_account(store, "acme").await;
    ok(
        store.create_client(new_client("client-one", "acme")).await,
        "create client",
    );
    let expired = "1111111111111111111111111111111111111111111111111111111111111111";
    let at_now = "2222222222222222222222222222222222222222222222222222222222222222";
    let live = "3333333333333333333333333333333333333333333333333333333333333333";
    for (hash, expires_at) in [(expired, T0 - HOUR), (at_now, T0), (live, T0 + 1)] {
        ok(
            store
                .insert_token(new_token(hash, "client-one", "acme", expires_at))
                .await,
            "insert token",
        );
    }

    assert_eq!(ok(store.purge_expired_tokens(T0).await, "purge"), 2);
    assert_eq!(
        ok(store.find_token(live, T0).await, "find live token").map(|t| t.expires_at),
        Some(T0 + 1),
        "an unexpired token is kept"
    );
    // Found at an earlier time only if its row is still there.
    for hash in [expired, at_now] {
        assert_eq!(
            ok(
                store.find_token(hash, T0 - 2 * HOUR).await,
                "find purged token"
            ),
            None,
            "an expired token's row is gone"
        );
    }
    assert_eq!(
        ok(store.purge_expired_tokens(T0).await, "purge again"),
        0,
        "nothing left to purge"
    );
}
