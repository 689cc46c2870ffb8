//! The workflow engine: runs published workflows from their triggers, node by node, as n8n
//! runs them, and records their executions.
//!
//! [`Engine`] is the only door the rest of the server uses: the webhook routes call it, the
//! workflow service tells it about publishes through [`lifecycle`], the execution routes ask
//! it to retry and stop, and its background tasks fire schedules and resume waiting runs.

pub mod binary;
pub mod config;
pub mod data;
pub mod execute;
pub mod leases;
pub mod lifecycle;
pub mod node;
pub mod nodes;
pub mod run;
pub mod schedule;
pub mod services;
pub mod webhook;
pub mod workflow;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use dashmap::DashMap;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::db::{workflows as workflow_repo, Conn, Db};
use crate::expression::{Expressions, Limits};
use crate::service::outbound::OutboundPolicy;
use config::EngineConfig;
use nodes::Registry;
use workflow::Workflow;

/// The engine of one server instance; cheap to clone.
#[derive(Clone)]
pub struct Engine(Arc<Inner>);

pub(crate) struct Inner {
    pub(crate) db: Db,
    pub(crate) config: EngineConfig,
    /// `WEBHOOK_URL` or the editor URL, without a trailing `/`.
    pub(crate) webhook_base_url: String,
    pub(crate) registry: Arc<Registry>,
    pub(crate) expressions: Expressions,
    /// Parsed published versions by version id (versions never change once saved).
    versions: Mutex<HashMap<String, Arc<Workflow>>>,
    /// Cancellation of the executions this instance runs (queued ones from their claim on).
    pub(crate) running: DashMap<i64, CancellationToken>,
    /// Claims of queued executions in progress: a draining worker also waits for these, or a
    /// claim committed just after the drain began would be left `running` with nobody to run
    /// it.
    pub(crate) claiming: std::sync::atomic::AtomicUsize,
    /// Free slots when `N8N_CONCURRENCY_PRODUCTION_LIMIT` is set.
    pub(crate) slots: Option<Arc<Semaphore>>,
    /// This instance's name in execution leases.
    pub(crate) instance: String,
    /// Stops the background tasks.
    pub(crate) shutdown: CancellationToken,
    /// Stops claiming queued executions (a worker that drains before it stops).
    pub(crate) draining: CancellationToken,
    pub(crate) counters: execute::Counters,
    /// Whether this instance holds the leadership (fires schedules, prunes).
    pub(crate) leader: std::sync::atomic::AtomicBool,
    /// Wakes this instance's claimer when it queued an execution itself.
    pub(crate) queue_wake: Arc<tokio::sync::Notify>,
    /// Wakes the scheduler when a publish on this instance changed what is published.
    pub(crate) schedules_changed: Arc<tokio::sync::Notify>,
    /// A fixed clock for tests.
    pub(crate) fixed_now: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// Opens the credentials nodes use.
    pub(crate) keys: Arc<crate::crypto::KeyRing>,
    /// Outbound HTTP of nodes: the policy, clients, OAuth2 tokens.
    pub(crate) http: services::HttpShared,
    /// Where binary data of executions is kept.
    pub(crate) binary: binary::BinaryStore,
}

/// Parsed versions kept in memory at most; past this the cache starts over (a published
/// version is parsed again on its next run, which costs one read).
const VERSION_CACHE: usize = 1024;

impl Engine {
    pub fn new(
        db: Db,
        config: &crate::config::Config,
        keys: Arc<crate::crypto::KeyRing>,
    ) -> Engine {
        let engine_config = config.engine.clone();
        let slots = (engine_config.concurrency > 0)
            .then(|| Arc::new(Semaphore::new(engine_config.concurrency as usize)));
        let binary = binary::BinaryStore::new(
            engine_config.binary_mode(),
            engine_config
                .binary_data_storage_path
                .clone()
                .unwrap_or_else(|| config.data_folder().join("binaryData")),
            db.clone(),
            engine_config.binary_data_db_max_file_size_mib,
        );
        Engine(Arc::new(Inner {
            db,
            binary,
            webhook_base_url: config.webhook_base_url().trim_end_matches('/').to_owned(),
            config: engine_config,
            registry: Arc::new(Registry::builtin()),
            expressions: Expressions::new(Limits::default()),
            versions: Mutex::new(HashMap::new()),
            running: DashMap::new(),
            claiming: std::sync::atomic::AtomicUsize::new(0),
            slots,
            instance: uuid::Uuid::new_v4().to_string(),
            shutdown: CancellationToken::new(),
            draining: CancellationToken::new(),
            counters: execute::Counters::default(),
            leader: std::sync::atomic::AtomicBool::new(false),
            queue_wake: Arc::new(tokio::sync::Notify::new()),
            schedules_changed: Arc::new(tokio::sync::Notify::new()),
            fixed_now: Mutex::new(None),
            keys,
            http: services::HttpShared::new(
                OutboundPolicy::from_config(&config.outbound),
                config.google_token_url.clone(),
            ),
        }))
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.0
    }

