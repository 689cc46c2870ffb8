//! `/projects`: team projects and their members (n8n's 8 project routes).
//!
//! The project scopes (`project:*`) are for instance owners and admins only, so these routes
//! are theirs, except the member list (`user:list`), which members may read for the projects
//! they belong to.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, patch, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, schema_ref, Doc};
use super::Endpoint;
use crate::access::{self, ProjectAccess, ProjectRole};
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::projects::{self as repo, MemberRow, NewProject, ProjectRow};
use crate::db::{users, Conn};
use crate::domain::ids::{new_id, Named, ProjectId};
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::workflows::{steps, Hooks};

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("projectId", "The ID of the project.");
    let user = || path_param("userId", "The ID of the user.");
    vec![
        Endpoint::new(
            Method::GET,
            "/projects",
            Some(Scope::ProjectList),
            get(list),
            Doc::new("getProjects", "Projects", "Retrieve projects")
                .paginated()
                .response(200, "Operation successful.", list_of(schema_ref("project"))),
        ),
        Endpoint::new(
            Method::POST,
            "/projects",
            Some(Scope::ProjectCreate),
            post(create),
            Doc::new("createProject", "Projects", "Create a project")
                .body(schema_ref("projectName"))
                .response(
                    201,
                    "The created project, with your role in it.",
                    schema_ref("createdProject"),
                )
                .errors(&[400]),
        ),
        Endpoint::new(
            Method::PUT,
            "/projects/{projectId}",
            Some(Scope::ProjectUpdate),
            put(update),
            Doc::new("updateProject", "Projects", "Update a project")
                .param(id())
                .body(schema_ref("projectName"))
                .empty_response(204, "Operation successful.")
                .errors(&[400, 404]),
        ),
        Endpoint::new(
            Method::DELETE,
            "/projects/{projectId}",
            Some(Scope::ProjectDelete),
            delete(remove),
            Doc::new("deleteProject", "Projects", "Delete a project")
                .describe("Deletes a team project with its workflows and folders.")
                .param(id())
                .empty_response(204, "Operation successful.")
                .errors(&[400, 404]),
        ),
        Endpoint::new(
            Method::GET,
            "/projects/{projectId}/users",
            Some(Scope::UserList),
            get(members),
            Doc::new(
                "getProjectUsers",
                "Projects",
                "List the members of a project",
            )
            .param(id())
            .paginated()
            .response(
                200,
                "Operation successful.",
                list_of(schema_ref("projectMember")),
            )
            .errors(&[404]),
        ),
        Endpoint::new(
            Method::POST,
            "/projects/{projectId}/users",
            Some(Scope::ProjectUpdate),
            post(add_members),
            Doc::new("addUsersToProject", "Projects", "Add users to a project")
                .param(id())
                .body(schema_ref("projectRelations"))
                .empty_response(201, "Operation successful.")
                .errors(&[400, 404]),
        ),
        Endpoint::new(
            Method::PATCH,
            "/projects/{projectId}/users/{userId}",
            Some(Scope::ProjectUpdate),
            patch(change_member),
            Doc::new(
                "changeUserRoleInProject",
                "Projects",
                "Change a member's role in a project",
            )
            .param(id())
            .param(user())
            .body(schema_ref("projectRole"))
            .empty_response(204, "Operation successful.")
            .errors(&[400, 404]),
        ),
        Endpoint::new(
            Method::DELETE,
            "/projects/{projectId}/users/{userId}",
            Some(Scope::ProjectUpdate),
            delete(remove_member),
            Doc::new(
                "deleteUserFromProject",
                "Projects",
                "Remove a member from a project",
            )
            .param(id())
            .param(user())
            .empty_response(204, "Operation successful.")
            .errors(&[400, 404]),
        ),
    ]
}

const ROLES: [&str; 3] = ["project:admin", "project:editor", "project:viewer"];

