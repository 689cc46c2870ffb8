//! One execution from start to record: the row is written before the run starts (so a crash
//! leaves a trace that start-up marks `crashed`), the run goes through the run loop inside the
//! workflow's time limit, and the end is recorded by n8n's saving rules (kept, or deleted when
//! the workflow says not to keep such runs). Also the background work: resuming waiting
//! executions, marking crashed ones, pruning.

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
        let id = self
            .insert(
                &workflow,
                mode,
                None,
                if queued { "new" } else { "running" },
            )
            .await?;
        if queued {
            let counters = &self.inner().counters;
            counters.queued.fetch_add(1, Ordering::Relaxed);
            permit = self.slot(mode).await;
            counters.queued.fetch_sub(1, Ordering::Relaxed);
            let mut tx = self.inner().db.begin().await?;
            let claimed =
                repo::claim(tx.conn(), id, "new", &self.inner().instance, &now_iso()).await?;
            tx.commit().await?;
            if !claimed {
                // Stopped or deleted while it waited.
                return Ok(Ended {
                    id,
                    status: ExecutionStatus::Canceled,
                    data: RunExecutionData::default(),
                });
            }
        }
        let env = self.env(&workflow, id, mode, start.respond);
        let mut run = Run::start(Arc::clone(&workflow), env, &node, start.input);
        let ended = self.drive(id, &mut run, mode, None).await;
        drop(permit);
        ended
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

    async fn insert(
        &self,
        workflow: &Workflow,
        mode: Mode,
        retry_of: Option<i64>,
        status: &str,
    ) -> Result<i64, ApiError> {
        let now = now_iso();
        let retry_of = retry_of.map(|r| r.to_string());
        let mut tx = self.inner().db.begin().await?;
        let id = repo::insert_run(
            tx.conn(),
            &NewRun {
                workflow_id: &workflow.id,
                version_id: workflow.version_id.as_deref(),
                mode: mode.as_str(),
                status,
                now: &now,
                retry_of: retry_of.as_deref(),
                lease_owner: Some(&self.inner().instance),
                data: None,
            },
        )
        .await?;
        tx.commit().await?;
        self.inner().counters.started[mode.slot()].fetch_add(1, Ordering::Relaxed);
        Ok(id)
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
            env_vars: (!config.block_env_access).then(|| std::env::vars().collect()),
            timezone: workflow.timezone().unwrap_or(&config.timezone).to_owned(),
            expressions: inner.expressions.clone(),
            registry: Arc::clone(&inner.registry),
            cancel,
            deadline: timeout.map(|t| Instant::now() + t),
            fixed_now: *inner.fixed_now.lock().unwrap_or_else(|e| e.into_inner()),
            services: Some(services),
        })
    }

    /// Runs `run` and records how it ended.
    async fn drive(
        &self,
        id: i64,
        run: &mut Run,
        mode: Mode,
        retry_of: Option<i64>,
    ) -> Result<Ended, ApiError> {
        let started = Instant::now();
        let status = run.execute().await;
        self.inner().running.remove(&id);
        let counters = &self.inner().counters;
        counters.duration.observe(started.elapsed());
        let slot = ENDED_STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(1);
        counters.ended[mode.slot()][slot].fetch_add(1, Ordering::Relaxed);
        self.record(id, run, mode).await?;
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
        Ok(Ended {
            id,
            status,
            data: run.data.clone(),
        })
    }

    /// Writes the end of a run by the saving rules of its workflow and of the instance.
    async fn record(&self, id: i64, run: &Run, mode: Mode) -> Result<(), ApiError> {
        let config = &self.inner().config;
        let settings = &run.workflow.settings;
        let status = run.status;
        let waiting = status == ExecutionStatus::Waiting;
        let keep = waiting
            || if mode == Mode::Manual {
                setting_bool(settings.get("saveManualExecutions"), config.save_manual)
            } else if status == ExecutionStatus::Success {
                setting_all(
                    settings.get("saveDataSuccessExecution"),
                    config.save_on_success == super::config::SaveData::All,
                )
            } else {
                setting_all(
                    settings.get("saveDataErrorExecution"),
                    config.save_on_error == super::config::SaveData::All,
                )
            };
        let mut tx = self.inner().db.begin().await?;
        if !keep {
            repo::delete(tx.conn(), id).await?;
            tx.commit().await?;
            return Ok(());
        }
        let data = serde_json::to_string(&run.data).map_err(anyhow::Error::from)?;
        let wait_till = run.data.wait_till.clone();
        repo::finish(
            tx.conn(),
            id,
            &Finished {
                status: status.as_str(),
                finished: status == ExecutionStatus::Success,
                stopped_at: &now_iso(),
                data: Some(&data),
                wait_till: wait_till.as_deref(),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
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
        let claimed = repo::claim(tx.conn(), id, "waiting", &self.inner().instance, &now).await?;
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

/// The services of one run: its webhook answer and the sub-workflows it starts.
struct RunServices {
    engine: Engine,
    respond: std::sync::Mutex<Option<oneshot::Sender<WebhookResponse>>>,
    /// How deep in sub-workflow calls this run is.
    depth: usize,
}

/// Sub-workflows may call sub-workflows, but not without end.
const MAX_SUB_WORKFLOW_DEPTH: usize = 16;

#[async_trait::async_trait]
impl Services for RunServices {
    fn respond(&self, response: WebhookResponse) -> Result<(), NodeError> {
        let sender = self
            .respond
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(sender) = sender {
            // The caller may have gone away; the run goes on regardless.
            let _ = sender.send(response);
        }
        Ok(())
    }

    async fn credential(
        &self,
        project_id: Option<&str>,
        kind: &str,
        id: &str,
    ) -> Result<JsonObject, NodeError> {
        super::services::open_credential(&self.engine, project_id, kind, id).await
    }

    fn http(&self) -> &super::services::HttpShared {
        &self.engine.inner().http
    }

    async fn run_sub_workflow(&self, call: SubWorkflowCall) -> Result<Vec<Item>, NodeError> {
        if self.depth >= MAX_SUB_WORKFLOW_DEPTH {
            return Err(NodeError::operation(
                "Sub-workflows are nested too deeply (is a workflow calling itself?)",
            ));
        }
        let workflow = self
            .engine
            .runnable(&call.workflow_id)
            .await
            .map_err(|e| NodeError::operation(e.to_string()))?
            .ok_or_else(|| {
                NodeError::operation(format!(
                    "Workflow with ID \"{}\" does not exist",
                    call.workflow_id
                ))
            })?;
        check_caller_policy(&workflow, &call)?;
        let trigger = workflow
            .nodes
            .iter()
            .find(|n| n.kind == super::nodes::EXECUTE_WORKFLOW_TRIGGER && !n.disabled)
            .map(|n| n.name.clone())
            .ok_or_else(|| {
                NodeError::operation("Missing node to start execution")
                    .with_description("Please make sure the workflow you're calling contains an Execute Workflow Trigger node")
            })?;
        let start = Start {
            mode: Mode::Integrated,
            node: trigger,
            input: Connections::single(call.items),
            respond: None,
        };
        if !call.wait {
            let engine = self.engine.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.run(workflow, start).await {
                    tracing::warn!(error = %e, "a sub-workflow could not run");
                }
            });
            return Ok(Vec::new());
        }
        let ended = Box::pin(self.engine.run(workflow, start))
            .await
            .map_err(|e| NodeError::operation(e.to_string()))?;
        match ended.status {
            ExecutionStatus::Success => Ok(last_node_items(&ended.data)),
            _ => {
                let message = ended
                    .data
                    .result_data
                    .error
                    .as_ref()
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("The sub-workflow failed")
                    .to_owned();
                Err(NodeError::operation(message))
            }
        }
    }
}

/// n8n's `callerPolicy` of the called workflow: `any`, `none`, `workflowsFromAList`
/// (`callerIds`), or by default `workflowsFromSameOwner` (the same project).
fn check_caller_policy(target: &Workflow, call: &SubWorkflowCall) -> Result<(), NodeError> {
    if target.id == call.caller_workflow_id {
        return Ok(());
    }
    let policy = target
        .settings
        .get("callerPolicy")
        .and_then(Value::as_str)
        .unwrap_or("workflowsFromSameOwner");
    let allowed = match policy {
        "any" => true,
        "none" => false,
        "workflowsFromAList" => target
            .settings
            .get("callerIds")
            .and_then(Value::as_str)
            .is_some_and(|ids| {
                ids.split(',')
                    .any(|id| id.trim() == call.caller_workflow_id)
            }),
        _ => target.project_id.is_some() && target.project_id == call.caller_project_id,
    };
    if allowed {
        return Ok(());
    }
    Err(NodeError::operation(format!("Target workflow ID {} may not be called", target.id))
        .with_description("The workflow you are calling does not allow this workflow to call it (its settings: \"This workflow can be called by\")"))
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

/// Starts the engine's background loops.
pub(crate) fn spawn_background(engine: Engine) {
    let shutdown = engine.inner().shutdown.clone();
    tokio::spawn(async move {
        // Executions this database says are running, without a live lease, were left by
        // an instance that stopped: n8n marks them crashed.
        if let Err(e) = mark_crashed(&engine).await {
            tracing::warn!(error = %e, "could not mark crashed executions");
        }
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        let mut last_prune = Instant::now() - Duration::from_secs(3600);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = tick.tick() => {}
            }
            if let Err(e) = resume_due(&engine).await {
                tracing::warn!(error = %e, "could not resume waiting executions");
            }
            if engine.inner().config.prune && last_prune.elapsed() >= Duration::from_secs(300) {
                last_prune = Instant::now();
                if let Err(e) = prune(&engine).await {
                    tracing::warn!(error = %e, "could not prune executions");
                }
            }
        }
    });
}

