//! The steps every path that changes a workflow is made of, inside the caller's transaction:
//! saving a version, publishing, unpublishing, archiving, deleting. The API's operations
//! ([`super`]), the source-control pull and the n8n import all use these, so each rule (the
//! publish policy, the history entries, the hook calls, the events) is written once.

use serde_json::Value;

use super::lifecycle::{Hooks, WorkflowEvent};
use crate::db::workflows::{self as repo, Content, NewVersion, PublishEventRow};
use crate::db::workflows::{VersionRow, WorkflowRow};
use crate::db::Conn;
use crate::domain::ids::new_id;
use crate::domain::workflow::{self, WorkflowInput, NO_TRIGGER};
use crate::error::{ApiError, Result};

/// n8n's answer to publishing an archived workflow.
pub const ARCHIVED: &str = "Cannot publish an archived workflow.";

/// A validated workflow's documents as stored.
struct Stored {
    nodes: String,
    connections: String,
    node_groups: String,
    settings: String,
    static_data: Option<String>,
    pin_data: Option<String>,
    meta: Option<String>,
}

fn to_text(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

impl Stored {
    fn of(input: &WorkflowInput) -> Stored {
        let nodes = serde_json::to_string(&input.nodes).unwrap_or_else(|_| "[]".to_owned());
        Stored {
            nodes,
            connections: to_text(&input.connections),
            node_groups: to_text(&input.node_groups),
            settings: to_text(&input.settings),
            static_data: input.static_data.as_ref().map(to_text),
            pin_data: input.pin_data.as_ref().map(to_text),
            meta: input.meta.as_ref().map(to_text),
        }
    }
}

/// Where a saved version goes.
pub enum SaveTo<'a> {
    /// A new workflow with this id, in this project.
    New { id: &'a str, project_id: &'a str },
    /// A new version of this existing workflow.
    Existing { id: &'a str },
}

/// A version to save: the content and what goes with it.
pub struct Save<'a> {
    pub input: &'a WorkflowInput,
    pub description: Option<&'a str>,
    pub parent_folder_id: Option<&'a str>,
    /// The new version's id (an import may keep the one it brings).
    pub version_id: &'a str,
    /// Who saved it, as the history shows (see [`author`]).
    pub author: &'a str,
    pub now: &'a str,
}

/// Saves `save` as the newest version of a workflow: the workflow's row (created, or updated
/// with a new version id and counter) and its history entry. Answers both, or `None` when an
/// existing workflow is gone.
pub async fn save_version(
    mut conn: Conn<'_>,
    to: SaveTo<'_>,
    save: &Save<'_>,
) -> Result<Option<(WorkflowRow, VersionRow)>> {
    let stored = Stored::of(save.input);
    let content = Content {
        name: &save.input.name,
        description: save.description,
        nodes: &stored.nodes,
        connections: &stored.connections,
        node_groups: &stored.node_groups,
        settings: &stored.settings,
        static_data: stored.static_data.as_deref(),
        pin_data: stored.pin_data.as_deref(),
        meta: stored.meta.as_deref(),
        parent_folder_id: save.parent_folder_id,
    };
    let row = match to {
        SaveTo::New { id, project_id } => Some(
            repo::insert(
                conn.reborrow(),
                id,
                save.version_id,
                project_id,
                &content,
                save.now,
            )
            .await?,
        ),
        SaveTo::Existing { id } => {
            repo::update_content(conn.reborrow(), id, save.version_id, &content, save.now).await?
        }
    };
    let Some(row) = row else {
        return Ok(None);
    };
    let version = repo::insert_version(
        conn,
        &NewVersion {
            version_id: save.version_id,
            workflow_id: &row.id,
            nodes: &stored.nodes,
            connections: &stored.connections,
            node_groups: &stored.node_groups,
            authors: save.author,
            now: save.now,
        },
    )
    .await?;
    Ok(Some((row, version)))
}

/// "First Last" of a user, as a version's author.
pub fn author(first_name: Option<&str>, last_name: Option<&str>) -> String {
    format!(
        "{} {}",
        first_name.unwrap_or_default(),
        last_name.unwrap_or_default()
    )
    .trim()
    .to_owned()
}

/// The publish policy, in one place: an archived workflow is never published, and a version
/// needs a node that can start it. Answers the number of such nodes.
pub fn publishable(workflow: &WorkflowRow, version: &VersionRow) -> Result<i64> {
    if workflow.is_archived {
        return Err(ApiError::bad_request(ARCHIVED));
    }
    let nodes: Value = serde_json::from_str(&version.nodes).unwrap_or(Value::Null);
    if !workflow::can_publish(&nodes) {
        return Err(ApiError::bad_request(NO_TRIGGER));
    }
    Ok(workflow::trigger_count(&nodes))
}

/// Who changes a workflow, and when: what the publish history records.
#[derive(Clone, Copy)]
pub struct Actor<'a> {
    pub user_id: &'a str,
    pub now: &'a str,
}

async fn record(
    conn: Conn<'_>,
    workflow_id: &str,
    version_id: Option<&str>,
    event: &str,
    actor: Actor<'_>,
) -> Result<()> {
    repo::insert_publish_event(
        conn,
        &PublishEventRow {
            id: new_id(),
            workflow_id: workflow_id.to_owned(),
            version_id: version_id.map(str::to_owned),
            event: event.to_owned(),
            user_id: Some(actor.user_id.to_owned()),
            created_at: actor.now.to_owned(),
        },
    )
    .await?;
    Ok(())
}

