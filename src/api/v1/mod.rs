//! The route table of the public API: every endpoint with its method, path, required scope,
//! route kind and OpenAPI description, in one list. The router, the OpenAPI document and the
//! scope tests are all built from [`endpoints()`], so they cannot drift apart.

pub mod audit;
pub mod community_packages;
pub mod credentials;
pub mod data_tables;
pub mod discover;
pub mod docs;
pub mod executions;
pub mod folders;
pub mod insights;
pub mod openapi;
pub mod projects;
pub mod source_control;
pub mod tags;
pub mod users;
pub mod variables;
pub mod workflows;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::{middleware, Router};

use crate::app::AppState;
use crate::auth::{self, RouteAuth, RouteKind, Scope};
use crate::error::ApiError;
use openapi::Doc;

/// One operation of the public API.
pub struct Endpoint {
    pub method: Method,
    /// The path below `/api/v1`, in axum's (and OpenAPI's) `{param}` form.
    pub path: &'static str,
    pub auth: RouteAuth,
    pub route: MethodRouter<AppState>,
    pub doc: Doc,
}

impl Endpoint {
    /// A controller route (n8n's newer kind; 401 `Unauthorized`) that accepts the API key or
    /// the session cookie. `scope: None` means any valid key.
    pub fn new(
        method: Method,
        path: &'static str,
        scope: Option<Scope>,
        route: MethodRouter<AppState>,
        doc: Doc,
    ) -> Endpoint {
        Endpoint {
            method,
            path,
            auth: RouteAuth {
                scope,
                kind: RouteKind::Controller,
                api_key_only: false,
            },
            route,
            doc,
        }
    }

    /// Marks the route as one of n8n's legacy handler routes (their 401 wording differs).
    pub fn handler_kind(mut self) -> Endpoint {
        self.auth.kind = RouteKind::Handler;
        self
    }

    /// Accepts only the API-key header (n8n's data-table and community-package routes).
    pub fn api_key_only(mut self) -> Endpoint {
        self.auth.api_key_only = true;
        self
    }
}

/// Every endpoint of the public API.
pub fn endpoints() -> Vec<Endpoint> {
    [
        workflows::endpoints(),
        executions::endpoints(),
        credentials::endpoints(),
        tags::endpoints(),
        users::endpoints(),
        variables::endpoints(),
        projects::endpoints(),
        folders::endpoints(),
        data_tables::endpoints(),
        audit::endpoints(),
        insights::endpoints(),
        discover::endpoints(),
        source_control::endpoints(),
        community_packages::endpoints(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The component schemas every resource contributes to the OpenAPI document.
pub fn schemas() -> Vec<(&'static str, serde_json::Value)> {
    [
        workflows::schemas(),
        executions::schemas(),
        credentials::schemas(),
        tags::schemas(),
        users::schemas(),
        variables::schemas(),
        projects::schemas(),
        folders::schemas(),
        data_tables::schemas(),
        source_control::schemas(),
        community_packages::schemas(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The public API router: the table's endpoints, each behind the guard with its own scope,
/// plus the OpenAPI document and the docs page (no authentication, as in n8n).
pub fn router(state: &AppState) -> Router<AppState> {
    let endpoints = endpoints();
    let document = openapi::document(&endpoints, &state.config);
    let yaml = Bytes::from(openapi::to_yaml(&document));
    let json = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());

    let mut router = Router::new()
        .route(
            "/openapi.yml",
            get(move || std::future::ready(openapi::serve(yaml.clone(), "application/yaml"))),
        )
        .route(
            "/openapi.json",
            get(move || std::future::ready(openapi::serve(json.clone(), "application/json"))),
        );
    if !state.config.public_api_swaggerui_disabled {
        router = router.merge(docs::router());
    }
    for endpoint in endpoints {
        let gate = Gate {
            state: state.clone(),
            auth: endpoint.auth,
            query: query_names(&endpoint.doc),
        };
        let route = endpoint
            .route
            .route_layer(middleware::from_fn_with_state(gate, gate_endpoint));
        router = router.route(endpoint.path, route);
    }
    router
}

/// What an endpoint checks before its handler runs: who may call it, and which query
/// parameters it documents.
#[derive(Clone)]
struct Gate {
    state: AppState,
    auth: RouteAuth,
    query: Arc<[String]>,
}

/// The one middleware of each endpoint (one layer rather than two on the hot path): the
/// guard first (401, 403), then the query check (400), then the handler.
async fn gate_endpoint(State(gate): State<Gate>, request: Request, next: Next) -> Response {
    let request = match auth::admit(&gate.state, gate.auth, request).await {
        Ok(request) => request,
        Err(e) => return e.into_response(),
    };
    if let Err(e) = refuse_unknown_query(&gate.query, request.uri().query()) {
        return e.into_response();
    }
    next.run(request).await
}

/// The query parameters an operation documents: the only ones it accepts.
fn query_names(doc: &Doc) -> Arc<[String]> {
    doc.params
        .iter()
        .filter(|p| p["in"] == "query")
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect()
}

/// Refuses a query parameter the operation does not document, as n8n's request validator
/// does, naming the first such parameter.
fn refuse_unknown_query(known: &[String], query: Option<&str>) -> Result<(), ApiError> {
    for (name, _) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if !known.iter().any(|k| *k == name) {
            return Err(ApiError::bad_request(format!(
                "Unknown query parameter '{name}'"
            )));
        }
    }
    Ok(())
}
