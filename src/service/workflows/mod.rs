//! Workflows: every operation of the workflow routes, each in one transaction, built from the
//! steps of [`steps`] (which the source-control pull and the n8n import use too).
//!
//! Access: a workflow is reached through the caller's access to its project
//! ([`crate::access`]); one the caller cannot see is answered as missing. Writes need editor
//! rights, and lock the workflow's row once the caller's access is known, so a change derived
//! from the row cannot undo a concurrent one. Transfers need project-admin rights at the source
//! and editor rights at the destination.
//!
//! Whoever runs workflows hears of publishes, unpublishes, archives and deletes through
//! [`WorkflowLifecycle`], installed in the application state.
//!
//! Long because it is the one place of every workflow operation; the read and the list run
//! outside a transaction (see `read`), the others in one.

pub mod lifecycle;
mod manual;
pub mod page;
pub mod steps;

use axum::http::StatusCode;
use serde_json::json;

use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::folders::{self, FolderRow};
use crate::db::projects::{self, ProjectRow};
use crate::db::tags::{self, TagRow};
use crate::db::workflows::{self as repo, ListFilter, PublishEventRow, VersionRow, WorkflowRow};
use crate::db::{users, Conn};
use crate::domain::ids::{is_plausible_id, new_id, Named, WorkflowId};
use crate::domain::time::now_iso;
use crate::domain::workflow::WorkflowInput;
use crate::error::{ApiError, Result};
use crate::pagination::PageRequest;
pub use lifecycle::{Hooks, NoLifecycle, WorkflowEvent, WorkflowLifecycle};
pub use manual::{run_manually, ManualRun};
use steps::{Actor, Save, SaveTo};

/// How a missing workflow is worded for an instance owner or admin: n8n's routes differ.
/// Everyone else gets the access check's `Workflow with ID "<id>" not found.` on every route.
#[derive(Clone, Copy, Debug)]
pub enum Wording {
    /// `Not Found` (read, update, delete, publish, transfer, tags).
    NotFound,
    /// `Workflow not found` (archive, unarchive, history, versions).
    WorkflowNotFound,
}

/// The answer for a workflow the caller cannot see.
pub fn missing(principal: &Principal, id: &str, wording: Wording) -> ApiError {
    if !principal.role.is_instance_admin() {
        return ApiError::not_found(format!("Workflow with ID \"{id}\" not found."));
    }
    ApiError::not_found(match wording {
        Wording::NotFound => "Not Found",
        Wording::WorkflowNotFound => "Workflow not found",
    })
}

/// A workflow with what its API view shows besides its own row.
pub struct Details {
    pub row: WorkflowRow,
    /// In the order n8n shows them inside a workflow.
    pub tags: Vec<TagRow>,
    pub project: Option<ProjectRow>,
    pub active_version: Option<VersionRow>,
    /// The published version's publish events (single-workflow answers only).
    pub publish_history: Option<Vec<PublishEventRow>>,
    /// The parent folder, when asked for: `Some(None)` at the project root.
    pub parent_folder: Option<Option<FolderRow>>,
}

/// Loads what a single workflow's answer shows.
async fn details(mut conn: Conn<'_>, row: WorkflowRow, with_folder: bool) -> Result<Details> {
    let tags = repo::tags_of(conn.reborrow(), &[row.id.as_str()])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let project = projects::find(conn.reborrow(), &row.project_id).await?;
    let (active_version, publish_history) = match &row.active_version_id {
        Some(version_id) => match repo::find_version(conn.reborrow(), &row.id, version_id).await? {
            Some(version) => {
                let events = repo::publish_events(conn.reborrow(), &row.id, version_id).await?;
                (Some(version), Some(events))
            }
            None => (None, None),
        },
        None => (None, None),
    };
    let parent_folder = match (with_folder, &row.parent_folder_id) {
        (false, _) => None,
        (true, None) => Some(None),
        (true, Some(folder_id)) => Some(folders::find(conn, folder_id).await?),
    };
    Ok(Details {
        row,
        tags,
        project,
        active_version,
        publish_history,
        parent_folder,
    })
}

/// The workflow `id` if the caller can see it, with the caller's access to its project.
async fn visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<WorkflowId>,
    wording: Wording,
) -> Result<(WorkflowRow, ProjectAccess)> {
    let missing = || missing(principal, id.as_str(), wording);
    let id = id.or_missing(|_| missing())?;
    let found = repo::find(conn.reborrow(), id).await?;
    access::visible(conn, principal, found, |r| &r.project_id, missing).await
}

