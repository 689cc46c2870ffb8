//! Cross-origin calls of production webhooks, as n8n answers them: a request that carries an
//! `Origin` gets `Access-Control-Allow-Methods` (`OPTIONS` and the methods the path is
//! registered for) and `Access-Control-Allow-Origin` from the Webhook node's "Allowed Origins"
//! option (`*` by default: the caller's own origin is echoed). A preflight (`OPTIONS`) is
//! answered 204 on any path, with `Access-Control-Max-Age: 300` and the requested headers
//! allowed. Without an `Origin` nothing is added.
//!
//! Chosen difference: n8n splits the option at commas without trimming, so in
//! `https://a.example, https://b.example` the second origin never matches and its callers get
//! the first one; here entries are trimmed and each listed origin gets its own.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::engine::workflow::Node;

/// How long a browser may keep a preflight's answer, in seconds (n8n's value).
const MAX_AGE: &str = "300";

/// The headers a cross-origin request's answer carries.
pub struct Cors {
    allow_methods: HeaderValue,
    allow_origin: Option<HeaderValue>,
}

impl Cors {
    /// The headers for a request with these `headers` to a path registered for `methods`,
    /// served by `node` when one matched; `None` when the request names no origin.
    pub fn for_request(
        headers: &HeaderMap,
        methods: &[String],
        node: Option<&Node>,
    ) -> Option<Cors> {
        let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
        let mut listed = String::from("OPTIONS");
        for method in methods {
            listed.push_str(", ");
            listed.push_str(method);
        }
        Some(Cors {
            allow_methods: HeaderValue::from_str(&listed).ok()?,
            allow_origin: node
                .and_then(|node| allowed_origin(allowed_origins(node), origin))
                .and_then(|o| HeaderValue::from_str(&o).ok()),
        })
    }

    /// Adds the headers to `response`.
    pub fn apply(&self, response: &mut Response) {
        let headers = response.headers_mut();
        headers.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            self.allow_methods.clone(),
        );
        if let Some(origin) = &self.allow_origin {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
    }
}

/// The answer to a preflight: 204, with the CORS headers when the request names an origin.
pub fn preflight(headers: &HeaderMap, cors: Option<Cors>) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(cors) = cors {
        cors.apply(&mut response);
        if cors.allow_origin.is_some() {
            let out = response.headers_mut();
            out.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static(MAX_AGE),
            );
            if let Some(requested) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
                out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
            }
        }
    }
    response
}

/// The node's "Allowed Origins" option (`*` when unset or empty).
fn allowed_origins(node: &Node) -> &str {
    node.parameters
        .get("options")
        .and_then(|o| o.get("allowedOrigins"))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .unwrap_or("*")
}

/// The origin to allow for a caller from `origin`: the caller's own when the option allows
/// everyone or lists it, else the first listed (which a browser will refuse to match).
fn allowed_origin(option: &str, origin: &str) -> Option<String> {
    if option == "*" {
        return Some(origin.to_owned());
    }
    let mut listed = option.split(',').map(str::trim).filter(|o| !o.is_empty());
    let first = listed.clone().next()?;
    if listed.any(|o| o == origin) {
        Some(origin.to_owned())
    } else {
        Some(first.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_allowed_origin_is_the_callers_when_permitted_else_the_first_listed() {
        assert_eq!(
            allowed_origin("*", "https://x.example").as_deref(),
            Some("https://x.example")
        );
        let list = "https://a.example, https://b.example";
        assert_eq!(
            allowed_origin(list, "https://b.example").as_deref(),
            Some("https://b.example")
        );
        assert_eq!(
            allowed_origin(list, "https://a.example").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(
            allowed_origin(list, "https://evil.example").as_deref(),
            Some("https://a.example")
        );
        assert_eq!(allowed_origin(" , ", "https://x.example"), None);
    }

    fn node(options: Value) -> Node {
        serde_json::from_value(serde_json::json!({
            "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
            "parameters": {"path": "p", "options": options}
        }))
        .expect("node")
    }

    #[test]
    fn no_origin_means_no_headers() {
        let n = node(serde_json::json!({}));
        assert!(Cors::for_request(&HeaderMap::new(), &["GET".into()], Some(&n)).is_none());
    }

    #[test]
    fn a_preflight_lists_the_paths_methods_and_echoes_the_requested_headers() {
        let n = node(serde_json::json!({"allowedOrigins": "https://a.example"}));
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://a.example"),
        );
        headers.insert(
            header::ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("x-custom, content-type"),
        );
        let methods = ["GET".to_owned(), "POST".to_owned()];
        let response = preflight(&headers, Cors::for_request(&headers, &methods, Some(&n)));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let h = response.headers();
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_METHODS],
            "OPTIONS, GET, POST"
        );
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example");
        assert_eq!(h[header::ACCESS_CONTROL_MAX_AGE], "300");
        assert_eq!(
            h[header::ACCESS_CONTROL_ALLOW_HEADERS],
            "x-custom, content-type"
        );

        // An unknown path: only the methods line.
        let response = preflight(&headers, Cors::for_request(&headers, &[], None));
        let h = response.headers();
        assert_eq!(h[header::ACCESS_CONTROL_ALLOW_METHODS], "OPTIONS");
        assert!(h.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
        assert!(h.get(header::ACCESS_CONTROL_MAX_AGE).is_none());
    }
}
