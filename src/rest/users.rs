//! `/rest/users` and invitations: the user management the web page uses (n8n's internal
//! endpoints), over the same rules as the public API's `/users`.

use axum::extract::{Path, State};
use axum::http::header::SET_COOKIE;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::data;
use crate::app::AppState;
use crate::auth::session::{self, SessionUser};
use crate::db::{invitations, users};
use crate::domain::ids::{Named, UserId};
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ApiQuery};
use crate::service::users::{self as service, Invitee, Signup};

fn require_admin(user: &SessionUser) -> Result<()> {
    if user.role.is_instance_admin() {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    skip: Option<String>,
    take: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListedUser {
    id: String,
    email: String,
    first_name: Option<String>,
    last_name: Option<String>,
    role: String,
    is_pending: bool,
    is_owner: bool,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    invite_accept_url: Option<String>,
}

/// `GET /rest/users`: every user (and, for owners and admins, pending users' invite links).
pub async fn list(
    State(state): State<AppState>,
    user: SessionUser,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Response> {
    let parse = |v: Option<&str>, default: u64, max: u64, name: &str| -> Result<u64> {
        match v {
            None => Ok(default),
            Some(t) => t.parse::<u64>().ok().filter(|n| *n <= max).ok_or_else(|| {
                ApiError::bad_request(format!("{name} must be a whole number up to {max}"))
            }),
        }
    };
    let skip = parse(query.skip.as_deref(), 0, u64::MAX / 2, "skip")?;
    let take = parse(query.take.as_deref(), 50, 250, "take")?;
    let mut conn = state.db.acquire().await?;
    let count = users::count(conn.conn()).await?;
    let rows = users::list(conn.conn(), None, None, skip, take).await?;
    let pending: Vec<&str> = rows
        .iter()
        .filter(|u| u.password_hash.is_none())
        .map(|u| u.id.as_str())
        .collect();
    let links = if user.role.is_instance_admin() {
        invitations::find_many(conn.conn(), &pending).await?
    } else {
        Vec::new()
    };
    let items: Vec<ListedUser> = rows
        .into_iter()
        .map(|u| ListedUser {
            invite_accept_url: links
                .iter()
                .find(|i| i.user_id == u.id)
                .map(|i| service::invite_url(&state, i)),
            is_pending: u.password_hash.is_none(),
            is_owner: u.role == "global:owner",
            id: u.id,
            email: u.email,
            first_name: u.first_name,
            last_name: u.last_name,
            role: u.role,
            created_at: u.created_at,
            updated_at: u.updated_at,
        })
        .collect();
    Ok(data(json!({ "count": count, "items": items })).into_response())
}

#[derive(Deserialize)]
pub struct InviteEntry {
    email: String,
    role: Option<String>,
}

/// `POST /rest/invitations`.
pub async fn invite(
    State(state): State<AppState>,
    user: SessionUser,
    ApiJson(body): ApiJson<Vec<InviteEntry>>,
) -> Result<Response> {
    require_admin(&user)?;
    let invitees = body
        .into_iter()
        .map(|e| Invitee {
            email: e.email,
            role: e.role,
        })
        .collect();
    let results = service::invite(&state, &user.user.id, invitees).await?;
    Ok(data(results).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleBody {
    new_role_name: String,
}

/// `PATCH /rest/users/{id}/role`.
pub async fn change_role(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<UserId>>,
    ApiJson(body): ApiJson<RoleBody>,
) -> Result<Response> {
    require_admin(&user)?;
    let id = id.or_missing(|_| ApiError::not_found("Target user not found"))?;
    service::change_role(&state, &user.user.id, user.role, id, &body.new_role_name).await?;
    Ok(data(json!({ "success": true })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteQuery {
    transfer_id: Option<String>,
}

/// `DELETE /rest/users/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    user: SessionUser,
    Path(id): Path<Named<UserId>>,
    ApiQuery(query): ApiQuery<DeleteQuery>,
) -> Result<Response> {
    require_admin(&user)?;
    let id = id.or_missing(|_| {
        ApiError::not_found(
            "Request to delete a user failed because the user to delete was not found in DB",
        )
    })?;
    service::delete(
        &state,
        &user.user.id,
        id,
        query.transfer_id.as_deref().filter(|t| !t.is_empty()),
    )
    .await?;
    Ok(data(json!({ "success": true })).into_response())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

/// `GET /rest/resolve-signup-token?token=...`: who sent the invitation.
pub async fn resolve_signup_token(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TokenQuery>,
) -> Result<Response> {
    let inviter = service::resolve(&state, query.token.as_deref().unwrap_or("")).await?;
    Ok(data(json!({ "inviter": inviter })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptBody {
    #[serde(default)]
    token: String,
    first_name: String,
    last_name: String,
    password: String,
}

/// `POST /rest/invitations/accept`: completes the account and signs the user in.
pub async fn accept(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AcceptBody>,
) -> Result<Response> {
    let user = service::accept(
        &state,
        Signup {
            token: body.token,
            first_name: body.first_name,
            last_name: body.last_name,
            password: body.password,
        },
    )
    .await?;
    let cookie = {
        let mut tx = state.db.begin().await?;
        let cookie = session::start(&state, tx.conn(), &user.id).await?;
        tx.commit().await?;
        cookie
    };
    Ok(([(SET_COOKIE, cookie)], data(user.into_public())).into_response())
}
