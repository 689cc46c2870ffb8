//! The engine's settings, with n8n's environment variable names and defaults.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, ValueEnum};

/// What to keep of finished executions (`all` or `none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SaveData {
    All,
    None,
}

/// How executions are run (`EXECUTIONS_MODE`). `regular`: the instance that receives a trigger
/// runs the execution. `queue`: the receiving instance queues it in the database and any
/// instance or `flowgate worker` with a free slot runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionsMode {
    Regular,
    Queue,
}

fn parse_executions_mode(value: &str) -> Result<ExecutionsMode, String> {
    match value {
        "regular" => Ok(ExecutionsMode::Regular),
        "queue" => Ok(ExecutionsMode::Queue),
        other => Err(format!(
            "unknown executions mode \"{other}\" (expected: regular or queue)"
        )),
    }
}

/// Where binary data is kept (`N8N_DEFAULT_BINARY_DATA_MODE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryDataMode {
    /// Inside the execution data, as base64 (n8n 1.x's in-memory mode).
    Default,
    Filesystem,
    Database,
}

fn parse_binary_mode(value: &str) -> Result<BinaryDataMode, String> {
    match value {
        "default" => Ok(BinaryDataMode::Default),
        "filesystem" => Ok(BinaryDataMode::Filesystem),
        "database" => Ok(BinaryDataMode::Database),
        "s3" => Err("s3 is not supported by this server (use filesystem or database)".to_owned()),
        other => Err(format!(
            "unknown binary data mode \"{other}\" (expected: filesystem, database or default)"
        )),
    }
}

