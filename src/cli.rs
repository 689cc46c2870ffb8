//! The command line: `start` (the default) runs the server; `owner` and `api-key` set up an
//! instance headlessly (docker, scripts) through the same rules as the HTTP endpoints;
//! `export` and `import` move an instance's data (see [`crate::backup`]); `healthcheck`
//! probes a running server (a container's health check, without curl).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::app::{self, AppState};
use crate::auth::{Role, Scope};
use crate::backup;
use crate::config::Config;
use crate::db::{api_keys, users, Db};
use crate::domain::api_key::redact;
use crate::domain::time::now_unix;
use crate::service;

/// What `--version` prints after the name: the package version and the git revision.
const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("FLOWGATE_GIT_REVISION"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "flowgate",
    version = LONG_VERSION,
    about = "An n8n-compatible public API server",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (what runs when no command is given).
    Start,
    /// Run queued executions only (EXECUTIONS_MODE=queue): no API, no webhooks, no
    /// schedules; as many at once as N8N_CONCURRENCY_PRODUCTION_LIMIT (--concurrency, 10 by
    /// default).
    Worker,
    /// Set up the instance owner.
    #[command(subcommand)]
    Owner(OwnerCommand),
    /// Create, list and revoke API keys.
    #[command(subcommand, name = "api-key")]
    ApiKey(ApiKeyCommand),
    /// Maintain stored credentials.
    #[command(subcommand)]
    Credentials(CredentialsCommand),
    /// Write all the instance's data to one JSON file (secrets stay encrypted), to back it up
    /// or to move it to another database with `flowgate import`.
    Export {
        /// The file to write (replaced once the new one is complete; created with mode 0600).
        #[arg(long)]
        output: PathBuf,
    },
    /// Restore a `flowgate export` file into an empty database (SQLite or PostgreSQL, either
    /// way), with the exporting instance's N8N_ENCRYPTION_KEY; or, with `import n8n`, import
    /// n8n's export files.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Import {
        /// The export file.
        #[arg(long, required = true)]
        input: Option<PathBuf>,
        #[command(subcommand)]
        from: Option<ImportCommand>,
    },
    /// Exit 0 when the server on N8N_LISTEN_ADDRESS:N8N_PORT answers `/healthz` with 200
    /// (loopback when it listens on every address); for container health checks.
    Healthcheck,
    /// List the node types (and type versions) the engine runs; a workflow using any other is
    /// refused at publish.
    Nodes,
}

#[derive(Subcommand)]
pub enum CredentialsCommand {
    /// Re-encrypt every credential with N8N_ENCRYPTION_KEY after a key rotation (the old key
    /// must be listed in N8N_ENCRYPTION_KEYS_PREVIOUS); afterwards the old key can be retired.
    #[command(name = "re-encrypt")]
    Reencrypt,
}

#[derive(Subcommand)]
pub enum ImportCommand {
    /// Import workflows and credentials from n8n's export files into a project (the owner's
    /// personal project by default).
    #[command(group(clap::ArgGroup::new("files").required(true).multiple(true).args(["workflows", "credentials"])))]
    N8n {
        /// Output of `n8n export:workflow --all --output=<file>` (or a folder of `--separate`).
        #[arg(long)]
        workflows: Option<PathBuf>,
        /// Output of `n8n export:credentials --all --decrypted --output=<file>`.
        #[arg(long)]
        credentials: Option<PathBuf>,
        /// The id of the receiving project.
        #[arg(long)]
        project: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum OwnerCommand {
    /// Create the owner account. The password is read from N8N_OWNER_PASSWORD or, with
    /// --password-stdin, from the first line of standard input (never from an argument, which
    /// other users of the machine could read).
    Setup {
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand)]
pub enum ApiKeyCommand {
    /// Create a key and print it (once) on standard output.
    Create {
        /// Email of the key's owner; defaults to the instance owner.
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        label: String,
        /// `all` (every scope the user's role allows) or a comma-separated list such as
        /// `workflow:read,workflow:list`.
        #[arg(long, default_value = "all")]
        scopes: String,
        /// Days until the key expires; without it (and without --expires-at) it never expires.
        #[arg(long, conflicts_with = "expires_at")]
        expires_in_days: Option<u32>,
        /// Expiry as Unix seconds.
        #[arg(long)]
        expires_at: Option<i64>,
    },
    /// List keys (never their secrets).
    List {
        /// Only this user's keys (email).
        #[arg(long)]
        user: Option<String>,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke { id: String },
}

/// Parses the command line; a bad setting stops with one line naming it.
pub fn parse() -> Cli {
    match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                e.exit();
            }
            let text = e.to_string();
            let first = text
                .lines()
                .next()
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("flowgate: {first}");
            std::process::exit(2);
        }
    }
}