async fn mark_crashed(engine: &Engine) -> Result<(), ApiError> {
    let mut tx = engine.inner().db.begin().await?;
    let crashed = repo::mark_crashed(tx.conn(), None, &now_iso()).await?;
    tx.commit().await?;
    if crashed > 0 {
        tracing::warn!(
            crashed,
            "executions left running by a stopped instance were marked crashed"
        );
    }
    Ok(())
}

async fn resume_due(engine: &Engine) -> Result<(), ApiError> {
    let due = {
        let mut conn = engine.inner().db.acquire().await?;
        repo::due_waiting(conn.conn(), &now_iso(), 100).await?
    };
    for id in due {
        let engine = engine.clone();
        tokio::spawn(async move {
            if let Err(e) = engine.resume(id, None).await {
                tracing::warn!(error = %e, execution.id = id, "a waiting execution could not resume");
            }
        });
    }
    Ok(())
}

async fn prune(engine: &Engine) -> Result<(), ApiError> {
    let config = &engine.inner().config;
    let cutoff = chrono::Utc::now()
        .checked_sub_signed(chrono::Duration::hours(config.prune_max_age_hours as i64))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let keep = (config.prune_max_count > 0).then_some(config.prune_max_count as i64);
    let mut tx = engine.inner().db.begin().await?;
    let removed = repo::prune(tx.conn(), &crate::domain::time::iso(cutoff), keep).await?;
    tx.commit().await?;
    if removed > 0 {
        tracing::info!(removed, "old executions pruned");
    }
    Ok(())
}

