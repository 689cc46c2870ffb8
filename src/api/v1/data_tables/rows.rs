//! The row routes: list, insert, update, upsert, delete, clear.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::app::AppState;
use crate::auth::Principal;
use crate::db::data_tables::Returning;
use crate::domain::ids::{DataTableId, Named};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::data_tables::{self as service, ChangeRequest, RowsQuery};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRowsQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
    #[serde(default)]
    search: Option<String>,
}

pub async fn rows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiQuery(query): ApiQuery<ListRowsQuery>,
) -> Result<Json<ListResponse<Map<String, Value>>>> {
    let page = query.page.page()?;
    let request = RowsQuery {
        filter: query.filter.as_deref(),
        sort_by: query.sort_by.as_deref(),
        search: query.search.as_deref(),
    };
    let (data, next_cursor) = service::rows(&state, &principal, &id, request, &page).await?;
    Ok(Json(ListResponse { data, next_cursor }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InsertBody {
    data: Vec<Value>,
    #[serde(default)]
    return_type: Option<String>,
}

pub async fn insert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiJson(body): ApiJson<InsertBody>,
) -> Result<Json<Value>> {
    let returning = match body.return_type.as_deref() {
        None | Some("count") => Returning::Count,
        Some("id") => Returning::Ids,
        Some("all") => Returning::Rows,
        Some(_) => return Err(ApiError::bad_request(
            "request/body/returnType must be equal to one of the allowed values: count, id, all",
        )),
    };
    let answer = service::insert(&state, &principal, &id, &body.data, returning).await?;
    Ok(Json(answer))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBody {
    filter: Value,
    data: Map<String, Value>,
    #[serde(default)]
    return_data: bool,
    #[serde(default)]
    dry_run: bool,
}

impl ChangeBody {
    fn request(&self) -> ChangeRequest<'_> {
        ChangeRequest {
            filter: self.filter.clone(),
            data: &self.data,
            return_data: self.return_data,
            dry_run: self.dry_run,
        }
    }
}

pub async fn update(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<Value>> {
    Ok(Json(
        service::update(&state, &principal, &id, body.request()).await?,
    ))
}

pub async fn upsert(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiJson(body): ApiJson<ChangeBody>,
) -> Result<Json<Value>> {
    Ok(Json(
        service::upsert(&state, &principal, &id, body.request()).await?,
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    return_data: Option<String>,
    #[serde(default)]
    dry_run: Option<String>,
}

fn query_bool(value: Option<&str>, name: &str) -> Result<bool> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_request(format!(
            "request/query/{name} must be boolean"
        ))),
    }
}

pub async fn delete_rows(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Json<Value>> {
    let return_data = query_bool(query.return_data.as_deref(), "returnData")?;
    let dry_run = query_bool(query.dry_run.as_deref(), "dryRun")?;
    let Some(filter) = query.filter.as_deref() else {
        return Err(ApiError::bad_request(
            "request/query must have required property 'filter'",
        ));
    };
    let answer =
        service::delete_rows(&state, &principal, &id, filter, return_data, dry_run).await?;
    Ok(Json(answer))
}

pub async fn clear(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
) -> Result<Json<Value>> {
    let deleted = service::clear(&state, &principal, &id).await?;
    Ok(Json(json!({ "deletedCount": deleted })))
}