#[derive(Clone, Debug, Args)]
pub struct EngineConfig {
    /// The instance's time zone (IANA name), used by schedules, dates and `$now` unless a
    /// workflow sets its own.
    #[arg(long = "timezone", env = "GENERIC_TIMEZONE", value_name = "GENERIC_TIMEZONE",
          default_value = "America/New_York", value_parser = parse_timezone, global = true)]
    pub timezone: String,

    /// Seconds an execution may run before it is stopped (-1: no limit unless the workflow
    /// sets one).
    #[arg(long = "executions-timeout", env = "EXECUTIONS_TIMEOUT", value_name = "EXECUTIONS_TIMEOUT",
          default_value_t = -1, allow_negative_numbers = true, global = true)]
    pub timeout_secs: i64,

    /// The largest execution timeout a workflow may set, in seconds.
    #[arg(
        long = "executions-timeout-max",
        env = "EXECUTIONS_TIMEOUT_MAX",
        value_name = "EXECUTIONS_TIMEOUT_MAX",
        default_value_t = 3600,
        global = true
    )]
    pub timeout_max_secs: i64,

    /// Keep failed executions (`all`) or not (`none`), unless a workflow says otherwise.
    #[arg(
        long = "executions-save-on-error",
        env = "EXECUTIONS_DATA_SAVE_ON_ERROR",
        value_name = "EXECUTIONS_DATA_SAVE_ON_ERROR",
        default_value = "all",
        global = true
    )]
    pub save_on_error: SaveData,

    /// Keep successful executions (`all`) or not (`none`), unless a workflow says otherwise.
    #[arg(
        long = "executions-save-on-success",
        env = "EXECUTIONS_DATA_SAVE_ON_SUCCESS",
        value_name = "EXECUTIONS_DATA_SAVE_ON_SUCCESS",
        default_value = "all",
        global = true
    )]
    pub save_on_success: SaveData,

    /// Save the run data after every node, so a crashed execution shows how far it got.
    #[arg(long = "executions-save-on-progress", env = "EXECUTIONS_DATA_SAVE_ON_PROGRESS",
          value_name = "EXECUTIONS_DATA_SAVE_ON_PROGRESS", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub save_on_progress: bool,

    /// Keep executions started by hand.
    #[arg(long = "executions-save-manual", env = "EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS",
          value_name = "EXECUTIONS_DATA_SAVE_MANUAL_EXECUTIONS", default_value = "true",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub save_manual: bool,

    /// Delete old finished executions.
    #[arg(long = "executions-prune", env = "EXECUTIONS_DATA_PRUNE", value_name = "EXECUTIONS_DATA_PRUNE",
          default_value = "true", value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub prune: bool,

    /// Hours a finished execution is kept when pruning.
    #[arg(
        long = "executions-max-age",
        env = "EXECUTIONS_DATA_MAX_AGE",
        value_name = "EXECUTIONS_DATA_MAX_AGE",
        default_value_t = 336,
        global = true
    )]
    pub prune_max_age_hours: u64,

    /// How many finished executions are kept when pruning (0: no count limit).
    #[arg(
        long = "executions-prune-max-count",
        env = "EXECUTIONS_DATA_PRUNE_MAX_COUNT",
        value_name = "EXECUTIONS_DATA_PRUNE_MAX_COUNT",
        default_value_t = 10_000,
        global = true
    )]
    pub prune_max_count: u64,

    /// Production executions that may run at once on this instance (-1: no limit); the rest
    /// wait in the queue.
    #[arg(long = "concurrency", env = "N8N_CONCURRENCY_PRODUCTION_LIMIT",
          value_name = "N8N_CONCURRENCY_PRODUCTION_LIMIT", default_value_t = -1,
          allow_negative_numbers = true, global = true)]
    pub concurrency: i64,

    /// Refuse `$env` in expressions and Code nodes (n8n's default); `false` allows it.
    #[arg(long = "block-env-access-in-node", env = "N8N_BLOCK_ENV_ACCESS_IN_NODE",
          value_name = "N8N_BLOCK_ENV_ACCESS_IN_NODE", default_value = "true",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub block_env_access: bool,

    /// Seconds a Code node may run before it is stopped (n8n's task runner timeout).
    #[arg(long = "runners-task-timeout", env = "N8N_RUNNERS_TASK_TIMEOUT",
          value_name = "N8N_RUNNERS_TASK_TIMEOUT", default_value_t = 300,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub code_timeout_secs: u64,

    /// Megabytes of memory the JavaScript of one Code node run may hold (n8n leaves this to
    /// the runner process's heap; here each run has its own cap).
    #[arg(long = "runners-max-memory", env = "N8N_RUNNERS_MAX_OLD_SPACE_SIZE",
          value_name = "N8N_RUNNERS_MAX_OLD_SPACE_SIZE", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(16..=16384), global = true)]
    pub code_memory_mb: u64,

    /// URL segment of production webhooks.
    #[arg(long = "endpoint-webhook", env = "N8N_ENDPOINT_WEBHOOK", value_name = "N8N_ENDPOINT_WEBHOOK",
          default_value = "webhook", value_parser = parse_segment, global = true)]
    pub endpoint_webhook: String,

    /// URL segment of test webhooks.
    #[arg(long = "endpoint-webhook-test", env = "N8N_ENDPOINT_WEBHOOK_TEST",
          value_name = "N8N_ENDPOINT_WEBHOOK_TEST", default_value = "webhook-test",
          value_parser = parse_segment, global = true)]
    pub endpoint_webhook_test: String,

    /// URL segment that resumes waiting executions.
    #[arg(long = "endpoint-webhook-wait", env = "N8N_ENDPOINT_WEBHOOK_WAIT",
          value_name = "N8N_ENDPOINT_WEBHOOK_WAIT", default_value = "webhook-waiting",
          value_parser = parse_segment, global = true)]
    pub endpoint_webhook_wait: String,

    /// `regular`: the instance that receives a trigger runs the execution; `queue`: executions
    /// are queued in the database and run by any instance or worker.
    #[arg(
        long = "executions-mode",
        env = "EXECUTIONS_MODE",
        value_name = "EXECUTIONS_MODE",
        default_value = "regular",
        value_parser = parse_executions_mode,
        global = true
    )]
    pub mode: ExecutionsMode,

    /// Milliseconds a claim on an execution holds without a heartbeat; an execution whose
    /// instance stopped renewing it is marked crashed once it ran out.
    #[arg(long = "queue-lock-duration", env = "QUEUE_WORKER_LOCK_DURATION",
          value_name = "QUEUE_WORKER_LOCK_DURATION", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(500..), global = true)]
    pub lock_duration_ms: u64,

    /// Milliseconds between heartbeats renewing the claims of this instance's executions
    /// (must be well under QUEUE_WORKER_LOCK_DURATION).
    #[arg(long = "queue-lock-renew-time", env = "QUEUE_WORKER_LOCK_RENEW_TIME",
          value_name = "QUEUE_WORKER_LOCK_RENEW_TIME", default_value_t = 15_000,
          value_parser = clap::value_parser!(u64).range(100..), global = true)]
    pub lock_renew_ms: u64,

    /// Milliseconds between checks for executions whose claim ran out.
    #[arg(long = "queue-stalled-interval", env = "QUEUE_WORKER_STALLED_INTERVAL",
          value_name = "QUEUE_WORKER_STALLED_INTERVAL", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..), global = true)]
    pub stalled_interval_ms: u64,

    /// Queue mode: the most executions waiting in the queue; past it, webhooks answer 503
    /// with `Retry-After` (0: no limit).
    #[arg(
        long = "queue-limit",
        env = "N8N_EXECUTIONS_QUEUE_LIMIT",
        value_name = "N8N_EXECUTIONS_QUEUE_LIMIT",
        default_value_t = 10_000,
        global = true
    )]
    pub queue_limit: u64,

    /// Seconds the leadership (firing schedules, pruning) holds without renewal: how long
    /// schedules pause when the leading instance dies.
    #[arg(long = "leader-key-ttl", env = "N8N_MULTI_MAIN_SETUP_KEY_TTL",
          value_name = "N8N_MULTI_MAIN_SETUP_KEY_TTL", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub leader_ttl_secs: u64,

    /// Seconds between renewals of the leadership (and checks for a free one).
    #[arg(long = "leader-check-interval", env = "N8N_MULTI_MAIN_SETUP_CHECK_INTERVAL",
          value_name = "N8N_MULTI_MAIN_SETUP_CHECK_INTERVAL", default_value_t = 3,
          value_parser = clap::value_parser!(u64).range(1..), global = true)]
    pub leader_check_secs: u64,

    /// `flowgate worker`: serve `/healthz`, `/healthz/readiness` (and `/metrics` with
    /// N8N_METRICS) on QUEUE_HEALTH_CHECK_PORT.
    #[arg(long = "queue-health-check-active", env = "QUEUE_HEALTH_CHECK_ACTIVE",
          value_name = "QUEUE_HEALTH_CHECK_ACTIVE", default_value = "false",
          value_parser = BoolishValueParser::new(), action = ArgAction::Set, global = true)]
    pub worker_health: bool,

    /// Seconds a stopping worker waits for its running executions to end before it stops
    /// them (they are then recorded as canceled).
    #[arg(
        long = "graceful-shutdown-timeout",
        env = "N8N_GRACEFUL_SHUTDOWN_TIMEOUT",
        value_name = "N8N_GRACEFUL_SHUTDOWN_TIMEOUT",
        default_value_t = 30,
        global = true
    )]
    pub graceful_shutdown_secs: u64,

    /// Where binary data of executions is kept: `filesystem` (files under
    /// N8N_BINARY_DATA_STORAGE_PATH), `database` (a table), or `default` (inside the execution
    /// data, base64). Unset: `filesystem` in regular mode, `database` in queue mode (n8n 2.x).
    #[arg(long = "binary-data-mode", env = "N8N_DEFAULT_BINARY_DATA_MODE",
          value_name = "N8N_DEFAULT_BINARY_DATA_MODE", value_parser = parse_binary_mode, global = true)]
    pub binary_data_mode: Option<BinaryDataMode>,

    /// The folder of binary data in `filesystem` mode (default: `binaryData` in the data
    /// folder). Instances sharing a database must share this folder too, or use `database`.
    #[arg(
        long = "binary-data-storage-path",
        env = "N8N_BINARY_DATA_STORAGE_PATH",
        value_name = "N8N_BINARY_DATA_STORAGE_PATH",
        global = true
    )]
    pub binary_data_storage_path: Option<std::path::PathBuf>,

    /// The largest binary file, in MiB, kept in `database` mode (at most 1024: PostgreSQL's
    /// `bytea` limit).
    #[arg(long = "binary-data-database-max-file-size", env = "N8N_BINARY_DATA_DATABASE_MAX_FILE_SIZE",
          value_name = "N8N_BINARY_DATA_DATABASE_MAX_FILE_SIZE", default_value_t = 512,
          value_parser = clap::value_parser!(u64).range(1..=1024), global = true)]
    pub binary_data_db_max_file_size_mib: u64,

    /// Largest total size, in MiB, of the files of one `multipart/form-data` upload to a
    /// webhook. n8n parses those bodies apart from the others: they are not bounded by
    /// `N8N_PAYLOAD_SIZE_MAX`, only their other fields are.
    #[arg(long = "formdata-file-size-max", env = "N8N_FORMDATA_FILE_SIZE_MAX", value_name = "N8N_FORMDATA_FILE_SIZE_MAX",
          default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=16384), global = true)]
    pub formdata_file_size_max_mib: u32,

    /// The port of a worker's health and metrics server.
    #[arg(
        long = "queue-health-check-port",
        env = "QUEUE_HEALTH_CHECK_PORT",
        value_name = "QUEUE_HEALTH_CHECK_PORT",
        default_value_t = 5678,
        global = true
    )]
    pub worker_health_port: u16,
}

