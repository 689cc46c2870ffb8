//! `/executions`: n8n's eight execution routes over the records the engine writes. Stopping
//! cancels a run in progress; a retry runs a failed execution again from the node that failed.

use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::{delete, get, post, put};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::openapi::{list_of, path_param, query_param, schema_ref, Doc};
use super::tags::Tag;
use super::Endpoint;
use crate::app::AppState;
use crate::auth::{Principal, Scope};
use crate::db::executions::{self as repo, ExecutionRow, Filter};
use crate::db::tags;
use crate::domain::ids::{is_plausible_id, ExecutionId, Named};
use crate::domain::time::{iso, parse_iso};
use crate::engine::data::ExecutionStatus;
use crate::error::{ApiError, Result};
use crate::extract::{from_value, ApiJson, ApiQuery, OptionalJson};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::executions::{self as service, workflow_data};

const STATUSES: [&str; 8] = [
    "canceled", "crashed", "error", "new", "running", "success", "unknown", "waiting",
];

pub fn endpoints() -> Vec<Endpoint> {
    let id = || path_param("id", "The ID of the execution.");
    let boolean = |name: &str, text: &str| {
        query_param(
            name,
            json!({"type": "string", "enum": ["true", "false"]}),
            text,
        )
    };
    let include_data = || boolean("includeData", "Include the run data.");
    let size_limit = || {
        boolean(
            "ignoreDataSizeLimit",
            "Accepted as n8n does; this server has no data size limit to ignore.",
        )
    };
    let redact = || boolean("redactExecutionData", "Accepted as n8n does.");
    vec![
        Endpoint::new(Method::GET, "/executions", Some(Scope::ExecutionList), get(list),
            Doc::new("getExecutions", "Execution", "Retrieve all executions").paginated().param(include_data()).param(size_limit()).param(redact())
                .param(query_param("status", json!({"type": "string", "enum": STATUSES}), "Only executions with this status."))
                .param(query_param("workflowId", json!({"type": "string"}), "Only executions of this workflow."))
                .param(query_param("projectId", json!({"type": "string"}), "Only executions of this project's workflows."))
                .param(query_param("startedAfter", json!({"type": "string", "format": "date-time"}), "Started at or after."))
                .param(query_param("startedBefore", json!({"type": "string", "format": "date-time"}), "Started at or before."))
                .response(200, "Operation successful.", list_of(schema_ref("execution")))),
        Endpoint::new(Method::GET, "/executions/{id}", Some(Scope::ExecutionRead), get(read),
            Doc::new("getExecution", "Execution", "Retrieve an execution").param(id()).param(include_data()).param(size_limit()).param(redact())
                .response(200, "Operation successful.", schema_ref("execution")).errors(&[404])),
        Endpoint::new(Method::DELETE, "/executions/{id}", Some(Scope::ExecutionDelete), delete(remove),
            Doc::new("deleteExecution", "Execution", "Delete an execution").param(id())
                .response(200, "The deleted execution.", schema_ref("execution")).errors(&[404])),
        Endpoint::new(Method::GET, "/executions/{id}/tags", Some(Scope::ExecutionTagsList), get(read_tags),
            Doc::new("getExecutionTags", "Execution", "Get the annotation tags of an execution").param(id())
                .response(200, "List of tags", json!({"type": "array", "items": schema_ref("tag")})).errors(&[404])),
        Endpoint::new(Method::PUT, "/executions/{id}/tags", Some(Scope::ExecutionTagsUpdate), put(update_tags),
            Doc::new("updateExecutionTags", "Execution", "Replace the annotation tags of an execution").param(id())
                .body(json!({"type": "array", "items": {"type": "object", "required": ["id"], "properties": {"id": {"type": "string"}}}}))
                .response(200, "List of tags", json!({"type": "array", "items": schema_ref("tag")})).errors(&[404])),
        Endpoint::new(Method::POST, "/executions/stop", Some(Scope::ExecutionStop), post(stop_many),
            Doc::new("stopExecutions", "Execution", "Stop executions").body(json!({"type": "object", "required": ["status"], "properties": {
                "status": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ["queued", "running", "waiting"]}},
                "workflowId": {"type": "string"}, "startedAfter": {"type": "string", "format": "date-time"},
                "startedBefore": {"type": "string", "format": "date-time"}}}))
                .response(200, "How many were stopped.", json!({"type": "object", "required": ["stopped"], "properties": {"stopped": {"type": "integer"}}})).errors(&[404])),
        Endpoint::new(Method::POST, "/executions/{id}/stop", Some(Scope::ExecutionStop), post(stop),
            Doc::new("stopExecution", "Execution", "Stop an execution").param(id())
                .response(200, "The stopped execution.", json!({"type": "object", "properties": {
                    "mode": {"type": "string"}, "startedAt": {"type": "string", "nullable": true}, "stoppedAt": {"type": "string", "nullable": true},
                    "finished": {"type": "boolean"}, "status": {"type": "string"}}})).errors(&[404, 409])),
        Endpoint::new(Method::POST, "/executions/{id}/retry", Some(Scope::ExecutionRetry), post(retry),
            Doc::new("retryExecution", "Execution", "Retry an execution")
                .param(id()).optional_body(json!({"type": "object", "properties": {"loadWorkflow": {"type": "boolean"}}}))
                .errors(&[404, 409])),
    ]
}

