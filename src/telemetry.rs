//! Logging: the subscriber (text or JSON, level from `N8N_LOG_LEVEL`) and the request span,
//! keyed on the matched route template (not the raw URI) and the request id.

use std::io::IsTerminal;

use axum::extract::{MatchedPath, Request};
use tracing::Span;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat, LogLevel};
use crate::extract::client_ip_of;

/// Installs the global subscriber. `RUST_LOG`, when set, overrides `N8N_LOG_LEVEL`.
pub fn init(config: &Config) {
    let level = match config.log_level {
        LogLevel::Silent => "off",
        LogLevel::Error => "error",
        LogLevel::Warn => "warn",
        LogLevel::Info => "info",
        LogLevel::Debug => "debug",
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("{level},sqlx=warn")));
    // Colours only on a terminal: in files, journald and `docker logs` the escape codes
    // would garble every line.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = match config.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The span of one request. It records the route template, so log labels stay few, and the
/// client's address (behind `proxy_hops` trusted proxies, the one they report), and never
/// the query string, headers or body (which may hold keys or secrets).
pub fn make_request_span(request: &Request, proxy_hops: u32) -> Span {
    // Below `info` (a quiet deployment, a benchmark) the span is not recorded: skip looking
    // up its fields.
    if !tracing::enabled!(tracing::Level::INFO) {
        return Span::none();
    }
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("-", MatchedPath::as_str);
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let client_ip = client_ip_of(request.headers(), request.extensions(), proxy_hops);
    tracing::info_span!("request", method = %request.method(), route, request_id, %client_ip)
}