/// A token that stops nothing (runs outside the engine, e.g. tests of the run loop).
pub fn detached_token() -> CancellationToken {
    CancellationToken::new()
}

/// Why an execution cannot be retried (n8n answers 409, or 404 when it is missing).
#[derive(Debug)]
pub enum RetryRefusal {
    Missing(String),
    Conflict(String),
}

impl Engine {
    /// Retries a failed execution from where it failed (n8n's retry): the stored run data
    /// without the failed run of the last node, in mode `retry`, linked both ways. With
    /// `load_workflow`, the workflow's current version replaces the nodes on the stack.
    pub async fn retry(
        &self,
        id: i64,
        load_workflow: bool,
    ) -> Result<Result<Ended, RetryRefusal>, ApiError> {
        let row = {
            let mut conn = self.inner().db.acquire().await?;
            repo::find(conn.conn(), id).await?
        };
        let Some(row) = row else {
            return Ok(Err(RetryRefusal::Missing(format!(
                "The execution with the ID \"{id}\" does not exist."
            ))));
        };
        match row.status.as_str() {
            "new" => {
                return Ok(Err(RetryRefusal::Conflict(
                    "Execution is queued to run (not yet started) so it cannot be retried".into(),
                )))
            }
            "running" | "waiting" => {
                return Ok(Err(RetryRefusal::Conflict(format!(
                    "The execution is {} and cannot be retried until it ends",
                    row.status
                ))))
            }
            _ if row.finished || row.status == "success" => {
                return Ok(Err(RetryRefusal::Conflict(
                    "The execution succeeded, so it cannot be retried.".into(),
                )))
            }
            _ => {}
        }
        let mut data: RunExecutionData = match row.data.as_deref().map(serde_json::from_str) {
            Some(Ok(data)) => data,
            _ => {
                return Ok(Err(RetryRefusal::Conflict(
                    "The execution was aborted before starting, so it cannot be retried".into(),
                )))
            }
        };
        if data.execution_data.is_none() {
            return Ok(Err(RetryRefusal::Conflict(
                "The execution was aborted before starting, so it cannot be retried".into(),
            )));
        }
        let workflow = if load_workflow {
            self.runnable(&row.workflow_id).await?
        } else {
            let mut conn = self.inner().db.acquire().await?;
            let version = row.workflow_version_id.clone().unwrap_or_default();
            self.version(conn.conn(), &row.workflow_id, &version)
                .await?
        };
        let Some(workflow) = workflow else {
            return Ok(Err(RetryRefusal::Conflict(
                "Workflow could not be found and so the data not be loaded for the retry.".into(),
            )));
        };
        if let Some(last) = data.result_data.last_node_executed.clone() {
            data.result_data.error = None;
            if let Some(runs) = data.result_data.run_data.get_mut(&last) {
                if runs.last().is_some_and(|r| r.error.is_some()) {
                    runs.pop();
                }
                if runs.is_empty() {
                    data.result_data.run_data.shift_remove(&last);
                }
            }
        }
        data.wait_till = None;
        if let Some(state) = data.execution_data.as_mut() {
            for entry in &mut state.node_execution_stack {
                let name = entry
                    .node
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                match workflow.node(&name) {
                    Some(node) => {
                        if load_workflow {
                            entry.node = node.raw.clone();
                        }
                    }
                    None => {
                        return Ok(Err(RetryRefusal::Conflict(format!(
                            "Could not find the node \"{name}\" in workflow. It probably got deleted or renamed. Without it the workflow can sadly not be retried."
                        ))))
                    }
                }
            }
        }
        let new_id = self
            .insert(&workflow, Mode::Retry, Some(id), "running")
            .await?;
        let env = self.env(&workflow, new_id, Mode::Retry, None);
        let mut run = Run::resume(workflow, env, data);
        self.drive(new_id, &mut run, Mode::Retry, Some(id))
            .await
            .map(Ok)
    }
}

