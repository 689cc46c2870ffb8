//! `/rest/api-keys`: the signed-in user's API keys (n8n's internal endpoints).

use axum::extract::{Path, State};
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::data;
use crate::app::AppState;
use crate::auth::session::SessionUser;
use crate::db::api_keys::{self as repo, ListFilter, SortBy};
use crate::error::{ApiError, Result};
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

fn number(value: Option<&str>, name: &str, default: i64, max: i64) -> Result<i64, ApiError> {
    match value {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "{name} must be a whole number from 0 to {max}"
            ))),
        },
    }
}

/// `GET /rest/api-keys`: the caller's keys, or (owners and admins, `ownership=all`) every
/// user's, filtered, sorted and paged as n8n's list.
pub async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response> {
    let skip = number(query.skip.as_deref(), "skip", 0, i64::MAX)?;
    let take = number(query.take.as_deref(), "take", 10, 250)?;
    let can_manage = user.role.is_instance_admin();
    let all = match query.ownership.as_deref() {
        None | Some("mine") => false,
        Some("all") => true,
        Some(_) => return Err(ApiError::bad_request("ownership must be mine or all")),
    };
    if all && !can_manage {
        return Err(ApiError::Forbidden);
    }
    let label = query
        .label
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty());
    if label.is_some_and(|l| l.chars().count() > 100) {
        return Err(ApiError::bad_request(
            "label must be at most 100 characters",
        ));
    }
    let owner_ids: Option<Vec<String>> = query.owner_ids.as_deref().map(|ids| {
        ids.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    });
    if owner_ids.as_ref().is_some_and(|ids| ids.len() > 100) {
        return Err(ApiError::bad_request("ownerIds may list at most 100 users"));
    }
    let (sort, descending) = match query
        .sort_by
        .as_deref()
        .unwrap_or("createdAt:desc")
        .split_once(':')
    {
        Some((field, dir @ ("asc" | "desc"))) => {
            let sort =
                match field {
                    "label" => SortBy::Label,
                    "createdAt" => SortBy::CreatedAt,
                    "lastUsedAt" => SortBy::LastUsedAt,
                    "scopes" => SortBy::Scopes,
                    _ => return Err(ApiError::bad_request(
                        "sortBy must be label, createdAt, lastUsedAt or scopes with :asc or :desc",
                    )),
                };
            (sort, dir == "desc")
        }
        _ => {
            return Err(ApiError::bad_request(
                "sortBy must be label, createdAt, lastUsedAt or scopes with :asc or :desc",
            ))
        }
    };

    let mine = [user.user.id.clone()];
    // Without ownership=all the list is the caller's own keys, whatever ownerIds says.
    let scope_owners: Option<&[String]> = if all {
        owner_ids.as_deref()
    } else {
        Some(&mine)
    };
    let filter = ListFilter {
        owner_ids: scope_owners,
        label,
        sort,
        descending,
        skip,
        take,
    };
    let mut conn = state.db.acquire().await?;
    let rows = repo::list(conn.conn(), &filter).await?;
    let mine_filter = ListFilter {
        owner_ids: Some(&mine),
        ..filter
    };
    let count_mine = repo::count(conn.conn(), &mine_filter).await?;
    let total_mine = repo::count(
        conn.conn(),
        &ListFilter {
            label: None,
            ..mine_filter
        },
    )
    .await?;
    let (count_all, total_all, owners) = if can_manage {
        let all_filter = ListFilter {
            owner_ids: owner_ids.as_deref(),
            label,
            sort,
            descending,
            skip,
            take,
        };
        let count_all = repo::count(conn.conn(), &all_filter).await?;
        let total_all = repo::count(
            conn.conn(),
            &ListFilter {
                owner_ids: None,
                label: None,
                ..all_filter
            },
        )
        .await?;
        let owners: Vec<_> = repo::owners(conn.conn())
            .await?
            .into_iter()
            .map(|o| json!({ "id": o.id, "firstName": o.first_name, "lastName": o.last_name, "email": o.email, "keyCount": o.key_count }))
            .collect();
        (count_all, total_all, owners)
    } else {
        (count_mine, total_mine, Vec::new())
    };
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