pub fn schemas() -> Vec<(&'static str, Value)> {
    let project = json!({
        "id": {"type": "string", "readOnly": true}, "name": {"type": "string"},
        "type": {"type": "string", "enum": ["personal", "team"], "readOnly": true},
        "icon": {"type": "object", "nullable": true, "properties": {"type": {"type": "string", "enum": ["emoji", "icon"]}, "value": {"type": "string"}, "color": {"type": "string"}}},
        "description": {"type": "string", "nullable": true},
        "customTelemetryTags": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}},
        "creatorId": {"type": "string", "nullable": true},
        "createdAt": {"type": "string", "format": "date-time", "readOnly": true},
        "updatedAt": {"type": "string", "format": "date-time", "readOnly": true}
    });
    let mut created = project.clone();
    created["role"] = json!({"type": "string"});
    created["scopes"] = json!({"type": "array", "items": {"type": "string"}});
    vec![
        (
            "project",
            json!({"type": "object", "required": ["id", "name", "type"], "properties": project}),
        ),
        (
            "createdProject",
            json!({"type": "object", "properties": created}),
        ),
        (
            "projectName",
            json!({"type": "object", "required": ["name"], "properties": {"name": {"type": "string", "minLength": 1, "maxLength": 255}}}),
        ),
        (
            "projectMember",
            json!({"type": "object", "properties": {
            "id": {"type": "string"}, "email": {"type": "string", "format": "email"},
            "firstName": {"type": "string", "nullable": true}, "lastName": {"type": "string", "nullable": true},
            "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
            "role": {"type": "string", "nullable": true}}}),
        ),
        (
            "projectRelations",
            json!({"type": "object", "required": ["relations"], "properties": {"relations": {"type": "array", "minItems": 1,
            "items": {"type": "object", "required": ["userId", "role"], "properties": {"userId": {"type": "string"}, "role": {"type": "string", "enum": ROLES}}}}}}),
        ),
        (
            "projectRole",
            json!({"type": "object", "required": ["role"], "properties": {"role": {"type": "string", "enum": ROLES}}}),
        ),
    ]
}

/// A project as the API shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectView {
    id: String,
    name: String,
    #[serde(rename = "type")]
    kind: String,
    icon: Option<Value>,
    description: Option<String>,
    custom_telemetry_tags: Vec<Value>,
    creator_id: Option<String>,
    created_at: String,
    updated_at: String,
}

impl ProjectRow {
    pub fn into_api(self) -> ProjectView {
        ProjectView {
            icon: self
                .icon
                .as_deref()
                .and_then(|i| serde_json::from_str(i).ok()),
            id: self.id,
            name: self.name,
            kind: self.kind,
            description: self.description,
            custom_telemetry_tags: Vec::new(),
            creator_id: self.creator_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

fn project_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Could not find project with ID \"{id}\""))
}

/// Loads a project the caller can see.
async fn visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<ProjectId>,
) -> Result<(ProjectRow, ProjectAccess)> {
    let id = id.or_missing(project_not_found)?;
    let access = access::project_access(conn.reborrow(), principal, id)
        .await?
        .ok_or_else(|| project_not_found(id))?;
    let project = repo::find(conn, id)
        .await?
        .ok_or_else(|| project_not_found(id))?;
    Ok((project, access))
}

/// A team project the caller may manage (members, name).
async fn manageable(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<ProjectId>,
) -> Result<ProjectRow> {
    let (project, access) = visible(conn.reborrow(), principal, id).await?;
    if !access.can_manage() {
        return Err(ApiError::Forbidden);
    }
    if project.kind != "team" {
        return Err(ApiError::bad_request(
            "Personal projects cannot be changed this way",
        ));
    }
    Ok(project)
}

#[derive(Deserialize)]
pub struct NameBody {
    name: String,
}

