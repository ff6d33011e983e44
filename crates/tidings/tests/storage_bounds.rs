//! Property (API.md §1 "Text limits"): whatever the body sent to a write endpoint — the
//! `/sms/v1` POSTs (messageList send, messageContact send, queueMO, keyword, subscriptions
//! lookup, queueImport, refreshList, deliveryReport) and the `/admin/v1` POST/PATCH JSON bodies —
//! the request is refused and stores nothing, or it stores at most 2 MiB, contact attributes and
//! `%%Name%%` substitution included. Hostile but plausible bodies: texts near and over 1,600
//! characters of one- to four-byte characters, up to 250 numbers and more, long keys and
//! attribute names, placeholders that expand, thousands of contacts.
//!
//! What a request stored is measured in the database itself: triggers on every table of the
//! schema (installed by this test after the migrations) add up the bytes of the values each
//! statement writes — inserted and updated rows' new values, minus the old values of updated and
//! deleted rows (`net`), and inserted and updated values alone (`written`). Values count as their
//! text: a string its UTF-8 bytes, a number its decimal digits. One server serves every case;
//! the meter is read after each answer (and, for a queued import, after the import ends).

mod common;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use common::{assert_accepted, fixture, import_contacts, run_engine, spawn_app, Fixture, TestApp};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};

/// API.md §1: no request stores more than this.
const LIMIT: i64 = 2 * 1024 * 1024;
/// Cases in all (each is one request).
const CASES: u32 = 10_000;

// ---- the meter -----------------------------------------------------------------------------

/// Bytes the database holds in values, kept up to date by triggers on every table.
enum Meter {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

/// What the meter read: bytes written (new values of inserted and updated rows) and the net
/// growth (those, minus the old values of updated and deleted rows), since it was installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Reading {
    written: i64,
    net: i64,
}

impl Meter {
    /// Installs the triggers on every table of the migrated schema of `url`.
    async fn install(url: &str) -> Meter {
        if url.starts_with("sqlite:") {
            let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)
                .expect("sqlite url")
                .busy_timeout(Duration::from_secs(30));
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .expect("open the test database");
            install_sqlite(&pool).await;
            Meter::Sqlite(pool)
        } else {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(1)
                .connect(url)
                .await
                .expect("open the test database");
            install_postgres(&pool).await;
            Meter::Postgres(pool)
        }
    }

    async fn read(&self) -> Reading {
        let (written, net): (i64, i64) = match self {
            Meter::Sqlite(pool) => {
                sqlx::query_as("SELECT written, net FROM storage_meter")
                    .fetch_one(pool)
                    .await
            }
            Meter::Postgres(pool) => {
                sqlx::query_as("SELECT written, net FROM storage_meter")
                    .fetch_one(pool)
                    .await
            }
        }
        .expect("read the storage meter");
        Reading { written, net }
    }
}

async fn install_sqlite(pool: &sqlx::SqlitePool) {
    sqlx::raw_sql(
        "CREATE TABLE storage_meter (written INTEGER NOT NULL, net INTEGER NOT NULL); \
         INSERT INTO storage_meter VALUES (0, 0);",
    )
    .execute(pool)
    .await
    .expect("meter table");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT IN ('_sqlx_migrations', 'storage_meter') ORDER BY name",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    assert!(tables.len() > 10, "the schema's tables: {tables:?}");
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .bind(&table)
                .fetch_all(pool)
                .await
                .expect("columns");
        let size = |row: &str| {
            columns
                .iter()
                .map(|c| format!("coalesce(length(CAST({row}.\"{c}\" AS BLOB)), 0)"))
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let (new, old) = (size("NEW"), size("OLD"));
        let sql = format!(
            "CREATE TRIGGER \"meter_insert_{table}\" AFTER INSERT ON \"{table}\" BEGIN \
               UPDATE storage_meter SET written = written + ({new}), net = net + ({new}); END; \
             CREATE TRIGGER \"meter_update_{table}\" AFTER UPDATE ON \"{table}\" BEGIN \
               UPDATE storage_meter SET written = written + ({new}), \
               net = net + ({new}) - ({old}); END; \
             CREATE TRIGGER \"meter_delete_{table}\" AFTER DELETE ON \"{table}\" BEGIN \
               UPDATE storage_meter SET net = net - ({old}); END;"
        );
        sqlx::raw_sql(&sql)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("triggers on {table}: {e}"));
    }
}

