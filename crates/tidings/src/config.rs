//! Configuration (API.md §8): one typed struct loaded once at start from the optional TOML file
//! (`--config FILE`, `TIDINGS_CONFIG`, or `./tidings.toml` when present) with the environment
//! overriding it, validated with clear messages, printable with secrets redacted.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/tidings.db";
pub const DEFAULT_METRICS_LISTEN: &str = "127.0.0.1:9090";
pub const DEFAULT_DATA_DIR: &str = "data";

#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub database_url: Option<String>,
    pub public_url: Option<String>,
    pub metrics_listen: Option<String>,
    pub data_dir: Option<String>,
    #[serde(default)]
    pub admin: AdminSection,
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub console: ConsoleSection,
    #[serde(default)]
    pub engine: EngineSection,
    #[serde(default)]
    pub carriers: Vec<CarrierConfig>,
}

#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSection {
    pub token: Option<String>,
}

/// The shortest admin token `serve` accepts (API.md §8 "Protection").
pub const MIN_ADMIN_TOKEN_CHARS: usize = 24;
/// Failed `/v2/token` requests per second per `client_id` by default (API.md §2).
pub const DEFAULT_TOKEN_FAILURE_RATE: u32 = 10;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// `"cst"` (default) or `"utc"`.
    pub timestamps: Option<String>,
    /// Requests per second per API client; 0 disables. Default 1000.
    pub rate_limit: Option<u32>,
    /// Failed `/v2/token` requests per second per `client_id` (burst twice that); 0 disables.
    /// Default 10.
    pub token_failure_rate: Option<u32>,
    /// Peers whose `X-Forwarded-For` is believed: IP addresses or CIDR ranges. Default none.
    pub trusted_proxies: Option<Vec<String>>,
    /// Open API connections at most (API.md §1). Default 10000.
    pub max_connections: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSection {
    pub session_minutes: Option<u32>,
}

/// `[engine]`: tunables of the delivery engine (docs/configuration.md).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// Dispatch workers per process [1].
    pub workers: Option<usize>,
    /// Recipients claimed per dispatch batch [1000].
    pub claim_batch: Option<u32>,
    /// Memberships expanded per database batch [50000].
    pub expand_batch: Option<u32>,
    /// How long a claimed batch may stay "submitting" before it is taken for crashed and its
    /// recipients reported 3400 Unknown [60000].
    pub submit_lease_ms: Option<i64>,
    /// How long an expansion claim lasts without renewal [30000].
    pub expand_lease_ms: Option<i64>,
    /// The lease on a background job (import, delivery report), renewed with each batch: a
    /// job whose process stopped is resumed by another once it runs out [60000].
    pub job_lease_ms: Option<i64>,
    /// Idle poll interval [200].
    pub idle_poll_ms: Option<u64>,
}

/// One `[[carriers]]` entry: `name`, `type` and the type's own keys (docs/carriers.md).
#[derive(Clone, Deserialize, Serialize)]
pub struct CarrierConfig {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub settings: BTreeMap<String, toml::Value>,
}

/// Which database backend a URL selects; any other scheme is an error (API.md §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

pub fn database_kind(url: &str) -> anyhow::Result<DatabaseKind> {
    let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("sqlite") => Ok(DatabaseKind::Sqlite),
        Some("postgres") | Some("postgresql") => Ok(DatabaseKind::Postgres),
        _ => bail!(
            "DATABASE_URL {url:?} has an unsupported scheme: use sqlite://PATH or postgres://..."
        ),
    }
}

/// The resolved configuration.
#[derive(Clone)]
pub struct Config {
    pub listen: String,
    pub database_url: String,
    pub public_url: Option<String>,
    /// `None`: the metrics listener is off.
    pub metrics_listen: Option<SocketAddr>,
    pub data_dir: PathBuf,
    pub admin_token: Option<String>,
    pub timestamps_utc: bool,
    pub rate_limit: u32,
    pub token_failure_rate: u32,
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `[api] max_connections`: open API connections at most (API.md §1).
    pub max_connections: usize,
    pub console_session_minutes: u32,
    pub engine: EngineSection,
    pub carriers: Vec<CarrierConfig>,
    /// The file it was read from, if any.
    pub source: Option<PathBuf>,
}

/// Reads the environment through a function, so tests can supply their own.
pub type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

