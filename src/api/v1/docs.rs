//! `/api/v1/docs`: a reference page for the public API that works with no internet access.
//! The page and its script are compiled into the binary; the script renders
//! `openapi.json`, showing each operation's required scope as a badge.

use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::app::AppState;

const PAGE: &str = include_str!("../../../assets/docs/index.html");
const SCRIPT: &str = include_str!("../../../assets/docs/docs.js");
const STYLE: &str = include_str!("../../../assets/docs/docs.css");

/// Scripts and styles only from this server; no inline script, no framing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/docs",
            get(|| async { asset(PAGE, "text/html; charset=utf-8") }),
        )
        .route(
            "/docs/docs.js",
            get(|| async { asset(SCRIPT, "text/javascript; charset=utf-8") }),
        )
        .route(
            "/docs/docs.css",
            get(|| async { asset(STYLE, "text/css; charset=utf-8") }),
        )
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CONTENT_SECURITY_POLICY, CSP),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}
