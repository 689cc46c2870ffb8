//! The application: shared state, the router (a table of contents of everything the server
//! answers), the middleware stack, and `serve()`.

use std::net::{IpAddr, SocketAddr};
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::auth::limiter::Limiter;
use crate::auth::LastUsedTracker;
use crate::config::Config;
use crate::crypto::{KeyRing, LookupHasher};
use crate::db::Db;
use crate::metrics::{self, Metrics};
use crate::service::workflows::WorkflowLifecycle;
use crate::{api, health, instance, rest, telemetry, web};

/// Everything a request handler may need, shared by all requests.
pub struct Shared {
    pub db: Db,
    pub config: Config,
    /// Seals and opens secrets at rest (shared with the engine, which opens credentials).
    pub keys: Arc<KeyRing>,
    /// Hashes API keys and session tokens for look-up.
    pub lookup: LookupHasher,
    /// Failed API-key and cookie attempts per client IP.
    pub auth_failures: Limiter<IpAddr>,
    /// Sign-in attempts per client IP (n8n: 1000 per 5 minutes).
    pub login_per_ip: Limiter<IpAddr>,
    /// Sign-in attempts per login name (n8n: 5 per minute).
    pub login_per_name: Limiter<String>,
    pub last_used: LastUsedTracker,
    /// The scope lists of the keys in use, parsed once per stored text.
    pub scope_lists: crate::auth::scopes::ParsedScopeLists,
    /// Request, authentication and key-verification counts (served when `N8N_METRICS`).
    pub metrics: Metrics,
    /// The data tables' storage against its limits.
    pub data_table_sizes: crate::service::data_table_sizes::SizeTracker,
    /// Runs published workflows.
    pub engine: crate::engine::Engine,
    /// Whoever runs workflows, told of publishes, unpublishes, archives and deletes (the
    /// engine, unless a test installs another listener).
    pub lifecycle: Arc<dyn WorkflowLifecycle>,
}

/// The state handed to every handler: one pointer, cheap to clone per request.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    /// Builds the state over an open, migrated database: loads (or creates) the encryption
    /// key and the instance secrets, and refuses to start when the key cannot open them.
    pub async fn new(config: Config, db: Db) -> anyhow::Result<AppState> {
        Self::build(config, db, None).await
    }

    /// As [`AppState::new`], with `lifecycle` told of every workflow publish, unpublish,
    /// archive and delete instead of the engine (tests that watch the events; the engine then
    /// registers no webhooks).
    pub async fn new_with_lifecycle(
        config: Config,
        db: Db,
        lifecycle: Arc<dyn WorkflowLifecycle>,
    ) -> anyhow::Result<AppState> {
        Self::build(config, db, Some(lifecycle)).await
    }

    async fn build(
        config: Config,
        db: Db,
        lifecycle: Option<Arc<dyn WorkflowLifecycle>>,
    ) -> anyhow::Result<AppState> {
        let encryption_key = crate::crypto::load_encryption_key(&config)?;
        let keys = Arc::new(KeyRing::new(
            &encryption_key,
            &config.encryption_keys_previous,
        ));
        let lookup = instance::lookup_hasher(&db, &keys).await?;
        instance::check_sealed_data(&db, &keys).await?;
        let engine = crate::engine::Engine::new(db.clone(), &config, Arc::clone(&keys));
        let lifecycle = lifecycle.unwrap_or_else(|| Arc::new(engine.clone()));
        Ok(AppState(Arc::new(Shared {
            auth_failures: Limiter::new(config.failed_auth_per_minute, Duration::from_secs(60)),
            login_per_ip: Limiter::new(1000, Duration::from_secs(300)),
            login_per_name: Limiter::new(5, Duration::from_secs(60)),
            last_used: LastUsedTracker::default(),
            scope_lists: Default::default(),
            metrics: Metrics::default(),
            data_table_sizes: Default::default(),
            engine,
            lifecycle,
            db,
            config,
            keys,
            lookup,
        })))
    }
}

/// The whole HTTP surface.
pub fn router(state: AppState) -> Router {
    let config = &state.config;
    // A NUL character in a path or query is refused before any API handler sees it.
    let v1 = api::v1::router(&state).layer(middleware::from_fn(crate::extract::refuse_nul_in_uri));
    let rest = rest::router(&state).layer(middleware::from_fn(crate::extract::refuse_nul_in_uri));
    let web = web::router(config);
    let webhooks = crate::engine::webhook::router(&state);
    let api_prefix = config.public_api_prefix();

    let mut app = Router::new()
        .route("/healthz", get(health::live))
        .route("/healthz/readiness", get(health::ready))
        .nest(&api_prefix, v1.clone())
        .nest("/rest", rest.clone())
        .merge(webhooks.clone())
        .merge(web.clone());
    // Under N8N_PATH too, so `<host>/<N8N_PATH>/api/v1/...` works with or without a proxy
    // that strips the prefix.
    if let Some(base) = config.base_path() {
        app = app
            .nest(&format!("{base}{api_prefix}"), v1)
            .nest(&format!("{base}/rest"), rest)
            .nest(&base, webhooks.merge(web));
    }

    // At the root only, where Prometheus looks for it (as in n8n); off, it is a plain 404.
    if config.metrics {
        app = app.route("/metrics", get(metrics::serve));
    }

    let body_limit = config.payload_size_max_bytes();
    let timeout = Duration::from_secs(config.request_timeout_secs);
    let proxy_hops = config.proxy_hops;
    let mut app = app.fallback(not_found).layer(
        ServiceBuilder::new()
            .layer(SetSensitiveRequestHeadersLayer::new([
                HeaderName::from_static(crate::auth::API_KEY_HEADER),
                COOKIE,
                axum::http::header::AUTHORIZATION,
            ]))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                // One line per answered request at debug level (none when it starts); the
                // span gives every line of the request its route and client address.
                TraceLayer::new_for_http()
                    .make_span_with(move |request: &Request| {
                        telemetry::make_request_span(request, proxy_hops)
                    })
                    .on_request(())
                    .on_response(DefaultOnResponse::new().level(tracing::Level::DEBUG)),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(SetResponseHeaderLayer::overriding(
                HeaderName::from_static("x-content-type-options"),
                HeaderValue::from_static("nosniff"),
            ))
            .layer(middleware::from_fn(json_errors))
            .layer(CatchPanicLayer::custom(panic_response))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::REQUEST_TIMEOUT,
                timeout,
            ))
            .layer(DefaultBodyLimit::max(body_limit)),
    );
    // Outermost, so that it also counts what the layers inside answer (timeouts, panics);
    // not installed at all when metrics are off, so then it costs nothing.
    if config.metrics {
        app = app.layer(middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ));
    }
    app.with_state(state)
}