impl Config {
    /// Loads the file (explicit path, `TIDINGS_CONFIG`, or `./tidings.toml` when present) and
    /// applies the environment on top.
    pub fn load(explicit: Option<&Path>, env: EnvLookup<'_>) -> anyhow::Result<Config> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => match env("TIDINGS_CONFIG").filter(|s| !s.is_empty()) {
                Some(p) => Some(PathBuf::from(p)),
                None => {
                    let local = PathBuf::from("tidings.toml");
                    local.exists().then_some(local)
                }
            },
        };
        let file = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                toml::from_str::<FileConfig>(&text)
                    .with_context(|| format!("invalid config file {}", p.display()))?
            }
            None => FileConfig::default(),
        };
        Config::resolve(file, path, env)
    }

    pub fn resolve(
        file: FileConfig,
        source: Option<PathBuf>,
        env: EnvLookup<'_>,
    ) -> anyhow::Result<Config> {
        let pick = |var: &str, from_file: Option<String>, default: &str| -> String {
            env(var)
                .filter(|s| !s.is_empty())
                .or(from_file)
                .unwrap_or_else(|| default.to_string())
        };
        let listen = pick("TIDINGS_LISTEN", file.listen, DEFAULT_LISTEN);
        listen
            .parse::<SocketAddr>()
            .map_err(|_| anyhow!("listen address {listen:?} isn't HOST:PORT"))?;
        let database_url = pick("DATABASE_URL", file.database_url, DEFAULT_DATABASE_URL);
        database_kind(&database_url)?;
        let metrics_listen = pick(
            "TIDINGS_METRICS_LISTEN",
            file.metrics_listen,
            DEFAULT_METRICS_LISTEN,
        );
        let metrics_listen = if metrics_listen.eq_ignore_ascii_case("off") {
            None
        } else {
            Some(metrics_listen.parse::<SocketAddr>().map_err(|_| {
                anyhow!("metrics listen address {metrics_listen:?} isn't HOST:PORT or \"off\"")
            })?)
        };
        let public_url = env("TIDINGS_PUBLIC_URL")
            .filter(|s| !s.is_empty())
            .or(file.public_url)
            .map(|u| normalize_public_url(&u))
            .transpose()?;
        let data_dir = PathBuf::from(pick("TIDINGS_DATA_DIR", file.data_dir, DEFAULT_DATA_DIR));
        let admin_token = env("TIDINGS_ADMIN_TOKEN")
            .filter(|s| !s.is_empty())
            .or(file.admin.token);
        let timestamps_utc = match file.api.timestamps.as_deref() {
            None => false,
            Some(t) if t.eq_ignore_ascii_case("cst") => false,
            Some(t) if t.eq_ignore_ascii_case("utc") => true,
            Some(other) => bail!("api.timestamps must be \"cst\" or \"utc\", not {other:?}"),
        };
        let trusted_proxies = file
            .api
            .trusted_proxies
            .unwrap_or_default()
            .iter()
            .map(|entry| {
                api::peer::parse_trusted_proxy(entry)
                    .map_err(|e| anyhow!("api.trusted_proxies: {e}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let max_connections = file
            .api
            .max_connections
            .unwrap_or(crate::server::DEFAULT_MAX_CONNECTIONS);
        if max_connections == 0 {
            bail!("api.max_connections must be at least 1");
        }
        let mut carriers = file.carriers;
        for c in &carriers {
            if !matches!(c.kind.as_str(), "simulator" | "smpp" | "http") {
                bail!(
                    "carrier {:?} has unknown type {:?} (simulator, smpp or http)",
                    c.name,
                    c.kind
                );
            }
        }
        let mut names: Vec<&str> = carriers.iter().map(|c| c.name.as_str()).collect();
        names.sort_unstable();
        if names.windows(2).any(|w| w[0] == w[1]) {
            bail!("two carriers share a name");
        }
        if !carriers.iter().any(|c| c.name == "simulator") {
            carriers.push(CarrierConfig {
                name: "simulator".into(),
                kind: "simulator".into(),
                settings: BTreeMap::new(),
            });
        }
        Ok(Config {
            listen,
            database_url,
            public_url,
            metrics_listen,
            data_dir,
            admin_token,
            timestamps_utc,
            rate_limit: file.api.rate_limit.unwrap_or(1000),
            token_failure_rate: file
                .api
                .token_failure_rate
                .unwrap_or(DEFAULT_TOKEN_FAILURE_RATE),
            trusted_proxies,
            max_connections,
            console_session_minutes: file.console.session_minutes.unwrap_or(60),
            engine: file.engine,
            carriers,
            source,
        })
    }

    /// The configuration as JSON with every secret replaced by `"<redacted>"`.
    pub fn redacted(&self) -> serde_json::Value {
        let carriers: Vec<serde_json::Value> = self
            .carriers
            .iter()
            .map(|c| {
                let mut v = serde_json::json!({"name": c.name, "type": c.kind});
                for (k, val) in &c.settings {
                    let shown = if is_secret_key(k) {
                        serde_json::Value::String("<redacted>".into())
                    } else {
                        serde_json::to_value(val).unwrap_or(serde_json::Value::Null)
                    };
                    v[k] = shown;
                }
                v
            })
            .collect();
        serde_json::json!({
            "source": self.source.as_ref().map(|p| p.display().to_string()),
            "listen": self.listen,
            "database_url": redact_url(&self.database_url),
            "public_url": self.public_url,
            "metrics_listen": self
                .metrics_listen
                .map_or_else(|| "off".to_string(), |a| a.to_string()),
            "data_dir": self.data_dir.display().to_string(),
            "admin": {"token": self.admin_token.as_ref().map(|_| "<redacted>")},
            "api": {
                "timestamps": if self.timestamps_utc { "utc" } else { "cst" },
                "rate_limit": self.rate_limit,
                "token_failure_rate": self.token_failure_rate,
                "trusted_proxies": self
                    .trusted_proxies
                    .iter()
                    .map(|n| n.to_string())
                    .collect::<Vec<_>>(),
                "max_connections": self.max_connections,
            },
            "console": {"session_minutes": self.console_session_minutes},
            "engine": self.engine,
            "carriers": carriers,
        })
    }
}

impl Config {
    /// The admin token `serve` must refuse: a configured one shorter than
    /// [`MIN_ADMIN_TOKEN_CHARS`] (API.md §8 "Protection"; a generated one is long enough).
    pub fn check_admin_token(&self) -> anyhow::Result<()> {
        match &self.admin_token {
            Some(t) if t.chars().count() < MIN_ADMIN_TOKEN_CHARS => bail!(
                "the admin token (TIDINGS_ADMIN_TOKEN or admin.token) has {} characters; it must \
                 have at least {MIN_ADMIN_TOKEN_CHARS} (e.g. `openssl rand -hex 16`), or leave it \
                 unset to have one generated",
                t.chars().count()
            ),
            _ => Ok(()),
        }
    }
}

/// Debug output shows no secret: the admin token, the database URL's password and carrier
/// secrets are redacted, as in [`Config::redacted`].
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Config ")?;
        std::fmt::Display::fmt(&self.redacted(), f)
    }
}

impl std::fmt::Debug for FileConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileConfig")
            .field("listen", &self.listen)
            .field(
                "database_url",
                &self.database_url.as_deref().map(redact_url),
            )
            .field("public_url", &self.public_url)
            .field("metrics_listen", &self.metrics_listen)
            .field("data_dir", &self.data_dir)
            .field("admin", &self.admin)
            .field("api", &self.api)
            .field("console", &self.console)
            .field("engine", &self.engine)
            .field("carriers", &self.carriers)
            .finish()
    }
}

