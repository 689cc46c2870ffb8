//! Configuration: one typed struct read from n8n's environment variables.
//!
//! Every setting has the name n8n gives it and, where n8n has one, n8n's default. Flags
//! (`--port`) exist for the command line; the environment variable is the primary interface.
//! A bad value stops start-up with one line naming the variable (see `main.rs`).
//!
//! Past 600 lines on purpose: one documented field per setting, all in the one struct that
//! `--help` prints.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, ValueEnum};

/// Which database the server stores its data in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DbType {
    /// An embedded SQLite file in the data folder (the default: zero set-up).
    Sqlite,
    /// A PostgreSQL server (production; several instances may share one database).
    Postgresdb,
}

/// Log verbosity, with n8n's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogLevel {
    Silent,
    Error,
    Warn,
    Info,
    Debug,
}

/// Log line format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Every setting of the server.
#[derive(Clone, Args)]
pub struct Config {
    /// The workflow engine's settings.
    #[command(flatten)]
    pub engine: crate::engine::config::EngineConfig,

    /// What workflows and credential tests may call.
    #[command(flatten)]
    pub outbound: crate::service::outbound::OutboundConfig,

    /// TCP port the server listens on.
    #[arg(
        long = "port",
        env = "N8N_PORT",
        value_name = "N8N_PORT",
        default_value_t = 5678,
        global = true
    )]
    pub port: u16,

    /// Address the server binds to.
    #[arg(
        long = "listen-address",
        env = "N8N_LISTEN_ADDRESS",
        value_name = "N8N_LISTEN_ADDRESS",
        default_value = "127.0.0.1",
        global = true
    )]
    pub listen_address: IpAddr,

    /// Path prefix the instance is served under (e.g. `/n8n/`). The public API also answers
    /// under `<N8N_PATH>/api/v1`, so URLs work with or without a path-stripping proxy.
    #[arg(
        long = "path",
        env = "N8N_PATH",
        value_name = "N8N_PATH",
        default_value = "/",
        global = true
    )]
    pub path: String,

    /// First path segment of the public API (`api` gives `/api/v1`).
    #[arg(
        long = "public-api-endpoint",
        env = "N8N_PUBLIC_API_ENDPOINT",
        value_name = "N8N_PUBLIC_API_ENDPOINT",
        default_value = "api",
        global = true
    )]
    pub public_api_endpoint: String,

    /// Switch off API-key authentication (the routes stay mounted; session cookies still work;
    /// `/rest/api-keys*` answer 404), as n8n does.
    #[arg(long = "public-api-disabled", env = "N8N_PUBLIC_API_DISABLED", value_name = "N8N_PUBLIC_API_DISABLED",
          default_value = "false", value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub public_api_disabled: bool,

    /// Do not serve the API docs page at `/api/v1/docs`.
    #[arg(long = "public-api-swaggerui-disabled", env = "N8N_PUBLIC_API_SWAGGERUI_DISABLED",
          value_name = "N8N_PUBLIC_API_SWAGGERUI_DISABLED", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub public_api_swaggerui_disabled: bool,

    /// Folder whose `.n8n` subfolder holds the data (database, encryption key). Defaults to the
    /// home folder, as in n8n.
    #[arg(
        long = "user-folder",
        env = "N8N_USER_FOLDER",
        value_name = "N8N_USER_FOLDER",
        global = true
    )]
    pub user_folder: Option<PathBuf>,

    /// Key that encrypts secrets at rest. When unset, one is generated on first start and kept
    /// in `<data folder>/config`, as n8n does.
    #[arg(
        long = "encryption-key",
        env = "N8N_ENCRYPTION_KEY",
        value_name = "N8N_ENCRYPTION_KEY",
        hide_env_values = true,
        global = true
    )]
    pub encryption_key: Option<String>,

    /// Older encryption keys (comma-separated) that still open data sealed before a rotation;
    /// `flowgate credentials re-encrypt` re-seals everything with N8N_ENCRYPTION_KEY.
    #[arg(
        long = "encryption-keys-previous",
        env = "N8N_ENCRYPTION_KEYS_PREVIOUS",
        value_name = "N8N_ENCRYPTION_KEYS_PREVIOUS",
        hide_env_values = true,
        value_delimiter = ',',
        global = true
    )]
    pub encryption_keys_previous: Vec<String>,

    /// Let credential tests reach loopback, private and link-local addresses (refused by
    /// default, so a credential cannot be used to probe the server's own network).
    #[arg(long = "credential-test-allow-private-networks", env = "N8N_CREDENTIAL_TEST_ALLOW_PRIVATE_NETWORKS",
          value_name = "N8N_CREDENTIAL_TEST_ALLOW_PRIVATE_NETWORKS", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub credential_test_allow_private: bool,

    /// Storage all data tables together may take, in bytes (n8n's default: 50 MiB). Writes that
    /// would add rows past it answer 400.
    #[arg(long = "data-tables-max-size-bytes", env = "N8N_DATA_TABLES_MAX_SIZE_BYTES", value_name = "N8N_DATA_TABLES_MAX_SIZE_BYTES",
          default_value_t = 50 * 1024 * 1024, global = true)]
    pub data_tables_max_size_bytes: u64,

    /// Storage one data table may take, in bytes (default: the same 50 MiB).
    #[arg(long = "data-tables-table-max-size-bytes", env = "N8N_DATA_TABLES_TABLE_MAX_SIZE_BYTES", value_name = "N8N_DATA_TABLES_TABLE_MAX_SIZE_BYTES",
          default_value_t = 50 * 1024 * 1024, global = true)]
    pub data_tables_table_max_size_bytes: u64,

    /// How long a measurement of the data tables' storage is reused, in milliseconds (n8n's
    /// setting). Between measurements the server adds what it writes to the last figure.
    #[arg(
        long = "data-tables-size-check-cache-duration",
        env = "N8N_DATA_TABLES_SIZE_CHECK_CACHE_DURATION_MS",
        value_name = "N8N_DATA_TABLES_SIZE_CHECK_CACHE_DURATION_MS",
        default_value_t = 60_000,
        global = true
    )]
    pub data_tables_size_check_cache_ms: u64,

    /// Largest accepted request body, in MiB.
    #[arg(long = "payload-size-max", env = "N8N_PAYLOAD_SIZE_MAX", value_name = "N8N_PAYLOAD_SIZE_MAX",
          default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024), global = true)]
    pub payload_size_max_mib: u32,

    /// Mark the session cookie `Secure` (sent over HTTPS only). n8n's default is `true`; set it
    /// to `false` to sign in over plain HTTP on a non-loopback address.
    #[arg(long = "secure-cookie", env = "N8N_SECURE_COOKIE", value_name = "N8N_SECURE_COOKIE",
          default_value = "true", value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub secure_cookie: bool,

    /// Session lifetime in hours.
    #[arg(long = "jwt-duration-hours", env = "N8N_USER_MANAGEMENT_JWT_DURATION_HOURS",
          value_name = "N8N_USER_MANAGEMENT_JWT_DURATION_HOURS", default_value_t = 168,
          value_parser = clap::value_parser!(u32).range(1..=8760), global = true)]
    pub session_duration_hours: u32,

    /// Minimum password length (n8n's rule is 8 to 64 characters).
    #[arg(long = "password-min-length", env = "N8N_PASSWORD_MIN_LENGTH", value_name = "N8N_PASSWORD_MIN_LENGTH",
          default_value_t = 8, value_parser = clap::value_parser!(u32).range(8..=64), global = true)]
    pub password_min_length: u32,

    /// Log level: silent, error, warn, info, debug.
    #[arg(
        long = "log-level",
        env = "N8N_LOG_LEVEL",
        value_name = "N8N_LOG_LEVEL",
        default_value = "info",
        ignore_case = true,
        global = true
    )]
    pub log_level: LogLevel,

    /// Log format: text or json.
    #[arg(
        long = "log-format",
        env = "N8N_LOG_FORMAT",
        value_name = "N8N_LOG_FORMAT",
        default_value = "text",
        ignore_case = true,
        global = true
    )]
    pub log_format: LogFormat,

    /// Database kind: `sqlite` (default) or `postgresdb`.
    #[arg(
        long = "db-type",
        env = "DB_TYPE",
        value_name = "DB_TYPE",
        default_value = "sqlite",
        ignore_case = true,
        global = true
    )]
    pub db_type: DbType,

    /// SQLite database file. Defaults to `flowgate.sqlite` in the data folder.
    #[arg(
        long = "sqlite-database",
        env = "DB_SQLITE_DATABASE",
        value_name = "DB_SQLITE_DATABASE",
        global = true
    )]
    pub sqlite_database: Option<PathBuf>,

    /// Largest number of SQLite reader connections.
    #[arg(long = "sqlite-pool-size", env = "DB_SQLITE_POOL_SIZE", value_name = "DB_SQLITE_POOL_SIZE",
          default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=128), global = true)]
    pub sqlite_pool_size: u32,

    /// PostgreSQL host.
    #[arg(
        long = "postgres-host",
        env = "DB_POSTGRESDB_HOST",
        value_name = "DB_POSTGRESDB_HOST",
        default_value = "localhost",
        global = true
    )]
    pub postgres_host: String,

    /// PostgreSQL port.
    #[arg(
        long = "postgres-port",
        env = "DB_POSTGRESDB_PORT",
        value_name = "DB_POSTGRESDB_PORT",
        default_value_t = 5432,
        global = true
    )]
    pub postgres_port: u16,

    /// PostgreSQL database name.
    #[arg(
        long = "postgres-database",
        env = "DB_POSTGRESDB_DATABASE",
        value_name = "DB_POSTGRESDB_DATABASE",
        default_value = "n8n",
        global = true
    )]
    pub postgres_database: String,

    /// PostgreSQL user.
    #[arg(
        long = "postgres-user",
        env = "DB_POSTGRESDB_USER",
        value_name = "DB_POSTGRESDB_USER",
        default_value = "postgres",
        global = true
    )]
    pub postgres_user: String,

    /// PostgreSQL password.
    #[arg(
        long = "postgres-password",
        env = "DB_POSTGRESDB_PASSWORD",
        value_name = "DB_POSTGRESDB_PASSWORD",
        default_value = "",
        hide_default_value = true,
        hide_env_values = true,
        global = true
    )]
    pub postgres_password: String,

    /// PostgreSQL schema (created when missing).
    #[arg(long = "postgres-schema", env = "DB_POSTGRESDB_SCHEMA", value_name = "DB_POSTGRESDB_SCHEMA",
          default_value = "public", value_parser = parse_sql_identifier, global = true)]
    pub postgres_schema: String,

    /// Largest number of PostgreSQL connections per instance.
    #[arg(long = "postgres-pool-size", env = "DB_POSTGRESDB_POOL_SIZE", value_name = "DB_POSTGRESDB_POOL_SIZE",
          default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000), global = true)]
    pub postgres_pool_size: u32,

    /// A full database URL (`sqlite://...` or `postgres://...`); overrides the `DB_*` settings.
    #[arg(
        long = "database-url",
        env = "DATABASE_URL",
        value_name = "DATABASE_URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,

    /// Failed API-key attempts allowed per client IP and minute before answers become 429.
    #[arg(long = "api-key-failures-per-minute", env = "N8N_PUBLIC_API_FAILED_AUTH_LIMIT",
          value_name = "N8N_PUBLIC_API_FAILED_AUTH_LIMIT", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub failed_auth_per_minute: u32,

    /// Number of reverse proxies in front of the server whose `X-Forwarded-For` is trusted.
    #[arg(
        long = "proxy-hops",
        env = "N8N_PROXY_HOPS",
        value_name = "N8N_PROXY_HOPS",
        default_value_t = 0,
        global = true
    )]
    pub proxy_hops: u32,

    /// Public base URL of the editor (e.g. `https://n8n.example.com`), used in the links the
    /// server writes: the OpenAPI document's server, invitations.
    #[arg(
        long = "editor-base-url",
        env = "N8N_EDITOR_BASE_URL",
        value_name = "N8N_EDITOR_BASE_URL",
        value_parser = parse_base_url,
        global = true
    )]
    pub editor_base_url: Option<String>,

    /// Switch off workflow tags (`/workflows/{id}/tags` answer 400), as n8n's setting does.
    #[arg(long = "workflow-tags-disabled", env = "N8N_WORKFLOW_TAGS_DISABLED", value_name = "N8N_WORKFLOW_TAGS_DISABLED",
          default_value = "false", value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub workflow_tags_disabled: bool,

    /// Public base URL of webhooks (n8n's `WEBHOOK_URL`), for the webhook links the server
    /// writes. Defaults to the editor base URL, so one setting suffices behind a proxy.
    #[arg(
        long = "webhook-url",
        env = "WEBHOOK_URL",
        value_name = "WEBHOOK_URL",
        value_parser = parse_base_url,
        global = true
    )]
    pub webhook_url: Option<String>,

    /// Serve Prometheus metrics at `/metrics` (unauthenticated: keep it off the public
    /// internet, as n8n advises).
    #[arg(long = "metrics", env = "N8N_METRICS", value_name = "N8N_METRICS",
          default_value = "false", value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub metrics: bool,

    /// Prefix of every metric name (n8n's default is `n8n_`).
    #[arg(long = "metrics-prefix", env = "N8N_METRICS_PREFIX", value_name = "N8N_METRICS_PREFIX",
          default_value = "n8n_", value_parser = parse_metrics_prefix, global = true)]
    pub metrics_prefix: String,

    /// Seconds a request may take before it is answered 408 (guards against slow clients).
    #[arg(long = "request-timeout", env = "N8N_REQUEST_TIMEOUT", value_name = "N8N_REQUEST_TIMEOUT",
          default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub request_timeout_secs: u64,

    /// Seconds a client has to send a request's headers; a slower one is disconnected, so
    /// that trickled headers cannot hold a connection open for ever.
    #[arg(long = "http-header-read-timeout", env = "N8N_HTTP_HEADER_READ_TIMEOUT",
          value_name = "N8N_HTTP_HEADER_READ_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub header_read_timeout_secs: u64,

    /// Open connections served at once; past it, new connections wait to be accepted.
    #[arg(long = "http-max-connections", env = "N8N_HTTP_MAX_CONNECTIONS",
          value_name = "N8N_HTTP_MAX_CONNECTIONS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub max_connections: u64,

    /// Where Google service-account credentials (`googleApi`) exchange their signed JWT for an
    /// access token; the JWT's audience too. Google's endpoint unless a stand-in is wanted
    /// (tests, a mirror).
    #[arg(long = "google-token-url", env = "N8N_GOOGLE_TOKEN_URL", value_name = "N8N_GOOGLE_TOKEN_URL",
          default_value = "https://oauth2.googleapis.com/token", value_parser = parse_token_url, global = true)]
    pub google_token_url: String,

    /// Git repository `POST /source-control/pull` imports from: a URL (`https://`, `ssh://`,
    /// `git@host:path`, `file://`) or a local path. Unset: source control is not connected.
    #[arg(
        long = "source-control-repository-url",
        env = "N8N_SOURCECONTROL_REPOSITORY_URL",
        value_name = "N8N_SOURCECONTROL_REPOSITORY_URL",
        hide_env_values = true,
        global = true
    )]
    pub source_control_repository_url: Option<String>,

    /// Branch that source-control pulls read.
    #[arg(
        long = "source-control-branch",
        env = "N8N_SOURCECONTROL_BRANCH",
        value_name = "N8N_SOURCECONTROL_BRANCH",
        default_value = "main",
        global = true
    )]
    pub source_control_branch: String,

    /// Private SSH key file for `ssh://` and `git@` repository URLs.
    #[arg(
        long = "source-control-ssh-key-file",
        env = "N8N_SOURCECONTROL_SSH_KEY_FILE",
        value_name = "N8N_SOURCECONTROL_SSH_KEY_FILE",
        global = true
    )]
    pub source_control_ssh_key_file: Option<PathBuf>,

    /// Serve the community-package routes (false: they answer 404).
    #[arg(long = "community-packages-enabled", env = "N8N_COMMUNITY_PACKAGES_ENABLED", value_name = "N8N_COMMUNITY_PACKAGES_ENABLED",
          default_value = "true", value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub community_packages_enabled: bool,

    /// npm registry community packages are installed from.
    #[arg(
        long = "community-packages-registry",
        env = "N8N_COMMUNITY_PACKAGES_REGISTRY",
        value_name = "N8N_COMMUNITY_PACKAGES_REGISTRY",
        default_value = "https://registry.npmjs.org",
        hide_env_values = true,
        global = true
    )]
    pub community_packages_registry: String,
}

