//! Folders inside a project: which project a path names (`personal` meaning the caller's
//! own), which folder of it, and the folder list with its filters, sorting and paging.

use serde::Deserialize;

use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::folders::{self as repo, FolderRow, ListFilter, ListedFolderRow};
use crate::db::projects::{self, ProjectRow};
use crate::db::Conn;
use crate::domain::ids::is_plausible_id;
use crate::error::{ApiError, Result};

/// The folder id n8n uses for "the project root".
pub const ROOT: &str = "0";

/// The project of the path (`personal` meaning the caller's own) with the caller's access.
pub async fn project(
    mut conn: Conn<'_>,
    principal: &Principal,
    project_id: &str,
) -> Result<(String, ProjectAccess)> {
    let missing = || ApiError::not_found(format!("Project with ID \"{project_id}\" not found"));
    let id = if project_id == "personal" {
        projects::personal_project_id(conn.reborrow(), &principal.user_id)
            .await?
            .ok_or_else(missing)?
    } else if is_plausible_id(project_id) {
        project_id.to_owned()
    } else {
        return Err(missing());
    };
    let access = access::project_access(conn, principal, &id)
        .await?
        .ok_or_else(missing)?;
    Ok((id, access))
}

/// As [`project`], also requiring the right to change the project's contents.
pub async fn writable_project(
    conn: Conn<'_>,
    principal: &Principal,
    project_id: &str,
) -> Result<String> {
    let (id, access) = project(conn, principal, project_id).await?;
    if !access.can_write() {
        return Err(ApiError::Forbidden);
    }
    Ok(id)
}

pub fn folder_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find the folder: {id}"))
}

/// A folder of the given project.
pub async fn folder_in(conn: Conn<'_>, project_id: &str, folder_id: &str) -> Result<FolderRow> {
    if !is_plausible_id(folder_id) {
        return Err(folder_not_found(folder_id));
    }
    match repo::find(conn, folder_id).await? {
        Some(folder) if folder.project_id == project_id => Ok(folder),
        _ => Err(folder_not_found(folder_id)),
    }
}

/// The list's query as the request wrote it.
pub struct ListQuery<'a> {
    pub filter: Option<&'a str>,
    pub select: Option<&'a str>,
    pub sort_by: Option<&'a str>,
    pub skip: Option<&'a str>,
    pub take: Option<&'a str>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Filter {
    parent_folder_id: Option<String>,
    name: Option<String>,
    exclude_folder_id_and_descendants: Option<String>,
    tags: Option<Vec<String>>,
}

/// The fields a list may `select`.
pub const SELECTABLE: &[&str] = &[
    "id",
    "name",
    "parentFolderId",
    "createdAt",
    "updatedAt",
    "homeProject",
    "parentFolder",
    "tags",
    "workflowCount",
    "subFolderCount",
];
const TAKE_MAX: i64 = 250;

/// The list's query, checked.
pub struct ListRequest {
    filter: Filter,
    /// The fields to show (`None`: all of them).
    pub select: Option<Vec<String>>,
    sort_column: &'static str,
    descending: bool,
    skip: i64,
    take: i64,
}

fn number(value: Option<&str>, name: &str) -> Result<Option<i64>> {
    match value {
        None => Ok(None),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "request/query/{name} must be a non-negative integer"
                ))
            }),
    }
}

impl ListRequest {
    pub fn parse(query: ListQuery<'_>) -> Result<ListRequest> {
        let filter: Filter = match query.filter.filter(|f| !f.trim().is_empty()) {
            None => Filter::default(),
            Some(text) => serde_json::from_str(text).map_err(|_| ApiError::bad_request("request/query/filter must be a JSON object with parentFolderId, name or excludeFolderIdAndDescendants"))?,
        };
        let (sort_column, descending) = match query.sort_by.unwrap_or("updatedAt:desc") {
            "name:asc" => ("lower(f.name)", false),
            "name:desc" => ("lower(f.name)", true),
            "createdAt:asc" => ("f.created_at", false),
            "createdAt:desc" => ("f.created_at", true),
            "updatedAt:asc" => ("f.updated_at", false),
            "updatedAt:desc" => ("f.updated_at", true),
            _ => {
                return Err(ApiError::bad_request(
                    "request/query/sortBy must be equal to one of the allowed values",
                ))
            }
        };
        let skip = number(query.skip, "skip")?.unwrap_or(0);
        let take = number(query.take, "take")?
            .unwrap_or(TAKE_MAX)
            .min(TAKE_MAX);
        let select: Option<Vec<String>> = query.select.map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(str::to_owned)
                .collect()
        });
        if let Some(fields) = &select {
            if let Some(bad) = fields.iter().find(|f| !SELECTABLE.contains(&f.as_str())) {
                return Err(ApiError::bad_request(format!(
                    "request/query/select has an unknown field: {bad}"
                )));
            }
        }
        Ok(ListRequest {
            filter,
            select,
            sort_column,
            descending,
            skip,
            take,
        })
    }
}

/// One page of a project's folders: how many match in all, the page, the parents of its
/// folders and the project itself.
pub struct FolderPage {
    pub count: i64,
    pub rows: Vec<ListedFolderRow>,
    pub parents: Vec<FolderRow>,
    pub home: ProjectRow,
}

#[tracing::instrument(skip_all, fields(project.id = %project_id))]
pub async fn list(
    state: &AppState,
    principal: &Principal,
    project_id: &str,
    request: &ListRequest,
) -> Result<FolderPage> {
    let filter = &request.filter;
    let mut conn = state.db.acquire().await?;
    let (project_id, _) = project(conn.conn(), principal, project_id).await?;
    let home = projects::find(conn.conn(), &project_id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Project with ID \"{project_id}\" not found"))
        })?;
    let exclude = match filter.exclude_folder_id_and_descendants.as_deref() {
        Some(id) if is_plausible_id(id) => Some(repo::subtree(conn.conn(), id).await?),
        _ => None,
    };
    // Folders carry no tags here; a tag filter therefore matches no folder.
    if filter.tags.as_ref().is_some_and(|t| !t.is_empty()) {
        return Ok(FolderPage {
            count: 0,
            rows: Vec::new(),
            parents: Vec::new(),
            home,
        });
    }
    let parent = filter
        .parent_folder_id
        .as_deref()
        .map(|p| if p == ROOT { None } else { Some(p) });
    let (count, rows) = repo::list(
        conn.conn(),
        &ListFilter {
            project_id: &project_id,
            parent_folder_id: parent,
            name: filter.name.as_deref().filter(|n| !n.is_empty()),
            exclude: exclude.as_deref(),
            sort_column: request.sort_column,
            descending: request.descending,
            skip: request.skip,
            take: request.take,
        },
    )
    .await?;
    let mut parents: Vec<FolderRow> = Vec::new();
    for id in rows
        .iter()
        .filter_map(|r| r.folder.parent_folder_id.as_ref())
    {
        if !parents.iter().any(|p| &p.id == id) {
            if let Some(p) = repo::find(conn.conn(), id).await? {
                parents.push(p);
            }
        }
    }
    Ok(FolderPage {
        count,
        rows,
        parents,
        home,
    })
}
