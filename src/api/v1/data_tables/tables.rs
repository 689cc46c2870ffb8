//! The table routes: list, create, read, rename, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::table_json;
use crate::app::AppState;
use crate::auth::Principal;
use crate::domain::ids::{DataTableId, Named};
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::pagination::{ListResponse, PageQuery};
use crate::service::data_tables::{self as service, NewTable};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    name: String,
    columns: Vec<ColumnSpec>,
    #[serde(default)]
    project_id: Option<String>,
}

#[derive(Deserialize)]
pub struct ColumnSpec {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
}

pub async fn create(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let new = NewTable {
        name: body.name,
        columns: body
            .columns
            .into_iter()
            .map(|c| (c.name, c.type_name))
            .collect(),
        project_id: body.project_id,
    };
    let created = service::create(&state, &principal, new).await?;
    Ok((StatusCode::CREATED, Json(table_json(&created))))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(flatten)]
    page: PageQuery,
    #[serde(default)]
    filter: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ListResponse<Value>>> {
    let page = query.page.page()?;
    let (tables, next_cursor) = service::list(
        &state,
        &principal,
        query.filter.as_deref(),
        query.sort_by.as_deref(),
        &page,
    )
    .await?;
    let data = tables.iter().map(table_json).collect();
    Ok(Json(ListResponse { data, next_cursor }))
}

pub async fn read(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
) -> Result<Json<Value>> {
    Ok(Json(table_json(
        &service::read(&state, &principal, &id).await?,
    )))
}

#[derive(Deserialize)]
pub struct RenameBody {
    name: String,
}

pub async fn rename(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiJson(body): ApiJson<RenameBody>,
) -> Result<Json<Value>> {
    let renamed = service::rename(&state, &principal, &id, &body.name).await?;
    Ok(Json(table_json(&renamed)))
}

pub async fn remove(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
) -> Result<StatusCode> {
    service::delete(&state, &principal, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