impl std::fmt::Debug for Config {
    // Hand-written so that secrets (the encryption key, the database password and URL) never
    // reach a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("port", &self.port)
            .field("listen_address", &self.listen_address)
            .field("path", &self.path)
            .field("public_api_endpoint", &self.public_api_endpoint)
            .field("public_api_disabled", &self.public_api_disabled)
            .field("db_type", &self.db_type)
            .field("data_folder", &self.data_folder())
            .finish_non_exhaustive()
    }
}

fn parse_sql_identifier(value: &str) -> Result<String, String> {
    let ok = !value.is_empty()
        && value.len() <= 63
        && value
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(value.to_owned())
    } else {
        Err("must be a plain SQL identifier (letters, digits, underscore)".into())
    }
}

/// A base URL must be absolute, so that links written with it work from anywhere. Empty
/// means unset (as n8n reads it), so `VAR=` in an env file is not an error.
fn parse_base_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(String::new());
    }
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') && !value.contains(['?', '#']) => {
            Ok(value.trim_end_matches('/').to_owned())
        }
        _ => Err(
            "must be an absolute http(s) URL without query, e.g. https://n8n.example.com".into(),
        ),
    }
}

/// A token endpoint must be an absolute http(s) URL.
fn parse_token_url(value: &str) -> Result<String, String> {
    let value = value.trim();
    match value.split_once("://") {
        Some(("http" | "https", rest)) if !rest.is_empty() && !rest.starts_with('/') => {
            Ok(value.to_owned())
        }
        _ => {
            Err("must be an absolute http(s) URL, e.g. https://oauth2.googleapis.com/token".into())
        }
    }
}

