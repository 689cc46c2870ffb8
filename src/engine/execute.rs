//! One execution from start to record: the row is written before the run starts (so a crash
//! leaves a trace that start-up marks `crashed`), the run goes through the run loop inside the
//! workflow's time limit, and the end is recorded by n8n's saving rules (kept, or deleted when
//! the workflow says not to keep such runs). Also the background work: resuming waiting
//! executions, marking crashed ones, pruning.

mod background;
mod manual;
mod metrics;
mod queue;
mod record;
mod retry;
mod run_services;

pub(crate) use background::{spawn_background, Role};
pub use queue::{Tick, QUEUE_FULL};

pub use retry::RetryRefusal;
use run_services::RunServices;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::data::{Connections, ExecutionStatus, Item, JsonObject, RunExecutionData};
use super::node::NodeError;
use super::nodes::ERROR_TRIGGER;
use super::run::{Run, RunEnv};
use super::services::{Services, SubWorkflowCall, WebhookResponse};
use super::workflow::Workflow;
use super::Engine;
use crate::db::executions::{self as repo, Finished, NewRun};
use crate::domain::time::now_iso;
use crate::error::ApiError;
use crate::expression::ExecutionInfo;

/// How an execution was started (n8n's execution modes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Webhook,
    Trigger,
    Manual,
    Retry,
    Error,
    Integrated,
}

impl Mode {
    pub const ALL: [Mode; 6] = [
        Mode::Webhook,
        Mode::Trigger,
        Mode::Manual,
        Mode::Retry,
        Mode::Error,
        Mode::Integrated,
    ];

    fn slot(self) -> usize {
        Mode::ALL.iter().position(|m| *m == self).unwrap_or(0)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Webhook => "webhook",
            Mode::Trigger => "trigger",
            Mode::Manual => "manual",
            Mode::Retry => "retry",
            Mode::Error => "error",
            Mode::Integrated => "integrated",
        }
    }

    /// Production runs count against the concurrency limit (as in n8n).
    fn is_production(self) -> bool {
        matches!(self, Mode::Webhook | Mode::Trigger)
    }
}

/// What starts a run.
pub struct Start {
    pub mode: Mode,
    /// The node the run starts from, and its input.
    pub node: String,
    pub input: Connections,
    /// Where a Respond to Webhook node sends its answer.
    pub respond: Option<oneshot::Sender<WebhookResponse>>,
}

/// An execution that ended (or paused).
pub struct Ended {
    /// `None` when the saving rules dropped the record.
    pub id: i64,
    pub status: ExecutionStatus,
    pub data: RunExecutionData,
}

/// Executions started and finished by mode and status, run times, and how many wait for a
/// slot, for `/metrics`.
#[derive(Default)]
pub struct Counters {
    pub started: [AtomicU64; Mode::ALL.len()],
    /// `ended[mode][status]` over [`ENDED_STATUSES`].
    pub ended: [[AtomicU64; ENDED_STATUSES.len()]; Mode::ALL.len()],
    pub duration: crate::metrics::Histogram,
    pub queued: std::sync::atomic::AtomicI64,
    /// Queue mode: executions this instance put in the queue, claimed from it, and refused
    /// because it was full; the queue's depth when last counted; time from enqueue to claim.
    pub enqueued: AtomicU64,
    pub claimed: AtomicU64,
    pub refused: AtomicU64,
    pub queue_depth: std::sync::atomic::AtomicI64,
    pub claim_latency: crate::metrics::Histogram,
}

/// The statuses a run ends (or pauses) with.
pub const ENDED_STATUSES: [ExecutionStatus; 5] = [
    ExecutionStatus::Success,
    ExecutionStatus::Error,
    ExecutionStatus::Canceled,
    ExecutionStatus::Crashed,
    ExecutionStatus::Waiting,
];

/// n8n's date for "wait until resumed by webhook".
pub const WAIT_INDEFINITELY: &str = "3000-01-01T00:00:00.000Z";

