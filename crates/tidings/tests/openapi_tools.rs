//! The OpenAPI document and the server, checked by tools the project did not write (issue 7):
//! `openapi-spec-validator` validates the served `/openapi.json` as OpenAPI 3.1, and
//! `schemathesis` generates requests from it — valid and invalid — against a running server with
//! real data (an account, a client, a code, lists with contacts, an Active message, sends, jobs),
//! checking that no answer is a 5xx and that every status, content type, header and body is the
//! one the document describes. Three runs: `/v2/token` without credentials, `/sms/v1` with an
//! access token holding every scope, `/admin/v1` with the admin token. Bounded by
//! `--max-examples` and a fixed seed (printed), so that CI is repeatable.
//!
//! Needs the Python tools that `.ci/install-openapi-tools` installs (which `.ci/run` calls),
//! found through `TIDINGS_PY_TOOLS` (the virtual environment's `bin` directory); so it is
//! `#[ignore]`d in the plain test run. Without the tools it fails; it never skips.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{fixture, import_contacts, spawn_app_in, TestApp, ADMIN_TOKEN};
use reqwest::Method;
use serde_json::{json, Value};

const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
response_schema_conformance,response_headers_conformance";
/// Fixed for repeatability; `TIDINGS_SCHEMATHESIS_SEED` overrides it to explore further.
const SEED: u64 = 7_2026;
/// Test cases per operation and phase (schemathesis `--max-examples`);
/// `TIDINGS_SCHEMATHESIS_MAX_EXAMPLES` overrides it.
const MAX_EXAMPLES: u32 = 100;

/// A number from the environment, or the default.
fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The venv's `bin` directory, with both tools in it.
fn tools() -> PathBuf {
    let dir = std::env::var_os("TIDINGS_PY_TOOLS")
        .map(PathBuf::from)
        .expect("TIDINGS_PY_TOOLS must name the bin directory of .ci/install-openapi-tools");
    for tool in ["schemathesis", "openapi-spec-validator"] {
        assert!(
            dir.join(tool).is_file(),
            "{tool} is not in {}: run .ci/install-openapi-tools",
            dir.display()
        );
    }
    dir
}