/// Prometheus metric names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; the prefix starts every one.
fn parse_metrics_prefix(value: &str) -> Result<String, String> {
    let ok = value
        .chars()
        .next()
        .is_none_or(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':');
    if ok {
        Ok(value.to_owned())
    } else {
        Err("must be letters, digits, '_' or ':' (and not start with a digit)".into())
    }
}

impl Config {
    /// The configuration a test or an embedding program starts from: every default, with the
    /// data kept in `data_folder`.
    pub fn for_data_folder(data_folder: &Path) -> Config {
        use clap::{Command, FromArgMatches};
        let matches = Config::augment_args(Command::new("flowgate"))
            .no_binary_name(true)
            .try_get_matches_from(Vec::<String>::new())
            .expect("defaults parse");
        let mut config = Config::from_arg_matches(&matches).expect("defaults parse");
        config.user_folder = Some(data_folder.to_path_buf());
        config
    }

    /// The folder that holds the instance's files: `<N8N_USER_FOLDER or home>/.n8n`.
    pub fn data_folder(&self) -> PathBuf {
        let base = self
            .user_folder
            .clone()
            .or_else(|| std::env::var_os("HOME").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join(".n8n")
    }

    /// The URL prefix of the public API, e.g. `/api/v1`.
    pub fn public_api_prefix(&self) -> String {
        format!("/{}/v1", self.public_api_endpoint.trim_matches('/'))
    }

    /// `N8N_PATH` normalised to `/segment` form, or `None` for the root.
    pub fn base_path(&self) -> Option<String> {
        let trimmed = self.path.trim_matches('/');
        (!trimmed.is_empty()).then(|| format!("/{trimmed}"))
    }

    /// The largest request body in bytes.
    pub fn payload_size_max_bytes(&self) -> usize {
        self.payload_size_max_mib as usize * 1024 * 1024
    }

    /// `N8N_EDITOR_BASE_URL` without its trailing slash, if set.
    fn public_editor_url(&self) -> Option<&str> {
        self.editor_base_url
            .as_deref()
            .map(|u| u.trim_end_matches('/'))
            .filter(|u| !u.is_empty())
    }

    /// The base URL of the editor for links the server writes.
    pub fn editor_base_url(&self) -> String {
        match self.public_editor_url() {
            Some(url) => url.to_owned(),
            None => {
                let host = match self.listen_address {
                    IpAddr::V4(v4) if v4.is_unspecified() => "localhost".to_owned(),
                    IpAddr::V6(v6) if v6.is_unspecified() => "localhost".to_owned(),
                    IpAddr::V6(v6) => format!("[{v6}]"),
                    IpAddr::V4(v4) => v4.to_string(),
                };
                format!(
                    "http://{host}:{}{}",
                    self.port,
                    self.base_path().unwrap_or_default()
                )
            }
        }
    }

    /// The base URL of webhook links: `WEBHOOK_URL`, else the editor base URL.
    pub fn webhook_base_url(&self) -> String {
        match self.webhook_url.as_deref().map(|u| u.trim_end_matches('/')) {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => self.editor_base_url(),
        }
    }

    /// The `servers` URL of the OpenAPI document: absolute when `N8N_EDITOR_BASE_URL` says
    /// where clients reach the server (`<editor base url><N8N_PATH>/api/v1`), else relative to
    /// the host the document was fetched from. A base URL that already ends in `N8N_PATH`
    /// (a common way to write it) does not get the path twice.
    pub fn public_api_server_url(&self) -> String {
        let base_path = self.base_path().unwrap_or_default();
        let prefix = self.public_api_prefix();
        match self.public_editor_url() {
            Some(url) if !base_path.is_empty() && url.ends_with(&base_path) => {
                format!("{url}{prefix}")
            }
            Some(url) => format!("{url}{base_path}{prefix}"),
            None => format!("{base_path}{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::for_data_folder(Path::new("."))
    }

    #[test]
    fn the_openapi_server_is_relative_until_the_public_url_is_known() {
        let mut config = config();
        assert_eq!(config.public_api_server_url(), "/api/v1");
        config.path = "/n8n/".into();
        assert_eq!(config.public_api_server_url(), "/n8n/api/v1");

        config.editor_base_url = Some("https://flows.example.com/".into());
        assert_eq!(
            config.public_api_server_url(),
            "https://flows.example.com/n8n/api/v1"
        );
        config.editor_base_url = Some("https://flows.example.com/n8n".into());
        assert_eq!(
            config.public_api_server_url(),
            "https://flows.example.com/n8n/api/v1"
        );
        config.editor_base_url = Some(String::new());
        assert_eq!(config.public_api_server_url(), "/n8n/api/v1");
    }

    #[test]
    fn webhook_links_follow_the_editor_url_unless_webhook_url_is_set() {
        let mut config = config();
        config.editor_base_url = Some("https://flows.example.com".into());
        assert_eq!(config.webhook_base_url(), "https://flows.example.com");
        config.webhook_url = Some("https://hooks.example.com/".into());
        assert_eq!(config.webhook_base_url(), "https://hooks.example.com");
    }

    #[test]
    fn base_urls_must_be_absolute() {
        assert_eq!(
            parse_base_url("https://n8n.example.com/").as_deref(),
            Ok("https://n8n.example.com")
        );
        assert_eq!(parse_base_url("").as_deref(), Ok(""), "empty is unset");
        assert!(parse_base_url("n8n.example.com").is_err());
        assert!(parse_base_url("https:///path").is_err());
        assert!(parse_base_url("https://a.example.com/?x=1").is_err());
    }

    #[test]
    fn metric_prefixes_must_make_valid_metric_names() {
        assert!(parse_metrics_prefix("n8n_").is_ok());
        assert!(parse_metrics_prefix("").is_ok());
        assert!(parse_metrics_prefix("1n8n_").is_err());
        assert!(parse_metrics_prefix("n8n-").is_err());
    }
}