async fn install_postgres(pool: &sqlx::PgPool) {
    sqlx::raw_sql(
        r#"
        CREATE TABLE storage_meter (written BIGINT NOT NULL, net BIGINT NOT NULL);
        INSERT INTO storage_meter VALUES (0, 0);
        CREATE FUNCTION storage_meter_count() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            added BIGINT := 0;
            removed BIGINT := 0;
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                SELECT coalesce(sum(octet_length(v.value)), 0) INTO added
                FROM new_rows n, jsonb_each_text(to_jsonb(n)) v;
            END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                SELECT coalesce(sum(octet_length(v.value)), 0) INTO removed
                FROM old_rows o, jsonb_each_text(to_jsonb(o)) v;
            END IF;
            UPDATE storage_meter SET written = written + added, net = net + added - removed;
            RETURN NULL;
        END $$;
        "#,
    )
    .execute(pool)
    .await
    .expect("meter table and function");
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
         AND table_name NOT IN ('_sqlx_migrations', 'storage_meter') ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .expect("tables");
    assert!(tables.len() > 10, "the schema's tables: {tables:?}");
    for table in tables {
        let sql = format!(
            "CREATE TRIGGER \"meter_insert_{table}\" AFTER INSERT ON \"{table}\" \
               REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT \
               EXECUTE FUNCTION storage_meter_count(); \
             CREATE TRIGGER \"meter_update_{table}\" AFTER UPDATE ON \"{table}\" \
               REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT \
               EXECUTE FUNCTION storage_meter_count(); \
             CREATE TRIGGER \"meter_delete_{table}\" AFTER DELETE ON \"{table}\" \
               REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT \
               EXECUTE FUNCTION storage_meter_count();"
        );
        sqlx::raw_sql(&sql)
            .execute(pool)
            .await
            .unwrap_or_else(|e| panic!("triggers on {table}: {e}"));
    }
}

// ---- hostile bodies ------------------------------------------------------------------------

/// One request of a case.
#[derive(Debug, Clone)]
struct Call {
    endpoint: &'static str,
    method: Method,
    path: String,
    body: Vec<u8>,
}

/// Characters of one to four bytes, and the two that JSON escapes.
const CHARS: &[char] = &['a', 'é', '€', '😀', '"', '\\'];

/// A length: short, around 1,600, or well over it.
fn text_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        5 => 0usize..40,
        4 => 1590usize..1611,
        1 => 1611usize..5000,
    ]
}

/// A text of one repeated character.
fn text() -> impl Strategy<Value = String> {
    (text_len(), select(CHARS)).prop_map(|(n, c)| c.to_string().repeat(n))
}

/// A key or attribute name: short, or around 255 characters.
fn key() -> impl Strategy<Value = String> {
    (
        prop_oneof![3 => 1usize..20, 1 => Just(160usize), 2 => 250usize..261],
        select(CHARS),
    )
        .prop_map(|(n, c)| c.to_string().repeat(n))
}

/// A template whose `%%a%%` placeholders expand: `k` of them before a short text.
fn template() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => text(),
        3 => (select(&[1usize, 10, 100, 320][..]), text_len().prop_map(|n| n.min(40)))
            .prop_map(|(k, tail)| format!("{}{}", "%%a%%".repeat(k), "x".repeat(tail))),
    ]
}

/// The value `a` takes: 1 to 16 characters of one kind (so 320 placeholders give up to 5,120).
fn placeholder_value() -> impl Strategy<Value = String> {
    (select(&[1usize, 5, 6, 16][..]), select(CHARS)).prop_map(|(n, c)| c.to_string().repeat(n))
}

/// How many numbers: mostly a few, sometimes the 250 maximum, or one more.
fn count() -> impl Strategy<Value = usize> {
    prop_oneof![
        4 => 0usize..6,
        2 => 6usize..120,
        2 => Just(250usize),
        1 => Just(251usize),
    ]
}

/// `n` distinct valid numbers from a random base (cases overlap, so contacts get updated).
fn numbers(n: usize, base: u32) -> Vec<String> {
    (0..n)
        .map(|i| format!("1555{:07}", u64::from(base) * 97 + i as u64))
        .collect()
}