pub fn schemas() -> Vec<(&'static str, Value)> {
    vec![(
        "execution",
        json!({"type": "object", "properties": {
            "id": {"type": "string"}, "finished": {"type": "boolean"},
            "mode": {"type": "string", "enum": ["cli", "error", "integrated", "internal", "manual", "retry", "trigger", "webhook", "evaluation", "chat", "agent"]},
            "retryOf": {"type": "string", "nullable": true}, "retrySuccessId": {"type": "string", "nullable": true},
            "status": {"type": "string", "enum": STATUSES}, "createdAt": {"type": "string", "format": "date-time"},
            "startedAt": {"type": "string", "format": "date-time", "nullable": true}, "stoppedAt": {"type": "string", "format": "date-time", "nullable": true},
            "deletedAt": {"type": "string", "format": "date-time", "nullable": true}, "workflowId": {"type": "string"},
            "waitTill": {"type": "string", "format": "date-time", "nullable": true}, "storedAt": {"type": "string"},
            "jsonSizeBytes": {"type": "number"}, "binaryDataSizeBytes": {"type": "number"},
            "workflowVersionId": {"type": "string", "nullable": true}, "usedPrivateCredentials": {"type": "boolean"},
            "data": {"type": "object"}, "workflowData": {"type": "object"}, "customData": {"type": "object"}}}),
    )]
}

fn raw(text: &str) -> Option<Box<RawValue>> {
    RawValue::from_string(text.to_owned()).ok()
}

/// An execution as the API shows it. The id is a string, except in the answer to a delete,
/// where n8n sends a number.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub(crate) id: Value,
    finished: bool,
    mode: String,
    retry_of: Option<String>,
    retry_success_id: Option<String>,
    status: String,
    created_at: String,
    started_at: Option<String>,
    stopped_at: Option<String>,
    deleted_at: Option<String>,
    workflow_id: String,
    wait_till: Option<String>,
    stored_at: &'static str,
    json_size_bytes: i64,
    binary_data_size_bytes: i64,
    workflow_version_id: Option<String>,
    used_private_credentials: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) workflow_data: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    custom_data: Option<Box<RawValue>>,
}

impl ExecutionRow {
    pub(crate) fn into_api(self, include_data: bool) -> Execution {
        Execution {
            id: Value::String(self.id.to_string()),
            data: if include_data {
                self.data.as_deref().and_then(raw)
            } else {
                None
            },
            workflow_data: if include_data {
                self.workflow_data.as_deref().and_then(raw)
            } else {
                None
            },
            custom_data: if include_data {
                self.custom_data
                    .as_deref()
                    .and_then(raw)
                    .or_else(|| raw("{}"))
            } else {
                None
            },
            finished: self.finished,
            mode: self.mode,
            retry_of: self.retry_of,
            retry_success_id: self.retry_success_id,
            status: self.status,
            created_at: self.created_at,
            started_at: self.started_at,
            stopped_at: self.stopped_at,
            deleted_at: None,
            workflow_id: self.workflow_id,
            wait_till: self.wait_till,
            stored_at: "db",
            json_size_bytes: self.json_size_bytes,
            binary_data_size_bytes: 0,
            workflow_version_id: self.workflow_version_id,
            used_private_credentials: false,
        }
    }
}

