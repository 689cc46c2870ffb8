//! Variables: the list the caller may see, by project (or only the instance's), with each
//! variable's project read once per page.

use crate::access;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::projects::{self, ProjectRow};
use crate::db::variables::{self as repo, ListFilter, VariableRow};
use crate::domain::ids::is_plausible_id;
use crate::error::Result;
use crate::pagination::{join_key, split_key, PageRequest};

/// Which variables a list shows by project.
pub enum ProjectFilter<'a> {
    Any,
    /// Only the instance's variables (`projectId=null`).
    Global,
    Project(&'a str),
}

/// A variable with its project (when it has one).
pub type Listed = (VariableRow, Option<ProjectRow>);

/// One page of variables.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    principal: &Principal,
    project: ProjectFilter<'_>,
    empty_only: bool,
    page: &PageRequest,
) -> Result<(Vec<Listed>, Option<String>)> {
    let mut conn = state.db.acquire().await?;
    let project = match project {
        ProjectFilter::Any => None,
        ProjectFilter::Global => Some(None),
        ProjectFilter::Project(p) => {
            // A project the caller cannot see has no variables for them.
            if !is_plausible_id(p)
                || access::project_access(conn.conn(), principal, p)
                    .await?
                    .is_none()
            {
                return Ok((Vec::new(), None));
            }
            Some(Some(p))
        }
    };
    let filter = ListFilter {
        member: access::visible_to(principal),
        project,
        empty_only,
    };
    let rows = repo::list(
        conn.conn(),
        &filter,
        page.after.as_deref().and_then(split_key),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |v| join_key(&v.key, &v.id));
    let mut ids: Vec<&str> = rows
        .iter()
        .filter_map(|v| v.project_id.as_deref())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let found = projects::find_many(conn.conn(), &ids).await?;
    let listed = rows
        .into_iter()
        .map(|v| {
            let project = v
                .project_id
                .as_ref()
                .and_then(|p| found.iter().find(|f| &f.id == p))
                .cloned();
            (v, project)
        })
        .collect();
    Ok((listed, next_cursor))
}