impl Engine {
    /// The engine's families of the `/metrics` text.
    pub fn render_metrics(&self, out: &mut String, prefix: &str) {
        use std::fmt::Write as _;
        let counters = &self.inner().counters;
        crate::metrics::family(
            out,
            prefix,
            "workflow_executions_started_total",
            "counter",
            "Executions started on this instance, by mode.",
        );
        for mode in Mode::ALL {
            let _ = writeln!(
                out,
                "{prefix}workflow_executions_started_total{{mode=\"{}\"}} {}",
                mode.as_str(),
                counters.started[mode.slot()].load(Ordering::Relaxed)
            );
        }
        crate::metrics::family(out, prefix, "workflow_executions_total", "counter", "Executions that ended (or paused, status waiting) on this instance, by mode and status.");
        for mode in Mode::ALL {
            for (i, status) in ENDED_STATUSES.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{prefix}workflow_executions_total{{mode=\"{}\",status=\"{}\"}} {}",
                    mode.as_str(),
                    status.as_str(),
                    counters.ended[mode.slot()][i].load(Ordering::Relaxed)
                );
            }
        }
        crate::metrics::family(out, prefix, "workflow_executions_active", "gauge", "Executions of this instance in progress (running) or waiting for a free slot (queued).");
        let _ = writeln!(
            out,
            "{prefix}workflow_executions_active{{state=\"running\"}} {}",
            self.inner().running.len()
        );
        let _ = writeln!(
            out,
            "{prefix}workflow_executions_active{{state=\"queued\"}} {}",
            counters.queued.load(Ordering::Relaxed).max(0)
        );
        crate::metrics::family(
            out,
            prefix,
            "workflow_execution_duration_seconds",
            "histogram",
            "Run time of executions on this instance, from start to end or pause.",
        );
        counters.duration.render(
            out,
            &format!("{prefix}workflow_execution_duration_seconds"),
            "",
        );
    }
}
