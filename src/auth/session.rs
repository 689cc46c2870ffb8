//! Browser sessions: the `n8n-auth` cookie, issuing and revoking sessions, and the
//! [`SessionUser`] extractor of the internal `/rest` API.
//!
//! The cookie holds a random 256-bit token; the database holds only its keyed hash, so a
//! sign-out, a user's deletion or a disabled account ends the session at once.

use axum::extract::FromRequestParts;
use axum::http::header::COOKIE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};

use crate::app::AppState;
use crate::auth::{Credential, Principal, Role, SESSION_HASH_DOMAIN};
use crate::crypto::random_token;
use crate::db::{sessions, users, users::UserRow, Conn};
use crate::domain::time::{now_iso, now_unix};
use crate::error::ApiError;

pub const COOKIE_NAME: &str = "n8n-auth";

/// The session token of the request's `n8n-auth` cookie, if any.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty())
}

/// Starts a session for `user_id` and answers the `Set-Cookie` header that carries it.
pub async fn start(
    state: &AppState,
    conn: Conn<'_>,
    user_id: &str,
) -> Result<HeaderValue, ApiError> {
    let token = random_token(32);
    let lifetime = i64::from(state.config.session_duration_hours) * 3600;
    sessions::insert(
        conn,
        &state.lookup.hash(SESSION_HASH_DOMAIN, &token),
        user_id,
        now_unix() + lifetime,
        &now_iso(),
    )
    .await?;
    cookie_header(state, &token, lifetime)
}

/// The header that makes the browser forget the cookie.
pub fn clear_cookie(state: &AppState) -> Result<HeaderValue, ApiError> {
    cookie_header(state, "", 0)
}

fn cookie_header(state: &AppState, value: &str, max_age: i64) -> Result<HeaderValue, ApiError> {
    let secure = if state.config.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    let path = state.config.base_path().unwrap_or_else(|| "/".to_owned());
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .map_err(|e| ApiError::Internal(e.into()))
}

/// Ends the session of this request's cookie, if it has one.
pub async fn end(state: &AppState, conn: Conn<'_>, headers: &HeaderMap) -> Result<(), ApiError> {
    if let Some(token) = cookie_token(headers) {
        sessions::delete(conn, &state.lookup.hash(SESSION_HASH_DOMAIN, token)).await?;
    }
    Ok(())
}

/// The signed-in user of a `/rest` request. Rejects with 401 `Unauthorized` when the cookie is
/// missing, unknown, expired, or its user is disabled.
#[derive(Clone, Debug)]
pub struct SessionUser {
    pub user: UserRow,
    pub role: Role,
}

impl SessionUser {
    /// The caller as the public API's rules know it: a signed-in user holds every scope of
    /// their role, as on the public API with the cookie, so `/rest` and `/api/v1` apply the
    /// same access checks through the same services.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.user.id.clone(),
            role: self.role,
            scopes: self.role.allowed_scopes(),
            credential: Credential::Session,
        }
    }
}

impl FromRequestParts<AppState> for SessionUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let unauthorized = || ApiError::Unauthorized("Unauthorized");
        let token = cookie_token(&parts.headers).ok_or_else(unauthorized)?;
        let hash = state.lookup.hash(SESSION_HASH_DOMAIN, token);
        let session = sessions::find_for_auth(&mut state.db.reader().await?, &hash).await?;
        let session = session
            .filter(|s| s.expires_at > now_unix() && !s.disabled && s.has_password)
            .ok_or_else(unauthorized)?;
        let mut conn = state.db.acquire().await?;
        let user = users::find_by_id(conn.conn(), &session.user_id)
            .await?
            .ok_or_else(unauthorized)?;
        let role = Role::parse(&user.role).ok_or_else(unauthorized)?;
        Ok(SessionUser { user, role })
    }
}