/// The savepoint a publish runs under, so a refusal undoes only the publish.
const PUBLISH: &str = "workflow_publish";

/// Publishes `version` of `workflow` (by the policy of [`publishable`], then the listener's
/// word); answers the published workflow. A refusal undoes what the publish wrote and leaves
/// the rest of the transaction as it was: the caller decides whether that fails the whole.
pub async fn publish(
    mut conn: Conn<'_>,
    hooks: &mut Hooks<'_>,
    workflow: &WorkflowRow,
    version: &VersionRow,
    actor: Actor<'_>,
) -> Result<WorkflowRow> {
    let triggers = publishable(workflow, version)?;
    conn.savepoint(PUBLISH).await?;
    match publish_under_savepoint(conn.reborrow(), hooks, workflow, version, triggers, actor).await
    {
        Ok(row) => {
            conn.release(PUBLISH).await?;
            hooks.push(WorkflowEvent::Published {
                workflow_id: row.id.clone(),
                version_id: version.version_id.clone(),
            });
            Ok(row)
        }
        Err(refused) => {
            conn.rollback_to(PUBLISH).await?;
            Err(refused)
        }
    }
}

async fn publish_under_savepoint(
    mut conn: Conn<'_>,
    hooks: &Hooks<'_>,
    workflow: &WorkflowRow,
    version: &VersionRow,
    triggers: i64,
    actor: Actor<'_>,
) -> Result<WorkflowRow> {
    hooks
        .lifecycle()
        .publishing(conn.reborrow(), workflow, version)
        .await?;
    let row = repo::set_published(
        conn.reborrow(),
        &workflow.id,
        Some(&version.version_id),
        triggers,
        actor.now,
    )
    .await?
    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("published workflow vanished")))?;
    record(
        conn,
        &workflow.id,
        Some(&version.version_id),
        "activated",
        actor,
    )
    .await?;
    Ok(row)
}

/// Unpublishes `workflow` if it is published; answers it as it is afterwards.
pub async fn unpublish(
    mut conn: Conn<'_>,
    hooks: &mut Hooks<'_>,
    workflow: WorkflowRow,
    actor: Actor<'_>,
) -> Result<WorkflowRow> {
    if !workflow.active {
        return Ok(workflow);
    }
    hooks
        .lifecycle()
        .unpublishing(conn.reborrow(), &workflow.id)
        .await?;
    let row = repo::set_published(conn.reborrow(), &workflow.id, None, 0, actor.now)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("unpublished workflow vanished")))?;
    record(
        conn,
        &workflow.id,
        workflow.active_version_id.as_deref(),
        "deactivated",
        actor,
    )
    .await?;
    hooks.push(WorkflowEvent::Unpublished {
        workflow_id: workflow.id,
    });
    Ok(row)
}

/// Archives `workflow` (unpublishing it first: an archived workflow is never published);
/// answers it as it is afterwards. An archived workflow is left as it is.
pub async fn archive(
    mut conn: Conn<'_>,
    hooks: &mut Hooks<'_>,
    workflow: WorkflowRow,
    actor: Actor<'_>,
) -> Result<WorkflowRow> {
    if workflow.is_archived {
        return Ok(workflow);
    }
    let workflow = unpublish(conn.reborrow(), hooks, workflow, actor).await?;
    let row = set_archived(conn, &workflow.id, true, actor.now).await?;
    hooks.push(WorkflowEvent::Archived {
        workflow_id: row.id.clone(),
    });
    Ok(row)
}

/// Archives or restores a workflow without the publish rules (restoring; archiving goes
/// through [`archive`]).
pub async fn set_archived(
    conn: Conn<'_>,
    id: &str,
    archived: bool,
    now: &str,
) -> Result<WorkflowRow> {
    repo::set_archived(conn, id, archived, now)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("archived workflow vanished")))
}

/// Deletes a workflow, its versions and its history.
pub async fn delete(mut conn: Conn<'_>, hooks: &mut Hooks<'_>, workflow_id: &str) -> Result<()> {
    hooks
        .lifecycle()
        .unpublishing(conn.reborrow(), workflow_id)
        .await?;
    repo::delete(conn, workflow_id).await?;
    hooks.push(WorkflowEvent::Deleted {
        workflow_id: workflow_id.to_owned(),
    });
    Ok(())
}

/// Archives every workflow in the given folders (what happens to a deleted folder's workflows
/// that are not moved elsewhere) and moves them to the project root.
pub async fn archive_in_folders(
    mut conn: Conn<'_>,
    hooks: &mut Hooks<'_>,
    folder_ids: &[String],
    actor: Actor<'_>,
) -> Result<()> {
    for workflow in repo::in_folders(conn.reborrow(), folder_ids).await? {
        archive(conn.reborrow(), hooks, workflow, actor).await?;
    }
    crate::db::folders::move_workflows_to_root(conn, folder_ids, actor.now).await?;
    Ok(())
}

/// Deletes every workflow of a project (before the project itself goes).
pub async fn delete_in_project(
    mut conn: Conn<'_>,
    hooks: &mut Hooks<'_>,
    project_id: &str,
) -> Result<()> {
    for workflow_id in repo::ids_in_project(conn.reborrow(), project_id).await? {
        delete(conn.reborrow(), hooks, &workflow_id).await?;
    }
    Ok(())
}
