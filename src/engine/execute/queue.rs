//! Queue mode (`EXECUTIONS_MODE=queue`): the instance that receives a trigger writes the
//! execution as a queued row (its trigger data as the run's stack) and commits before it
//! answers, so an acknowledged execution is never lost; every instance and worker with a free
//! slot claims the oldest queued row (`for update skip locked` on PostgreSQL), runs it under
//! a lease its heartbeat renews, and writes the end in one transaction. A webhook caller
//! waiting for the run's answer (`lastNode`, Respond to Webhook) is held by the receiving
//! instance, which polls the answer the running instance writes to `execution_answers`.
//!
//! Schedule ticks, in both modes, are recorded in the transaction that creates their
//! execution, keyed by workflow, trigger and tick time: a tick fires once however many
//! instances believe they lead.

use std::sync::atomic::Ordering;

use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use tokio::sync::Semaphore;

use super::*;
use crate::db::queue::{self as queue_repo, Claimed};
use crate::engine::data::{ExecuteData, ExecutionState};
use crate::engine::webhook::respond;
use crate::engine::workflow::Node;

/// What a webhook answers while the queue is full.
pub const QUEUE_FULL: &str = "Too many executions are waiting; try again later";

/// Seconds a refused caller is told to wait.
const QUEUE_FULL_RETRY_AFTER: u64 = 5;

/// Executions a worker runs at once when N8N_CONCURRENCY_PRODUCTION_LIMIT is not set (n8n's
/// worker default).
const DEFAULT_WORKER_CONCURRENCY: usize = 10;

/// How often an idle claimer looks at the queue when nothing woke it (a notification lost
/// with its connection; another process on the same SQLite file).
const IDLE_POLL: Duration = Duration::from_secs(1);

/// How long a waiting webhook caller is kept after its execution ended without an answer
/// written (the answer is written just after the end is recorded).
const ANSWER_GRACE: Duration = Duration::from_secs(5);

/// One firing of a schedule rule.
pub struct Tick {
    pub workflow_id: String,
    /// `<node>#<rule index>`.
    pub trigger: String,
    /// The tick's time (ISO, milliseconds), the same on every instance.
    pub at: String,
}

impl Tick {
    /// Records the tick; `false` when it fired already.
    pub(crate) async fn record(&self, conn: crate::db::Conn<'_>) -> sqlx::Result<bool> {
        queue_repo::record_tick(conn, &self.workflow_id, &self.trigger, &self.at).await
    }
}

/// The data of a queued execution: the trigger node on the stack with its input.
fn queued_data(node: &Node, input: Connections) -> Result<String, ApiError> {
    let data = RunExecutionData {
        execution_data: Some(ExecutionState {
            node_execution_stack: vec![ExecuteData {
                node: node.raw.clone(),
                data: input,
                source: None,
            }],
            ..ExecutionState::default()
        }),
        ..RunExecutionData::default()
    };
    Ok(serde_json::to_string(&data).map_err(anyhow::Error::from)?)
}

