//! The official Node clients work unmodified (issue acceptance): `fuel-auth` obtains a token from
//! `/v2/token` with `authVersion = 2`, and `fuel-rest` — whose `origin` stays at its default and
//! which lowercases the whole URL — sends a stored message with a mixed-case ID and reads its
//! deliveries, performs a messageContact send and a queueMO and reads their deliveries, and runs
//! an importSend (API.md §6b) and reads its status. Needs
//! `node` and `npm` with access to the npm registry, so it is `#[ignore]`d in
//! the plain test run and run by `.ci/run` with `--ignored`.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{fixture, spawn_app};
use reqwest::Method;
use serde_json::{json, Value};

const FUEL_AUTH: &str = "fuel-auth@3.3.0";
const FUEL_REST: &str = "fuel-rest@3.2.2";

const SCRIPT: &str = r#"
const FuelRest = require('fuel-rest');
const [authUrl, clientId, clientSecret, messageId, listId] = process.argv.slice(2);
const rest = new FuelRest({
  auth: { clientId, clientSecret, authUrl, authOptions: { authVersion: 2 } },
});
(async () => {
  const out = {};
  const send = await rest.post({
    uri: `/sms/v1/messageList/${messageId}/send`,
    json: true,
    body: { OverrideTemplateTargetLists: true, TargetListIds: [listId], IgnoreExclusionLists: "true" },
  });
  out.send = { status: send.res.statusCode, body: send.body };
  const bad = await rest.post({
    uri: `/sms/v1/messageList/${messageId}/send`,
    json: true,
    body: { OverrideMessageText: true },
  });
  out.bad = { status: bad.res.statusCode, body: bad.body };
  const status = await rest.get({
    uri: `/sms/v1/messageList/${messageId}/deliveries/${send.body.tokenId}`,
    json: true,
  });
  out.deliveries = { status: status.res.statusCode, body: status.body, url: status.res.request.href };
  const contact = await rest.post({
    uri: `/sms/v1/messageContact/${messageId}/send`,
    json: true,
    body: { mobileNumbers: ['15555555519'], Subscribe: true, Keyword: 'JOIN', Override: true,
            messageText: 'Hi from messageContact' },
  });
  out.contact = { status: contact.res.statusCode, body: contact.body };
  const contactStatus = await rest.get({
    uri: `/sms/v1/messageContact/${messageId}/deliveries/${contact.body.tokenId}`,
    json: true,
  });
  out.contactStatus = { status: contactStatus.res.statusCode, body: contactStatus.body };
  const mo = await rest.post({
    uri: '/sms/v1/queueMO',
    json: true,
    body: { mobileNumbers: ['15555555519'], shortCode: '88976', messageText: 'STOP' },
  });
  out.mo = { status: mo.res.statusCode, body: mo.body };
  const moStatus = await rest.get({ uri: `/sms/v1/queueMO/deliveries/${mo.body.tokenId}`, json: true });
  out.moStatus = { status: moStatus.res.statusCode, body: moStatus.body };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"#;

/// Installs the pinned clients once into a cache directory outside the clone.
fn clients_dir() -> PathBuf {
    let base = std::env::var_os("TIDINGS_NODE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("tidings-node-clients"));
    std::fs::create_dir_all(&base).expect("cache dir");
    if !base.join("node_modules/fuel-rest").exists()
        || !base.join("node_modules/fuel-auth").exists()
    {
        std::fs::write(
            base.join("package.json"),
            r#"{"name":"tidings-node-clients","private":true}"#,
        )
        .expect("package.json");
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", FUEL_AUTH, FUEL_REST])
            .current_dir(&base)
            .status()
            .expect("npm must be installed to run this test");
        assert!(status.success(), "npm install failed");
    }
    base
}

#[tokio::test]
#[ignore = "needs node and the npm registry; run by .ci/run"]
async fn fuel_rest_sends_and_reads_deliveries_unmodified() {
    let app = spawn_app().await;
    let f = fixture(&app, "NodeAcct").await;
    let dir = clients_dir();
    std::fs::write(dir.join("probe.js"), SCRIPT).expect("script");
    let auth_url = app.url("/v2/token");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("probe.js"))
            .args([&auth_url, &f.client_id, &f.secret, &f.message, &f.list_b])
            .current_dir(&dir)
            .output()
            .expect("node must be installed to run this test")
    })
    .await
    .expect("join");
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("script output is JSON");

    assert_eq!(out["send"]["status"], 202, "{out}");
    let token = out["send"]["body"]["tokenId"].as_str().expect("tokenId");
    assert!(
        token.len() >= 26
            && token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    );

    assert_eq!(out["bad"]["status"], 400);
    assert_eq!(
        out["bad"]["body"],
        json!({"errors": ["Cannot override message text with a blank message."]})
    );

    assert_eq!(out["deliveries"]["status"], 200, "{out}");
    let href = out["deliveries"]["url"].as_str().expect("url");
    assert!(
        href.contains("/messagelist/mza6nzg6ma/"),
        "fuel-rest lowercases: {href}"
    );
    assert_eq!(out["deliveries"]["body"]["status"], "New");
    assert_eq!(out["deliveries"]["body"]["message"], "Hello %%FirstName%%");

    // messageContact: accepted, readable through the lowercased URL fuel-rest sends.
    assert_eq!(out["contact"]["status"], 202, "{out}");
    let contact = out["contact"]["body"]["tokenId"]
        .as_str()
        .expect("contact tokenId");
    assert_eq!(out["contactStatus"]["status"], 200, "{out}");
    assert_eq!(
        out["contactStatus"]["body"]["message"],
        "Hi from messageContact"
    );
    // queueMO: the STOP of that number, one result per number.
    assert_eq!(out["mo"]["status"], 202, "{out}");
    assert_eq!(
        out["mo"]["body"]["results"],
        json!([{"identifier": "15555555519", "mobileNumber": "15555555519", "result": "OK"}])
    );
    assert_eq!(out["moStatus"]["status"], 200, "{out}");
    assert_eq!(
        out["moStatus"]["body"]["count"], 1,
        "one reply queued: {out}"
    );

    // The sends were recorded for the message with its canonical mixed-case ID.
    let sends = app
        .admin_ok(Method::GET, "/admin/v1/accounts/NodeAcct/sends", json!({}))
        .await;
    let items = sends["items"].as_array().expect("items");
    let of = |t: &str| items.iter().find(|i| i["tokenId"] == t).cloned();
    assert_eq!(of(token).expect("list send")["messageId"], "MzA6Nzg6MA");
    assert_eq!(
        of(contact).expect("contact send")["messageId"],
        "MzA6Nzg6MA"
    );
}

