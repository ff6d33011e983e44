//! The operator CLI (API.md §8). Every command that changes data goes through the admin API
//! in-process (same validation, same JSON on stdout); the database is the configured one.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use api::{AppState, SystemClock};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use clap::{Args, Parser, Subcommand};
use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

use crate::config::Config;
use crate::startup::{self, Application};

#[derive(Parser, Debug)]
#[command(
    name = "tidings",
    version,
    about = "Self-hosted SMS/MMS campaign engine"
)]
pub struct Cli {
    /// Configuration file (default: ./tidings.toml when present).
    #[arg(long, global = true, env = "TIDINGS_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the API and the background workers (applies pending migrations first).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write every table of the database as JSON lines, to move an installation to another
    /// database (e.g. from SQLite to PostgreSQL) with `tidings import`.
    Export {
        /// The file to write (default: standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Load a `tidings export` file into an empty database (applies migrations first). Loads
    /// everything or, on any error, nothing.
    Import {
        /// The file to read (default: standard input).
        #[arg(long, short)]
        input: Option<PathBuf>,
    },
    /// Show the effective configuration (secrets redacted).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Accounts (business units).
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// API clients (client_id / client_secret for /v2/token).
    Client {
        #[command(subcommand)]
        action: ClientAction,
    },
    /// Short and long codes.
    Code {
        #[command(subcommand)]
        action: CodeAction,
    },
    /// Keywords on a code.
    Keyword {
        #[command(subcommand)]
        action: KeywordAction,
    },
    /// Stored outbound messages.
    Message {
        #[command(subcommand)]
        action: MessageAction,
    },
    /// Contact lists.
    List {
        #[command(subcommand)]
        action: ListAction,
    },
    /// Sends.
    Send {
        #[command(subcommand)]
        action: SendAction,
    },
    /// Create a ready-to-use account, client, code, message and lists, and print curl commands.
    Demo,
    /// Run a local SMSC (SMPP server) for development and benchmarks; needs no database.
    Smsc(crate::smsc::SmscArgs),
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    Show,
}

#[derive(Subcommand, Debug)]
pub enum AccountAction {
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        id: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClientAction {
    Create {
        #[arg(long)]
        account: String,
        /// Scopes (default: sms_read sms_send sms_write).
        #[arg(long, value_delimiter = ',')]
        scopes: Option<Vec<String>>,
        /// Further accounts the client may act for.
        #[arg(long, value_delimiter = ',')]
        accounts: Option<Vec<String>>,
    },
}

#[derive(Subcommand, Debug)]
pub enum CodeAction {
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        code: String,
        #[arg(long, default_value = "US")]
        country_code: String,
        #[arg(long = "type", default_value = "short")]
        kind: String,
        #[arg(long, default_value = "simulator")]
        carrier: String,
        #[arg(long)]
        opt_out_text: Option<String>,
        #[arg(long)]
        help_text: Option<String>,
    },
    /// Changes the given fields of a code (an empty reply goes back to the default one).
    Update {
        #[arg(long)]
        account: String,
        /// The code's ID or its code string.
        #[arg(long)]
        id: String,
        #[arg(long)]
        country_code: Option<String>,
        #[arg(long = "type")]
        kind: Option<String>,
        #[arg(long)]
        carrier: Option<String>,
        #[arg(long)]
        opt_out_text: Option<String>,
        #[arg(long)]
        help_text: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum KeywordAction {
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        code: String,
        #[arg(long)]
        keyword: String,
        #[arg(long)]
        response: Option<String>,
        #[arg(long)]
        double_opt_in: bool,
        #[arg(long)]
        confirm_text: Option<String>,
    },
    /// Changes the reply, double opt-in or confirmation text of a keyword (an empty text
    /// removes it).
    Update {
        #[arg(long)]
        account: String,
        #[arg(long)]
        id: String,
        #[arg(long)]
        response: Option<String>,
        #[arg(long)]
        double_opt_in: Option<bool>,
        #[arg(long)]
        confirm_text: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct MessageFields {
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    code: Option<String>,
    #[arg(long)]
    text: Option<String>,
    /// Active, Scheduled, Inactive or Draft.
    #[arg(long)]
    status: Option<String>,
    #[arg(long = "target-list")]
    target_lists: Vec<String>,
    #[arg(long = "exclusion-list")]
    exclusion_lists: Vec<String>,
    #[arg(long)]
    content_url: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum MessageAction {
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        id: Option<String>,
        #[command(flatten)]
        fields: MessageFields,
    },
    Update {
        #[arg(long)]
        account: String,
        #[arg(long)]
        id: String,
        #[command(flatten)]
        fields: MessageFields,
    },
    Show {
        #[arg(long)]
        account: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ListAction {
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        id: Option<String>,
    },
    /// Import contacts from a CSV file (header row; mobileNumber, subscriberKey, attributes).
    Import {
        #[arg(long)]
        account: String,
        #[arg(long)]
        list: String,
        file: PathBuf,
        #[arg(long)]
        subscribe_code: Option<String>,
        #[arg(long)]
        subscribe_keyword: Option<String>,
    },
    Show {
        #[arg(long)]
        account: String,
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SendAction {
    /// The status of a send, as `GET .../deliveries/{tokenId}` reports it.
    Status { token: String },
}

/// Parses the command line and runs it.
pub async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

fn load_config(cli: &Cli) -> anyhow::Result<Config> {
    Config::load(cli.config.as_deref(), &|k| std::env::var(k).ok())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    if let Command::Smsc(args) = &cli.command {
        crate::smsc::run(args, startup::shutdown_signal()).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let config = load_config(&cli)?;
    match cli.command {
        Command::Serve => {
            crate::server::fit_open_file_limit(config.max_connections)?;
            let app = Application::build(
                &config,
                Arc::new(SystemClock),
                startup::EngineMode::Background,
            )
            .await?;
            app.run_until_stopped(startup::shutdown_signal()).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            startup::open_migrated_store(&config.database_url).await?;
            print_json(&json!({"migrated": true}));
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { output } => {
            let store = startup::open_migrated_store(&config.database_url).await?;
            let rows = match output {
                Some(path) => {
                    // The whole database, secret hashes included: owner-only (API.md §8).
                    let mut open = tokio::fs::OpenOptions::new();
                    open.write(true).create(true).truncate(true);
                    #[cfg(unix)]
                    open.mode(0o600);
                    let file = open
                        .open(&path)
                        .await
                        .with_context(|| format!("cannot create {}", path.display()))?;
                    crate::transfer::export(store, file).await?
                }
                None => crate::transfer::export(store, tokio::io::stdout()).await?,
            };
            eprintln!("exported {rows} rows");
            Ok(ExitCode::SUCCESS)
        }
        Command::Import { input } => {
            let store = startup::open_migrated_store(&config.database_url).await?;
            let rows = match input {
                Some(path) => {
                    let file = tokio::fs::File::open(&path)
                        .await
                        .with_context(|| format!("cannot open {}", path.display()))?;
                    crate::transfer::import(store, tokio::io::BufReader::new(file)).await?
                }
                None => {
                    crate::transfer::import(store, tokio::io::BufReader::new(tokio::io::stdin()))
                        .await?
                }
            };
            print_json(&json!({"imported": rows}));
            Ok(ExitCode::SUCCESS)
        }
        Command::Config { .. } => {
            print_json(&config.redacted());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo => demo(&config).await,
        other => {
            let admin = AdminClient::open(&config).await?;
            admin_command(&admin, other).await
        }
    }
}

fn print_json(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// The admin API, called in-process.
pub struct AdminClient {
    state: AppState,
}

impl AdminClient {
    pub async fn open(config: &Config) -> anyhow::Result<AdminClient> {
        let store = startup::open_migrated_store(&config.database_url).await?;
        let api_config = api::ApiConfig {
            public_url: config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}/", config.listen)),
            timestamps_utc: config.timestamps_utc,
            rate_limit: 0,
            token_failure_rate: 0,
            trusted_proxies: Vec::new(),
            admin_token: startup::admin_token(config)?,
            data_dir: config.data_dir.clone(),
            carriers: config.carriers.iter().map(|c| c.name.clone()).collect(),
        };
        let clock: Arc<dyn api::Clock> = Arc::new(SystemClock);
        let service = startup::operations(config, store.clone(), clock.clone(), None);
        Ok(AdminClient {
            state: AppState::new(service, store, api_config, clock),
        })
    }

    /// Sends one request to the admin API; returns its status and JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        content_type: &str,
        body: Body,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let req = Request::builder()
            .method(method)
            .uri(path)
            .header(
                "authorization",
                format!("Bearer {}", self.state.config.admin_token),
            )
            .header("content-type", content_type)
            .body(body)?;
        let resp = api::router(self.state.clone(), axum::Router::new())
            .oneshot(req)
            .await?;
        let status = resp.status();
        let bytes = resp.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    pub async fn json(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let (status, value) = self
            .call(
                method,
                path,
                "application/json",
                Body::from(body.to_string()),
            )
            .await?;
        if status.is_success() {
            Ok(value)
        } else {
            Err(anyhow!("{} {}", status.as_u16(), value))
        }
    }
}

fn enc(s: &str) -> String {
    percent_encode(s)
}

fn percent_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn message_body(f: &MessageFields) -> Value {
    let mut body = json!({});
    let mut set = |k: &str, v: Option<&String>| {
        if let Some(v) = v {
            body[k] = json!(v);
        }
    };
    set("name", f.name.as_ref());
    set("code", f.code.as_ref());
    set("text", f.text.as_ref());
    set("status", f.status.as_ref());
    set("contentUrl", f.content_url.as_ref());
    if !f.target_lists.is_empty() {
        body["targetListIds"] = json!(f.target_lists);
    }
    if !f.exclusion_lists.is_empty() {
        body["exclusionListIds"] = json!(f.exclusion_lists);
    }
    body
}

async fn admin_command(admin: &AdminClient, command: Command) -> anyhow::Result<ExitCode> {
    let out = match command {
        Command::Account {
            action: AccountAction::Create { name, id },
        } => {
            admin
                .json(
                    Method::POST,
                    "/admin/v1/accounts",
                    json!({"name": name, "id": id}),
                )
                .await?
        }
        Command::Client {
            action:
                ClientAction::Create {
                    account,
                    scopes,
                    accounts,
                },
        } => {
            admin
                .json(
                    Method::POST,
                    &format!("/admin/v1/accounts/{}/clients", enc(&account)),
                    json!({"scopes": scopes, "accounts": accounts}),
                )
                .await?
        }
        Command::Code {
            action:
                CodeAction::Update {
                    account,
                    id,
                    country_code,
                    kind,
                    carrier,
                    opt_out_text,
                    help_text,
                },
        } => {
            admin
                .json(
                    Method::PATCH,
                    &format!("/admin/v1/accounts/{}/codes/{}", enc(&account), enc(&id)),
                    json!({"countryCode": country_code, "type": kind, "carrier": carrier,
                           "optOutText": opt_out_text, "helpText": help_text}),
                )
                .await?
        }
        Command::Code {
            action:
                CodeAction::Create {
                    account,
                    code,
                    country_code,
                    kind,
                    carrier,
                    opt_out_text,
                    help_text,
                },
        } => {
            admin
                .json(
                    Method::POST,
                    &format!("/admin/v1/accounts/{}/codes", enc(&account)),
                    json!({"code": code, "countryCode": country_code, "type": kind,
                           "carrier": carrier, "optOutText": opt_out_text, "helpText": help_text}),
                )
                .await?
        }
        Command::Keyword {
            action:
                KeywordAction::Update {
                    account,
                    id,
                    response,
                    double_opt_in,
                    confirm_text,
                },
        } => {
            admin
                .json(
                    Method::PATCH,
                    &format!("/admin/v1/accounts/{}/keywords/{}", enc(&account), enc(&id)),
                    json!({"response": response, "doubleOptIn": double_opt_in,
                           "confirmText": confirm_text}),
                )
                .await?
        }
        Command::Keyword {
            action:
                KeywordAction::Create {
                    account,
                    code,
                    keyword,
                    response,
                    double_opt_in,
                    confirm_text,
                },
        } => {
            admin
                .json(
                    Method::POST,
                    &format!("/admin/v1/accounts/{}/keywords", enc(&account)),
                    json!({"code": code, "keyword": keyword, "response": response,
                           "doubleOptIn": double_opt_in, "confirmText": confirm_text}),
                )
                .await?
        }
        Command::Message { action } => match action {
            MessageAction::Create {
                account,
                id,
                fields,
            } => {
                let mut body = message_body(&fields);
                if let Some(id) = id {
                    body["id"] = json!(id);
                }
                admin
                    .json(
                        Method::POST,
                        &format!("/admin/v1/accounts/{}/messages", enc(&account)),
                        body,
                    )
                    .await?
            }
            MessageAction::Update {
                account,
                id,
                fields,
            } => {
                admin
                    .json(
                        Method::PATCH,
                        &format!("/admin/v1/accounts/{}/messages/{}", enc(&account), enc(&id)),
                        message_body(&fields),
                    )
                    .await?
            }
            MessageAction::Show { account, id } => {
                admin
                    .json(
                        Method::GET,
                        &format!("/admin/v1/accounts/{}/messages/{}", enc(&account), enc(&id)),
                        json!({}),
                    )
                    .await?
            }
        },
        Command::List { action } => match action {
            ListAction::Create { account, name, id } => {
                admin
                    .json(
                        Method::POST,
                        &format!("/admin/v1/accounts/{}/lists", enc(&account)),
                        json!({"name": name, "id": id}),
                    )
                    .await?
            }
            ListAction::Show { account, id } => {
                admin
                    .json(
                        Method::GET,
                        &format!("/admin/v1/accounts/{}/lists/{}", enc(&account), enc(&id)),
                        json!({}),
                    )
                    .await?
            }
            ListAction::Import {
                account,
                list,
                file,
                subscribe_code,
                subscribe_keyword,
            } => {
                import_file(
                    admin,
                    &account,
                    &list,
                    &file,
                    subscribe_code,
                    subscribe_keyword,
                )
                .await?
            }
        },
        Command::Send {
            action: SendAction::Status { token },
        } => {
            admin
                .json(
                    Method::GET,
                    &format!("/admin/v1/sends/{}", enc(&token)),
                    json!({}),
                )
                .await?
        }
        Command::Serve
        | Command::Migrate
        | Command::Export { .. }
        | Command::Import { .. }
        | Command::Config { .. }
        | Command::Demo
        | Command::Smsc(_) => return Err(anyhow!("not an admin command")),
    };
    print_json(&out);
    Ok(ExitCode::SUCCESS)
}

/// Streams a CSV file to the admin import with a progress bar on stderr.
async fn import_file(
    admin: &AdminClient,
    account: &str,
    list: &str,
    file: &std::path::Path,
    subscribe_code: Option<String>,
    subscribe_keyword: Option<String>,
) -> anyhow::Result<Value> {
    let f = tokio::fs::File::open(file)
        .await
        .with_context(|| format!("cannot open {}", file.display()))?;
    let len = f.metadata().await.map(|m| m.len()).unwrap_or(0);
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {bytes}/{total_bytes} [{bar:40}] {eta} left",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = bar.clone();
    let stream = tokio_util_like_stream(f).map(move |chunk| {
        if let Ok(c) = &chunk {
            progress.inc(c.len() as u64);
        }
        chunk
    });
    let mut path = format!(
        "/admin/v1/accounts/{}/lists/{}/contacts",
        enc(account),
        enc(list)
    );
    if let (Some(c), Some(k)) = (&subscribe_code, &subscribe_keyword) {
        path.push_str(&format!(
            "?subscribeCode={}&subscribeKeyword={}",
            enc(c),
            enc(k)
        ));
    }
    let (status, value) = admin
        .call(Method::POST, &path, "text/csv", Body::from_stream(stream))
        .await?;
    bar.finish_and_clear();
    if status.is_success() {
        Ok(value)
    } else {
        Err(anyhow!("{} {}", status.as_u16(), value))
    }
}

/// Reads a file as a stream of chunks.
fn tokio_util_like_stream(
    f: tokio::fs::File,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send + 'static {
    futures::stream::unfold(f, |mut f| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match f.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(bytes::Bytes::from(buf)), f))
            }
            Err(e) => Some((Err(e), f)),
        }
    })
}

/// `tidings demo`: a ready-to-use account and the curl commands to try it.
async fn demo(config: &Config) -> anyhow::Result<ExitCode> {
    let admin = AdminClient::open(config).await?;
    let acct = admin
        .json(
            Method::POST,
            "/admin/v1/accounts",
            json!({"name": "Demo account"}),
        )
        .await?;
    let a = acct["id"].as_str().unwrap_or_default().to_string();
    let base = format!("/admin/v1/accounts/{}", enc(&a));
    let client = admin
        .json(Method::POST, &format!("{base}/clients"), json!({}))
        .await?;
    admin
        .json(
            Method::POST,
            &format!("{base}/codes"),
            json!({"code": "88976", "countryCode": "US", "type": "short", "carrier": "simulator"}),
        )
        .await?;
    admin
        .json(
            Method::POST,
            &format!("{base}/keywords"),
            json!({"code": "88976", "keyword": "JOIN", "response": "Thanks for joining! Reply STOP to opt out."}),
        )
        .await?;
    let customers = admin
        .json(
            Method::POST,
            &format!("{base}/lists"),
            json!({"name": "Customers"}),
        )
        .await?;
    let vip = admin
        .json(
            Method::POST,
            &format!("{base}/lists"),
            json!({"name": "VIP"}),
        )
        .await?;
    let optouts = admin
        .json(
            Method::POST,
            &format!("{base}/lists"),
            json!({"name": "Do not text"}),
        )
        .await?;
    let id_of = |v: &Value| v["id"].as_str().unwrap_or_default().to_string();
    let (customers, vip, optouts) = (id_of(&customers), id_of(&vip), id_of(&optouts));
    let subscribe = json!({"code": "88976", "keyword": "JOIN"});
    let contact =
        |n: &str, name: &str| json!({"mobileNumber": n, "attributes": {"FirstName": name}});
    admin
        .json(
            Method::POST,
            &format!("{base}/lists/{customers}/contacts"),
            json!({"contacts": [contact("15555555510", "Ada"), contact("15555555511", "Grace"),
                                contact("15555555512", "Linus"), contact("15555550000", "Ken")],
                   "subscribe": subscribe}),
        )
        .await?;
    admin
        .json(
            Method::POST,
            &format!("{base}/lists/{vip}/contacts"),
            json!({"contacts": [contact("15555555510", "Ada"), contact("15555555513", "Barbara")],
                   "subscribe": subscribe}),
        )
        .await?;
    admin
        .json(
            Method::POST,
            &format!("{base}/lists/{optouts}/contacts"),
            json!({"contacts": [contact("15555555512", "Linus")]}),
        )
        .await?;
    let message = admin
        .json(
            Method::POST,
            &format!("{base}/messages"),
            json!({"name": "Welcome", "code": "88976", "status": "Active",
                   "text": "Hi %%FirstName%%, welcome to Tidings! Reply STOP to opt out.",
                   "targetListIds": [customers, vip], "exclusionListIds": [optouts]}),
        )
        .await?;
    let m = id_of(&message);
    let url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}/", config.listen));
    let client_id = client["clientId"].as_str().unwrap_or_default();
    let secret = client["clientSecret"].as_str().unwrap_or_default();
    println!(
        r#"Demo data created in account {a}:
  client_id      {client_id}
  client_secret  {secret}
  code           88976 (simulator carrier), keyword JOIN
  lists          {customers} (Customers), {vip} (VIP), {optouts} (Do not text)
  message        {m}

With `tidings serve` running, try:

  TOKEN=$(curl -s {url}v2/token -H 'Content-Type: application/json' \
    -d '{{"grant_type":"client_credentials","client_id":"{client_id}","client_secret":"{secret}"}}' \
    | sed -E 's/.*"access_token":"([^"]+)".*/\1/')

  curl -s {url}sms/v1/messageList/{m}/send -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d '{{}}'

  curl -s {url}sms/v1/messageList/{m}/deliveries/TOKEN_ID -H "Authorization: Bearer $TOKEN"
"#
    );
    Ok(ExitCode::SUCCESS)
}