fn object(entries: Vec<(String, Value)>) -> Value {
    let mut map = Map::new();
    for (k, v) in entries {
        map.insert(k, v);
    }
    Value::Object(map)
}

fn call(endpoint: &'static str, method: Method, path: String, body: Value) -> Call {
    Call {
        endpoint,
        method,
        path,
        body: body.to_string().into_bytes(),
    }
}

/// What the cases of one endpoint name: the fixture's objects.
#[derive(Debug, Clone)]
struct Names {
    /// Acme's message, which the `/sms/v1` cases send.
    message: String,
    /// The Operator account's message, which the admin cases change.
    operator_message: String,
    send: String,
    /// Acme's code 88976 and its keyword JOIN.
    code_id: String,
    keyword_id: String,
}

fn message_list_send(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!("/sms/v1/messageList/{}/send", n.message);
    (
        any::<bool>(),
        template(),
        prop::collection::vec(
            select(&["ListA", "ListB", "Exclude", "Nope", " "][..]),
            0..4,
        ),
        select(&[0usize, 1, 2_000][..]),
        select(&[0usize, 100, 100_000, 900_000][..]),
    )
        .prop_map(move |(over, text, ids, repeat, url)| {
            let mut body = json!({"OverrideMessageText": over, "MessageText": text});
            if !ids.is_empty() {
                let many: Vec<&str> = ids
                    .iter()
                    .cycle()
                    .take(ids.len() * repeat.max(1))
                    .copied()
                    .collect();
                body["TargetListIds"] = json!(many);
                body["OverrideTemplateTargetLists"] = json!(true);
            }
            if url > 0 {
                body["ContentURL"] = json!(format!("https://example.com/{}", "a".repeat(url)));
            }
            if let (false, Some(o)) = (over, body.as_object_mut()) {
                o.remove("MessageText");
            }
            call("messageList send", Method::POST, path.clone(), body)
        })
}