/// Opens and migrates the database and builds the state.
async fn open(config: Config) -> anyhow::Result<AppState> {
    let db = open_database(&config).await?;
    let sqlite_file = sqlite_file(&config);
    AppState::new(config, db)
        .await
        .map_err(|e| explain_read_only(e, sqlite_file.as_deref()))
}

/// Opens and migrates the database only (for commands that need no key).
async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(config)
        .await
        .map_err(|e| explain_read_only(e, sqlite_file(config).as_deref()))?;
    if let Err(e) = db.migrate().await {
        return Err(explain_read_only(
            explain_migration_failure(e),
            sqlite_file(config).as_deref(),
        ));
    }
    Ok(db)
}

/// The SQLite file the configuration names, when it names one.
fn sqlite_file(config: &Config) -> Option<std::path::PathBuf> {
    let postgres = config
        .database_url
        .as_deref()
        .is_some_and(|u| u.starts_with("postgres"))
        || (config.database_url.is_none() && config.db_type == crate::config::DbType::Postgresdb);
    (!postgres).then(|| {
        config
            .sqlite_database
            .clone()
            .unwrap_or_else(|| config.data_folder().join("flowgate.sqlite"))
    })
}

/// A read-only SQLite file or folder fails at the first write of start-up, wherever that
/// is; says so in words an operator can act on.
fn explain_read_only(error: anyhow::Error, file: Option<&std::path::Path>) -> anyhow::Error {
    let read_only = error.chain().any(|cause| {
        cause
            .downcast_ref::<sqlx::Error>()
            .and_then(|e| e.as_database_error())
            .and_then(|d| d.code())
            .and_then(|c| c.parse::<u32>().ok())
            .is_some_and(|code| code & 0xff == 8)
    });
    match (read_only, file) {
        (true, Some(file)) => anyhow::anyhow!(
            "the SQLite database {} is read-only: flowgate must be able to write to it, to the -wal and -shm files beside it and to its folder",
            file.display()
        ),
        _ => error,
    }
}