/// The workflow `id` if the caller may change it, locked for the rest of the transaction. The
/// access check comes first, so a caller who cannot see a workflow cannot hold its lock.
async fn writable(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<WorkflowId>,
    wording: Wording,
) -> Result<WorkflowRow> {
    let row = access::writable(visible(conn.reborrow(), principal, id, wording).await?)?;
    let project = row.project_id.clone();
    let locked = repo::relock(conn.reborrow(), row)
        .await?
        .ok_or_else(|| missing(principal, id.as_str(), wording))?;
    if locked.project_id != project {
        // Moved to another project between the check and the lock: check again there.
        return writable_in_place(conn, principal, locked, wording).await;
    }
    Ok(locked)
}

async fn writable_in_place(
    conn: Conn<'_>,
    principal: &Principal,
    row: WorkflowRow,
    wording: Wording,
) -> Result<WorkflowRow> {
    let id = row.id.clone();
    let found = access::visible(
        conn,
        principal,
        Some(row),
        |r| &r.project_id,
        || missing(principal, &id, wording),
    )
    .await?;
    access::writable(found)
}

fn actor<'a>(principal: &'a Principal, now: &'a str) -> Actor<'a> {
    Actor {
        user_id: &principal.user_id,
        now,
    }
}

/// The caller's name, as the author of the versions they save.
async fn author(conn: Conn<'_>, principal: &Principal) -> Result<String> {
    let user = users::find_by_id(conn, &principal.user_id).await?;
    Ok(user
        .map(|u| steps::author(u.first_name.as_deref(), u.last_name.as_deref()))
        .unwrap_or_default())
}

/// Checks that `folder_id` is a folder of `project_id` (n8n: 404 with the folder's message).
async fn check_folder(conn: Conn<'_>, folder_id: &str, project_id: &str) -> Result<()> {
    let missing = || ApiError::not_found(format!("Could not find the folder: {folder_id}"));
    if !is_plausible_id(folder_id) {
        return Err(missing());
    }
    match folders::find(conn, folder_id).await? {
        Some(folder) if folder.project_id == project_id => Ok(()),
        _ => Err(missing()),
    }
}

/// A workflow the caller can see, with what its answer shows: [`visible`] and [`details`]
/// (without the folder) as single statements outside a transaction, which on SQLite run on the
/// request's own thread (see `db::direct`), as the workflow list does.
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn read(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
) -> Result<Details> {
    let missing = || missing(principal, id.as_str(), Wording::NotFound);
    let id = id.or_missing(|_| missing())?;
    let mut reader = state.db.reader().await?;
    let found = repo::read(&mut reader, id).await?;
    // An instance owner or admin sees every project, so their check is only that the project
    // exists, and the project's row is read below anyway: its presence is that check (one
    // round trip fewer on PostgreSQL). A member's role in the project is read as before.
    let row = if principal.role.is_instance_admin() {
        found.ok_or_else(missing)?
    } else {
        access::read_visible(&mut reader, principal, found, |r| &r.project_id, missing)
            .await?
            .0
    };
    let tags = repo::read_tags_of(&mut reader, &[row.id.as_str()])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let project = projects::read(&mut reader, &row.project_id).await?;
    if project.is_none() {
        return Err(missing());
    }
    let (active_version, publish_history) = match &row.active_version_id {
        Some(version_id) => match repo::read_version(&mut reader, &row.id, version_id).await? {
            Some(version) => {
                let events = repo::read_publish_events(&mut reader, &row.id, version_id).await?;
                (Some(version), Some(events))
            }
            None => (None, None),
        },
        None => (None, None),
    };
    Ok(Details {
        row,
        tags,
        project,
        active_version,
        publish_history,
        parent_folder: None,
    })
}

/// One page of the workflows the caller can see, with their tags and published versions.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: ListFilter<'_>,
    page: &PageRequest,
) -> Result<(Vec<Details>, Option<String>)> {
    let filter = ListFilter {
        member: access::visible_to(principal),
        ..filter
    };
    // One statement (the page with its tags and published versions), on SQLite on the
    // request's own thread (see `db::direct`).
    let mut reader = state.db.reader().await?;
    let rows = repo::list(
        &mut reader,
        &filter,
        page.after.as_deref(),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |w| w.row.id.clone());
    let listed = rows
        .into_iter()
        .map(|listed| Details {
            row: listed.row,
            tags: listed.tags,
            project: None,
            active_version: listed.active_version,
            publish_history: None,
            parent_folder: None,
        })
        .collect();
    Ok((listed, next_cursor))
}

