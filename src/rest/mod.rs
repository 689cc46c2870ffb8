//! The internal `/rest` API that the web page and scripts use to set up the owner, sign in,
//! manage API keys and users, and look at workflows, executions and insights. Success bodies are wrapped as `{"data": ...}`; errors are
//! `{"code", "message"}`: [`rest_error_body`] adds the `code` to the one error shape.

pub mod api_keys;
pub mod auth;
pub mod executions;
pub mod insights;
pub mod users;
pub mod workflows;

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Serialize;

use crate::app::{AppState, RawErrorBody};

/// n8n's success envelope.
#[derive(Serialize)]
pub struct Data<T> {
    pub data: T,
}

/// n8n's `filter` query parameter of its list routes: JSON text, absent or empty for none.
pub fn list_filter<T: serde::de::DeserializeOwned + Default>(
    text: Option<&str>,
) -> crate::error::Result<T> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(text).map_err(|e| {
            crate::error::ApiError::bad_request(format!("Parameter \"filter\" is invalid: {e}"))
        }),
    }
}

pub fn data<T>(data: T) -> Json<Data<T>> {
    Json(Data { data })
}

pub fn router(state: &AppState) -> Router<AppState> {
    let api_keys = Router::new()
        .route("/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/api-keys/scopes", get(api_keys::scopes))
        .route(
            "/api-keys/{id}",
            patch(api_keys::update).delete(api_keys::delete),
        )
        .route("/api-keys/{id}/rotate", post(api_keys::rotate))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            public_api_enabled,
        ));
    Router::new()
        .route("/owner/setup", post(auth::owner_setup))
        .route("/login", post(auth::login).get(auth::current_user))
        .route("/logout", post(auth::logout))
        .route("/settings", get(auth::settings))
        .route("/users", get(users::list))
        .route("/users/{id}", axum::routing::delete(users::delete))
        .route("/users/{id}/role", patch(users::change_role))
        .route("/invitations", post(users::invite))
        .route("/invitations/accept", post(users::accept))
        .route("/resolve-signup-token", get(users::resolve_signup_token))
        .route("/tags", get(workflows::tags))
        .route("/workflows", get(workflows::list))
        .route("/workflows/{id}", get(workflows::read))
        .route("/workflows/{id}/activate", post(workflows::activate))
        .route("/workflows/{id}/deactivate", post(workflows::deactivate))
        .route("/workflows/{id}/archive", post(workflows::archive))
        .route("/workflows/{id}/unarchive", post(workflows::unarchive))
        .route("/workflows/{id}/run", post(workflows::run))
        .route("/executions", get(executions::list))
        .route("/executions/{id}", get(executions::read))
        .route("/executions/{id}/stop", post(executions::stop))
        .route("/executions/{id}/retry", post(executions::retry))
        .route("/insights/summary", get(insights::summary))
        .route("/insights/by-time", get(insights::by_time))
        .merge(api_keys)
        .layer(middleware::from_fn(same_origin))
        .layer(middleware::map_response(rest_error_body))
}

/// Error bodies of `/rest` carry the status as `code` as well, as n8n's internal API does.
async fn rest_error_body(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<RawErrorBody>().is_some()
    {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (parts, axum::body::Body::empty()).into_response();
    };
    let body = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(fields)) if !fields.contains_key("code") => {
            let mut with_code = serde_json::Map::new();
            with_code.insert("code".into(), status.as_u16().into());
            with_code.extend(fields);
            axum::body::Body::from(serde_json::to_vec(&with_code).unwrap_or_default())
        }
        _ => axum::body::Body::from(bytes),
    };
    let mut parts = parts;
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    Response::from_parts(parts, body)
}

/// With the public API disabled, n8n answers every `/rest/api-keys*` route 404 with an
/// empty body.
async fn public_api_enabled(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.config.public_api_disabled {
        let mut response = StatusCode::NOT_FOUND.into_response();
        response.extensions_mut().insert(RawErrorBody);
        return response;
    }
    next.run(request).await
}

/// Refuses state-changing requests that a browser sent from another site (see
/// [`crate::auth::same_origin`]). Together with the `SameSite=Lax` cookie this is the CSRF
/// protection of the cookie-authenticated routes.
async fn same_origin(request: Request, next: Next) -> Response {
    if let Err(e) = crate::auth::same_origin::check(request.method(), request.headers()) {
        return e.into_response();
    }
    next.run(request).await
}
