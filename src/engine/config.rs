//! The engine's settings, with n8n's environment variable names and defaults.

use clap::builder::BoolishValueParser;
use clap::{ArgAction, Args, ValueEnum};

/// What to keep of finished executions (`all` or `none`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SaveData {
    All,
    None,
}

/// How executions are run. Only n8n's `regular` mode is built: the instance that receives a
/// trigger runs the execution. `queue` (a queue in the database, workers) is refused at
/// start rather than accepted and ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionsMode {
    Regular,
}

fn parse_executions_mode(value: &str) -> Result<ExecutionsMode, String> {
    match value {
        "regular" => Ok(ExecutionsMode::Regular),
        "queue" => Err(
            "queue mode is not built yet: every instance runs the executions it starts \
             (several instances may share one PostgreSQL database; each webhook is answered by \
             the instance that receives it and each schedule fires on one instance)"
                .to_owned(),
        ),
        other => Err(format!(
            "unknown executions mode \"{other}\" (expected: regular)"
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