/// Creates a workflow (in the project asked for, or the caller's personal project) with its
/// first version.
#[tracing::instrument(skip_all)]
pub async fn create(
    state: &AppState,
    principal: &Principal,
    input: WorkflowInput,
) -> Result<Details> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let project_id =
        access::target_project(tx.conn(), principal, input.project_id.as_deref(), || {
            let id = input.project_id.as_deref().unwrap_or_default();
            ApiError::not_found(format!("Project with ID \"{id}\" not found"))
        })
        .await?;
    let folder = input.parent_folder_id.clone().flatten();
    if let Some(folder_id) = &folder {
        check_folder(tx.conn(), folder_id, &project_id).await?;
    }
    let id = new_id();
    let version_id = uuid::Uuid::new_v4().to_string();
    let author = author(tx.conn(), principal).await?;
    let description = input.description.clone().flatten();
    let saved = steps::save_version(
        tx.conn(),
        SaveTo::New {
            id: &id,
            project_id: &project_id,
        },
        &Save {
            input: &input,
            description: description.as_deref(),
            parent_folder_id: folder.as_deref(),
            version_id: &version_id,
            author: &author,
            now: &now,
        },
    )
    .await?;
    let (row, _) =
        saved.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created workflow vanished")))?;
    let details = details(tx.conn(), row, true).await?;
    tx.commit().await?;
    Ok(details)
}

/// Saves a new version of a workflow. A published workflow is re-published with it when
/// `publish_if_active` and the caller may publish; when re-publishing is refused, the new
/// version is kept (as n8n keeps the draft) and the refusal answered.
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    input: WorkflowInput,
    publish_if_active: bool,
) -> Result<Details> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let mut hooks = Hooks::new(&*state.lifecycle);
    let current = writable(tx.conn(), principal, id, Wording::NotFound).await?;
    if current.is_archived {
        return Err(ApiError::bad_request("Cannot update an archived workflow."));
    }
    let folder = match &input.parent_folder_id {
        None => current.parent_folder_id.clone(),
        Some(None) => None,
        Some(Some(folder_id)) => {
            check_folder(tx.conn(), folder_id, &current.project_id).await?;
            Some(folder_id.clone())
        }
    };
    let description = match &input.description {
        None => current.description.clone(),
        Some(given) => given.clone(),
    };
    let version_id = uuid::Uuid::new_v4().to_string();
    let author = author(tx.conn(), principal).await?;
    let (mut row, version) = steps::save_version(
        tx.conn(),
        SaveTo::Existing { id: id.as_str() },
        &Save {
            input: &input,
            description: description.as_deref(),
            parent_folder_id: folder.as_deref(),
            version_id: &version_id,
            author: &author,
            now: &now,
        },
    )
    .await?
    .ok_or_else(|| missing(principal, id.as_str(), Wording::NotFound))?;

    let mut refused = None;
    if row.active && publish_if_active {
        if !principal.scopes.contains(Scope::WorkflowActivate) {
            refused = Some(ApiError::WithBody {
                status: StatusCode::FORBIDDEN,
                body: json!({
                    "message": "The workflow was saved, but not published: the API key lacks the workflow:activate scope.",
                    "reason": "insufficient_api_key_scope",
                    "versionId": version_id,
                }),
            });
        } else {
            let actor = actor(principal, &now);
            match steps::publish(tx.conn(), &mut hooks, &row, &version, actor).await {
                Ok(published) => row = published,
                Err(error) if error.status().is_client_error() => refused = Some(error),
                Err(error) => return Err(error),
            }
        }
    }
    if let Some(error) = refused {
        tx.commit().await?;
        hooks.committed();
        return Err(error);
    }
    let details = details(tx.conn(), row, false).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(details)
}

/// What a publish asks for: a version (default: the current one) and how to label it.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PublishRequest {
    pub version_id: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn publish(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    request: PublishRequest,
) -> Result<Details> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let mut hooks = Hooks::new(&*state.lifecycle);
    let row = writable(tx.conn(), principal, id, Wording::NotFound).await?;
    if row.is_archived {
        return Err(ApiError::bad_request(steps::ARCHIVED));
    }
    let version_id = request.version_id.as_deref().unwrap_or(&row.version_id);
    let version_missing = || ApiError::not_found("Version not found");
    let mut version = repo::find_version(tx.conn(), id.as_str(), version_id)
        .await?
        .ok_or_else(version_missing)?;
    steps::publishable(&row, &version)?;
    if request.name.is_some() || request.description.is_some() {
        version = repo::label_version(
            tx.conn(),
            &version.version_id,
            request.name.as_deref(),
            request.description.as_deref(),
            &now,
        )
        .await?
        .ok_or_else(version_missing)?;
    }
    let row = steps::publish(
        tx.conn(),
        &mut hooks,
        &row,
        &version,
        actor(principal, &now),
    )
    .await?;
    let details = details(tx.conn(), row, false).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(details)
}

#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn unpublish(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
) -> Result<Details> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let mut hooks = Hooks::new(&*state.lifecycle);
    let row = writable(tx.conn(), principal, id, Wording::NotFound).await?;
    let row = steps::unpublish(tx.conn(), &mut hooks, row, actor(principal, &now)).await?;
    let details = details(tx.conn(), row, false).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(details)
}