fn message_contact_send(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!("/sms/v1/messageContact/{}/send", n.message);
    (
        count(),
        any::<u32>().prop_map(|b| b % 500),
        any::<bool>(),
        key(),
        prop::collection::vec((key(), text()), 0..3),
        placeholder_value(),
        template(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            move |(count, base, subscribers, key, extra, value, template, over, subscribe)| {
                let numbers = numbers(count, base);
                let mut body = if subscribers {
                    let list: Vec<Value> = numbers
                        .iter()
                        .enumerate()
                        .map(|(i, number)| {
                            // The first subscriber carries the long attributes, all carry `a`.
                            let mut attributes = vec![("a".to_string(), json!(value))];
                            if i == 0 {
                                attributes.extend(extra.iter().map(|(k, v)| (k.clone(), json!(v))));
                            }
                            json!({"MobileNumber": number, "SubscriberKey": key,
                                   "Attributes": object(attributes)})
                        })
                        .collect();
                    json!({ "Subscribers": list })
                } else {
                    json!({ "mobileNumbers": numbers })
                };
                body["Override"] = json!(over);
                if over {
                    body["messageText"] = json!(template);
                }
                if subscribe {
                    body["Subscribe"] = json!(true);
                    body["keyword"] = json!("JOIN");
                }
                call("messageContact send", Method::POST, path.clone(), body)
            },
        )
}

fn queue_mo() -> impl Strategy<Value = Call> {
    (
        count(),
        any::<u32>().prop_map(|b| b % 500),
        select(&["", "JOIN ", "HELP ", "STOP ", "START ", "Y "][..]),
        text(),
        any::<bool>(),
    )
        .prop_map(|(count, base, word, text, subscribers)| {
            let numbers = numbers(count, base);
            let mut body = if subscribers {
                let list: Vec<Value> = numbers
                    .iter()
                    .map(|n| json!({"mobilenumber": n, "subscriberkey": format!("k{n}")}))
                    .collect();
                json!({ "subscribers": list })
            } else {
                json!({ "mobileNumbers": numbers })
            };
            body["shortCode"] = json!("88976");
            body["messageText"] = json!(format!("{word}{text}"));
            call("queueMO", Method::POST, "/sms/v1/queueMO".into(), body)
        })
}

fn sms_keyword() -> impl Strategy<Value = Call> {
    // On Acme's 88976, the code queueMO texts: every keyword created here is one more that a
    // STOP there opts the numbers out of.
    (select(&["88976", "00000"][..]), prop_oneof![key(), text()]).prop_map(|(code, word)| {
        call(
            "keyword",
            Method::POST,
            "/sms/v1/keyword".into(),
            json!({"ShortCode": code, "CountryCode": "US", "Keyword": word}),
        )
    })
}

fn subscriptions_lookup() -> impl Strategy<Value = Call> {
    (
        count(),
        any::<u32>().prop_map(|b| b % 500),
        key(),
        any::<bool>(),
    )
        .prop_map(|(count, base, key, by_key)| {
            let body = if by_key {
                json!({ "subscriberKey": vec![key; count.max(1)] })
            } else {
                json!({ "mobileNumber": numbers(count, base) })
            };
            call(
                "subscriptions lookup",
                Method::POST,
                "/sms/v1/contacts/subscriptions".into(),
                body,
            )
        })
}

fn queue_import() -> impl Strategy<Value = Call> {
    (
        select(
            &[
                "people.csv",
                "missing.csv",
                "../people.csv",
                "/etc/passwd",
                "Beta/x.csv",
            ][..],
        ),
        key(),
        any::<bool>(),
    )
        .prop_map(|(file, destination, subscribe)| {
            let mut body = json!({"FileName": file, "ImportMappingType": "MapByHeader",
                "IsFirstRowHeader": true,
                "FieldMaps": [{"Destination": "_MobileNumber", "Source": "mobileNumber"},
                              {"Destination": destination, "Source": "FirstName"}]});
            if subscribe {
                body["ShortCode"] = json!("88976");
                body["Keyword"] = json!("JOIN");
            }
            call(
                "queueImport",
                Method::POST,
                "/sms/v1/contacts/queueImport/ListA".into(),
                body,
            )
        })
}

fn refresh_list() -> impl Strategy<Value = Call> {
    (select(&["ListA", "Nope"][..]), text()).prop_map(|(list, junk)| {
        call(
            "refreshList",
            Method::POST,
            format!("/sms/v1/contacts/refreshList/{list}"),
            json!({ "ListId": junk }),
        )
    })
}

fn delivery_report(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!(
        "/sms/v1/messageList/{}/deliveryReport/{}",
        n.message, n.send
    );
    // Names of 24, 200 (the longest valid), 201 and 250 bytes, some with a path.
    (
        any::<u64>(),
        select(&[24usize, 200, 201, 250][..]),
        select(&["", "", "../", "a/"][..]),
    )
        .prop_map(move |(unique, len, prefix)| {
            let name = format!("{prefix}{unique:020}{}.csv", "r".repeat(len - 24));
            call(
                "deliveryReport",
                Method::POST,
                path.clone(),
                json!({ "filename": name }),
            )
        })
}

const ADMIN: &str = "/admin/v1/accounts";
/// The account most admin cases change. Its fixture holds 88976 on the simulator too (a code
/// shared with Acme), which queueMO, acting in the caller's account only, never reaches.
const OPERATOR: &str = "/admin/v1/accounts/Operator";
/// The account the `/sms/v1` cases act for. The admin cases that shape what an inbound text
/// stores change its catalog: its code's opt-out and help texts, its keywords' responses and
/// confirm texts, and new keywords on 88976 (so a STOP opts out of many of them).
const ACME: &str = "/admin/v1/accounts/Acme";

fn admin_account() -> impl Strategy<Value = Call> {
    (text(), any::<u64>()).prop_map(|(name, id)| {
        call(
            "admin account",
            Method::POST,
            ADMIN.into(),
            json!({"id": format!("acct{id}"), "name": name}),
        )
    })
}

fn admin_client() -> impl Strategy<Value = Call> {
    (
        prop::collection::vec(
            select(&["sms_read", "sms_send", "sms_write", "nope"][..]),
            0..4,
        ),
        prop::collection::vec(select(&["Acme", "acme", "Nobody", "Operator"][..]), 0..3),
        select(&[1usize, 1_000][..]),
    )
        .prop_map(|(scopes, accounts, repeat)| {
            let accounts: Vec<&str> = accounts
                .iter()
                .cycle()
                .take(accounts.len() * repeat)
                .copied()
                .collect();
            call(
                "admin client",
                Method::POST,
                format!("{OPERATOR}/clients"),
                json!({"scopes": scopes, "accounts": accounts}),
            )
        })
}

fn admin_code() -> impl Strategy<Value = Call> {
    (any::<u32>(), text(), text()).prop_map(|(code, opt_out, help)| {
        call(
            "admin code",
            Method::POST,
            format!("{OPERATOR}/codes"),
            json!({"code": format!("{}", 100_000 + code % 900_000), "carrier": "simulator",
                   "optOutText": opt_out, "helpText": help}),
        )
    })
}

fn admin_code_patch(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!("{ACME}/codes/{}", n.code_id);
    (text(), text()).prop_map(move |(opt_out, help)| {
        call(
            "admin code PATCH",
            Method::PATCH,
            path.clone(),
            json!({"optOutText": opt_out, "helpText": help}),
        )
    })
}

fn admin_keyword() -> impl Strategy<Value = Call> {
    (any::<u32>(), text(), text(), any::<bool>()).prop_map(|(word, response, confirm, double)| {
        call(
            "admin keyword",
            Method::POST,
            format!("{ACME}/keywords"),
            json!({"code": "88976", "keyword": format!("W{word}"), "response": response,
                   "doubleOptIn": double, "confirmText": confirm}),
        )
    })
}

fn admin_keyword_patch(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!("{ACME}/keywords/{}", n.keyword_id);
    (text(), text()).prop_map(move |(response, confirm)| {
        call(
            "admin keyword PATCH",
            Method::PATCH,
            path.clone(),
            json!({"response": response, "confirmText": confirm}),
        )
    })
}

fn admin_message() -> impl Strategy<Value = Call> {
    (template(), text()).prop_map(|(text, name)| {
        call(
            "admin message",
            Method::POST,
            format!("{OPERATOR}/messages"),
            json!({"name": name, "code": "88976", "text": text, "status": "Active",
                   "targetListIds": ["ListA"]}),
        )
    })
}

fn admin_message_patch(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!("{OPERATOR}/messages/{}", n.operator_message);
    template().prop_map(move |text| {
        call(
            "admin message PATCH",
            Method::PATCH,
            path.clone(),
            json!({ "text": text }),
        )
    })
}

fn admin_list() -> impl Strategy<Value = Call> {
    text().prop_map(|name| {
        call(
            "admin list",
            Method::POST,
            format!("{OPERATOR}/lists"),
            json!({ "name": name }),
        )
    })
}

fn admin_contacts() -> impl Strategy<Value = Call> {
    (
        prop_oneof![4 => 0usize..20, 2 => 20usize..1000, 1 => 4990usize..5002],
        any::<u32>().prop_map(|b| b % 500),
        key(),
        prop::collection::vec((key(), text()), 0..3),
        any::<bool>(),
    )
        .prop_map(|(count, base, key, attributes, subscribe)| {
            let contacts: Vec<Value> = numbers(count, base)
                .into_iter()
                .enumerate()
                .map(|(i, number)| {
                    let mut c = json!({"mobileNumber": number, "subscriberKey": key});
                    // Every tenth contact carries the generated attributes.
                    if i % 10 == 0 {
                        c["attributes"] = object(
                            attributes
                                .iter()
                                .map(|(k, v)| (k.clone(), json!(v)))
                                .collect(),
                        );
                    }
                    c
                })
                .collect();
            let mut body = json!({ "contacts": contacts });
            if subscribe {
                body["subscribe"] = json!({"code": "88976", "keyword": "JOIN"});
            }
            call(
                "admin contacts",
                Method::POST,
                format!("{OPERATOR}/lists/ListB/contacts"),
                body,
            )
        })
}

fn admin_subscription() -> impl Strategy<Value = Call> {
    (
        any::<u32>(),
        select(&["Subscribed", "Unsubscribed", "Nope"][..]),
    )
        .prop_map(|(n, status)| {
            call(
                "admin subscription",
                Method::POST,
                format!("{OPERATOR}/subscriptions"),
                json!({"mobileNumber": format!("1555{:07}", n % 10_000_000), "code": "88976",
                   "keyword": "JOIN", "status": status}),
            )
        })
}

/// Any body at all: not JSON, or JSON of the wrong shape, to any write endpoint.
fn junk(n: &Names) -> impl Strategy<Value = Call> {
    let paths = vec![
        format!("/sms/v1/messageContact/{}/send", n.message),
        format!("/sms/v1/messageList/{}/send", n.message),
        "/sms/v1/queueMO".to_string(),
        format!("{OPERATOR}/messages"),
    ];
    (select(paths), prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(path, body)| Call {
        endpoint: "junk",
        method: Method::POST,
        path,
        body,
    })
}

/// A text of 1,590 to 1,605 characters of one kind, mostly three- and four-byte ones: at the
/// limit, just under or just over, and as many bytes as a text of the limit can take.
fn near_limit() -> impl Strategy<Value = String> {
    (
        1590usize..1606,
        select(&['a', 'é', '€', '😀', '😀', '😀'][..]),
    )
        .prop_map(|(n, c)| c.to_string().repeat(n))
}

/// The heaviest messageContact: 250 numbers whose texts are rendered to about 1,600 characters
/// each, by a long override text or by placeholders that expand (then with subscriber keys of
/// 255 four-byte characters, which are stored on the contacts).
fn message_contact_heavy(n: &Names) -> impl Strategy<Value = Call> {
    let path = format!("/sms/v1/messageContact/{}/send", n.message);
    (
        near_limit(),
        any::<bool>(),
        any::<u32>().prop_map(|b| b % 500),
    )
        .prop_map(move |(text, expand, base)| {
            let numbers = numbers(250, base);
            let body = if expand {
                // `%%a%%` 10 times, `a` a tenth of the text: the same text after substitution.
                let chars: Vec<char> = text.chars().collect();
                let value: String = chars[..chars.len() / 10].iter().collect();
                let rest: String = chars[chars.len() / 10 * 10..].iter().collect();
                let list: Vec<Value> = numbers
                    .iter()
                    .map(|number| {
                        json!({"MobileNumber": number, "SubscriberKey": "😀".repeat(255),
                               "Attributes": {"a": value}})
                    })
                    .collect();
                json!({"Subscribers": list, "Override": true,
                       "messageText": format!("{}{rest}", "%%a%%".repeat(10))})
            } else {
                json!({"mobileNumbers": numbers, "Override": true, "messageText": text})
            };
            call("messageContact send", Method::POST, path.clone(), body)
        })
}

/// The heaviest JSON contact import: 5,000 contacts with 150-character subscriber keys, all
/// subscribed (about 950 KB of body).
fn admin_contacts_heavy() -> impl Strategy<Value = Call> {
    (any::<u32>().prop_map(|b| b % 500), any::<u8>()).prop_map(|(base, k)| {
        let key = char::from(b'a' + k % 26).to_string().repeat(150);
        let contacts: Vec<Value> = numbers(5_000, base)
            .into_iter()
            .map(|number| json!({"mobileNumber": number, "subscriberKey": key}))
            .collect();
        call(
            "admin contacts",
            Method::POST,
            format!("{OPERATOR}/lists/ListB/contacts"),
            json!({"contacts": contacts, "subscribe": {"code": "88976", "keyword": "JOIN"}}),
        )
    })
}

/// The heaviest queueMO: 250 numbers texting about 1,600 characters each.
fn queue_mo_heavy() -> impl Strategy<Value = Call> {
    (near_limit(), any::<u32>().prop_map(|b| b % 500)).prop_map(|(text, base)| {
        call(
            "queueMO",
            Method::POST,
            "/sms/v1/queueMO".into(),
            json!({"mobileNumbers": numbers(250, base), "shortCode": "88976",
                   "messageText": text}),
        )
    })
}

fn any_call(n: &Names) -> impl Strategy<Value = Call> {
    // Weights out of 303: the heavy shapes, which store over a megabyte each, are rare so that
    // the whole run stays quick and the database small.
    prop_oneof![
        30 => message_list_send(n).boxed(),
        40 => message_contact_send(n).boxed(),
        2 => message_contact_heavy(n).boxed(),
        30 => queue_mo().boxed(),
        2 => queue_mo_heavy().boxed(),
        10 => sms_keyword().boxed(),
        10 => subscriptions_lookup().boxed(),
        10 => queue_import().boxed(),
        10 => refresh_list().boxed(),
        10 => delivery_report(n).boxed(),
        10 => admin_account().boxed(),
        3 => admin_client().boxed(),
        10 => admin_code().boxed(),
        10 => admin_code_patch(n).boxed(),
        10 => admin_keyword().boxed(),
        10 => admin_keyword_patch(n).boxed(),
        20 => admin_message().boxed(),
        10 => admin_message_patch(n).boxed(),
        10 => admin_list().boxed(),
        16 => admin_contacts().boxed(),
        1 => admin_contacts_heavy().boxed(),
        10 => admin_subscription().boxed(),
        10 => junk(n).boxed(),
    ]
}

// ---- the property --------------------------------------------------------------------------

/// Acme (the fixture, contacts with attributes, a finished send for deliveryReport, an import
/// file with one over-long attribute), the Operator account most admin cases change, and the IDs
/// the cases name (Acme's code and keyword, whose texts the admin PATCH cases change).
async fn setup(app: &TestApp) -> (Fixture, Names) {
    let f = fixture(app, "Acme").await;
    let operator = fixture(app, "Operator").await;
    import_contacts(
        app,
        "Acme",
        &f.list_a,
        json!([{"mobileNumber": "15555555510", "attributes": {"FirstName": "Ann", "a": "x"}}]),
        true,
    )
    .await;
    let send = assert_accepted(&app.send_list(&f.token, &f.message, &json!({})).await);
    run_engine(app).await;
    let folder = app.data_dir().join("imports").join("Acme");
    std::fs::create_dir_all(&folder).expect("import folder");
    std::fs::write(
        folder.join("people.csv"),
        format!(
            "mobileNumber,FirstName\n15555555520,Di\n15555555521,{}\n",
            "😀".repeat(1601)
        ),
    )
    .expect("import file");
    let first_id = |body: Value| body["items"][0]["id"].as_str().expect("id").to_string();
    // Acme's 88976 and its keyword JOIN, which queueMO cases text.
    let code_id = first_id(
        app.admin_ok(Method::GET, &format!("{ACME}/codes"), Value::Null)
            .await,
    );
    let keyword_id = first_id(
        app.admin_ok(Method::GET, &format!("{ACME}/keywords"), Value::Null)
            .await,
    );
    let names = Names {
        message: f.message.clone(),
        operator_message: operator.message.clone(),
        send,
        code_id,
        keyword_id,
    };
    (f, names)
}

/// Sends a case's request: its status and body, or why no answer came.
async fn send(app: &TestApp, c: &Call, bearer: &str) -> Result<(StatusCode, Vec<u8>), String> {
    let r = app
        .http
        .request(c.method.clone(), app.url(&c.path))
        .bearer_auth(bearer)
        .header("content-type", "application/json")
        .body(c.body.clone())
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body = r.bytes().await.map_err(|e| e.to_string())?;
    Ok((status, body.to_vec()))
}

/// Runs the import (a job of the engine) and nothing else, so that what it stored, and only
/// that, counts for its request.
async fn wait_for_import(app: &TestApp, f: &Fixture, token: &str) {
    common::run_jobs(app).await;
    let r = app
        .sms(
            Method::GET,
            &format!("/sms/v1/contacts/queueImport/ListA/status/{token}"),
            &f.token,
            &Value::Null,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(
        r.body["status"] == "Completed" || r.body["status"] == "Error",
        "import still {} once the engine is idle",
        r.body
    );
}

/// Per endpoint: cases, accepted, refused, largest net growth of an accepted one.
#[derive(Debug, Default)]
struct Tally {
    cases: u32,
    accepted: u32,
    refused: u32,
    most_net: i64,
    most_written: i64,
    time: Duration,
}

#[test]
fn no_request_body_to_a_write_endpoint_stores_more_than_2_mib() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = rt.block_on(spawn_app());
    let (f, names) = rt.block_on(setup(&app));
    let meter = rt.block_on(Meter::install(&app.database_url));

    // The meter sees a request's values: a 1,600-character text stores at least its bytes.
    let before = rt.block_on(meter.read());
    let r = rt.block_on(app.admin(
        Method::POST,
        &format!("{ADMIN}/Acme/messages"),
        json!({"name": "meter", "code": "88976", "text": "😀".repeat(1600)}),
    ));
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let after = rt.block_on(meter.read());
    assert!(
        after.net - before.net >= 6400 && after.written - before.written >= 6400,
        "{before:?} → {after:?}"
    );

    let last = RefCell::new(after);
    let tallies: RefCell<BTreeMap<&'static str, Tally>> = RefCell::default();
    let started = Instant::now();
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        max_shrink_iters: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let result = runner.run(&any_call(&names), |c| {
        let bearer = if c.path.starts_with("/admin/") {
            common::ADMIN_TOKEN
        } else {
            f.token.as_str()
        };
        let sent = Instant::now();
        let answer = rt.block_on(send(&app, &c, bearer));
        // A body far over the 1 MiB limit may be answered 413 and cut off before the client
        // has written it all (the server reads at most so much of a body nobody wants): the
        // client sees the connection close. That is a refusal too; for any other body it is a
        // failure.
        let (status, raw) = match answer {
            Ok(answer) => answer,
            Err(e) if c.body.len() > api::MAX_JSON_BODY => {
                (StatusCode::PAYLOAD_TOO_LARGE, e.into_bytes())
            }
            Err(e) => return Err(TestCaseError::fail(format!("{} {}: {e}", c.method, c.path))),
        };
        if c.endpoint == "queueImport" && status == StatusCode::ACCEPTED {
            let body: Value = serde_json::from_slice(&raw).unwrap_or(Value::Null);
            let token = body["tokenId"].as_str().unwrap_or_default().to_string();
            rt.block_on(wait_for_import(&app, &f, &token));
        }
        let now = rt.block_on(meter.read());
        let before = last.replace(now);
        let (written, net) = (now.written - before.written, now.net - before.net);
        let shown = || {
            let body = String::from_utf8_lossy(&c.body);
            let head: String = body.chars().take(300).collect();
            format!(
                "{} {} ({} bytes: {head}…) answered {status}: {} — wrote {written} bytes, net {net}",
                c.method,
                c.path,
                c.body.len(),
                String::from_utf8_lossy(&raw).chars().take(300).collect::<String>()
            )
        };
        prop_assert!(status.as_u16() < 500, "{}", shown());
        let mut tallies = tallies.borrow_mut();
        let tally = tallies.entry(c.endpoint).or_default();
        tally.cases += 1;
        tally.time += sent.elapsed();
        if status.is_client_error() {
            tally.refused += 1;
            prop_assert_eq!(written, 0, "a refused request stored something: {}", shown());
        } else {
            tally.accepted += 1;
            tally.most_net = tally.most_net.max(net);
            tally.most_written = tally.most_written.max(written);
            prop_assert!(net <= LIMIT, "{}", shown());
        }
        Ok::<(), TestCaseError>(())
    });
    let elapsed = started.elapsed();
    let tallies = tallies.into_inner();
    for (endpoint, t) in &tallies {
        eprintln!(
            "{endpoint:>22}: {:>5} cases ({:>5.1} s), {:>5} accepted, {:>5} refused, largest \
             accepted: net {:>9} bytes, written {:>9} bytes",
            t.cases,
            t.time.as_secs_f64(),
            t.accepted,
            t.refused,
            t.most_net,
            t.most_written
        );
    }
    let total: u32 = tallies.values().map(|t| t.cases).sum();
    eprintln!("{total} cases in {:.1} s", elapsed.as_secs_f64());
    if let Err(e) = result {
        panic!("{e}");
    }
    assert_eq!(total, CASES);
    // Not vacuous: every endpoint was reached and had requests accepted (junk aside), and the
    // heaviest paths came close to the limit.
    for (endpoint, t) in &tallies {
        assert!(t.cases > 0, "{endpoint}");
        if *endpoint != "junk" {
            assert!(t.accepted > 0, "{endpoint}: nothing accepted ({t:?})");
        }
    }
    // (queueMO is not among them: a batch's text, and each reply text, are stored once, so even
    // 250 numbers texting 1,600 four-byte characters store a few tens of kilobytes.)
    for heavy in ["messageContact send", "admin contacts"] {
        let t = &tallies[heavy];
        assert!(
            t.most_net > LIMIT / 2,
            "{heavy} never stored over 1 MiB: {t:?}"
        );
    }
}
