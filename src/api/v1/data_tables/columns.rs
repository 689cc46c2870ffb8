//! The column routes: list, add, rename or move, drop.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

use super::column_json;
use crate::app::AppState;
use crate::auth::Principal;
use crate::domain::data_table::valid_column_name;
use crate::domain::ids::{DataTableId, Named};
use crate::error::{ApiError, Result};
use crate::extract::ApiJson;
use crate::service::data_tables as service;

pub async fn columns(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
) -> Result<Json<Vec<Value>>> {
    let columns = service::columns(&state, &principal, &id).await?;
    Ok(Json(columns.iter().map(column_json).collect()))
}

#[derive(Deserialize)]
pub struct AddColumnBody {
    name: String,
    #[serde(rename = "type")]
    type_name: String,
    #[serde(default)]
    index: Option<i64>,
}

pub async fn add_column(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<Named<DataTableId>>,
    ApiJson(body): ApiJson<AddColumnBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let column = service::add_column(
        &state,
        &principal,
        &id,
        &body.name,
        &body.type_name,
        body.index,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(column_json(&column))))
}

/// A column change's body: a new name, a new index, or both (n8n's validator messages).
fn column_change(body: &Value) -> Result<(Option<String>, Option<i64>)> {
    let Some(object) = body.as_object() else {
        return Err(ApiError::bad_request("request/body must be object"));
    };
    if let Some(other) = object.keys().find(|k| *k != "name" && *k != "index") {
        return Err(ApiError::bad_request(format!(
            "request/body must NOT have additional properties: {other}"
        )));
    }
    let name = match object.get("name") {
        None => None,
        Some(Value::String(s)) => {
            valid_column_name(s, "name")?;
            Some(s.clone())
        }
        Some(_) => return Err(ApiError::bad_request("request/body/name must be string")),
    };
    let index = match object.get("index") {
        None => None,
        Some(v) => match v.as_i64() {
            Some(i) if i >= 0 => Some(i),
            Some(_) => return Err(ApiError::bad_request("request/body/index must be >= 0")),
            None => return Err(ApiError::bad_request("request/body/index must be integer")),
        },
    };
    if name.is_none() && index.is_none() {
        return Err(ApiError::bad_request(
            "request/body must have at least one of the properties: name, index",
        ));
    }
    Ok((name, index))
}

pub async fn change_column(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, column_id)): Path<(Named<DataTableId>, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>> {
    let (name, index) = column_change(&body)?;
    let changed = service::change_column(&state, &principal, &id, &column_id, name, index).await?;
    Ok(Json(column_json(&changed)))
}

pub async fn drop_column(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, column_id)): Path<(Named<DataTableId>, String)>,
) -> Result<StatusCode> {
    service::drop_column(&state, &principal, &id, &column_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
