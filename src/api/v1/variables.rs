//! `/variables`: instance and project variables (n8n's four variable routes, no licence gate).

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::projects::ProjectView;
use super::Endpoint;
use crate::access;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::variables::{self as repo, KEY_UNIQUE};
use crate::db::{projects, Conn};
use crate::domain::ids::{is_plausible_id, new_id, Named, VariableId};
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result, ResultExt};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::variables::{self as service, ProjectFilter};

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("id", "The ID of the variable.");
    vec![
        Endpoint::new(
            Method::GET,
            "/variables",
            Some(Scope::VariableList),
            get(list),
            Doc::new("getVariables", "Variables", "Retrieve variables")
                .paginated()
                .param(query_param(
                    "projectId",
                    json!({"type": "string"}),
                    "Only this project's variables; the literal `null` selects global variables.",
                ))
                .param(query_param(
                    "state",
                    json!({"type": "string", "enum": ["empty"]}),
                    "Only variables with an empty value.",
                ))
                .response(
                    200,
                    "Operation successful.",
                    list_of(schema_ref("variable")),
                ),
        ),
        Endpoint::new(
            Method::POST,
            "/variables",
            Some(Scope::VariableCreate),
            post(create),
            Doc::new("createVariable", "Variables", "Create a variable")
                .body(schema_ref("variableCreate"))
                // n8n answers an empty 201; clients that read the created variable from the
                // answer need it, and those that ignore the body do not notice (docs/differences).
                .response(201, "The created variable.", schema_ref("variable"))
                .errors(&[400, 404]),
        ),
        Endpoint::new(
            Method::PUT,
            "/variables/{id}",
            Some(Scope::VariableUpdate),
            put(update),
            Doc::new("updateVariable", "Variables", "Update a variable")
                .param(id())
                .body(schema_ref("variableUpdate"))
                .empty_response(204, "Operation successful.")
                .errors(&[400, 404]),
        ),
        Endpoint::new(
            Method::DELETE,
            "/variables/{id}",
            Some(Scope::VariableDelete),
            delete(remove),
            Doc::new("deleteVariable", "Variables", "Delete a variable")
                .param(id())
                .empty_response(204, "Operation successful.")
                .errors(&[404]),
        ),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![
        (
            "variable",
            json!({"type": "object", "required": ["id", "key", "value"], "properties": {
            "id": {"type": "string", "readOnly": true}, "key": {"type": "string"}, "value": {"type": "string"},
            "type": {"type": "string", "readOnly": true}, "project": {"nullable": true, "allOf": [schema_ref("project")]}}}),
        ),
        (
            "variableCreate",
            json!({"type": "object", "required": ["key", "value"], "properties": {
            "key": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "value": {"type": "string", "maxLength": 1000}, "projectId": {"type": "string", "maxLength": 36}}}),
        ),
        (
            "variableUpdate",
            json!({"type": "object", "required": ["key", "value"], "properties": {
            "key": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[A-Za-z0-9_]+$"},
            "value": {"type": "string", "maxLength": 1000}, "projectId": {"type": "string", "maxLength": 36, "nullable": true}}}),
        ),
    ]
}