#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn archive(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
) -> Result<Details> {
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let mut hooks = Hooks::new(&*state.lifecycle);
    let row = writable(tx.conn(), principal, id, Wording::WorkflowNotFound).await?;
    let row = steps::archive(tx.conn(), &mut hooks, row, actor(principal, &now)).await?;
    let details = details(tx.conn(), row, false).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(details)
}

#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn unarchive(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
) -> Result<Details> {
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), principal, id, Wording::WorkflowNotFound).await?;
    if !row.is_archived {
        return Err(ApiError::bad_request("Workflow is not archived"));
    }
    let row = steps::set_archived(tx.conn(), id.as_str(), false, &now_iso()).await?;
    let details = details(tx.conn(), row, false).await?;
    tx.commit().await?;
    Ok(details)
}

/// Deletes a workflow; answers it as it was.
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
) -> Result<Details> {
    let mut tx = state.db.begin().await?;
    let mut hooks = Hooks::new(&*state.lifecycle);
    let row = writable(tx.conn(), principal, id, Wording::NotFound).await?;
    let details = details(tx.conn(), row, false).await?;
    steps::delete(tx.conn(), &mut hooks, id.as_str()).await?;
    tx.commit().await?;
    hooks.committed();
    // Its executions went with it (foreign key), and so do their files.
    state.engine.binary().delete_workflow(id.as_str()).await;
    Ok(details)
}

/// Moves a workflow to another project (at its root).
#[tracing::instrument(skip_all, fields(workflow.id = %id, project.id = %destination))]
pub async fn transfer(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    destination: &str,
) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let (row, source) = visible(tx.conn(), principal, id, Wording::NotFound).await?;
    if !source.can_manage() {
        return Err(ApiError::Forbidden);
    }
    access::transfer_target(tx.conn(), principal, destination, || {
        ApiError::bad_request(format!(
            "Could not find project with the id \"{destination}\". Make sure you have the permission to create workflows in it."
        ))
    })
    .await?;
    if row.project_id == destination {
        return Err(ApiError::bad_request(
            "You can't transfer a workflow into the project that's already owning it.",
        ));
    }
    repo::transfer(tx.conn(), id.as_str(), destination, &now_iso()).await?;
    tx.commit().await?;
    Ok(())
}

/// One page of a workflow's versions, newest first (by offset, as n8n pages a history).
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn history(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    page: &PageRequest,
) -> Result<(Vec<VersionRow>, Option<String>)> {
    let mut conn = state.db.acquire().await?;
    visible(conn.conn(), principal, id, Wording::WorkflowNotFound).await?;
    let rows =
        repo::list_versions(conn.conn(), id.as_str(), page.offset, page.fetch_limit()).await?;
    Ok(page.finish_by_offset(rows))
}

#[tracing::instrument(skip_all, fields(workflow.id = %id, version.id = %version_id))]
pub async fn version(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    version_id: &str,
) -> Result<VersionRow> {
    let mut conn = state.db.acquire().await?;
    visible(conn.conn(), principal, id, Wording::WorkflowNotFound).await?;
    repo::find_version(conn.conn(), id.as_str(), version_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Version not found"))
}

fn tags_enabled(state: &AppState) -> Result<()> {
    if state.config.workflow_tags_disabled {
        return Err(ApiError::bad_request("Workflow Tags Disabled"));
    }
    Ok(())
}

/// A workflow's tags, in the order its tags route shows them.
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn tags(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
) -> Result<Vec<TagRow>> {
    tags_enabled(state)?;
    let mut conn = state.db.acquire().await?;
    visible(conn.conn(), principal, id, Wording::NotFound).await?;
    Ok(repo::tags_by_creation(conn.conn(), id.as_str()).await?)
}

/// Replaces a workflow's tags (every id must be a tag).
#[tracing::instrument(skip_all, fields(workflow.id = %id))]
pub async fn set_tags(
    state: &AppState,
    principal: &Principal,
    id: &Named<WorkflowId>,
    mut tag_ids: Vec<String>,
) -> Result<Vec<TagRow>> {
    tags_enabled(state)?;
    tag_ids.sort();
    tag_ids.dedup();
    let mut tx = state.db.begin().await?;
    writable(tx.conn(), principal, id, Wording::NotFound).await?;
    for tag_id in &tag_ids {
        if !is_plausible_id(tag_id) || tags::find(tx.conn(), tag_id).await?.is_none() {
            return Err(ApiError::not_found("Some tags not found"));
        }
    }
    repo::set_tags(tx.conn(), id.as_str(), &tag_ids).await?;
    let tags = repo::tags_by_creation(tx.conn(), id.as_str()).await?;
    tx.commit().await?;
    Ok(tags)
}