impl std::fmt::Debug for AdminSection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminSection")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::fmt::Debug for CarrierConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let settings: BTreeMap<&str, String> = self
            .settings
            .iter()
            .map(|(k, v)| {
                let shown = if is_secret_key(k) {
                    "<redacted>".to_string()
                } else {
                    v.to_string()
                };
                (k.as_str(), shown)
            })
            .collect();
        f.debug_struct("CarrierConfig")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("settings", &settings)
            .finish()
    }
}

fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    k.contains("password") || k.contains("token") || k.contains("secret")
}

/// Hides the password of a database URL.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("redacted"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// A public URL with a scheme and exactly one trailing `/`.
pub fn normalize_public_url(raw: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(raw).map_err(|_| anyhow!("public URL {raw:?} isn't a URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        bail!("public URL {raw:?} must be http(s)://HOST[:PORT]/");
    }
    let mut s = raw.trim_end_matches('/').to_string();
    s.push('/');
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn defaults_apply_without_file_or_env() {
        let c = Config::resolve(FileConfig::default(), None, &env_of(&[])).expect("config");
        assert_eq!(c.listen, DEFAULT_LISTEN);
        assert_eq!(c.database_url, DEFAULT_DATABASE_URL);
        assert_eq!(c.rate_limit, 1000);
        assert_eq!(c.max_connections, 10_000);
        assert_eq!(c.redacted()["api"]["max_connections"], 10_000);
        assert!(!c.timestamps_utc);
        assert_eq!(c.carriers.len(), 1);
        assert_eq!(c.carriers[0].name, "simulator");
    }

    #[test]
    fn environment_overrides_the_file() {
        let file: FileConfig = toml::from_str(
            "listen = \"127.0.0.1:1\"\ndatabase_url = \"sqlite://x.db\"\n[api]\ntimestamps = \"utc\"\nrate_limit = 0\n",
        )
        .expect("toml");
        let c = Config::resolve(file, None, &env_of(&[("TIDINGS_LISTEN", "0.0.0.0:9")]))
            .expect("config");
        assert_eq!(c.listen, "0.0.0.0:9");
        assert_eq!(c.database_url, "sqlite://x.db");
        assert!(c.timestamps_utc);
        assert_eq!(c.rate_limit, 0);
    }

    #[test]
    fn max_connections_is_read_from_the_api_section_and_must_be_positive() {
        let file: FileConfig = toml::from_str("[api]\nmax_connections = 50\n").expect("toml");
        let c = Config::resolve(file, None, &env_of(&[])).expect("config");
        assert_eq!(c.max_connections, 50);
        assert_eq!(c.redacted()["api"]["max_connections"], 50);
        let zero: FileConfig = toml::from_str("[api]\nmax_connections = 0\n").expect("toml");
        let err = Config::resolve(zero, None, &env_of(&[])).expect_err("0 is refused");
        assert!(err.to_string().contains("max_connections"), "{err}");
    }

    #[test]
    fn unknown_database_scheme_is_an_error() {
        let err = Config::resolve(
            FileConfig::default(),
            None,
            &env_of(&[("DATABASE_URL", "mysql://localhost/db")]),
        )
        .expect_err("must fail");
        assert!(err.to_string().contains("unsupported scheme"), "{err}");
        assert_eq!(
            database_kind("postgresql://h/db").expect("pg"),
            DatabaseKind::Postgres
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let file: FileConfig = toml::from_str(
            "[admin]\ntoken = \"t0p\"\n[[carriers]]\nname = \"acme\"\ntype = \"smpp\"\npassword = \"hunter2\"\nhost = \"h\"\n",
        )
        .expect("toml");
        let c = Config::resolve(
            file,
            None,
            &env_of(&[("DATABASE_URL", "postgres://u:pw@h/db")]),
        )
        .expect("config");
        let shown = c.redacted().to_string();
        assert!(!shown.contains("hunter2") && !shown.contains("t0p") && !shown.contains(":pw@"));
        assert!(shown.contains("\"host\":\"h\""));
    }

    #[test]
    fn debug_output_redacts_every_secret() {
        let file: FileConfig = toml::from_str(
            "database_url = \"postgres://u:pw@h/db\"\n[admin]\ntoken = \"t0p-secret-admin-token-0000\"\n\
             [[carriers]]\nname = \"acme\"\ntype = \"http\"\nauth_token = \"hunter2\"\n\
             base_url = \"https://h\"\n",
        )
        .expect("toml");
        let shown_file = format!("{file:?}");
        let c = Config::resolve(file, None, &env_of(&[])).expect("config");
        for shown in [shown_file, format!("{c:?}"), format!("{:?}", c.carriers)] {
            for secret in ["t0p-secret", "hunter2", ":pw@"] {
                assert!(!shown.contains(secret), "{secret} in {shown}");
            }
            assert!(shown.contains("https://h"), "{shown}");
        }
    }

    #[test]
    fn admin_tokens_shorter_than_24_characters_are_refused() {
        let with_token = |t: &str| {
            let mut file = FileConfig::default();
            file.admin.token = Some(t.to_string());
            Config::resolve(file, None, &env_of(&[])).expect("config")
        };
        let err = with_token(&"x".repeat(23))
            .check_admin_token()
            .expect_err("23 characters");
        assert!(err.to_string().contains("at least 24"), "{err}");
        assert!(with_token(&"x".repeat(24)).check_admin_token().is_ok());
        let generated = Config::resolve(FileConfig::default(), None, &env_of(&[])).expect("config");
        assert!(
            generated.check_admin_token().is_ok(),
            "none configured: one is generated"
        );
    }

    #[test]
    fn trusted_proxies_are_addresses_or_cidr_ranges() {
        let file: FileConfig =
            toml::from_str("[api]\ntrusted_proxies = [\"10.0.0.1\", \"fd00::/8\"]\n")
                .expect("toml");
        let c = Config::resolve(file, None, &env_of(&[])).expect("config");
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.token_failure_rate, DEFAULT_TOKEN_FAILURE_RATE);
        let bad: FileConfig =
            toml::from_str("[api]\ntrusted_proxies = [\"proxy.example\"]\n").expect("toml");
        let err = Config::resolve(bad, None, &env_of(&[])).expect_err("a host name");
        assert!(err.to_string().contains("api.trusted_proxies"), "{err}");
    }

    #[test]
    fn public_url_gets_one_trailing_slash() {
        assert_eq!(
            normalize_public_url("https://x.example//").expect("url"),
            "https://x.example/"
        );
        assert!(normalize_public_url("ftp://x").is_err());
    }
}
