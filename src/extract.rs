//! Extractors whose rejections are n8n's errors: [`ApiJson`] (415, 400 `Invalid JSON in
//! request body`, 400 `request/body... must ...`, 413), [`OptionalJson`], [`ApiQuery`]
//! (400 `request/query/...`), and the client address behind trusted proxies.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{Extensions, HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON body that must be present and of the right shape.
pub struct ApiJson<T>(pub T);

/// A JSON body that may be absent (an empty body gives `None`).
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json_content_type(request.headers())?;
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        // An empty body is read as `{}`, so a missing field is reported by name, as n8n does.
        let body: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        parse_body(body).map(ApiJson)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let has_content_type = request.headers().contains_key(CONTENT_TYPE);
        let headers = request.headers().clone();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        if has_content_type {
            require_json_content_type(&headers)?;
        }
        parse_body(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

fn require_json_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Err(ApiError::UnsupportedMediaType("undefined".to_owned()));
    };
    let text = value.to_str().unwrap_or("");
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(essence))
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    // A body over the limit surfaces as a failed buffer with a length-limit cause.
    let text = rejection.body_text();
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE
        || text.contains("length limit")
    {
        ApiError::PayloadTooLarge
    } else {
        ApiError::bad_request("Failed to read the request body")
    }
}

/// Parses a JSON body: syntax errors (including nesting deeper than serde_json's limit of
/// 128) are `Invalid JSON in request body`; shape errors name the field.
pub fn parse_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|_| ApiError::bad_request("Invalid JSON in request body"))?;
    if let Some(path) = nul_at(&value) {
        return Err(ApiError::BadRequest(format!(
            "request/body{path} {NUL_MESSAGE}"
        )));
    }
    from_value("body", value)
}

/// The NUL character cannot be stored in PostgreSQL text and is never meaningful in a name or
/// value, so it is refused at the edge, the same on both databases.
const NUL_MESSAGE: &str = "must not contain the NUL character (\\u0000)";

/// The JSON pointer of the first string (or object key) in `value` holding a NUL character.
fn nul_at(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| nul_at(item).map(|rest| format!("/{i}{rest}"))),
        Value::Object(fields) => fields.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(String::new());
            }
            nul_at(item).map(|rest| format!("/{key}{rest}"))
        }),
        _ => None,
    }
}

/// Middleware of the API routers: 400 for a NUL character (`%00`) in the path or the query,
/// before any handler or extractor sees them.
pub async fn refuse_nul_in_uri(
    request: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let uri = request.uri();
    let decoded_has_nul =
        |text: &str| percent_encoding::percent_decode_str(text).any(|byte| byte == 0);
    if decoded_has_nul(uri.path()) {
        return ApiError::BadRequest(format!("request/path {NUL_MESSAGE}")).into_response();
    }
    if uri.query().is_some_and(decoded_has_nul) {
        return ApiError::BadRequest(format!("request/query {NUL_MESSAGE}")).into_response();
    }
    next.run(request).await
}

/// Deserialises `value` into `T`, with validation messages in n8n's form:
/// `request/<location>[/path] <message>`.
pub fn from_value<T: DeserializeOwned>(location: &str, value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|e| validation_error(location, e))
}

fn validation_error<E: std::fmt::Display>(
    location: &str,
    error: serde_path_to_error::Error<E>,
) -> ApiError {
    let path = json_pointer(&error.path().to_string());
    ApiError::BadRequest(format!(
        "request/{location}{path} {}",
        describe(&error.inner().to_string())
    ))
}

/// `nodes[0].name` → `/nodes/0/name`; `.` (the root) → ``.
fn json_pointer(path: &str) -> String {
    if path == "." || path.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    for segment in path.split('.') {
        let mut rest = segment;
        if let Some(i) = rest.find('[') {
            if i > 0 {
                out.push('/');
                out.push_str(&rest[..i]);
            }
            rest = &rest[i..];
            while let Some(end) = rest.find(']') {
                out.push('/');
                out.push_str(&rest[1..end]);
                rest = &rest[end + 1..];
            }
        } else {
            out.push('/');
            out.push_str(rest);
        }
    }
    out
}

/// Rewrites serde's messages in the words of n8n's validator.
fn describe(message: &str) -> String {
    let message = message.split(" at line ").next().unwrap_or(message);
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return format!("must have required property '{field}'");
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        if let Some((_, expected)) = rest.split_once(", expected ") {
            let expected = match expected {
                e if e.contains("sequence") => "array",
                e if e.contains("map") || e.contains("struct") => "object",
                e if e.contains("string") || e.contains("str") => "string",
                e if e.contains("bool") => "boolean",
                e if e.contains("integer")
                    || e.contains("i64")
                    || e.contains("u64")
                    || e.contains("u32") =>
                {
                    "integer"
                }
                e if e.contains("f64") || e.contains("number") => "number",
                e => e,
            };
            return format!("must be {expected}");
        }
    }
    if let Some(rest) = message.strip_prefix("unknown variant `") {
        if let Some((_, allowed)) = rest.split_once("expected ") {
            let allowed = allowed.replace('`', "").replace("one of ", "");
            return format!("must be equal to one of the allowed values: {allowed}");
        }
    }
    if message.starts_with("invalid length") {
        return "has an invalid number of items".to_owned();
    }
    message.to_owned()
}