/// Words the migration failures an operator can act on as one line that says what to do.
/// A database that holds a migration this binary does not know was upgraded by a newer
/// version: running this one against it could corrupt data written in the new shape, so
/// nothing is applied and the server does not start.
fn explain_migration_failure(error: anyhow::Error) -> anyhow::Error {
    use sqlx::migrate::MigrateError;
    match error.downcast_ref::<MigrateError>() {
        Some(MigrateError::VersionMissing(version)) => anyhow::anyhow!(
            "the database was migrated by a newer version of flowgate (it has migration {version}, unknown to flowgate {}); run that newer version, or restore the backup taken before upgrading",
            crate::VERSION
        ),
        Some(MigrateError::VersionMismatch(version)) => anyhow::anyhow!(
            "migration {version} in the database differs from the one in flowgate {}; the database was set up by another build",
            crate::VERSION
        ),
        Some(MigrateError::Dirty(version)) => anyhow::anyhow!(
            "migration {version} failed half-way in an earlier run; repair the database before starting"
        ),
        _ => error.context("database migration failed"),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Start) {
        // The probe must not open (let alone migrate) the database.
        Command::Healthcheck => healthcheck(&cli.config).await,
        Command::Nodes => {
            print!("{}", crate::engine::nodes::Registry::builtin().describe());
            Ok(())
        }
        Command::Start => app::serve(open(cli.config).await?).await,
        Command::Worker => {
            if !cli.config.engine.queue_mode() {
                bail!("flowgate worker runs queued executions: set EXECUTIONS_MODE=queue (on every instance and worker)");
            }
            if cli.config.engine.concurrency == 0 {
                bail!("a worker with N8N_CONCURRENCY_PRODUCTION_LIMIT=0 would run nothing");
            }
            app::serve_worker(open(cli.config).await?).await
        }
        Command::Owner(OwnerCommand::Setup {
            email,
            first_name,
            last_name,
            password_stdin,
        }) => {
            let password = read_password(password_stdin)?;
            let state = open(cli.config).await?;
            let owner = service::owner::setup(
                &state,
                service::owner::OwnerSetup {
                    email,
                    first_name,
                    last_name,
                    password,
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!(e.client_message()))?;
            eprintln!("owner {} created", owner.email);
            Ok(())
        }
        Command::ApiKey(command) => api_key(&open(cli.config).await?, command).await,
        Command::Export { output } => {
            let db = open_database(&cli.config).await?;
            let summary = backup::export::export(&db, &output).await?;
            println!("exported {summary} to {}", output.display());
            Ok(())
        }
        Command::Import {
            from:
                Some(ImportCommand::N8n {
                    workflows,
                    credentials,
                    project,
                }),
            ..
        } => {
            let state = open(cli.config).await?;
            let summary = backup::import_n8n::import(
                &state,
                &backup::import_n8n::Options {
                    workflows: workflows.as_deref(),
                    credentials: credentials.as_deref(),
                    project_id: project.as_deref(),
                },
            )
            .await?;
            for note in summary.notes() {
                eprintln!("{note}");
            }
            println!("{}", summary.line());
            Ok(())
        }
        Command::Import { input, from: None } => {
            let input = input.context("give the export file with --input")?;
            // The whole file is checked before the database is opened (or created).
            let document = backup::import::read(&input)?;
            // And against the key, before anything is written.
            document.check_keys(&backup::import::key_ring(&cli.config)?)?;
            let db = open_database(&cli.config).await?;
            let summary = backup::import::import(&db, document).await?;
            println!("imported {summary} from {}", input.display());
            Ok(())
        }
        Command::Credentials(CredentialsCommand::Reencrypt) => {
            let state = open(cli.config).await?;
            let count = crate::instance::reencrypt(&state.db, &state.keys).await?;
            if let Some(key) = &state.config.encryption_key {
                crate::crypto::record_rotated_key(&state.config, key)?;
            }
            eprintln!(
                "{count} credential(s) re-encrypted with key {}",
                state.keys.primary_id()
            );
            Ok(())
        }
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            eprint!("password: ");
        }
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    match std::env::var("N8N_OWNER_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => bail!(
            "give the password in N8N_OWNER_PASSWORD or on standard input with --password-stdin"
        ),
    }
}

async fn find_user(state: &AppState, email: Option<&str>) -> anyhow::Result<users::UserRow> {
    let mut conn = state.db.acquire().await?;
    let user = match email {
        Some(email) => users::find_by_email(conn.conn(), &email.trim().to_lowercase()).await?,
        None => users::find_owner(conn.conn()).await?,
    };
    match (user, email) {
        (Some(u), _) => Ok(u),
        (None, Some(e)) => bail!("no user with email {e}"),
        (None, None) => bail!("the owner is not set up yet (run `flowgate owner setup` first)"),
    }
}

