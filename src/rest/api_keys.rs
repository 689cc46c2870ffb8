//! `/rest/api-keys`: the signed-in user's API keys (n8n's internal endpoints).

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::data;
use crate::app::AppState;
use crate::auth::session::SessionUser;
use crate::error::Result;
use crate::extract::{ApiJson, ApiQuery};
use crate::service::api_keys::{self as service, ApiKeyView};

/// Responses that carry a raw key must never be cached.
const NO_STORE: [(axum::http::HeaderName, &str); 1] = [(CACHE_CONTROL, "no-store")];

/// `GET /rest/api-keys/scopes`: the scopes the caller's role may put on a key.
pub async fn scopes(user: SessionUser) -> Result<Response> {
    Ok(data(user.role.allowed_scopes().names()).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateBody {
    label: String,
    scopes: Vec<String>,
    #[serde(default)]
    expires_at: Option<i64>,
}

/// `POST /rest/api-keys`: a new key, its raw secret shown this once.
pub async fn create(
    State(state): State<AppState>,
    user: SessionUser,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<Response> {
    let key = service::create(
        &state,
        &user.user.id,
        user.role,
        &body.label,
        &body.scopes,
        body.expires_at,
    )
    .await?;
    Ok((NO_STORE, data(key)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateBody {
    label: String,
    scopes: Vec<String>,
}

/// `PATCH /rest/api-keys/{id}`: new label and scopes for one of the caller's keys.
pub async fn update(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateBody>,
) -> Result<Response> {
    service::update(
        &state,
        &user.user.id,
        user.role,
        &id,
        &body.label,
        &body.scopes,
    )
    .await?;
    Ok(data(json!({ "success": true })).into_response())
}

/// `DELETE /rest/api-keys/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response> {
    service::delete(&state, &user.user.id, user.role, &id).await?;
    Ok(data(json!({ "success": true })).into_response())
}

/// `POST /rest/api-keys/{id}/rotate`: a new secret for the key; the old one stops working.
pub async fn rotate(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<String>,
) -> Result<Response> {
    let key = service::rotate(&state, &user.user.id, &id).await?;
    Ok((NO_STORE, data(key)).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(default)]
    skip: Option<String>,
    #[serde(default)]
    take: Option<String>,
    #[serde(default)]
    ownership: Option<String>,
    #[serde(default)]
    label: Option<String>,
    #[serde(default)]
    owner_ids: Option<String>,
    #[serde(default)]
    sort_by: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Owner {
    id: String,
    first_name: Option<String>,
    last_name: Option<String>,
    email: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedKey {
    #[serde(flatten)]
    key: ApiKeyView,
    owner: Owner,
}

/// `GET /rest/api-keys`: the caller's keys, or (owners and admins, `ownership=all`) every
/// user's, filtered, sorted and paged as n8n's list.
pub async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response> {
    let request = service::ListRequest::parse(
        service::ListQuery {
            skip: query.skip.as_deref(),
            take: query.take.as_deref(),
            ownership: query.ownership.as_deref(),
            label: query.label.as_deref(),
            owner_ids: query.owner_ids.as_deref(),
            sort_by: query.sort_by.as_deref(),
        },
        user.role,
    )?;
    let service::KeyList {
        rows,
        counts: (count_mine, count_all),
        totals: (total_mine, total_all),
        owners,
    } = service::list(&state, &user.user.id, user.role, &request).await?;
    let owners: Vec<_> = owners
        .into_iter()
        .map(|o| json!({ "id": o.id, "firstName": o.first_name, "lastName": o.last_name, "email": o.email, "keyCount": o.key_count }))
        .collect();
    let items: Vec<ListedKey> = rows
        .into_iter()
        .map(|r| ListedKey {
            owner: Owner {
                id: r.key.user_id.clone(),
                first_name: r.owner_first_name,
                last_name: r.owner_last_name,
                email: r.owner_email,
            },
            key: r.key.into_view(None),
        })
        .collect();
    Ok(data(json!({
        "items": items,
        "counts": { "mine": count_mine, "all": count_all },
        "totals": { "mine": total_mine, "all": total_all },
        "owners": owners,
    }))
    .into_response())
}