const IMPORT_SEND_SCRIPT: &str = r#"
const FuelRest = require('fuel-rest');
const [authUrl, clientId, clientSecret, mode, arg] = process.argv.slice(2);
const rest = new FuelRest({
  auth: { clientId, clientSecret, authUrl, authOptions: { authVersion: 2 } },
});
(async () => {
  let r;
  if (mode === 'send') {
    r = await rest.post({
      uri: '/sms/v1/automation/importSend',
      json: true,
      body: { MessageId: arg, Keyword: 'JOIN', NotificationEmail: null, Override: false,
              OverrideText: null, IsDuplicationAllowed: false, IsVisible: false,
              ImportDefinition: [{ FileName: 'fuel.csv', ImportType: 'FILE',
                ImportMappingType: 'ManualMap', DataExtensionName: null, IsFirstRowHeader: false,
                FieldMaps: [{ Destination: '_MobileNumber', Source: 'Mobile' },
                            { Destination: '_FirstName', Source: 'First Name' }] }] },
    });
  } else {
    r = await rest.get({ uri: `/sms/v1/automation/importSend/${arg}/status`, json: true });
  }
  console.log(JSON.stringify({ status: r.res.statusCode, body: r.body, url: r.res.request.href }));
})().catch((e) => { console.error(e); process.exit(1); });
"#;

/// Runs the importSend script with `mode` and `arg`; its JSON output.
async fn import_send_script(
    auth_url: &str,
    client_id: &str,
    secret: &str,
    mode: &str,
    arg: &str,
) -> Value {
    let dir = clients_dir();
    std::fs::write(dir.join("import_send.js"), IMPORT_SEND_SCRIPT).expect("script");
    let args = [auth_url, client_id, secret, mode, arg].map(str::to_string);
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("import_send.js"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("node must be installed to run this test")
    })
    .await
    .expect("join");
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("script output is JSON")
}