async fn api_key(state: &AppState, command: ApiKeyCommand) -> anyhow::Result<()> {
    match command {
        ApiKeyCommand::Create {
            user,
            label,
            scopes,
            expires_in_days,
            expires_at,
        } => {
            let user = find_user(state, user.as_deref()).await?;
            let role = Role::parse(&user.role).context("the user has an unknown role")?;
            let scopes: Vec<String> = if scopes.trim() == "all" {
                role.allowed_scopes()
                    .names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            } else {
                scopes
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            };
            if let Some(unknown) = scopes.iter().find(|s| Scope::parse(s).is_none()) {
                bail!("unknown scope {unknown}");
            }
            let expires_at =
                expires_at.or(expires_in_days.map(|d| now_unix() + i64::from(d) * 86_400));
            let key = service::api_keys::create(state, &user.id, role, &label, &scopes, expires_at)
                .await
                .map_err(|e| anyhow::anyhow!(e.client_message()))?;
            eprintln!(
                "created key {} ({}) for {} with {} scopes",
                key.id,
                key.label,
                user.email,
                key.scopes.len()
            );
            println!("{}", key.raw_api_key.unwrap_or_default());
            Ok(())
        }
        ApiKeyCommand::List { user } => {
            let owner = match &user {
                Some(email) => Some(find_user(state, Some(email)).await?.id),
                None => None,
            };
            let owners = owner.map(|id| vec![id]);
            let filter = api_keys::ListFilter {
                owner_ids: owners.as_deref(),
                label: None,
                sort: api_keys::SortBy::CreatedAt,
                descending: false,
                skip: 0,
                take: i64::MAX,
            };
            let mut conn = state.db.acquire().await?;
            println!(
                "{:<16}  {:<24}  {:<28}  {:>6}  {:<10}  {:<10}  last used",
                "id", "label", "owner", "scopes", "key", "expires"
            );
            for row in api_keys::list(conn.conn(), &filter).await? {
                let expires = row.key.expires_at.map_or("never".to_owned(), |t| {
                    if t <= now_unix() {
                        "expired".to_owned()
                    } else {
                        chrono::DateTime::from_timestamp(t, 0)
                            .map_or(t.to_string(), |d| d.format("%Y-%m-%d").to_string())
                    }
                });
                println!(
                    "{:<16}  {:<24}  {:<28}  {:>6}  {:<10}  {:<10}  {}",
                    row.key.id,
                    row.key.label,
                    row.owner_email,
                    crate::auth::ScopeSet::from_json(&row.key.scopes).len(),
                    redact(&row.key.key_hint),
                    expires,
                    row.key.last_used_at.as_deref().unwrap_or("never"),
                );
            }
            Ok(())
        }
        ApiKeyCommand::Revoke { id } => {
            let mut tx = state.db.begin().await?;
            let deleted = api_keys::delete(tx.conn(), &id).await?;
            tx.commit().await?;
            if !deleted {
                bail!("no API key with id {id}");
            }
            eprintln!("key {id} revoked");
            Ok(())
        }
    }
}

/// `GET /healthz` over a plain TCP connection: the image needs no HTTP client binary.
async fn healthcheck(config: &Config) -> anyhow::Result<()> {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let host = match config.listen_address {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    };
    let address = SocketAddr::new(host, config.port);
    let probe = async {
        let mut stream = tokio::net::TcpStream::connect(address).await?;
        stream
            .write_all(
                format!("GET /healthz HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
        let mut head = Vec::new();
        stream.take(4096).read_to_end(&mut head).await?;
        Ok::<_, std::io::Error>(head)
    };
    let head = tokio::time::timeout(std::time::Duration::from_secs(5), probe)
        .await
        .with_context(|| format!("no answer from http://{address}/healthz within 5 s"))?
        .with_context(|| format!("cannot reach http://{address}/healthz"))?;
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        bail!("http://{address}/healthz answered {status_line:?}")
    }
}