#[derive(Serialize)]
pub struct Variable {
    id: String,
    key: String,
    value: String,
    #[serde(rename = "type")]
    kind: String,
    project: Option<ProjectView>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    project_id: Option<String>,
    state: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<Variable>>> {
    let page = query.page.page()?;
    let empty_only = match query.state.as_deref() {
        None => false,
        Some("empty") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "request/query/state must be equal to one of the allowed values: empty",
            ))
        }
    };
    let project = match query.project_id.as_deref() {
        None => ProjectFilter::Any,
        Some("null") => ProjectFilter::Global,
        Some(p) => ProjectFilter::Project(p),
    };
    let (listed, next_cursor) =
        service::list(&state, &principal, project, empty_only, &page).await?;
    let data = listed
        .into_iter()
        .map(|(v, project)| Variable {
            project: project.map(|p| p.into_api()),
            id: v.id,
            key: v.key,
            value: v.value,
            kind: v.kind,
        })
        .collect();
    Ok(Json(ListResponse { data, next_cursor }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Body {
    key: String,
    value: String,
    #[serde(default, with = "double_option")]
    project_id: Option<Option<String>>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<String>>, D::Error> {
        Option::<String>::deserialize(deserializer).map(Some)
    }
}

/// n8n's key rules: create keys must not start with a digit; update keys may.
fn valid(body: &Body, creating: bool) -> Result<()> {
    let key = &body.key;
    if key.is_empty() || key.chars().count() > 50 {
        return Err(ApiError::bad_request(
            "request/body/key must be 1 to 50 characters long",
        ));
    }
    let word = key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let first_ok = !creating || !key.as_bytes()[0].is_ascii_digit();
    if !word || !first_ok {
        let pattern = if creating {
            "^[A-Za-z_][A-Za-z0-9_]*$"
        } else {
            "^[A-Za-z0-9_]+$"
        };
        return Err(ApiError::bad_request(format!(
            "request/body/key must match pattern \"{pattern}\""
        )));
    }
    if body.value.chars().count() > 1000 {
        return Err(ApiError::bad_request(
            "request/body/value must NOT have more than 1000 characters",
        ));
    }
    Ok(())
}

/// The project of a variable: must exist and be visible to the caller.
async fn target_project(
    conn: Conn<'_>,
    principal: &Principal,
    project_id: Option<&str>,
) -> Result<Option<String>> {
    match project_id {
        None => Ok(None),
        Some(p) => {
            let missing = || ApiError::not_found(format!("Project with ID \"{p}\" not found"));
            if !is_plausible_id(p) || access::project_access(conn, principal, p).await?.is_none() {
                return Err(missing());
            }
            Ok(Some(p.to_owned()))
        }
    }
}

fn duplicate(key: &str) -> impl FnOnce() -> ApiError + '_ {
    move || ApiError::bad_request(format!("Variable with key \"{key}\" already exists"))
}

async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<Body>,
) -> Result<(StatusCode, Json<Variable>)> {
    valid(&body, true)?;
    let mut tx = state.db.begin().await?;
    let project = target_project(
        tx.conn(),
        &principal,
        body.project_id.clone().flatten().as_deref(),
    )
    .await?;
    let id = new_id();
    repo::insert(
        tx.conn(),
        &id,
        &body.key,
        &body.value,
        project.as_deref(),
        &now_iso(),
    )
    .await
    .on_unique(KEY_UNIQUE, duplicate(&body.key))?;
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created variable vanished")))?;
    let project = match row.project_id.as_deref() {
        Some(project_id) => projects::find_many(tx.conn(), &[project_id])
            .await?
            .into_iter()
            .next()
            .map(|p| p.into_api()),
        None => None,
    };
    tx.commit().await?;
    let created = Variable {
        id: row.id,
        key: row.key,
        value: row.value,
        kind: row.kind,
        project,
    };
    Ok((StatusCode::CREATED, Json(created)))
}

fn variable_not_found() -> ApiError {
    ApiError::not_found("Variable not found")
}

async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<VariableId>>,
    ApiJson(body): ApiJson<Body>,
) -> Result<StatusCode> {
    valid(&body, false)?;
    let mut tx = state.db.begin().await?;
    let current = match id.id() {
        Some(id) => repo::find(tx.conn(), id).await?,
        None => None,
    };
    let current = current.ok_or_else(variable_not_found)?;
    let project = match &body.project_id {
        None => current.project_id.clone(),
        Some(p) => target_project(tx.conn(), &principal, p.as_deref()).await?,
    };
    repo::update(
        tx.conn(),
        &current.id,
        &body.key,
        &body.value,
        project.as_deref(),
        &now_iso(),
    )
    .await
    .on_unique(KEY_UNIQUE, duplicate(&body.key))?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn remove(
    State(state): State<AppState>,
    Path(id): Path<Named<VariableId>>,
) -> Result<StatusCode> {
    let mut tx = state.db.begin().await?;
    let deleted = match id.id() {
        Some(id) => repo::delete(tx.conn(), id).await?,
        None => false,
    };
    if !deleted {
        return Err(variable_not_found());
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