#[tokio::test]
#[ignore = "needs node and the npm registry; run by .ci/run"]
async fn fuel_rest_runs_an_import_send_and_reads_its_status() {
    let app = spawn_app().await;
    let f = fixture(&app, "NodeSend").await;
    let imports = app.data_dir().join("imports").join("NodeSend");
    std::fs::create_dir_all(&imports).expect("imports dir");
    std::fs::write(
        imports.join("fuel.csv"),
        "Mobile,First Name\n15555555561,Flo\n15555555562,Gus\n",
    )
    .expect("csv");
    let auth_url = app.url("/v2/token");
    // The community SDK's way: every field sent, unused ones null or false.
    let sent = import_send_script(&auth_url, &f.client_id, &f.secret, "send", &f.message).await;
    assert_eq!(sent["status"], 202, "{sent}");
    let token = sent["body"]["tokenId"]
        .as_str()
        .expect("tokenId")
        .to_string();
    common::run_engine(&app).await;
    let status = import_send_script(&auth_url, &f.client_id, &f.secret, "status", &token).await;
    assert_eq!(status["status"], 200, "{status}");
    assert!(
        status["url"]
            .as_str()
            .is_some_and(|u| u.contains("/automation/importsend/")),
        "fuel-rest lowercases: {status}"
    );
    assert_eq!(status["body"]["status"], "Complete", "{status}");
    assert_eq!(status["body"]["inserted"], 2);
    assert_eq!(status["body"]["source"], "fuel.csv");
    let send = status["body"]["sendTokenId"].as_str().expect("sendTokenId");
    assert_eq!(common::outbox_of(&app, send).await.len(), 2);
}

const TRANSACTIONAL_SCRIPT: &str = r#"
const FuelRest = require('fuel-rest');
const [authUrl, clientId, clientSecret] = process.argv.slice(2);
const rest = new FuelRest({
  auth: { clientId, clientSecret, authUrl, authOptions: { authVersion: 2 } },
});
(async () => {
  const out = {};
  let r = await rest.post({
    uri: '/messaging/v1/sms/definitions',
    json: true,
    body: { definitionKey: 'Account-Reset', name: 'account-reset',
            content: { message: '%%FirstName%%, your code is %%code%%' },
            subscriptions: { shortCode: '88976', countryCode: 'US', keyword: 'JOIN' } },
  });
  out.definition = { status: r.res.statusCode, body: r.body };
  r = await rest.post({
    uri: '/messaging/v1/sms/messages/Reset-Msg-1',
    json: true,
    body: { definitionKey: 'Account-Reset',
            recipient: { to: '15555555571', contactKey: 'Node1',
                         attributes: { FirstName: 'Nia', code: '4242' } } },
  });
  out.send = { status: r.res.statusCode, body: r.body, url: r.res.request.href };
  r = await rest.get({ uri: '/messaging/v1/sms/messages/Reset-Msg-1', json: true });
  out.status = { status: r.res.statusCode, body: r.body };
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
"#;

#[tokio::test]
#[ignore = "needs node and the npm registry; run by .ci/run"]
async fn fuel_rest_creates_a_definition_sends_and_reads_the_status() {
    let app = spawn_app().await;
    let f = fixture(&app, "NodeTx").await;
    let dir = clients_dir();
    std::fs::write(dir.join("transactional.js"), TRANSACTIONAL_SCRIPT).expect("script");
    let args = [app.url("/v2/token"), f.client_id.clone(), f.secret.clone()];
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(dir.join("transactional.js"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .expect("node must be installed to run this test")
    })
    .await
    .expect("join");
    assert!(
        output.status.success(),
        "node failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let out: Value = serde_json::from_slice(&output.stdout).expect("script output is JSON");
    assert_eq!(out["definition"]["status"], 201, "{out}");
    assert_eq!(out["definition"]["body"]["definitionKey"], "Account-Reset");
    assert_eq!(out["send"]["status"], 202, "{out}");
    assert!(
        out["send"]["url"]
            .as_str()
            .is_some_and(|u| u.contains("/messages/reset-msg-1")),
        "fuel-rest lowercases, the key still resolves: {out}"
    );
    assert_eq!(out["send"]["body"]["errorcode"], 0);
    assert_eq!(out["status"]["status"], 200, "{out}");
    assert_eq!(
        out["status"]["body"]["eventCategoryType"],
        "TransactionalSendEvents.SMSQueued"
    );
    assert_eq!(out["status"]["body"]["info"]["contactKey"], "Node1");
    common::run_engine(&app).await;
    let texts: Vec<Value> = common::outbox(&app)
        .await
        .into_iter()
        .filter(|m| m["to"] == "15555555571")
        .map(|m| m["text"].clone())
        .collect();
    assert_eq!(texts, [json!("Nia, your code is 4242")]);
}