/// 404 for every path nothing else answers.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({ "message": "not found" })),
    )
        .into_response()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(json!({ "message": "Internal server error" })),
    )
        .into_response()
}

/// Marks a response whose error body must be sent as it is (n8n answers some errors with an
/// empty body, e.g. `/rest/api-keys` while the public API is disabled).
#[derive(Clone, Copy)]
pub struct RawErrorBody;

/// Gives every error response a JSON body, including those made by axum and tower layers
/// (405 from the method router, 413 from the body limit, 408 from the timeout).
async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let is_rest = request.uri().path().contains("/rest/");
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error())
        || is_json
        || response.extensions().get::<RawErrorBody>().is_some()
    {
        return response;
    }
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => format!("{method} method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => "request entity too large".to_owned(),
        StatusCode::REQUEST_TIMEOUT => "Request timed out".to_owned(),
        StatusCode::NOT_FOUND => "not found".to_owned(),
        StatusCode::INTERNAL_SERVER_ERROR => "Internal server error".to_owned(),
        other => other.canonical_reason().unwrap_or("Error").to_owned(),
    };
    let body = if is_rest {
        json!({ "code": status.as_u16(), "message": message })
    } else {
        json!({ "message": message })
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    parts.headers.remove(SET_COOKIE);
    let mut json_response = (status, Json(body)).into_response();
    for (name, value) in parts.headers.iter() {
        if name != CONTENT_TYPE {
            json_response
                .headers_mut()
                .insert(name.clone(), value.clone());
        }
    }
    json_response
}

/// Binds the configured address and serves until SIGTERM or SIGINT, then lets in-flight
/// requests finish.
pub async fn serve(state: AppState) -> anyhow::Result<()> {
    let address = SocketAddr::new(state.config.listen_address, state.config.port);
    let listener = tokio::net::TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen on {address} (N8N_LISTEN_ADDRESS, N8N_PORT)"))?;
    let db = state.db.clone();
    instance::spawn_housekeeping(db.clone());
    let engine = state.engine.clone();
    engine.start_background();
    let state_config = state.config.clone();
    let app = router(state);
    tracing::info!(%address, "ready");
    let limits = crate::serve::ConnectionLimits::from_config(&state_config);
    crate::serve::serve_connections(listener, app, limits, shutdown_signal()).await;
    engine.shutdown();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// `flowgate worker`: runs queued executions until SIGTERM or SIGINT; with
/// QUEUE_HEALTH_CHECK_ACTIVE it also answers `/healthz`, `/healthz/readiness` and (with
/// N8N_METRICS) `/metrics` on QUEUE_HEALTH_CHECK_PORT.
pub async fn serve_worker(state: AppState) -> anyhow::Result<()> {
    let db = state.db.clone();
    let engine = state.engine.clone();
    engine.start_worker();
    let config = state.config.clone();
    if config.engine.worker_health {
        let address = SocketAddr::new(config.listen_address, config.engine.worker_health_port);
        let listener = tokio::net::TcpListener::bind(address)
            .await
            .with_context(|| {
                format!("cannot listen on {address} (N8N_LISTEN_ADDRESS, QUEUE_HEALTH_CHECK_PORT)")
            })?;
        let mut app = Router::new()
            .route("/healthz", get(health::live))
            .route("/healthz/readiness", get(health::ready));
        if config.metrics {
            app = app.route("/metrics", get(metrics::serve));
        }
        let app = app.fallback(not_found).with_state(state);
        tracing::info!(%address, "worker ready");
        let limits = crate::serve::ConnectionLimits::from_config(&config);
        crate::serve::serve_connections(listener, app, limits, shutdown_signal()).await;
    } else {
        tracing::info!("worker ready");
        shutdown_signal().await;
    }
    let limit = Duration::from_secs(config.engine.graceful_shutdown_secs);
    let left = engine.drain(limit).await;
    if left > 0 {
        tracing::warn!(left, "executions still running at shutdown are stopped");
    }
    engine.shutdown();
    db.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