impl EngineConfig {
    /// The largest total of files in one multipart upload to a webhook, in bytes.
    pub fn formdata_file_size_max_bytes(&self) -> usize {
        self.formdata_file_size_max_mib as usize * 1024 * 1024
    }

    pub fn lock_duration(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.lock_duration_ms)
    }

    pub fn lock_renew(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.lock_renew_ms.min(self.lock_duration_ms / 2))
    }

    pub fn stalled_interval(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.stalled_interval_ms)
    }

    pub fn leader_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.leader_ttl_secs)
    }

    /// Renewal more often than the lease lasts, whatever the two settings say.
    pub fn leader_check(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.leader_check_secs)
            .min(self.leader_ttl() / 2)
            .max(std::time::Duration::from_millis(200))
    }

    pub fn queue_mode(&self) -> bool {
        self.mode == ExecutionsMode::Queue
    }

    /// N8N_DEFAULT_BINARY_DATA_MODE, or n8n 2.x's default for the executions mode.
    pub fn binary_mode(&self) -> BinaryDataMode {
        self.binary_data_mode.unwrap_or(if self.queue_mode() {
            BinaryDataMode::Database
        } else {
            BinaryDataMode::Filesystem
        })
    }
}

fn parse_timezone(value: &str) -> Result<String, String> {
    value
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| "must be an IANA time zone name, e.g. Europe/Berlin".to_owned())
}

fn parse_segment(value: &str) -> Result<String, String> {
    let trimmed = value.trim_matches('/');
    if !trimmed.is_empty()
        && trimmed
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
    {
        Ok(trimmed.to_owned())
    } else {
        Err("must be a URL path segment of letters, digits, '-', '_' or '.'".to_owned())
    }
}