fn boolean(value: Option<&str>, name: &str) -> Result<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_request(format!(
            "request/query/{name} must be boolean"
        ))),
    }
}

fn date(value: Option<&str>, name: &str) -> Result<Option<String>> {
    value
        .map(|v| {
            parse_iso(v).map(iso).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "request/query/{name} must match format \"date-time\""
                ))
            })
        })
        .transpose()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    include_data: Option<String>,
    ignore_data_size_limit: Option<String>,
    redact_execution_data: Option<String>,
    status: Option<String>,
    workflow_id: Option<String>,
    project_id: Option<String>,
    started_after: Option<String>,
    started_before: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<Execution>>> {
    let page = query.page.id_page()?;
    let include_data = boolean(query.include_data.as_deref(), "includeData")?;
    boolean(
        query.ignore_data_size_limit.as_deref(),
        "ignoreDataSizeLimit",
    )?;
    boolean(
        query.redact_execution_data.as_deref(),
        "redactExecutionData",
    )?;
    if let Some(status) = query.status.as_deref() {
        if !STATUSES.contains(&status) {
            return Err(ApiError::bad_request(
                "request/query/status must be equal to one of the allowed values",
            ));
        }
    }
    let statuses = query.status.clone().map(|s| vec![s]);
    let started_after = date(query.started_after.as_deref(), "startedAfter")?;
    let started_before = date(query.started_before.as_deref(), "startedBefore")?;
    let filter = Filter {
        member: None,
        statuses: statuses.as_deref(),
        workflow_id: query.workflow_id.as_deref(),
        project_id: query.project_id.as_deref(),
        started_after: started_after.as_deref(),
        started_before: started_before.as_deref(),
        exclude_running: query.status.as_deref() != Some("running"),
    };
    let (rows, _) = service::list(
        &state,
        &principal,
        filter,
        page.before_id,
        page.fetch_limit(),
        false,
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |e| e.id);
    let mut conn = state.db.acquire().await?;
    let mut data = Vec::with_capacity(rows.len());
    for row in rows {
        let snapshot = if include_data {
            workflow_data(conn.conn(), &row).await?
        } else {
            None
        };
        let mut execution = row.into_api(include_data);
        if snapshot.is_some() {
            execution.workflow_data = snapshot;
        }
        data.push(execution);
    }
    Ok(Json(ListResponse { data, next_cursor }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadQuery {
    include_data: Option<String>,
}

async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ExecutionId>>,
    ApiQuery(query): ApiQuery<ReadQuery>,
) -> Result<Json<Execution>> {
    let include_data = boolean(query.include_data.as_deref(), "includeData")?;
    let (row, snapshot) = service::read(&state, &principal, &id, include_data).await?;
    let mut execution = row.into_api(include_data);
    if snapshot.is_some() {
        execution.workflow_data = snapshot;
    }
    Ok(Json(execution))
}

async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ExecutionId>>,
) -> Result<Json<Execution>> {
    let mut tx = state.db.begin().await?;
    let row = service::visible(tx.conn(), &principal, &id, true).await?;
    if row.status == "running" {
        return Err(ApiError::bad_request("Cannot delete a running execution"));
    }
    repo::delete(tx.conn(), row.id).await?;
    tx.commit().await?;
    // Its binary data goes too (rows of `database` mode went with the row).
    state
        .engine
        .binary()
        .delete_execution(&row.workflow_id, row.id)
        .await;
    let numeric = row.id;
    let mut execution = row.into_api(false);
    execution.id = json!(numeric);
    Ok(Json(execution))
}

async fn read_tags(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ExecutionId>>,
) -> Result<Json<Vec<Tag>>> {
    let mut conn = state.db.acquire().await?;
    let row = service::visible(conn.conn(), &principal, &id, false).await?;
    Ok(Json(
        repo::tags_of(conn.conn(), row.id)
            .await?
            .into_iter()
            .map(|t| t.into_api())
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct TagRef {
    id: String,
}

async fn update_tags(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ExecutionId>>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Vec<Tag>>> {
    let refs: Vec<TagRef> = from_value("body", body)?;
    let mut ids: Vec<String> = refs.into_iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();
    let mut tx = state.db.begin().await?;
    let row = service::visible(tx.conn(), &principal, &id, true).await?;
    for tag_id in &ids {
        if !is_plausible_id(tag_id) || tags::find(tx.conn(), tag_id).await?.is_none() {
            return Err(ApiError::not_found("Some tags not found"));
        }
    }
    repo::set_tags(tx.conn(), row.id, &ids).await?;
    let tags = repo::tags_of(tx.conn(), row.id).await?;
    tx.commit().await?;
    Ok(Json(tags.into_iter().map(|t| t.into_api()).collect()))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stopped {
    mode: String,
    started_at: Option<String>,
    stopped_at: Option<String>,
    finished: bool,
    status: String,
}

async fn stop(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ExecutionId>>,
) -> Result<Json<Stopped>> {
    let row = service::stop(&state, &principal, &id).await?;
    Ok(Json(Stopped {
        mode: row.mode,
        started_at: row.started_at,
        stopped_at: row.stopped_at,
        finished: row.finished,
        status: row.status,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StopBody {
    status: Vec<String>,
    workflow_id: Option<String>,
    started_after: Option<String>,
    started_before: Option<String>,
}

async fn stop_many(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<StopBody>,
) -> Result<Json<Value>> {
    if body.status.is_empty() {
        return Err(ApiError::bad_request(
            "request/body/status must NOT have fewer than 1 items",
        ));
    }
    let mut statuses = Vec::new();
    for (i, s) in body.status.iter().enumerate() {
        match s.as_str() {
            // n8n's queue state; without a queue, a queued run is a new one.
            "queued" => statuses.push("new".to_owned()),
            "running" | "waiting" => statuses.push(s.clone()),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "request/body/status/{i} must be equal to one of the allowed values"
                )))
            }
        }
    }
    let started_after = body
        .started_after
        .as_deref()
        .map(|v| {
            parse_iso(v).map(iso).ok_or_else(|| {
                ApiError::bad_request("request/body/startedAfter must match format \"date-time\"")
            })
        })
        .transpose()?;
    let started_before = body
        .started_before
        .as_deref()
        .map(|v| {
            parse_iso(v).map(iso).ok_or_else(|| {
                ApiError::bad_request("request/body/startedBefore must match format \"date-time\"")
            })
        })
        .transpose()?;
    let stopped = service::stop_many(
        &state,
        &principal,
        service::StopMany {
            statuses: &statuses,
            workflow_id: body.workflow_id.as_deref(),
            started_after: started_after.as_deref(),
            started_before: started_before.as_deref(),
        },
    )
    .await?;
    Ok(Json(json!({ "stopped": stopped })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetryBody {
    load_workflow: Option<bool>,
}

/// The answer to a retry: the new execution (n8n waits for it to end before answering).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Retried {
    id: String,
    mode: String,
    started_at: Option<String>,
    workflow_id: String,
    finished: bool,
    retry_of: Option<String>,
    status: String,
    wait_till: Option<String>,
    data: Option<Box<RawValue>>,
    pub(crate) workflow_data: Option<Box<RawValue>>,
    custom_data: Box<RawValue>,
    stored_at: &'static str,
}

async fn retry(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<ExecutionId>>,
    OptionalJson(body): OptionalJson<RetryBody>,
) -> Result<Json<Retried>> {
    let load_workflow = body.and_then(|b| b.load_workflow).unwrap_or(false);
    let service::Retry {
        original: row,
        ended,
        stored: retried,
    } = service::retry(&state, &principal, &id, load_workflow).await?;
    let mut conn = state.db.acquire().await?;
    let workflow_data = workflow_data(conn.conn(), &row).await?;
    let data = serde_json::to_string(&ended.data)
        .ok()
        .and_then(|d| raw(&d));
    let (started_at, wait_till, finished, status) = match retried {
        Some(r) => (r.started_at, r.wait_till, r.finished, r.status),
        None => (
            None,
            None,
            ended.status == ExecutionStatus::Success,
            ended.status.as_str().to_owned(),
        ),
    };
    Ok(Json(Retried {
        id: ended.id.to_string(),
        mode: "retry".to_owned(),
        started_at,
        workflow_id: row.workflow_id.clone(),
        finished,
        retry_of: Some(row.id.to_string()),
        status,
        wait_till,
        data,
        workflow_data,
        custom_data: raw("{}")
            .unwrap_or_else(|| RawValue::from_string("{}".to_owned()).expect("json")),
        stored_at: "db",
    }))
}