impl Engine {
    /// Runs a new execution of `workflow` to its end or its first wait, and records it.
    pub async fn run(&self, workflow: Arc<Workflow>, start: Start) -> Result<Ended, ApiError> {
        self.run_tick(workflow, start, None)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("the execution did not start")))
    }

    /// As [`Engine::run`]; with a schedule `tick`, the tick is recorded in the transaction
    /// that creates the execution, and nothing runs (`None`) when it had fired already.
    pub(crate) async fn run_tick(
        &self,
        workflow: Arc<Workflow>,
        start: Start,
        tick: Option<&Tick>,
    ) -> Result<Option<Ended>, ApiError> {
        let Some(node) = workflow.node(&start.node).cloned() else {
            return Err(ApiError::bad_request(format!(
                "The node \"{}\" is not in the workflow",
                start.node
            )));
        };
        let mode = start.mode;
        // Beyond the concurrency limit the execution is recorded as `new` (n8n's queued
        // state) and starts when a slot frees up.
        let mut permit = self.try_slot(mode);
        let queued = permit.is_none() && self.limited(mode);
        let Some(id) = self
            .insert(
                &workflow,
                mode,
                None,
                if queued { "new" } else { "running" },
                tick,
            )
            .await?
        else {
            return Ok(None);
        };
        if queued {
            let counters = &self.inner().counters;
            counters.queued.fetch_add(1, Ordering::Relaxed);
            permit = self.slot(mode).await;
            counters.queued.fetch_sub(1, Ordering::Relaxed);
            let mut tx = self.inner().db.begin().await?;
            let claimed = repo::claim(
                tx.conn(),
                id,
                "new",
                &self.inner().instance,
                &now_iso(),
                &self.lease_until(),
            )
            .await?;
            tx.commit().await?;
            if !claimed {
                // Stopped or deleted while it waited.
                return Ok(Some(Ended {
                    id,
                    status: ExecutionStatus::Canceled,
                    data: RunExecutionData::default(),
                }));
            }
        }
        let env = self.env(&workflow, id, mode, start.respond);
        let mut run = Run::start(Arc::clone(&workflow), env, &node, start.input);
        let ended = self.drive(id, &mut run, mode, None).await;
        drop(permit);
        ended.map(Some)
    }

    /// When a claim made now runs out without a heartbeat.
    pub(crate) fn lease_until(&self) -> String {
        let lease = chrono::Duration::from_std(self.inner().config.lock_duration())
            .unwrap_or_else(|_| chrono::Duration::seconds(30));
        crate::domain::time::iso(chrono::Utc::now() + lease)
    }

    fn limited(&self, mode: Mode) -> bool {
        mode.is_production() && self.inner().slots.is_some()
    }

    fn try_slot(&self, mode: Mode) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slots = self.inner().slots.as_ref()?;
        if !mode.is_production() {
            return None;
        }
        Arc::clone(slots).try_acquire_owned().ok()
    }

    /// Waits for a free slot when the instance limits concurrent production runs.
    async fn slot(&self, mode: Mode) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let slots = self.inner().slots.as_ref()?;
        if !mode.is_production() {
            return None;
        }
        Arc::clone(slots).acquire_owned().await.ok()
    }

    /// Writes the row of a new execution this instance runs (with a tick, only when the tick
    /// had not fired yet: `None` otherwise).
    async fn insert(
        &self,
        workflow: &Workflow,
        mode: Mode,
        retry_of: Option<i64>,
        status: &str,
        tick: Option<&Tick>,
    ) -> Result<Option<i64>, ApiError> {
        let now = now_iso();
        let until = self.lease_until();
        let retry_of = retry_of.map(|r| r.to_string());
        let run = NewRun {
            workflow_id: &workflow.id,
            version_id: workflow.version_id.as_deref(),
            mode: mode.as_str(),
            status,
            now: &now,
            retry_of: retry_of.as_deref(),
            lease_owner: Some(&self.inner().instance),
            lease_until: Some(&until),
            data: None,
        };
        let db = &self.inner().db;
        let id = match tick {
            // The row is committed before the run starts, so that the executions list, a stop
            // request and the crash sweep see it while it runs; alone it is one statement.
            None => repo::insert_run_alone(db, &run).await?,
            Some(tick) => {
                let mut tx = db.begin().await?;
                if !tick.record(tx.conn()).await? {
                    return Ok(None);
                }
                let id = repo::insert_run(tx.conn(), &run).await?;
                tx.commit().await?;
                id
            }
        };
        self.inner().counters.started[mode.slot()].fetch_add(1, Ordering::Relaxed);
        Ok(Some(id))
    }

    /// What every node of execution `id` shares.
    pub(crate) fn env(
        &self,
        workflow: &Workflow,
        id: i64,
        mode: Mode,
        respond: Option<oneshot::Sender<WebhookResponse>>,
    ) -> Arc<RunEnv> {
        let inner = self.inner();
        let config = &inner.config;
        let cancel = inner.shutdown.child_token();
        inner.running.insert(id, cancel.clone());
        let timeout = execution_timeout(workflow, config.timeout_secs, config.timeout_max_secs);
        let services: Arc<dyn Services> = Arc::new(RunServices {
            engine: self.clone(),
            respond: std::sync::Mutex::new(respond),
            depth: 0,
        });
        Arc::new(RunEnv {
            execution: ExecutionInfo {
                id: id.to_string(),
                mode: mode.as_str().to_owned(),
                resume_url: format!(
                    "{}/{}/{id}",
                    inner.webhook_base_url, config.endpoint_webhook_wait
                ),
                custom_data: Default::default(),
            },
            vars: JsonObject::new(),
            env_vars: (!config.block_env_access).then(process_env),
            timezone: workflow.timezone().unwrap_or(&config.timezone).to_owned(),
            expressions: inner.expressions.clone(),
            code: crate::expression::code::CodeLimits {
                timeout: std::time::Duration::from_secs(config.code_timeout_secs),
                memory_bytes: usize::try_from(config.code_memory_mb)
                    .unwrap_or(usize::MAX / (1024 * 1024))
                    .saturating_mul(1024 * 1024),
            },
            registry: Arc::clone(&inner.registry),
            cancel,
            deadline: timeout.map(|t| Instant::now() + t),
            fixed_now: *inner.fixed_now.lock().unwrap_or_else(|e| e.into_inner()),
            services: Some(services),
        })
    }

    /// Runs `run` and records how it ended; the run's data moves into the answer.
    async fn drive(
        &self,
        id: i64,
        run: &mut Run,
        mode: Mode,
        retry_of: Option<i64>,
    ) -> Result<Ended, ApiError> {
        // The run counts as running until its end is committed: a draining worker waits on
        // `running`, then closes the pool, and must not cut the final write off.
        let _running = RunningEntry { engine: self, id };
        let started = Instant::now();
        let status = run.execute().await;
        let counters = &self.inner().counters;
        counters.duration.observe(started.elapsed());
        let slot = ENDED_STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(1);
        counters.ended[mode.slot()][slot].fetch_add(1, Ordering::Relaxed);
        self.record_through_outage(id, run, mode).await?;
        if let Some(original) = retry_of {
            if status == ExecutionStatus::Success {
                let mut tx = self.inner().db.begin().await?;
                repo::set_retry_success(tx.conn(), original, id).await?;
                tx.commit().await?;
            }
        }
        if status == ExecutionStatus::Error && mode != Mode::Manual {
            self.spawn_error_workflow(&run.workflow, &run.data, id, mode, retry_of);
        }
        // The run is over and recorded: its data moves to the caller instead of being copied.
        Ok(Ended {
            id,
            status,
            data: std::mem::take(&mut run.data),
        })
    }

    /// Runs the workflow's error workflow (or its own Error Trigger) with n8n's payload.
    fn spawn_error_workflow(
        &self,
        workflow: &Workflow,
        data: &RunExecutionData,
        id: i64,
        mode: Mode,
        retry_of: Option<i64>,
    ) {
        let Some(error) = data.result_data.error.clone() else {
            return;
        };
        let target = match workflow
            .settings
            .get("errorWorkflow")
            .and_then(Value::as_str)
            .filter(|w| !w.is_empty())
        {
            Some(target) if !(mode == Mode::Error && target == workflow.id) => target.to_owned(),
            Some(_) => return,
            None if mode != Mode::Error
                && workflow.nodes.iter().any(|n| n.kind == ERROR_TRIGGER) =>
            {
                workflow.id.clone()
            }
            None => return,
        };
        let payload = json!({
            "execution": {
                "id": id.to_string(),
                "url": format!("{}/workflow/{}/executions/{id}", self.inner().webhook_base_url, workflow.id),
                "error": error,
                "lastNodeExecuted": data.result_data.last_node_executed,
                "mode": mode.as_str(),
                "retryOf": retry_of.map(|r| r.to_string()),
            },
            "workflow": {"id": workflow.id, "name": workflow.name},
        });
        let engine = self.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.run_error_workflow(&target, payload).await {
                tracing::warn!(error = %e, workflow.id = %target, "the error workflow could not run");
            }
        });
    }

    async fn run_error_workflow(&self, workflow_id: &str, payload: Value) -> Result<(), ApiError> {
        let Some(workflow) = self.runnable(workflow_id).await? else {
            return Ok(());
        };
        let Some(trigger) = workflow
            .nodes
            .iter()
            .find(|n| n.kind == ERROR_TRIGGER && !n.disabled)
        else {
            return Ok(());
        };
        let item = Item::new(payload.as_object().cloned().unwrap_or_default());
        let start = Start {
            mode: Mode::Error,
            node: trigger.name.clone(),
            input: Connections::single(vec![item]),
            respond: None,
        };
        self.run(Arc::clone(&workflow), start).await?;
        Ok(())
    }

    /// The version of a workflow other runs may start: its published version, else its
    /// current draft (as n8n runs sub-workflows and error workflows).
    pub(crate) async fn runnable(
        &self,
        workflow_id: &str,
    ) -> Result<Option<Arc<Workflow>>, ApiError> {
        if !crate::domain::ids::is_plausible_id(workflow_id) {
            return Ok(None);
        }
        let mut conn = self.inner().db.acquire().await?;
        let Some(row) = crate::db::workflows::find(conn.conn(), workflow_id).await? else {
            return Ok(None);
        };
        let version = row
            .active_version_id
            .clone()
            .unwrap_or(row.version_id.clone());
        self.version(conn.conn(), workflow_id, &version).await
    }

    /// Asks a running execution of this instance to stop; answers whether it runs here.
    pub fn cancel(&self, id: i64) -> bool {
        match self.inner().running.get(&id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Resumes waiting execution `id` (its time came, or its resume webhook was called with
    /// `input` for the waiting node).
    pub async fn resume(
        &self,
        id: i64,
        input: Option<Vec<Item>>,
    ) -> Result<Option<Ended>, ApiError> {
        let now = now_iso();
        let mut tx = self.inner().db.begin().await?;
        let claimed = repo::claim(
            tx.conn(),
            id,
            "waiting",
            &self.inner().instance,
            &now,
            &self.lease_until(),
        )
        .await?;
        tx.commit().await?;
        if !claimed {
            return Ok(None);
        }
        let mut conn = self.inner().db.acquire().await?;
        let Some(row) = repo::find(conn.conn(), id).await? else {
            return Ok(None);
        };
        let version = row.workflow_version_id.clone().unwrap_or_default();
        let workflow = self
            .version(conn.conn(), &row.workflow_id, &version)
            .await?;
        drop(conn);
        let Some(workflow) = workflow else {
            return Err(ApiError::conflict(
                "The workflow of this execution no longer exists",
            ));
        };
        let mut data: RunExecutionData = row
            .data
            .as_deref()
            .and_then(|d| serde_json::from_str(d).ok())
            .unwrap_or_default();
        // The waiting node's run is replaced: it runs again, passing on its input (or what
        // the resume webhook received).
        data.wait_till = None;
        if let Some(last) = data.result_data.last_node_executed.clone() {
            if let Some(runs) = data.result_data.run_data.get_mut(&last) {
                runs.pop();
                if runs.is_empty() {
                    data.result_data.run_data.shift_remove(&last);
                }
            }
        }
        if let Some(entry) = data
            .execution_data
            .as_mut()
            .and_then(|s| s.node_execution_stack.first_mut())
        {
            entry.node["disabled"] = Value::Bool(true);
            if let Some(items) = input {
                entry.data = Connections::single(items);
            }
        }
        let mode = mode_of(&row.mode);
        let env = self.env(&workflow, id, mode, None);
        let mut run = Run::resume(workflow, env, data);
        self.drive(id, &mut run, mode, None).await.map(Some)
    }
}

/// The process's environment for `$env`. Read once: nothing in the server changes its own
/// environment, and collecting it again cost two allocations per variable on every run.
fn process_env() -> Arc<std::collections::HashMap<String, String>> {
    static ENV: std::sync::OnceLock<Arc<std::collections::HashMap<String, String>>> =
        std::sync::OnceLock::new();
    Arc::clone(ENV.get_or_init(|| Arc::new(std::env::vars().collect())))
}

/// The stored mode name as a [`Mode`] (unknown ones resume as triggers).
fn mode_of(mode: &str) -> Mode {
    match mode {
        "webhook" => Mode::Webhook,
        "manual" => Mode::Manual,
        "retry" => Mode::Retry,
        "error" => Mode::Error,
        "integrated" => Mode::Integrated,
        _ => Mode::Trigger,
    }
}

/// The time limit of one execution: the workflow's `executionTimeout` (seconds, capped by
/// `EXECUTIONS_TIMEOUT_MAX`), else `EXECUTIONS_TIMEOUT`; none when neither is positive.
fn execution_timeout(workflow: &Workflow, instance: i64, max: i64) -> Option<Duration> {
    let own = workflow
        .settings
        .get("executionTimeout")
        .and_then(Value::as_f64)
        .filter(|t| *t > 0.0);
    let seconds = match own {
        Some(t) => t.min(max as f64),
        None if instance > 0 => (instance as f64).min(max as f64),
        None => return None,
    };
    (seconds > 0.0).then(|| Duration::from_secs_f64(seconds))
}

/// A save setting that is `"all"`/`"none"`, or `"DEFAULT"`/absent for the instance's choice.
fn setting_all(value: Option<&Value>, default: bool) -> bool {
    match value.and_then(Value::as_str) {
        Some("all") => true,
        Some("none") => false,
        _ => default,
    }
}

/// A boolean save setting, or `"DEFAULT"`/absent for the instance's choice.
fn setting_bool(value: Option<&Value>, default: bool) -> bool {
    value.and_then(Value::as_bool).unwrap_or(default)
}

/// The items of the first output of the node that ran last (what a sub-workflow returns and
/// what a `lastNode` webhook answers).
pub fn last_node_items(data: &RunExecutionData) -> Vec<Item> {
    data.result_data
        .last_node_executed
        .as_ref()
        .and_then(|name| data.result_data.run_data.get(name))
        .and_then(|runs| runs.last())
        .and_then(|task| task.data.as_ref())
        .map(|d| d.items(0).to_vec())
        .unwrap_or_default()
}

/// A token that stops nothing (runs outside the engine, e.g. tests of the run loop).
pub fn detached_token() -> CancellationToken {
    CancellationToken::new()
}

/// Removes an execution from the engine's running set when dropped, whichever way its
/// driver returns.
struct RunningEntry<'a> {
    engine: &'a Engine,
    id: i64,
}

impl Drop for RunningEntry<'_> {
    fn drop(&mut self) {
        self.engine.inner().running.remove(&self.id);
    }
}