impl Engine {
    /// Queues an execution of `workflow` starting at `node` with `input`; answers its id, or
    /// `None` when `tick` had fired already. A full queue is [`ApiError::Busy`].
    pub(crate) async fn enqueue(
        &self,
        workflow: &Workflow,
        mode: Mode,
        node: &Node,
        input: Connections,
        tick: Option<&Tick>,
    ) -> Result<Option<i64>, ApiError> {
        // Files of the trigger go to the binary data store under the execution's id, so the
        // row is held back (owned, not claimable) until its data carries references.
        let holds_files = self.binary().mode() != crate::engine::config::BinaryDataMode::Default
            && input
                .main
                .iter()
                .flatten()
                .flatten()
                .any(|i| i.binary.is_some());
        let held = holds_files.then(|| (input.clone(), self.lease_until()));
        let data = queued_data(node, input)?;
        let now = now_iso();
        let limit = self.inner().config.queue_limit;
        let mut tx = self.inner().db.begin().await?;
        if let Some(tick) = tick {
            if !tick.record(tx.conn()).await? {
                return Ok(None);
            }
        }
        let id = queue_repo::enqueue(
            tx.conn(),
            &NewRun {
                workflow_id: &workflow.id,
                version_id: workflow.version_id.as_deref(),
                mode: mode.as_str(),
                status: "new",
                now: &now,
                retry_of: None,
                lease_owner: held.as_ref().map(|_| self.inner().instance.as_str()),
                lease_until: held.as_ref().map(|(_, until)| until.as_str()),
                data: Some(&data),
            },
            (limit > 0).then_some(limit as i64),
        )
        .await?;
        let counters = &self.inner().counters;
        let Some(id) = id else {
            counters.refused.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::Busy {
                message: QUEUE_FULL,
                retry_after_secs: QUEUE_FULL_RETRY_AFTER,
            });
        };
        tx.commit().await?;
        if let Some((mut input, _)) = held {
            let at = crate::engine::binary::Location {
                workflow_id: &workflow.id,
                execution_id: id,
            };
            let mut stored = Ok(());
            for items in input.main.iter_mut().flatten() {
                stored = stored.and(self.binary().externalize(at, items).await);
            }
            // A store that failed leaves the bytes inline: the run goes on all the same.
            let data = match stored {
                Ok(()) => queued_data(node, input)?,
                Err(e) => {
                    tracing::warn!(error = %e, execution = id, "trigger files kept inline");
                    data
                }
            };
            let mut tx = self.inner().db.begin().await?;
            queue_repo::release(tx.conn(), id, &self.inner().instance, &data).await?;
            tx.commit().await?;
        }
        counters.enqueued.fetch_add(1, Ordering::Relaxed);
        self.inner().queue_wake.notify_one();
        Ok(Some(id))
    }

    /// Fires a schedule tick: queued in queue mode, else run here; at most once per tick.
    pub(crate) async fn fire(
        &self,
        workflow: Arc<Workflow>,
        start: Start,
        tick: Tick,
    ) -> Result<(), ApiError> {
        if !self.inner().config.queue_mode() {
            self.run_tick(workflow, start, Some(&tick)).await?;
            return Ok(());
        }
        let Some(node) = workflow.node(&start.node) else {
            return Ok(());
        };
        self.enqueue(&workflow, start.mode, node, start.input, Some(&tick))
            .await?;
        Ok(())
    }

    /// Claims the oldest queued execution; a claimed one counts as running here from the
    /// claim's commit on, so a drain that begins meanwhile waits for it.
    async fn claim_one(&self) -> Result<Option<Claimed>, ApiError> {
        struct Claiming<'a>(&'a std::sync::atomic::AtomicUsize);
        impl Drop for Claiming<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::SeqCst);
            }
        }
        self.inner().claiming.fetch_add(1, Ordering::SeqCst);
        let _claiming = Claiming(&self.inner().claiming);
        if self.inner().draining.is_cancelled() {
            return Ok(None);
        }
        let now = chrono::Utc::now();
        let mut tx = self.inner().db.begin().await?;
        let claimed = queue_repo::claim_next(
            tx.conn(),
            &self.inner().instance,
            &crate::domain::time::iso(now),
            &self.lease_until(),
        )
        .await?;
        tx.commit().await?;
        if let Some(claimed) = &claimed {
            let token = self.inner().shutdown.child_token();
            self.inner().running.insert(claimed.id, token);
            let counters = &self.inner().counters;
            counters.claimed.fetch_add(1, Ordering::Relaxed);
            if let Some(queued_at) = crate::domain::time::parse_iso(&claimed.created_at) {
                let waited = (now - queued_at).to_std().unwrap_or_default();
                counters.claim_latency.observe(waited);
            }
        }
        Ok(claimed)
    }

    /// Runs a claimed execution; one that cannot run (its workflow version is gone, its data
    /// unreadable) is recorded as failed rather than left running.
    async fn run_claimed(&self, claimed: Claimed) {
        let id = claimed.id;
        let result = self.run_claimed_inner(claimed).await;
        // Registered at the claim; the run's own entry is gone once its end is committed,
        // but one that failed before it started has none.
        let _claimed = RunningEntry { engine: self, id };
        if let Err(e) = result {
            tracing::warn!(error = %e, execution.id = id, "a queued execution could not run");
            let failed = async {
                let mut tx = self.inner().db.begin().await?;
                repo::finish(
                    tx.conn(),
                    id,
                    &Finished {
                        status: "error",
                        finished: false,
                        stopped_at: &now_iso(),
                        data: None,
                        wait_till: None,
                        custom_data: None,
                    },
                )
                .await?;
                tx.commit().await
            };
            if let Err(e) = failed.await {
                tracing::warn!(error = %e, execution.id = id, "could not record a failed execution");
            }
        }
    }

    async fn run_claimed_inner(&self, claimed: Claimed) -> Result<(), ApiError> {
        let id = claimed.id;
        let mode = mode_of(&claimed.mode);
        let version = claimed.workflow_version_id.clone().unwrap_or_default();
        let workflow = self
            .load_version(&claimed.workflow_id, &version)
            .await?
            .ok_or_else(|| {
                ApiError::conflict("The workflow version of this execution no longer exists")
            })?;
        let data: RunExecutionData = serde_json::from_str(claimed.data.as_deref().unwrap_or("{}"))
            .map_err(anyhow::Error::from)?;
        self.inner().counters.started[mode.slot()].fetch_add(1, Ordering::Relaxed);

        // A webhook caller may wait on the receiving instance for this run's answer.
        let caller = (mode == Mode::Webhook)
            .then(|| {
                let first = data.execution_data.as_ref()?.node_execution_stack.first()?;
                let name = first.node.get("name")?.as_str()?;
                workflow.node(name).cloned()
            })
            .flatten()
            .map(|node| {
                let response_mode = node
                    .parameters
                    .get("responseMode")
                    .and_then(Value::as_str)
                    .unwrap_or("onReceived")
                    .to_owned();
                (node, response_mode)
            })
            .filter(|(_, mode)| mode != "onReceived");
        let (respond_tx, waiter) = match &caller {
            Some((_, mode)) if mode == "responseNode" => {
                let (tx, rx) = oneshot::channel::<WebhookResponse>();
                let engine = self.clone();
                let waiter = tokio::spawn(async move {
                    match rx.await {
                        Ok(answer) => {
                            engine.write_answer(id, respond::from_node(answer)).await;
                            true
                        }
                        Err(_) => false,
                    }
                });
                (Some(tx), Some(waiter))
            }
            _ => (None, None),
        };
        let env = self.env(&workflow, id, mode, respond_tx);
        let mut run = Run::resume(workflow, env, data);
        let ended = self.drive(id, &mut run, mode, None).await;
        // The run's services hold the answer's sender: dropping the run ends the waiter.
        drop(run);
        if let Some((node, response_mode)) = caller {
            if response_mode == "responseNode" {
                let answered = match waiter {
                    Some(waiter) => waiter.await.unwrap_or(false),
                    None => false,
                };
                if !answered {
                    self.write_answer(id, respond::after_run_without_answer(Ok(ended)))
                        .await;
                }
            } else {
                let answer = match ended {
                    Ok(ended) => respond::last_node(&node, &ended, self.binary()).await,
                    Err(e) => e.into_response(),
                };
                self.write_answer(id, answer).await;
            }
            return Ok(());
        }
        ended.map(|_| ())
    }

    /// Stores the HTTP answer of execution `id` for the instance holding its caller, again
    /// while the database cannot be reached (as the end of the run is; the caller waits).
    async fn write_answer(&self, id: i64, response: Response) {
        let text = match encode_answer(response).await {
            Ok(text) => text,
            Err(e) => {
                tracing::warn!(error = %e, execution.id = id, "could not read a webhook answer to store");
                return;
            }
        };
        let give_up = Instant::now() + self.inner().config.lock_duration();
        let mut pause = Duration::from_millis(100);
        loop {
            let stored = async {
                let mut tx = self.inner().db.begin().await?;
                queue_repo::write_answer(tx.conn(), id, &text, &now_iso()).await?;
                tx.commit().await?;
                Ok::<_, ApiError>(())
            };
            match stored.await {
                Ok(()) => return,
                Err(e) if e.is_outage() && Instant::now() + pause < give_up => {
                    tracing::warn!(error = %e, execution.id = id, "could not store a webhook answer; trying again");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(e) => {
                    tracing::warn!(error = %e, execution.id = id, "could not store a webhook answer");
                    return;
                }
            }
        }
    }

    /// Waits for the answer of queued execution `id` (run by any instance) and answers it.
    /// An execution marked crashed (its instance died) answers n8n's "Error in workflow".
    pub(crate) async fn await_answer(&self, id: i64) -> Response {
        let mut pause = Duration::from_millis(5);
        let mut ended_at: Option<Instant> = None;
        let failed = || {
            (
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(json!({"message": "Error in workflow"})),
            )
                .into_response()
        };
        loop {
            let polled = async {
                let mut conn = self.inner().db.acquire().await?;
                queue_repo::answer_and_status(conn.conn(), id).await
            }
            .await;
            match polled {
                Ok((Some(answer), _)) => {
                    let deleted = async {
                        let mut tx = self.inner().db.begin().await?;
                        queue_repo::delete_answer(tx.conn(), id).await?;
                        tx.commit().await
                    };
                    if let Err(e) = deleted.await {
                        tracing::debug!(error = %e, "a read webhook answer stays until pruned");
                    }
                    return decode_answer(&answer).unwrap_or_else(failed);
                }
                Ok((None, Some(status))) if matches!(status.as_str(), "new" | "running") => {
                    ended_at = None;
                }
                Ok((None, Some(status))) if status == "crashed" => return failed(),
                Ok((None, _)) => {
                    if ended_at.get_or_insert_with(Instant::now).elapsed() > ANSWER_GRACE {
                        return failed();
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, execution.id = id, "could not read a webhook answer")
                }
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    }
}

/// Starts claiming queued executions while slots are free (none with a concurrency of 0: an
/// instance that only receives).
pub(super) fn spawn_claimer(engine: Engine) {
    let slots = match engine.inner().config.concurrency {
        0 => {
            tracing::info!("queue mode: this instance queues executions and runs none (N8N_CONCURRENCY_PRODUCTION_LIMIT=0)");
            return;
        }
        n if n > 0 => n as usize,
        _ => DEFAULT_WORKER_CONCURRENCY,
    };
    let slots = Arc::new(Semaphore::new(slots));
    let shutdown = engine.inner().shutdown.clone();
    let draining = engine.inner().draining.clone();
    let wake = Arc::clone(&engine.inner().queue_wake);
    if let crate::db::Db::Postgres(pool) = &engine.inner().db {
        tokio::spawn(listen(pool.clone(), Arc::clone(&wake), shutdown.clone()));
    }
    tokio::spawn(async move {
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&slots).acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
                () = shutdown.cancelled() => break,
                () = draining.cancelled() => break,
            };
            if draining.is_cancelled() {
                break;
            }
            let pause = match engine.claim_one().await {
                Ok(Some(claimed)) => {
                    let runner = engine.clone();
                    tokio::spawn(async move {
                        runner.run_claimed(claimed).await;
                        drop(permit);
                    });
                    continue;
                }
                Ok(None) => IDLE_POLL,
                Err(e) => {
                    tracing::warn!(error = %e, "could not claim a queued execution");
                    Duration::from_secs(1)
                }
            };
            drop(permit);
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => break,
                () = draining.cancelled() => break,
            }
        }
    });
}

