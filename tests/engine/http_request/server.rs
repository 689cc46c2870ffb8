//! A small HTTP service on 127.0.0.1 for the HTTP Request tests: it records every request it
//! gets and answers by path.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};

/// One request as the service saw it.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: String,
    pub path: String,
    /// The raw query string (`a=1&b=2`), empty when none.
    pub query: String,
    /// Header names lowercased; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn body_json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Clone, Default)]
struct Shared {
    seen: Arc<Mutex<Vec<Seen>>>,
    tokens_issued: Arc<Mutex<u32>>,
}

pub struct TestServer {
    pub base: String,
    shared: Shared,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let shared = Shared::default();
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer {
            base: format!("http://{address}"),
            shared,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Every request so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The requests to `path`.
    pub fn seen_at(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    pub fn tokens_issued(&self) -> u32 {
        *self
            .shared
            .tokens_issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

fn json_response(status: u16, body: Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Digest challenge values the service uses.
pub const DIGEST_REALM: &str = "tests@flowgate";
pub const DIGEST_NONCE: &str = "a1b2c3d4e5f6";

async fn answer(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body: Bytes = axum::body::to_bytes(body, 16 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let mut headers = BTreeMap::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers
            .entry(name.as_str().to_owned())
            .and_modify(|v: &mut String| {
                v.push_str(", ");
                v.push_str(&value);
            })
            .or_insert(value);
    }
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers,
        body: body.to_vec(),
    };
    shared
        .seen
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(seen.clone());
    route(&shared, &parts.method, &parts.headers, &seen).await
}

async fn route(shared: &Shared, method: &Method, headers: &HeaderMap, seen: &Seen) -> Response {
    let path = seen.path.as_str();
    if let Some(code) = path.strip_prefix("/status/") {
        let code: u16 = code.parse().unwrap_or(500);
        return json_response(
            code,
            json!({"message": format!("failure {code}"), "code": code}),
        );
    }
    match path {
        "/text" => (
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "hello there",
        )
            .into_response(),
        "/json-as-text" => ([(header::CONTENT_TYPE, "text/plain")], "{\"a\": 1}").into_response(),
        "/array" => json_response(200, json!([{"n": 1}, {"n": 2}, {"n": 3}])),
        "/empty" => (StatusCode::NO_CONTENT, "").into_response(),
        "/bad-json" => ([(header::CONTENT_TYPE, "application/json")], "{not json").into_response(),
        "/file.png" => (
            [
                (header::CONTENT_TYPE, "image/png"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"pixel.png\"",
                ),
            ],
            Body::from(b"\x89PNG\r\n\x1a\nfake".to_vec()),
        )
            .into_response(),
        "/redirect" => {
            let to = seen
                .query
                .strip_prefix("to=")
                .map(percent_decode)
                .unwrap_or_else(|| "/text".to_owned());
            (StatusCode::FOUND, [(header::LOCATION, to)], "").into_response()
        }
        "/digest" => digest(headers, method),
        "/token" => {
            // Client credentials in a Basic header: client-1 / secret-1.
            if headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                != Some("Basic Y2xpZW50LTE6c2VjcmV0LTE=")
            {
                return json_response(401, json!({"error": "invalid_client"}));
            }
            let mut issued = shared
                .tokens_issued
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            *issued += 1;
            json_response(
                200,
                json!({"access_token": format!("token-{issued}"), "token_type": "Bearer", "expires_in": 3600}),
            )
        }
        "/protected" => {
            let auth = seen.header("authorization").unwrap_or_default();
            if auth.starts_with("Bearer token-") || auth == "Bearer stored-token" {
                json_response(200, json!({"granted": auth}))
            } else {
                json_response(401, json!({"message": "no token"}))
            }
        }
        // Refuses the first token a Google stand-in issues, as a service does a revoked one.
        "/google-protected" => {
            let auth = seen.header("authorization").unwrap_or_default();
            if auth.starts_with("Bearer google-token-") && auth != "Bearer google-token-1" {
                json_response(200, json!({"granted": auth}))
            } else {
                json_response(401, json!({"message": "token revoked"}))
            }
        }
        "/slow" => {
            tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
            json_response(200, json!({"slow": true}))
        }
        _ => json_response(200, json!({"ok": true, "method": seen.method})),
    }
}

/// Answers Digest authentication for user `ada`, password `lovelace`, checking the response
/// the client computed (qop `auth`, MD5).
fn digest(headers: &HeaderMap, method: &Method) -> Response {
    let challenge = format!(
        "Digest realm=\"{DIGEST_REALM}\", qop=\"auth\", nonce=\"{DIGEST_NONCE}\", opaque=\"op1\""
    );
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            "",
        )
            .into_response();
    };
    let field = |name: &str| {
        auth.split(", ")
            .find_map(|p| {
                p.trim_start_matches("Digest ")
                    .strip_prefix(&format!("{name}="))
            })
            .map(|v| v.trim_matches('"').to_owned())
            .unwrap_or_default()
    };
    let md5 = |text: String| -> String {
        use md5::Digest;
        md5::Md5::digest(text.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    };
    let ha1 = md5(format!("ada:{DIGEST_REALM}:lovelace"));
    let ha2 = md5(format!("{method}:{}", field("uri")));
    let expected = md5(format!(
        "{ha1}:{DIGEST_NONCE}:{}:{}:auth:{ha2}",
        field("nc"),
        field("cnonce")
    ));
    if field("username") == "ada" && field("response") == expected {
        json_response(200, json!({"digest": "accepted"}))
    } else {
        json_response(401, json!({"message": "digest refused"}))
    }
}

fn percent_decode(text: &str) -> String {
    form_urlencoded::parse(format!("x={text}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}
