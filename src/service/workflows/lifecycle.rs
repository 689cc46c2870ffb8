//! What the workflow service tells whoever runs workflows (the engine), without knowing who
//! that is: a hook inside the transactions that publish and unpublish, and an event after each
//! commit.
//!
//! The engine installs its own [`WorkflowLifecycle`] when it builds the application state
//! (`AppState::new_with_lifecycle`); without one, [`NoLifecycle`] accepts everything and hears
//! nothing.

use async_trait::async_trait;

use crate::db::workflows::{VersionRow, WorkflowRow};
use crate::db::Conn;
use crate::error::ApiError;

/// A change to a workflow that a listener may act on, told after the change is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkflowEvent {
    /// `version_id` is now the published version of the workflow.
    Published {
        workflow_id: String,
        version_id: String,
    },
    Unpublished {
        workflow_id: String,
    },
    Archived {
        workflow_id: String,
    },
    Deleted {
        workflow_id: String,
    },
}

/// What the workflow service tells whoever runs workflows (the engine). The service never
/// knows who listens.
#[async_trait]
pub trait WorkflowLifecycle: Send + Sync + 'static {
    /// Inside the transaction that makes `version` the published version of `workflow`
    /// (publish, activate, an update that re-publishes, a source-control pull that publishes).
    /// An error refuses the publish: what the publish wrote is rolled back and the caller gets
    /// the error (e.g. a 400 naming unsupported nodes). An update keeps its new draft version
    /// then, as n8n does; every other caller rolls its whole transaction back.
    async fn publishing(
        &self,
        conn: Conn<'_>,
        workflow: &WorkflowRow,
        version: &VersionRow,
    ) -> Result<(), ApiError>;

    /// Inside the transaction that unpublishes, archives (when published) or deletes the
    /// workflow.
    async fn unpublishing(&self, conn: Conn<'_>, workflow_id: &str) -> Result<(), ApiError>;

    /// After the commit.
    fn changed(&self, event: WorkflowEvent);
}

/// The lifecycle of a server without an engine: every publish is accepted, nothing listens.
pub struct NoLifecycle;

#[async_trait]
impl WorkflowLifecycle for NoLifecycle {
    async fn publishing(
        &self,
        _conn: Conn<'_>,
        _workflow: &WorkflowRow,
        _version: &VersionRow,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    async fn unpublishing(&self, _conn: Conn<'_>, _workflow_id: &str) -> Result<(), ApiError> {
        Ok(())
    }

    fn changed(&self, _event: WorkflowEvent) {}
}

/// The listener of one transaction and the events it will hear once the transaction commits.
/// Dropped without [`Hooks::committed`] (a failed transaction), nothing is told.
pub struct Hooks<'a> {
    lifecycle: &'a dyn WorkflowLifecycle,
    events: Vec<WorkflowEvent>,
}

impl<'a> Hooks<'a> {
    pub fn new(lifecycle: &'a dyn WorkflowLifecycle) -> Hooks<'a> {
        Hooks {
            lifecycle,
            events: Vec::new(),
        }
    }

    pub(super) fn lifecycle(&self) -> &'a dyn WorkflowLifecycle {
        self.lifecycle
    }

    pub(super) fn push(&mut self, event: WorkflowEvent) {
        self.events.push(event);
    }

    /// Tells the listener what the committed transaction changed, in order.
    pub fn committed(self) {
        for event in self.events {
            self.lifecycle.changed(event);
        }
    }
}