/// Runs a tool to completion off the server's threads; returns success and its whole output.
async fn run(program: PathBuf, args: Vec<String>, dir: &Path) -> (bool, String) {
    let dir = dir.to_path_buf();
    let shown = format!("{} {}", program.display(), args.join(" "));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&program)
            .args(&args)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
    })
    .await
    .expect("tool task")
    .unwrap_or_else(|e| panic!("cannot run {shown}: {e}"));
    let text = format!(
        "$ {shown}\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

/// What the runs can name: the fixture's IDs, real tokens and numbers.
struct Data {
    account: String,
    client_id: String,
    secret: String,
    token: String,
    message: String,
    lists: Vec<String>,
    tokens: Vec<String>,
    numbers: Vec<String>,
}

async fn ok_json(app: &TestApp, method: Method, path: &str, token: &str, body: Value) -> Value {
    let r = app.sms(method.clone(), path, token, &body).await;
    assert!(r.status.is_success(), "{method} {path}: {}", r.body);
    r.body
}

/// An account, a client, a code with a keyword, lists with subscribed contacts, an Active
/// message, a messageList, a messageContact and a queueMO send, an import and a refresh.
async fn set_up(app: &TestApp) -> Data {
    let f = fixture(app, "acct1").await;
    let numbers: Vec<String> = (10..16).map(|n| format!("155555555{n}")).collect();
    let contacts: Vec<Value> = numbers
        .iter()
        .map(|n| json!({"mobileNumber": n, "attributes": {"FirstName": "Ann"}}))
        .collect();
    import_contacts(app, &f.account, &f.list_a, json!(contacts[..4]), true).await;
    import_contacts(app, &f.account, &f.list_b, json!(contacts[2..]), true).await;
    import_contacts(app, &f.account, &f.exclusion, json!(contacts[5..]), true).await;
    let imports = app.data_dir().join("imports").join(&f.account);
    std::fs::create_dir_all(&imports).expect("imports dir");
    std::fs::write(
        imports.join("people.csv"),
        "15555555520,Di\n15555555521,Ed\n",
    )
    .expect("csv");

    let m = &f.message;
    let t = &f.token;
    let list_send = ok_json(
        app,
        Method::POST,
        &format!("/sms/v1/messageList/{m}/send"),
        t,
        json!({}),
    )
    .await;
    let contact_send = ok_json(
        app,
        Method::POST,
        &format!("/sms/v1/messageContact/{m}/send"),
        t,
        json!({"mobileNumbers": [numbers[0]]}),
    )
    .await;
    let mo = ok_json(
        app,
        Method::POST,
        "/sms/v1/queueMO",
        t,
        json!({"mobileNumbers": [numbers[1]], "shortCode": f.code, "messageText": "HELP"}),
    )
    .await;
    let import = ok_json(
        app,
        Method::POST,
        &format!("/sms/v1/contacts/queueImport/{}", f.list_b),
        t,
        json!({"FileName": "people.csv", "FileType": "csv", "IsFirstRowHeader": false,
               "ImportMappingType": "MapByOrdinal",
               "FieldMaps": [{"Destination": "_MobileNumber", "Ordinal": 0}]}),
    )
    .await;
    let refresh = ok_json(
        app,
        Method::POST,
        &format!("/sms/v1/contacts/refreshList/{}", f.list_a),
        t,
        Value::Null,
    )
    .await;
    let tokens = [list_send, contact_send, mo, import, refresh]
        .iter()
        .map(|b| b["tokenId"].as_str().expect("tokenId").to_string())
        .collect();
    Data {
        account: f.account,
        client_id: f.client_id,
        secret: f.secret,
        token: f.token,
        message: f.message,
        lists: vec![f.list_a, f.list_b, f.exclusion],
        tokens,
        numbers,
    }
}

fn toml_list(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
    format!("[{}]", quoted.join(", "))
}

/// A schemathesis configuration that, some of the time, puts real IDs, tokens, numbers and
/// credentials where the document has parameters and fields of those kinds; the rest of the
/// time it generates them.
fn config(d: &Data) -> String {
    let dictionaries = [
        ("account", vec![d.account.clone()]),
        ("message", vec![d.message.clone(), "Other".into()]),
        ("list", d.lists.clone()),
        ("token", d.tokens.clone()),
        ("number", d.numbers.clone()),
        ("code", vec!["88976".into()]),
        ("keyword", vec!["JOIN".into()]),
        ("file", vec!["people.csv".into()]),
        ("client", vec![d.client_id.clone()]),
        ("secret", vec![d.secret.clone()]),
    ];
    let bindings = [
        ("path.acct", "account"),
        ("path.id", "message"),
        ("path.list", "list"),
        ("path.listId", "list"),
        ("path.tokenId", "token"),
        ("path.mobileNumber", "number"),
        ("path.code", "code"),
        ("body.shortCode", "code"),
        ("body.ShortCode", "code"),
        ("body.code", "code"),
        ("body.keyword", "keyword"),
        ("body.Keyword", "keyword"),
        ("body.FileName", "file"),
        ("body.mobileNumber", "number"),
        ("body.mobileNumbers[*]", "number"),
        ("body.TargetListIds[*]", "list"),
        ("body.ExclusionListIds[*]", "list"),
        ("body.targetListIds[*]", "list"),
        ("body.client_id", "client"),
        ("body.client_secret", "secret"),
        ("query.mobileNumber", "number"),
    ];
    let mut out = String::from("[dictionaries]\n");
    for (name, values) in dictionaries {
        out.push_str(&format!("{name} = {{ values = {} }}\n", toml_list(&values)));
    }
    out.push_str("\n[parameters]\n");
    for (key, dictionary) in bindings {
        out.push_str(&format!(
            "\"{key}\" = {{ dictionary = \"{dictionary}\", probability = 0.7 }}\n"
        ));
    }
    out
}

/// The generated-case count schemathesis prints (`Test cases: N generated, ...`).
fn generated(output: &str) -> u64 {
    output
        .lines()
        .rev()
        .filter_map(|l| l.trim().split_once(" generated,"))
        .find_map(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs openapi-spec-validator and schemathesis; run by .ci/run"]
async fn the_document_is_valid_and_the_server_conforms_to_it() {
    let bin = tools();
    let started = Instant::now();
    let app = spawn_app_in(tidings::EngineMode::Background, |_| {}).await;
    let data = set_up(&app).await;
    let work = tempfile::tempdir().expect("work dir");

    let doc = app
        .request(Method::GET, "/openapi.json", None, None, &[])
        .await;
    let doc_file = work.path().join("openapi.json");
    std::fs::write(&doc_file, &doc.raw).expect("write the document");
    let (ok, output) = run(
        bin.join("openapi-spec-validator"),
        vec![doc_file.display().to_string()],
        work.path(),
    )
    .await;
    assert!(ok, "openapi-spec-validator refused the document:\n{output}");
    println!("{output}");

    let config_file = work.path().join("schemathesis.toml");
    std::fs::write(&config_file, config(&data)).expect("write the config");
    let seed = setting("TIDINGS_SCHEMATHESIS_SEED", SEED);
    let max_examples = setting("TIDINGS_SCHEMATHESIS_MAX_EXAMPLES", MAX_EXAMPLES.into());
    println!(
        "schemathesis seed {seed}, --max-examples {max_examples} \
         (TIDINGS_SCHEMATHESIS_SEED and TIDINGS_SCHEMATHESIS_MAX_EXAMPLES override them)"
    );
    let sms_auth = format!("Authorization: Bearer {}", data.token);
    let admin_auth = format!("Authorization: Bearer {ADMIN_TOKEN}");
    // (name, paths, credentials, phases): the token endpoint alone has no links to follow, so
    // no stateful phase; the others follow the document's links (send → its deliveries, create
    // → get, update, delete).
    let every_phase = "examples,coverage,fuzzing,stateful";
    let runs: [(&str, &str, Option<&str>, &str); 3] = [
        (
            "/v2/token",
            "^/v2/token$",
            None,
            "examples,coverage,fuzzing",
        ),
        ("/sms/v1", "^/sms/v1/", Some(&sms_auth), every_phase),
        ("/admin/v1", "^/admin/v1/", Some(&admin_auth), every_phase),
    ];
    let mut failed = Vec::new();
    let mut total = 0;
    for (name, paths, header, phases) in runs {
        let mut args = vec![
            "--config-file".to_string(),
            config_file.display().to_string(),
            "run".into(),
            format!("{}openapi.json", app.base),
            "--checks".into(),
            CHECKS.into(),
            "--include-path-regex".into(),
            paths.into(),
            "--phases".into(),
            phases.into(),
            "--max-examples".into(),
            max_examples.to_string(),
            "--seed".into(),
            seed.to_string(),
            "--generation-database".into(),
            "none".into(),
            "--no-color".into(),
        ];
        if let Some(h) = header {
            args.extend(["-H".to_string(), h.to_string()]);
        }
        let run_started = Instant::now();
        let (ok, output) = run(bin.join("schemathesis"), args, work.path()).await;
        let cases = generated(&output);
        total += cases;
        println!(
            "schemathesis {name}: {} — {cases} test cases in {:.1} s",
            if ok { "passed" } else { "FAILED" },
            run_started.elapsed().as_secs_f64()
        );
        if ok {
            // What the run did (phases, links followed, warnings), in the test's output.
            let from_phases = output.find("API capabilities").map_or("", |i| &output[i..]);
            println!("{from_phases}");
        } else {
            failed.push(format!("==== schemathesis {name} ====\n{output}"));
        }
    }
    println!(
        "{total} test cases in all; the whole test took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
