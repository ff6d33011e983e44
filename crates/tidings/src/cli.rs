//! The operator CLI (API.md §8). Every command that changes data runs the admin operation of
//! `service` in-process (same validation as the admin API, and its JSON on stdout); the database
//! is the configured one.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{anyhow, Context};
use api::{admin, SystemClock};
use axum::response::IntoResponse;
use clap::{Args, Parser, Subcommand};
use domain::transactional::DefinitionFields;
use futures::StreamExt;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use service::admin::{
    ClientRequest, CodeChanges, CodeRequest, ContactEntry, ContactsImport, KeywordChanges,
    ListRequest, MessageChanges, MessageRequest, NewAccountRequest, OperatorKeywordRequest,
    SubscribeRequest,
};
use service::{Field as Given, ServiceError};

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
    /// Transactional send definitions (API.md §9).
    Definition {
        #[command(subcommand)]
        action: DefinitionAction,
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
    /// removes it), or its opt-in message rules.
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
        /// The opt-in rules as the admin API's `optIn` (JSON: `{"kind": "Age", "minimumAge":
        /// 18, ...}`), or `none` to make it an ordinary keyword.
        #[arg(long)]
        opt_in: Option<String>,
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
pub enum DefinitionAction {
    /// The account's definitions (one page), as `GET /messaging/v1/sms/definitions` lists them.
    List {
        #[arg(long)]
        account: String,
        /// `status eq|neq active|inactive|deleted`.
        #[arg(long)]
        filter: Option<String>,
        #[arg(long)]
        page: Option<u32>,
        #[arg(long)]
        page_size: Option<u32>,
    },
    Show {
        #[arg(long)]
        account: String,
        #[arg(long)]
        key: String,
    },
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        key: String,
        #[command(flatten)]
        fields: DefinitionFieldArgs,
    },
    /// Changes the fields given.
    Update {
        #[arg(long)]
        account: String,
        #[arg(long)]
        key: String,
        #[command(flatten)]
        fields: DefinitionFieldArgs,
    },
    /// Archives it (waiting messages become NotSent 37).
    Delete {
        #[arg(long)]
        account: String,
        #[arg(long)]
        key: String,
    },
}

/// A definition's fields, as `POST`/`PATCH /messaging/v1/sms/definitions` take them.
#[derive(Args, Debug)]
pub struct DefinitionFieldArgs {
    #[arg(long)]
    name: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// `active` or `inactive`.
    #[arg(long)]
    status: Option<String>,
    /// The text (`%%Name%%` filled from each send's attributes).
    #[arg(long)]
    message: Option<String>,
    /// A code of the account.
    #[arg(long)]
    short_code: Option<String>,
    #[arg(long)]
    country_code: Option<String>,
    /// A keyword on the code.
    #[arg(long)]
    keyword: Option<String>,
    #[arg(long)]
    auto_add_subscriber: Option<bool>,
    #[arg(long)]
    update_subscriber: Option<bool>,
}

impl DefinitionFieldArgs {
    /// The request body the API would take (only the fields given), as its fields.
    fn body(self, key: Option<String>) -> Value {
        let mut body = serde_json::Map::new();
        let put = |map: &mut serde_json::Map<String, Value>, name: &str, v: Option<Value>| {
            if let Some(v) = v {
                map.insert(name.to_string(), v);
            }
        };
        put(&mut body, "definitionKey", key.map(Value::from));
        put(&mut body, "name", self.name.map(Value::from));
        put(&mut body, "description", self.description.map(Value::from));
        put(&mut body, "status", self.status.map(Value::from));
        if let Some(message) = self.message {
            body.insert("content".into(), json!({ "message": message }));
        }
        let mut subscriptions = serde_json::Map::new();
        put(
            &mut subscriptions,
            "shortCode",
            self.short_code.map(Value::from),
        );
        put(
            &mut subscriptions,
            "countryCode",
            self.country_code.map(Value::from),
        );
        put(&mut subscriptions, "keyword", self.keyword.map(Value::from));
        put(
            &mut subscriptions,
            "autoAddSubscriber",
            self.auto_add_subscriber.map(Value::from),
        );
        put(
            &mut subscriptions,
            "updateSubscriber",
            self.update_subscriber.map(Value::from),
        );
        if !subscriptions.is_empty() {
            body.insert("subscriptions".into(), Value::Object(subscriptions));
        }
        Value::Object(body)
    }
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
            let op = Operator::open(&config).await?;
            admin_command(&op, other).await
        }
    }
}

