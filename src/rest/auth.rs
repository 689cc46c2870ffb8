//! Owner set-up, sign-in, sign-out and the settings the web page reads.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::data;
use crate::app::AppState;
use crate::auth::session::{self, SessionUser};
use crate::db::users;
use crate::domain::email::Email;
use crate::domain::password;
use crate::error::{ApiError, Result};
use crate::extract::{ApiJson, ClientIp};
use crate::service::owner::{self, OwnerSetup};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerSetupBody {
    email: String,
    first_name: String,
    last_name: String,
    password: String,
}

/// `POST /rest/owner/setup`: creates the owner, signs them in, answers the user.
pub async fn owner_setup(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<OwnerSetupBody>,
) -> Result<Response> {
    let owner = owner::setup(
        &state,
        OwnerSetup {
            email: body.email,
            first_name: body.first_name,
            last_name: body.last_name,
            password: body.password,
        },
    )
    .await?;
    let cookie = {
        let mut tx = state.db.begin().await?;
        let cookie = session::start(&state, tx.conn(), &owner.id).await?;
        tx.commit().await?;
        cookie
    };
    Ok(([(SET_COOKIE, cookie)], data(owner.into_public())).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoginBody {
    email_or_ldap_login_id: String,
    password: String,
}

const WRONG_CREDENTIALS: &str = "Wrong username or password. Do you have caps lock on?";

/// `POST /rest/login`: checks the password (argon2id; an unknown user costs the same as a
/// known one), throttled per IP and per login name as n8n does.
pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response> {
    let login = body.email_or_ldap_login_id.trim();
    if login.is_empty() || login.len() > 255 {
        return Err(ApiError::bad_request("Invalid email address"));
    }
    let email =
        Email::parse(login).ok_or_else(|| ApiError::bad_request("Invalid email address"))?;
    if body.password.is_empty() {
        return Err(ApiError::bad_request("Password is required"));
    }
    state.login_per_ip.hit(ip)?;
    state.login_per_name.hit(email.as_str().to_owned())?;

    let user = {
        let mut conn = state.db.acquire().await?;
        users::find_by_email(conn.conn(), email.as_str()).await?
    };
    let usable = user.as_ref().filter(|u| !u.disabled);
    let stored = usable.and_then(|u| u.password_hash.clone());
    let matches = password::verify(body.password, stored).await?;
    let Some(user) = usable.filter(|_| matches) else {
        return Err(ApiError::Unauthorized(WRONG_CREDENTIALS));
    };
    state.login_per_name.reset(&email.as_str().to_owned());
    let cookie = {
        let mut tx = state.db.begin().await?;
        let cookie = session::start(&state, tx.conn(), &user.id).await?;
        tx.commit().await?;
        cookie
    };
    Ok(([(SET_COOKIE, cookie)], data(user.clone().into_public())).into_response())
}

/// `GET /rest/login`: the signed-in user.
pub async fn current_user(user: SessionUser) -> Result<Response> {
    Ok(data(user.user.into_public()).into_response())
}

/// `POST /rest/logout`: ends the session and clears the cookie.
pub async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response> {
    {
        let mut tx = state.db.begin().await?;
        session::end(&state, tx.conn(), &headers).await?;
        tx.commit().await?;
    }
    Ok((
        [(SET_COOKIE, session::clear_cookie(&state)?)],
        data(json!({ "loggedOut": true })),
    )
        .into_response())
}

/// `GET /rest/settings`: what the web page needs before sign-in.
pub async fn settings(State(state): State<AppState>) -> Result<Response> {
    let owner_set_up = {
        let mut conn = state.db.acquire().await?;
        users::find_owner(conn.conn()).await?.is_some()
    };
    let config = &state.config;
    Ok(data(json!({
        "userManagement": { "isInstanceOwnerSetUp": owner_set_up, "showSetupOnFirstLoad": !owner_set_up },
        "publicApi": {
            "enabled": !config.public_api_disabled,
            "latestVersion": 1,
            "path": config.public_api_endpoint.trim_matches('/'),
            "swaggerUi": { "enabled": !config.public_api_swaggerui_disabled }
        },
        "passwordMinLength": config.password_min_length,
    }))
    .into_response())
}
