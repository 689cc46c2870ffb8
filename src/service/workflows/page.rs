//! What the web page's workflow list shows beside each workflow of a page: its latest
//! execution, the caller's access to its project, its home project and its parent folder.
//! Each project and folder is read once per page, however many workflows share it.

use std::collections::HashMap;

use super::Details;
use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::executions::{self as executions_repo, LatestRow};
use crate::db::folders::{self, FolderRow};
use crate::db::projects::{self, ProjectRow};
use crate::error::Result;

/// The surroundings of one page of workflows, keyed by workflow, project and folder id.
pub struct PageContext {
    pub latest: HashMap<String, LatestRow>,
    pub access: HashMap<String, Option<ProjectAccess>>,
    pub homes: HashMap<String, Option<ProjectRow>>,
    pub folders: HashMap<String, Option<FolderRow>>,
}

/// The caller's access to each project of `projects`, asked once per project.
pub async fn accesses(
    state: &AppState,
    principal: &Principal,
    projects: impl Iterator<Item = String>,
) -> Result<HashMap<String, Option<ProjectAccess>>> {
    let mut conn = state.db.acquire().await?;
    let mut found = HashMap::new();
    for project in projects {
        if let std::collections::hash_map::Entry::Vacant(entry) = found.entry(project) {
            let access = access::project_access(conn.conn(), principal, entry.key()).await?;
            entry.insert(access);
        }
    }
    Ok(found)
}

/// Loads the surroundings of `listed`.
#[tracing::instrument(skip_all, fields(workflows = listed.len()))]
pub async fn context(
    state: &AppState,
    principal: &Principal,
    listed: &[Details],
) -> Result<PageContext> {
    let ids: Vec<String> = listed.iter().map(|d| d.row.id.clone()).collect();
    let latest = {
        let mut conn = state.db.acquire().await?;
        executions_repo::latest_of(conn.conn(), &ids).await?
    };
    let latest = latest
        .into_iter()
        .map(|e| (e.workflow_id.clone(), e))
        .collect();
    let access = accesses(
        state,
        principal,
        listed.iter().map(|d| d.row.project_id.clone()),
    )
    .await?;
    // The list's rows leave their project out; each project is read once.
    let mut conn = state.db.acquire().await?;
    let mut homes = HashMap::new();
    for project_id in access.keys() {
        homes.insert(
            project_id.clone(),
            projects::find(conn.conn(), project_id).await?,
        );
    }
    let mut folders_of = HashMap::new();
    for folder_id in listed
        .iter()
        .filter_map(|d| d.row.parent_folder_id.as_ref())
    {
        if !folders_of.contains_key(folder_id) {
            let folder = folders::find(conn.conn(), folder_id).await?;
            folders_of.insert(folder_id.clone(), folder);
        }
    }
    Ok(PageContext {
        latest,
        access,
        homes,
        folders: folders_of,
    })
}