/// Wakes the claimer when any instance queues an execution (PostgreSQL's LISTEN on the
/// queue's channel), reconnecting when the connection drops.
async fn listen(pool: sqlx::PgPool, wake: Arc<tokio::sync::Notify>, stop: CancellationToken) {
    loop {
        let listener = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(queue_repo::CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match listener.await {
            Ok(mut listener) => loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    received = listener.recv() => match received {
                        Ok(_) => wake.notify_one(),
                        Err(e) => {
                            tracing::debug!(error = %e, "the queue's notification connection dropped");
                            break;
                        }
                    },
                }
            },
            Err(e) => tracing::debug!(error = %e, "could not listen for queued executions"),
        }
        // A notification missed meanwhile is caught by the idle poll.
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

/// An HTTP answer as stored text: status, headers, and the body in base64.
async fn encode_answer(response: Response) -> Result<String, ApiError> {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| anyhow::anyhow!("reading a webhook answer: {e}"))?;
    let headers: Vec<[&str; 2]> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some([name.as_str(), value.to_str().ok()?]))
        .collect();
    let stored = json!({
        "status": parts.status.as_u16(),
        "headers": headers,
        "body": base64::engine::general_purpose::STANDARD.encode(&bytes),
    });
    Ok(stored.to_string())
}

fn decode_answer(text: &str) -> Option<Response> {
    use axum::http::{HeaderName, HeaderValue, StatusCode};
    let stored: Value = serde_json::from_str(text).ok()?;
    let status = StatusCode::from_u16(stored["status"].as_u64()? as u16).ok()?;
    let body = base64::engine::general_purpose::STANDARD
        .decode(stored["body"].as_str()?)
        .ok()?;
    let mut response = (status, body).into_response();
    response.headers_mut().clear();
    for pair in stored["headers"].as_array()? {
        let (Some(name), Some(value)) = (pair[0].as_str(), pair[1].as_str()) else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    Some(response)
}