fn valid_name(name: &str) -> Result<&str> {
    let name = name.trim();
    match name.chars().count() {
        0 => Err(ApiError::bad_request(
            "request/body/name must NOT have fewer than 1 characters",
        )),
        n if n > 255 => Err(ApiError::bad_request(
            "request/body/name must NOT have more than 255 characters",
        )),
        _ => Ok(name),
    }
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ListResponse<ProjectView>>> {
    let page = query.page()?;
    let mut conn = state.db.acquire().await?;
    let rows = repo::list(
        conn.conn(),
        access::visible_to(&principal),
        page.after.as_deref(),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |p| p.id.clone());
    Ok(Json(ListResponse {
        data: rows.into_iter().map(ProjectRow::into_api).collect(),
        next_cursor,
    }))
}

#[derive(Serialize)]
pub struct CreatedProject {
    #[serde(flatten)]
    project: ProjectView,
    role: &'static str,
    scopes: Vec<&'static str>,
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<(StatusCode, Json<CreatedProject>)> {
    let name = valid_name(&body.name)?;
    let now = now_iso();
    let id = new_id();
    let mut tx = state.db.begin().await?;
    repo::insert(
        tx.conn(),
        &NewProject {
            id: &id,
            name,
            kind: "team",
            creator_id: Some(&principal.user_id),
            now: &now,
        },
    )
    .await?;
    repo::insert_relation(
        tx.conn(),
        &id,
        &principal.user_id,
        ProjectRole::Admin.as_str(),
        &now,
    )
    .await?;
    let project = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created project vanished")))?;
    tx.commit().await?;
    let scopes = ProjectAccess::Member(ProjectRole::Admin).project_scopes();
    Ok((
        StatusCode::CREATED,
        Json(CreatedProject {
            project: project.into_api(),
            role: ProjectRole::Admin.as_str(),
            scopes,
        }),
    ))
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ProjectId>>,
    ApiJson(body): ApiJson<NameBody>,
) -> Result<StatusCode> {
    let name = valid_name(&body.name)?;
    let mut tx = state.db.begin().await?;
    let project = manageable(tx.conn(), &principal, &id).await?;
    repo::rename(tx.conn(), &project.id, name, &now_iso()).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ProjectId>>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    let (project, access) = visible(tx.conn(), &principal, &id).await?;
    if access != ProjectAccess::Instance && !access.can_manage() {
        return Err(ApiError::Forbidden);
    }
    if project.kind != "team" {
        return Err(ApiError::bad_request("Personal projects cannot be deleted"));
    }
    // Workflows go through the workflow service (whoever runs them hears of it); their
    // versions and the folders go with the project (foreign keys cascade).
    let mut hooks = Hooks::new(&*state.lifecycle);
    steps::delete_in_project(tx.conn(), &mut hooks, &project.id).await?;
    repo::delete(tx.conn(), &project.id).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    id: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    created_at: String,
    updated_at: String,
    role: Option<String>,
}

impl From<MemberRow> for Member {
    fn from(m: MemberRow) -> Member {
        Member {
            id: m.id,
            email: m.email,
            first_name: m.first_name,
            last_name: m.last_name,
            created_at: m.created_at,
            updated_at: m.updated_at,
            role: Some(m.role),
        }
    }
}

async fn members(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ProjectId>>,
    ApiQuery(query): ApiQuery<PageQuery>,
) -> Result<Json<ListResponse<Member>>> {
    let page = query.page()?;
    let mut conn = state.db.acquire().await?;
    let (project, _) = visible(conn.conn(), &principal, &id).await?;
    let rows = repo::members(
        conn.conn(),
        &project.id,
        page.after.as_deref(),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |m| m.id.clone());
    Ok(Json(ListResponse {
        data: rows.into_iter().map(Member::from).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relation {
    user_id: String,
    role: String,
}

#[derive(Deserialize)]
pub struct RelationsBody {
    relations: Vec<Relation>,
}

fn assignable_role(role: &str, path: &str) -> Result<ProjectRole> {
    ProjectRole::parse_assignable(role).ok_or_else(|| {
        ApiError::bad_request(format!(
            "request/body{path} must be equal to one of the allowed values: {}",
            ROLES.join(", ")
        ))
    })
}

async fn user_exists(conn: Conn<'_>, user_id: &str) -> Result<()> {
    let missing = || ApiError::not_found(format!("Could not find user with ID \"{user_id}\""));
    let plausible = uuid::Uuid::parse_str(user_id).is_ok();
    if !plausible || users::find_by_id(conn, user_id).await?.is_none() {
        return Err(missing());
    }
    Ok(())
}

async fn add_members(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ProjectId>>,
    ApiJson(body): ApiJson<RelationsBody>,
) -> Result<StatusCode> {
    if body.relations.is_empty() {
        return Err(ApiError::bad_request(
            "request/body/relations must NOT have fewer than 1 items",
        ));
    }
    let roles = body
        .relations
        .iter()
        .enumerate()
        .map(|(i, r)| assignable_role(&r.role, &format!("/relations/{i}/role")))
        .collect::<Result<Vec<_>>>()?;
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let project = manageable(tx.conn(), &principal, &id).await?;
    for (relation, role) in body.relations.iter().zip(roles) {
        user_exists(tx.conn(), &relation.user_id).await?;
        repo::upsert_relation(
            tx.conn(),
            &project.id,
            &relation.user_id,
            role.as_str(),
            &now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(StatusCode::CREATED)
}

#[derive(Deserialize)]
pub struct RoleBody {
    role: String,
}

fn not_a_member(user_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Could not find user with ID \"{user_id}\" in this project"
    ))
}

async fn change_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(Named<ProjectId>, String)>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<StatusCode> {
    let role = assignable_role(&body.role, "/role")?;
    let mut tx = state.db.begin().await?;
    let project = manageable(tx.conn(), &principal, &id).await?;
    if !repo::update_relation(tx.conn(), &project.id, &user_id, role.as_str(), &now_iso()).await? {
        return Err(not_a_member(&user_id));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove_member(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, user_id)): Path<(Named<ProjectId>, String)>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    let project = manageable(tx.conn(), &principal, &id).await?;
    if !repo::delete_relation(tx.conn(), &project.id, &user_id).await? {
        return Err(not_a_member(&user_id));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