    /// The binary data store.
    pub fn binary(&self) -> &binary::BinaryStore {
        &self.0.binary
    }

    pub fn registry(&self) -> &Registry {
        &self.0.registry
    }

    /// Fixes the clock of every run from now on (tests).
    pub fn set_fixed_now(&self, now: Option<chrono::DateTime<chrono::Utc>>) {
        *self.0.fixed_now.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }

    /// The published version `version_id` of a workflow, parsed once and shared.
    pub(crate) async fn version(
        &self,
        conn: Conn<'_>,
        workflow_id: &str,
        version_id: &str,
    ) -> Result<Option<Arc<Workflow>>, crate::error::ApiError> {
        if let Some(found) = self.cached(version_id) {
            return Ok(Some(found));
        }
        let mut conn = conn;
        let Some(row) = workflow_repo::find(conn.reborrow(), workflow_id).await? else {
            return Ok(None);
        };
        let Some(version) = workflow_repo::find_version(conn, workflow_id, version_id).await?
        else {
            return Ok(None);
        };
        let parsed = parse_version(&row, &version).map_err(crate::error::ApiError::bad_request)?;
        let parsed = Arc::new(parsed);
        let mut cache = self.0.versions.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= VERSION_CACHE {
            cache.clear();
        }
        cache.insert(version_id.to_owned(), Arc::clone(&parsed));
        Ok(Some(parsed))
    }

    /// As [`Engine::version`], reading the database only when the version is not cached.
    pub(crate) async fn load_version(
        &self,
        workflow_id: &str,
        version_id: &str,
    ) -> Result<Option<Arc<Workflow>>, crate::error::ApiError> {
        if let Some(found) = self.cached(version_id) {
            return Ok(Some(found));
        }
        let mut conn = self.0.db.acquire().await?;
        self.version(conn.conn(), workflow_id, version_id).await
    }

    fn cached(&self, version_id: &str) -> Option<Arc<Workflow>> {
        self.0
            .versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(version_id)
            .cloned()
    }

    /// Starts the background tasks of `flowgate start`: claims' heartbeat and crash sweep,
    /// resuming waiting executions, schedules and pruning while it leads, and in queue mode
    /// running queued executions.
    pub fn start_background(&self) {
        execute::spawn_background(self.clone(), execute::Role::Main);
        schedule::spawn(self.clone());
    }

    /// The background tasks of `flowgate worker`: queued executions, their heartbeat, the
    /// crash sweep and resuming waiting executions (no schedules, no pruning).
    pub fn start_worker(&self) {
        execute::spawn_background(self.clone(), execute::Role::Worker);
    }

    /// Stops the background tasks and cancels running executions (shutdown).
    pub fn shutdown(&self) {
        self.0.shutdown.cancel();
    }

    /// Stops claiming queued executions and waits up to `limit` for the running ones to end
    /// (their heartbeat goes on meanwhile); answers how many still run.
    pub async fn drain(&self, limit: std::time::Duration) -> usize {
        self.0.draining.cancel();
        let until = tokio::time::Instant::now() + limit;
        let busy = || {
            !self.0.running.is_empty()
                || self.0.claiming.load(std::sync::atomic::Ordering::SeqCst) > 0
        };
        while busy() && tokio::time::Instant::now() < until {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.0.running.len()
    }
}

/// Reads a stored workflow and one of its versions into a runnable workflow. Settings, name
/// and static data are the workflow's current ones (n8n keeps them outside the versions too).
pub(crate) fn parse_version(
    row: &workflow_repo::WorkflowRow,
    version: &workflow_repo::VersionRow,
) -> Result<Workflow, String> {
    let json = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap_or_default();
    let mut workflow = Workflow::parse(
        &row.id,
        &row.name,
        row.active,
        &json(&version.nodes),
        &json(&version.connections),
        &json(&row.settings),
    )?;
    workflow.version_id = Some(version.version_id.clone());
    workflow.project_id = Some(row.project_id.clone());
    workflow.static_data = row
        .static_data
        .as_deref()
        .map(json)
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    workflow.pin_data = row
        .pin_data
        .as_deref()
        .map(json)
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    Ok(workflow)
}