fn print_json(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}

/// The admin operations on the configured database, run in-process (no engine: nothing is sent
/// from here), their answers shaped as the admin API shapes them.
pub struct Operator {
    service: service::Service,
    dates: api::Dates,
}

impl Operator {
    pub async fn open(config: &Config) -> anyhow::Result<Operator> {
        let store = startup::open_migrated_store(&config.database_url).await?;
        let clock: Arc<dyn api::Clock> = Arc::new(SystemClock);
        Ok(Operator {
            service: startup::operations(config, store, clock, None),
            dates: api::Dates {
                utc: config.timestamps_utc,
            },
        })
    }

    async fn account(&self, id: &str) -> anyhow::Result<store::Account> {
        refused_or(self.service.account(id).await).await
    }
}

/// An operation's answer, or the admin API's status and body for its refusal
/// (`400 {"errors": [...]}`).
async fn refused_or<T>(outcome: Result<T, ServiceError>) -> anyhow::Result<T> {
    match outcome {
        Ok(v) => Ok(v),
        Err(e) => Err(api_refusal(api::ApiError::from(e)).await),
    }
}

/// The admin API's answer to an error, as an error of the command.
async fn api_refusal(e: api::ApiError) -> anyhow::Error {
    let resp = e.into_response();
    let status = resp.status();
    match resp.into_body().collect().await {
        Ok(body) => anyhow!(
            "{} {}",
            status.as_u16(),
            String::from_utf8_lossy(&body.to_bytes())
        ),
        Err(e) => anyhow!("{} {e}", status.as_u16()),
    }
}

fn message_request(id: Option<String>, f: MessageFields) -> MessageRequest {
    MessageRequest {
        id: Given::from_option(id),
        name: f.name,
        code: Given::from_option(f.code),
        text: f.text,
        status: f.status,
        target_list_ids: (!f.target_lists.is_empty()).then_some(f.target_lists),
        exclusion_list_ids: (!f.exclusion_lists.is_empty()).then_some(f.exclusion_lists),
        content_url: Given::from_option(f.content_url),
        problems: Vec::new(),
    }
}