/// Query parameters deserialised into `T`; errors are `request/query/<field> <message>`.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parse_query(parts.uri.query().unwrap_or("")).map(ApiQuery)
    }
}

pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    if form_urlencoded::parse(query.as_bytes()).any(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(ApiError::BadRequest(format!("request/query {NUL_MESSAGE}")));
    }
    let deserializer =
        serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let path = json_pointer(&e.path().to_string());
        ApiError::BadRequest(format!(
            "request/query{path} {}",
            describe(&e.inner().to_string())
        ))
    })
}

/// The client's address (see [`client_ip`]).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<crate::app::AppState> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &crate::app::AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(client_ip(parts, state.config.proxy_hops)))
    }
}

/// The address of the client: the peer address, or, behind `hops` trusted proxies, the
/// address the outermost trusted proxy saw (counted from the right of `X-Forwarded-For`).
pub fn client_ip(parts: &Parts, hops: u32) -> IpAddr {
    client_ip_of(&parts.headers, &parts.extensions, hops)
}

/// [`client_ip`] over the pieces of a request, for code that holds a whole `Request` (the
/// request span).
///
/// Each trusted proxy appends the address it received the request from, so exactly the last
/// `hops` entries were written by proxies we trust; everything to their left came from the
/// client and may be forged. With fewer entries than hops, every entry was written by a
/// trusted proxy and the leftmost is the furthest one seen.
pub fn client_ip_of(headers: &HeaderMap, extensions: &Extensions, hops: u32) -> IpAddr {
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if hops == 0 {
        return peer;
    }
    let forwarded: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|ip| ip.trim().parse().ok())
        .collect();
    let hops = hops as usize;
    if forwarded.len() >= hops {
        forwarded[forwarded.len() - hops]
    } else {
        forwarded.first().copied().unwrap_or(peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        nodes: Vec<Node>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Node {
        position: Vec<f64>,
    }

    fn message<T: DeserializeOwned + std::fmt::Debug>(json: &str) -> String {
        match parse_body::<T>(json.as_bytes()) {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected 400, got {other:?}"),
        }
    }

    #[test]
    fn body_errors_read_like_n8ns_validator() {
        assert_eq!(message::<Body>("{"), "Invalid JSON in request body");
        assert_eq!(
            message::<Body>("{}"),
            "request/body must have required property 'name'"
        );
        assert_eq!(
            message::<Body>(r#"{"name": 5, "nodes": []}"#),
            "request/body/name must be string"
        );
        assert_eq!(
            message::<Body>(r#"{"name": "a", "nodes": [{"position": "x"}]}"#),
            "request/body/nodes/0/position must be array"
        );
        assert_eq!(
            message::<Body>(r#"{"name": "a", "nodes": [{}]}"#),
            "request/body/nodes/0 must have required property 'position'"
        );
    }

    #[test]
    fn deeply_nested_json_is_refused_as_invalid_not_a_stack_overflow() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(message::<Value>(&deep), "Invalid JSON in request body");
    }

    fn ip_behind(hops: u32, peer: &str, forwarded: &[&str]) -> String {
        let mut headers = HeaderMap::new();
        for value in forwarded {
            headers.append("x-forwarded-for", value.parse().expect("header"));
        }
        let mut extensions = Extensions::new();
        extensions.insert(ConnectInfo(SocketAddr::new(
            peer.parse().expect("peer address"),
            40000,
        )));
        client_ip_of(&headers, &extensions, hops).to_string()
    }

    #[test]
    fn without_trusted_proxies_forwarded_for_is_ignored() {
        assert_eq!(ip_behind(0, "10.0.0.2", &["203.0.113.7"]), "10.0.0.2");
    }

    #[test]
    fn exactly_n_hops_from_the_right_are_trusted() {
        // Client 203.0.113.7 forges 6.6.6.6; proxy A (198.51.100.4) appends what it saw, then
        // proxy B appends A's address and connects to us.
        let chain = ["6.6.6.6, 203.0.113.7", "198.51.100.4"];
        assert_eq!(ip_behind(1, "10.0.0.2", &chain), "198.51.100.4");
        assert_eq!(ip_behind(2, "10.0.0.2", &chain), "203.0.113.7");
        assert_eq!(ip_behind(3, "10.0.0.2", &chain), "6.6.6.6");
    }

    #[test]
    fn a_forged_entry_cannot_replace_the_one_the_proxy_wrote() {
        assert_eq!(
            ip_behind(1, "10.0.0.2", &["1.2.3.4, 203.0.113.7"]),
            "203.0.113.7"
        );
    }

    #[test]
    fn fewer_entries_than_hops_give_the_furthest_one_and_none_gives_the_peer() {
        assert_eq!(ip_behind(3, "10.0.0.2", &["203.0.113.7"]), "203.0.113.7");
        assert_eq!(ip_behind(1, "10.0.0.2", &[]), "10.0.0.2");
        assert_eq!(ip_behind(1, "10.0.0.2", &["not-an-ip"]), "10.0.0.2");
    }

    #[test]
    fn ipv6_entries_are_read() {
        assert_eq!(ip_behind(1, "::1", &["2001:db8::7"]), "2001:db8::7");
    }
}