async fn admin_command(op: &Operator, command: Command) -> anyhow::Result<ExitCode> {
    let service = &op.service;
    let d = op.dates;
    let out = match command {
        Command::Account {
            action: AccountAction::Create { name, id },
        } => {
            let request = NewAccountRequest {
                id: Given::from_option(id),
                name: Given::Given(name),
                problems: Vec::new(),
            };
            let account = refused_or(service.create_account(request).await).await?;
            admin::accounts::account_json(d, &account)
        }
        Command::Client {
            action:
                ClientAction::Create {
                    account,
                    scopes,
                    accounts,
                },
        } => {
            let account = op.account(&account).await?;
            let request = ClientRequest {
                scopes,
                accounts: accounts.unwrap_or_default(),
                problems: Vec::new(),
            };
            let minted = refused_or(service.create_client(&account, request).await).await?;
            admin::accounts::minted_client_json(&minted)
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
            let account = op.account(&account).await?;
            let current = refused_or(service.code(&account, &id).await).await?;
            let changes = CodeChanges {
                code: None,
                country_code,
                kind,
                carrier,
                opt_out_text,
                help_text,
                problems: Vec::new(),
            };
            let code =
                refused_or(service.update_code(&account, &id, &current, changes).await).await?;
            admin::catalog::code_json(d, &code)
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
            let account = op.account(&account).await?;
            let request = CodeRequest {
                code: Given::Given(code),
                country_code: Some(country_code),
                kind: Some(kind),
                carrier: Some(carrier),
                opt_out_text,
                help_text,
                problems: Vec::new(),
            };
            let code = refused_or(service.create_code(&account, request).await).await?;
            admin::catalog::code_json(d, &code)
        }
        Command::Keyword {
            action:
                KeywordAction::Update {
                    account,
                    id,
                    response,
                    double_opt_in,
                    confirm_text,
                    opt_in,
                },
        } => {
            let account = op.account(&account).await?;
            let current = refused_or(service.keyword(&account, &id).await).await?;
            let mut problems = Vec::new();
            let opt_in = match opt_in.as_deref().map(str::trim) {
                None => None,
                Some(none) if none.eq_ignore_ascii_case("none") => Some(None),
                Some(json) => match serde_json::from_str::<domain::OptInRules>(json) {
                    Ok(rules) => Some(Some(rules)),
                    Err(e) => {
                        problems.push(format!("optIn isn't valid: {e}."));
                        None
                    }
                },
            };
            let changes = KeywordChanges {
                code: None,
                keyword: None,
                response,
                double_opt_in,
                confirm_text,
                opt_in,
                problems,
            };
            let keyword = refused_or(
                service
                    .update_keyword(&account, &id, &current, changes)
                    .await,
            )
            .await?;
            admin::catalog::keyword_json(d, &keyword)
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
            let account = op.account(&account).await?;
            let request = OperatorKeywordRequest {
                code: Given::Given(code),
                keyword: Given::Given(keyword),
                response,
                double_opt_in: Some(double_opt_in),
                confirm_text,
                problems: Vec::new(),
            };
            let keyword = refused_or(service.create_keyword(&account, request).await).await?;
            admin::catalog::keyword_json(d, &keyword)
        }
        Command::Message { action } => match action {
            MessageAction::Create {
                account,
                id,
                fields,
            } => {
                let account = op.account(&account).await?;
                let request = message_request(id, fields);
                let m = refused_or(service.create_message(&account, request).await).await?;
                admin::catalog::message_json(d, &m)
            }
            MessageAction::Update {
                account,
                id,
                fields,
            } => {
                let account = op.account(&account).await?;
                refused_or(service.message(&account, &id).await).await?;
                let r = message_request(None, fields);
                let changes = MessageChanges {
                    name: r.name,
                    code: r.code.given().cloned(),
                    text: r.text,
                    status: r.status,
                    target_list_ids: r.target_list_ids,
                    exclusion_list_ids: r.exclusion_list_ids,
                    content_url: r.content_url,
                    problems: Vec::new(),
                };
                let m = refused_or(service.update_message(&account, &id, changes).await).await?;
                admin::catalog::message_json(d, &m)
            }
            MessageAction::Show { account, id } => {
                let account = op.account(&account).await?;
                let m = refused_or(service.message(&account, &id).await).await?;
                admin::catalog::message_json(d, &m)
            }
        },
        Command::List { action } => match action {
            ListAction::Create { account, name, id } => {
                let account = op.account(&account).await?;
                let request = ListRequest {
                    id: Given::from_option(id),
                    name: Given::Given(name),
                    problems: Vec::new(),
                };
                let list = refused_or(service.create_list(&account, request).await).await?;
                admin::lists::list_json(d, &list)
            }
            ListAction::Show { account, id } => {
                let account = op.account(&account).await?;
                let list = refused_or(service.list(&account, &id).await).await?;
                admin::lists::list_json(d, &list)
            }
            ListAction::Import {
                account,
                list,
                file,
                subscribe_code,
                subscribe_keyword,
            } => {
                import_file(
                    op,
                    &account,
                    &list,
                    &file,
                    subscribe_code,
                    subscribe_keyword,
                )
                .await?
            }
        },
        Command::Definition { action } => definition_command(op, action).await?,
        Command::Send {
            action: SendAction::Status { token },
        } => {
            let (account, report) = refused_or(service.any_send_report(&token).await).await?;
            admin::sends::admin_status_json(d, &account, &report)
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

/// A response body as JSON.
fn json_of<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// `tidings definition …`: the operations of `/messaging/v1/sms/definitions` for an account,
/// answered as that API answers them.
async fn definition_command(op: &Operator, action: DefinitionAction) -> anyhow::Result<Value> {
    let service = &op.service;
    let caller = |account: store::Account| service::Caller {
        client_id: "cli".into(),
        account_id: account.id,
        scopes: Vec::new(),
    };
    Ok(match action {
        DefinitionAction::List {
            account,
            filter,
            page,
            page_size,
        } => {
            let caller = caller(op.account(&account).await?);
            let (page, page_size) = (
                page.map(|p| p.to_string()),
                page_size.map(|p| p.to_string()),
            );
            let query = domain::transactional::ListQuery::parse(
                filter.as_deref(),
                None,
                page.as_deref(),
                page_size.as_deref(),
            )
            .map_err(ServiceError::Transactional);
            let query = refused_or(query).await?;
            let found = refused_or(service.list_definitions(&caller, query).await).await?;
            json_of(&api::transactional::definition_list(found, &query))
        }
        DefinitionAction::Show { account, key } => {
            let caller = caller(op.account(&account).await?);
            let found = refused_or(service.get_definition(&caller, &key).await).await?;
            json_of(&api::transactional::definition_body(found))
        }
        DefinitionAction::Create {
            account,
            key,
            fields,
        } => {
            let caller = caller(op.account(&account).await?);
            let read = DefinitionFields::from_value(&fields.body(Some(key)), true)
                .map_err(ServiceError::Transactional);
            let read = refused_or(read).await?;
            let created = refused_or(service.create_definition(&caller, read).await).await?;
            json_of(&api::transactional::definition_body(created))
        }
        DefinitionAction::Update {
            account,
            key,
            fields,
        } => {
            let caller = caller(op.account(&account).await?);
            let read = DefinitionFields::from_value(&fields.body(None), false)
                .map_err(ServiceError::Transactional);
            let read = refused_or(read).await?;
            let updated = refused_or(service.update_definition(&caller, &key, read).await).await?;
            json_of(&api::transactional::definition_body(updated))
        }
        DefinitionAction::Delete { account, key } => {
            let caller = caller(op.account(&account).await?);
            let archived = refused_or(service.delete_definition(&caller, &key).await).await?;
            json!({"message": "Success", "deletedDefinitionKey": archived.definition_key})
        }
    })
}

/// Streams a CSV file into the admin import (its limits included) with a progress bar on
/// stderr.
async fn import_file(
    op: &Operator,
    account: &str,
    list: &str,
    file: &std::path::Path,
    subscribe_code: Option<String>,
    subscribe_keyword: Option<String>,
) -> anyhow::Result<Value> {
    let account = op.account(account).await?;
    let list = refused_or(op.service.list(&account, list).await).await?;
    let subscribe = match (&subscribe_code, &subscribe_keyword) {
        (Some(c), Some(k)) => {
            match refused_or(op.service.subscribe_target(&account.id, c, k).await).await? {
                Ok(to) => Some(to),
                Err(message) => return Err(api_refusal(api::ApiError::validation(message)).await),
            }
        }
        _ => None,
    };
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
    let stream = tokio_util::io::ReaderStream::with_capacity(f, 64 * 1024).map(move |chunk| {
        if let Ok(c) = &chunk {
            progress.inc(c.len() as u64);
        }
        chunk
    });
    let outcome =
        admin::lists::import_csv_stream(&op.service, &account, &list, subscribe, stream).await;
    bar.finish_and_clear();
    match outcome {
        Ok(report) => Ok(admin::lists::import_report_json(&report)),
        Err(e) => Err(api_refusal(e).await),
    }
}

/// `tidings demo`: a ready-to-use account and the curl commands to try it.
async fn demo(config: &Config) -> anyhow::Result<ExitCode> {
    let op = Operator::open(config).await?;
    let service = &op.service;
    let account = refused_or(
        service
            .create_account(NewAccountRequest {
                name: Given::Given("Demo account".into()),
                ..NewAccountRequest::default()
            })
            .await,
    )
    .await?;
    let a = account.id.clone();
    let client = refused_or(
        service
            .create_client(&account, ClientRequest::default())
            .await,
    )
    .await?;
    refused_or(
        service
            .create_code(
                &account,
                CodeRequest {
                    code: Given::Given("88976".into()),
                    country_code: Some("US".into()),
                    kind: Some("short".into()),
                    carrier: Some("simulator".into()),
                    ..CodeRequest::default()
                },
            )
            .await,
    )
    .await?;
    refused_or(
        service
            .create_keyword(
                &account,
                OperatorKeywordRequest {
                    code: Given::Given("88976".into()),
                    keyword: Given::Given("JOIN".into()),
                    response: Some("Thanks for joining! Reply STOP to opt out.".into()),
                    ..OperatorKeywordRequest::default()
                },
            )
            .await,
    )
    .await?;
    let mut lists = Vec::new();
    for name in ["Customers", "VIP", "Do not text"] {
        let request = ListRequest {
            name: Given::Given(name.into()),
            ..ListRequest::default()
        };
        lists.push(refused_or(service.create_list(&account, request).await).await?);
    }
    let subscribe = || {
        Some(SubscribeRequest {
            code: Given::Given("88976".into()),
            keyword: Given::Given("JOIN".into()),
        })
    };
    let contact = |n: &str, name: &str| ContactEntry::Given {
        mobile_number: Some(n.to_string()),
        subscriber_key: None,
        key_field: "subscriberKey".into(),
        attributes: vec![("FirstName".into(), name.to_string())],
    };
    let imports = [
        (
            &lists[0],
            vec![
                contact("15555555510", "Ada"),
                contact("15555555511", "Grace"),
                contact("15555555512", "Linus"),
                contact("15555550000", "Ken"),
            ],
            subscribe(),
        ),
        (
            &lists[1],
            vec![
                contact("15555555510", "Ada"),
                contact("15555555513", "Barbara"),
            ],
            subscribe(),
        ),
        (&lists[2], vec![contact("15555555512", "Linus")], None),
    ];
    for (list, contacts, subscribe) in imports {
        let request = ContactsImport {
            contacts: Given::Given(contacts),
            subscribe,
            problems: Vec::new(),
        };
        refused_or(service.import_contacts(&account, list, request).await).await?;
    }
    let (customers, vip, optouts) = (
        lists[0].id.clone(),
        lists[1].id.clone(),
        lists[2].id.clone(),
    );
    let message = refused_or(
        service
            .create_message(
                &account,
                MessageRequest {
                    name: Some("Welcome".into()),
                    code: Given::Given("88976".into()),
                    status: Some("Active".into()),
                    text: Some(
                        "Hi %%FirstName%%, welcome to Tidings! Reply STOP to opt out.".into(),
                    ),
                    target_list_ids: Some(vec![customers.clone(), vip.clone()]),
                    exclusion_list_ids: Some(vec![optouts.clone()]),
                    ..MessageRequest::default()
                },
            )
            .await,
    )
    .await?;
    let m = message.id;
    let url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}/", config.listen));
    let client_id = &client.client.client_id;
    let secret = &client.secret;
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
