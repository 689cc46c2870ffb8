//! Sending one request (answering a Digest challenge or renewing an OAuth2 token when the
//! service asks) and turning the answer into items as n8n does: a JSON object is one item, a
//! JSON array one item per element, text goes into `data`, a file into binary data; a status
//! outside 2xx is n8n's NodeApiError with its message for that status.

use std::time::Duration;

use base64::Engine as _;
use reqwest::header::{AUTHORIZATION, CONTENT_DISPOSITION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{json, Map, Value};

use super::digest;
use super::oauth2::OAuth2;
use super::parameters::{Options, ResponseFormat};
use crate::engine::data::{Item, PairedItem, PairedItems};
use crate::engine::node::NodeError;
use crate::service::outbound::refusal;

/// Bodies past this size fail the item rather than the server.
const MAX_BODY: usize = 128 * 1024 * 1024;

/// A service's answer, read whole.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Map<String, Value>,
    pub content_type: String,
    pub body: Vec<u8>,
    /// The last URL requested (after redirects), for a file's name.
    pub url: reqwest::Url,
}

/// How to authenticate again when the service refuses the first attempt.
#[derive(Clone, Default)]
pub struct Retry {
    pub digest: Option<(String, String)>,
    pub oauth2: Option<OAuth2>,
}

/// Sends `request`, answering a 401 once when the credential allows it.
pub async fn exchange(
    client: reqwest::Client,
    request: reqwest::Request,
    retry: Retry,
    timeout_ms: u64,
) -> Result<Answer, Failure> {
    let again = request.try_clone();
    let response = client
        .execute(request)
        .await
        .map_err(|e| transport_error(&e, timeout_ms))?;
    if response.status() != reqwest::StatusCode::UNAUTHORIZED {
        return read(response).await;
    }
    let Some(mut again) = again else {
        return read(response).await;
    };
    if let Some((user, password)) = &retry.digest {
        let challenge = response
            .headers()
            .get(WWW_AUTHENTICATE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let uri = match again.url().query() {
            Some(query) => format!("{}?{query}", again.url().path()),
            None => again.url().path().to_owned(),
        };
        let cnonce = uuid::Uuid::new_v4().simple().to_string();
        let Some(answer) = digest::authorization(
            &challenge,
            again.method().as_str(),
            &uri,
            user,
            password,
            &cnonce[..16],
        ) else {
            return read(response).await;
        };
        if let Ok(value) = answer.parse() {
            again.headers_mut().insert(AUTHORIZATION, value);
        }
    } else if let Some(oauth2) = retry.oauth2.as_ref().filter(|o| o.renewable()) {
        let token = oauth2.access_token(true).await.map_err(Failure::from)?;
        if let Ok(value) = format!("Bearer {token}").parse() {
            again.headers_mut().insert(AUTHORIZATION, value);
        }
    } else {
        return read(response).await;
    }
    let response = client
        .execute(again)
        .await
        .map_err(|e| transport_error(&e, timeout_ms))?;
    read(response).await
}

async fn read(mut response: reqwest::Response) -> Result<Answer, Failure> {
    let status = response.status().as_u16();
    let mut headers = Map::new();
    for (name, value) in response.headers() {
        let value = Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned());
        match headers.get_mut(name.as_str()) {
            // Set-Cookie stays a list; other repeated headers are joined, as Node.js does.
            Some(Value::Array(list)) => list.push(value),
            Some(Value::String(existing)) if name.as_str() != "set-cookie" => {
                existing.push_str(", ");
                existing.push_str(value.as_str().unwrap_or_default());
            }
            Some(_) => {}
            None if name.as_str() == "set-cookie" => {
                headers.insert(name.as_str().to_owned(), Value::Array(vec![value]));
            }
            None => {
                headers.insert(name.as_str().to_owned(), value);
            }
        }
    }
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let url = response.url().clone();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_error(&e, 0))? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(NodeError::operation(format!(
                "The response is larger than {} MiB",
                MAX_BODY / (1024 * 1024)
            ))
            .into());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer {
        status,
        headers,
        content_type,
        body,
        url,
    })
}

/// Why an item got no items: the node's error, and what n8n puts in the item's `error` when
/// the node continues on failure (the underlying request error; the message when absent).
pub struct Failure {
    pub error: NodeError,
    pub raw: Option<Value>,
}

impl From<NodeError> for Failure {
    fn from(error: NodeError) -> Failure {
        Failure { error, raw: None }
    }
}

impl Failure {
    /// The `error` field of the item n8n puts out in place of a failed one.
    pub fn item_error(&self) -> Value {
        self.raw
            .clone()
            .unwrap_or_else(|| Value::String(self.error.message.clone()))
    }
}

/// A request that got no answer: refused by the outbound policy, timed out, or not connected.
/// n8n's words, with the underlying error (named as Node.js names it) in `messages`.
pub fn transport_error(error: &reqwest::Error, timeout_ms: u64) -> Failure {
    if let Some(refused) = refusal(error) {
        return NodeError::operation(refused.to_string()).into();
    }
    let target = error
        .url()
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let (message, code, raw_message) = if error.is_timeout() {
        (
            "The connection was aborted, perhaps the server is offline",
            "ECONNABORTED",
            format!("timeout of {timeout_ms}ms exceeded"),
        )
    } else if error.is_redirect() {
        (
            "Maximum number of redirects exceeded",
            "ERR_FR_TOO_MANY_REDIRECTS",
            "Maximum number of redirects exceeded".to_owned(),
        )
    } else if error.is_connect() {
        if is_dns_failure(error) {
            (
                "The DNS server returned an error, perhaps the server is offline",
                "ENOTFOUND",
                format!(
                    "getaddrinfo ENOTFOUND {}",
                    target.rsplit_once(':').map_or(target.as_str(), |t| t.0)
                ),
            )
        } else {
            (
                "The service refused the connection - perhaps it is offline",
                "ECONNREFUSED",
                format!("connect ECONNREFUSED {target}"),
            )
        }
    } else {
        (
            "The connection to the server was closed unexpectedly, perhaps it is offline. You can retry the request immediately or wait and retry later.",
            "ECONNRESET",
            "socket hang up".to_owned(),
        )
    };
    let mut failure = NodeError::api(message, Some(code.to_owned()));
    failure.details.messages = vec![raw_message.clone()];
    Failure {
        error: failure,
        raw: Some(json!({"message": raw_message, "name": "Error", "code": code})),
    }
}

/// Whether a connection failed because the name did not resolve.
fn is_dns_failure(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            return io.kind() != std::io::ErrorKind::ConnectionRefused
                && io.to_string().contains("lookup");
        }
        source = current.source();
    }
    false
}

/// n8n's message for an HTTP status (NodeApiError's table), by code then by class.
pub fn status_message(status: u16) -> &'static str {
    match status {
        400 => "Bad request - please check your parameters",
        401 => "Authorization failed - please check your credentials",
        402 => "Payment required - perhaps check your payment details?",
        403 => "Forbidden - perhaps check your credentials?",
        404 => "The resource you are requesting could not be found",
        405 => "Method not allowed - please check you are using the right HTTP method",
        429 => "The service is receiving too many requests from you",
        500 => "The service was not able to process your request",
        502 => "Bad gateway - the service failed to handle your request",
        503 => "Service unavailable - try again later or consider setting this node to retry automatically (in the node settings)",
        504 => "Gateway timed out - perhaps try again later?",
        400..=499 => "Your request is invalid or could not be processed by the service",
        _ => "The service failed to process your request",
    }
}

/// Where n8n looks for a service's own error message in a body, in order.
const MESSAGE_KEYS: &[&str] = &[
    "cause",
    "error",
    "message",
    "Message",
    "msg",
    "messages",
    "description",
    "reason",
    "detail",
    "details",
    "errors",
    "errorMessage",
    "errorMessages",
    "ErrorMessage",
    "error_message",
    "_error_message",
    "errorDescription",
    "error_description",
    "error_summary",
    "error_info",
    "title",
    "text",
    "field",
    "err",
    "type",
];
const NESTED_KEYS: &[&str] = &["Error", "error", "err", "response", "body", "data"];

/// The service's own error message in a JSON body, searched as n8n's NodeApiError searches.
fn find_message(value: &Value, depth: usize) -> Option<String> {
    if depth > 5 {
        return None;
    }
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Array(list) => {
            let found: Vec<String> = list
                .iter()
                .filter_map(|v| find_message(v, depth + 1))
                .collect();
            (!found.is_empty()).then(|| found.join(" | "))
        }
        Value::Object(map) => {
            for key in MESSAGE_KEYS {
                if let Some(found) = map.get(*key).and_then(|v| match v {
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    Value::Array(_) => find_message(v, depth + 1),
                    _ => None,
                }) {
                    return Some(found);
                }
            }
            NESTED_KEYS
                .iter()
                .filter_map(|key| map.get(*key))
                .find_map(|nested| find_message(nested, depth + 1))
        }
        _ => None,
    }
}

/// The NodeApiError for an answer outside 2xx, and the request error n8n keeps for an item
/// that continues on failure.
pub fn status_error(answer: &Answer) -> Failure {
    let text = String::from_utf8_lossy(&answer.body).into_owned();
    let parsed: Option<Value> = serde_json::from_str(&text).ok();
    let description = match &parsed {
        Some(value) => find_message(value, 0),
        None => (!text.trim().is_empty()).then(|| text.clone()),
    };
    let raw_message = format!(
        "{} - {}",
        answer.status,
        serde_json::to_string(&text).unwrap_or_default()
    );
    // n8n's table covers 4xx and 5xx; other statuses (a redirect not followed) keep the
    // request's own message.
    let message = if (400..600).contains(&answer.status) {
        status_message(answer.status).to_owned()
    } else {
        raw_message.clone()
    };
    let mut error = NodeError::api(message, Some(answer.status.to_string()));
    error.details.description = description;
    error.details.messages = vec![raw_message.clone()];
    let code = if answer.status >= 500 {
        "ERR_BAD_RESPONSE"
    } else {
        "ERR_BAD_REQUEST"
    };
    Failure {
        error,
        raw: Some(
            json!({"message": raw_message, "name": "AxiosError", "code": code, "status": answer.status}),
        ),
    }
}

/// MIME types n8n treats as files when autodetecting.
const BINARY_TYPES: &[&str] = &[
    "image/",
    "audio/",
    "video/",
    "application/octet-stream",
    "application/gzip",
    "application/zip",
    "application/vnd.rar",
    "application/epub+zip",
    "application/x-bzip",
    "application/x-bzip2",
    "application/x-cdf",
    "application/vnd.amazon.ebook",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-fontobject",
    "application/vnd.oasis.opendocument.presentation",
    "application/pdf",
    "application/x-tar",
    "application/vnd.visio",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/x-7z-compressed",
];

/// The items for `answer` to input item `i`.
pub fn into_items(
    answer: Answer,
    options: &Options,
    item: &Item,
    i: usize,
) -> Result<Vec<Item>, NodeError> {
    let autodetect = options.response_format == ResponseFormat::Autodetect;
    let format = if autodetect {
        if answer.content_type.contains("application/json") {
            ResponseFormat::Json
        } else if BINARY_TYPES.iter().any(|t| answer.content_type.contains(t)) {
            ResponseFormat::File
        } else {
            ResponseFormat::Text
        }
    } else {
        options.response_format
    };
    let paired = |json: Map<String, Value>| Item {
        json,
        paired_item: Some(PairedItems::One(PairedItem::new(i))),
        ..Item::default()
    };
    let meta = |json: &mut Map<String, Value>| {
        json.insert("headers".into(), Value::Object(answer.headers.clone()));
        json.insert("statusCode".into(), json!(answer.status));
        json.insert(
            "statusMessage".into(),
            json!(reqwest::StatusCode::from_u16(answer.status)
                .ok()
                .and_then(|s| s.canonical_reason())
                .unwrap_or("")),
        );
    };
    match format {
        ResponseFormat::File => {
            let mut json = Map::new();
            if options.full_response {
                meta(&mut json);
            } else {
                json = item.json.clone();
            }
            let mut binary = item.binary.clone().unwrap_or_default();
            binary.insert(options.output_property.clone(), binary_entry(&answer));
            let mut out = paired(json);
            out.binary = Some(binary);
            Ok(vec![out])
        }
        ResponseFormat::Text => {
            let text = String::from_utf8_lossy(&answer.body).into_owned();
            // Outside autodetection n8n asks for JSON and writes what it parsed back as text.
            let text = match serde_json::from_str::<Value>(&text) {
                Ok(parsed @ (Value::Object(_) | Value::Array(_))) if !autodetect => {
                    parsed.to_string()
                }
                _ => text,
            };
            let mut json = Map::new();
            // An empty body is `undefined` in n8n, which leaves the field out.
            if !(autodetect && text.is_empty()) {
                json.insert(options.output_property.clone(), Value::String(text));
            }
            if options.full_response {
                meta(&mut json);
            }
            Ok(vec![paired(json)])
        }
        ResponseFormat::Json | ResponseFormat::Autodetect => {
            let text = String::from_utf8_lossy(&answer.body);
            // n8n 2.8 parses an empty JSON answer as invalid JSON (an explicit JSON format
            // takes it as an empty object).
            let body = if text.trim().is_empty() && !autodetect {
                Value::Object(Map::new())
            } else {
                match serde_json::from_str::<Value>(&text) {
                    Ok(value) => value,
                    Err(_) if autodetect && options.never_error => Value::Object(Map::new()),
                    Err(_) if autodetect => {
                        return Err(NodeError::operation("Invalid JSON in response body"))
                    }
                    Err(_) => return Err(NodeError::operation(
                        "Response body is not valid JSON. Change \"Response Format\" to \"Text\"",
                    )),
                }
            };
            if options.full_response {
                let mut json = Map::new();
                json.insert("body".into(), body);
                meta(&mut json);
                return Ok(vec![paired(json)]);
            }
            Ok(match body {
                Value::Array(list) => list.into_iter().map(|v| paired(as_object(v))).collect(),
                other => vec![paired(as_object(other))],
            })
        }
    }
}

/// An item's `json` from a JSON value: objects as they are, `null` as `{}`, anything else
/// under `data` (an item's json must be an object).
fn as_object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        Value::Null => Map::new(),
        other => {
            let mut map = Map::new();
            map.insert("data".into(), other);
            map
        }
    }
}

/// A file answer as an item's binary entry, in n8n's shape with the data kept inline as
/// base64 (this server keeps binary data in the items).
fn binary_entry(answer: &Answer) -> Value {
    let mime_type = answer
        .content_type
        .split(';')
        .next()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .unwrap_or("text/plain")
        .to_owned();
    let file_name = disposition_file_name(&answer.headers).or_else(|| {
        answer
            .url
            .path_segments()
            .and_then(|mut s| s.next_back())
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    });
    let extension = file_name
        .as_deref()
        .and_then(|n| n.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()))
        .or_else(|| mime_type.split('/').nth(1).map(|s| s.to_owned()));
    let mut entry = json!({
        "mimeType": mime_type,
        "fileType": file_type(&mime_type),
        "data": base64::engine::general_purpose::STANDARD.encode(&answer.body),
        "fileSize": human_size(answer.body.len()),
        "bytes": answer.body.len(),
    });
    if let Some(extension) = extension {
        entry["fileExtension"] = json!(extension);
    }
    if let Some(name) = file_name {
        entry["fileName"] = json!(name);
    }
    entry
}

fn disposition_file_name(headers: &Map<String, Value>) -> Option<String> {
    let value = headers.get(CONTENT_DISPOSITION.as_str())?.as_str()?;
    value.split(';').map(str::trim).find_map(|part| {
        let name = part.strip_prefix("filename=")?;
        Some(name.trim_matches('"').to_owned()).filter(|n| !n.is_empty())
    })
}

fn file_type(mime_type: &str) -> &'static str {
    match mime_type.split('/').next().unwrap_or_default() {
        "image" => "image",
        "audio" => "audio",
        "video" => "video",
        "text" => "text",
        _ if mime_type == "application/json" => "json",
        _ if mime_type == "application/pdf" => "pdf",
        _ => "application",
    }
}

/// A size as n8n shows it (`13 B`, `1.5 kB`).
fn human_size(bytes: usize) -> String {
    const UNITS: &[&str] = &["B", "kB", "MB", "GB"];
    let mut size = bytes as f64;
    let mut unit = 0;
    while size >= 1000.0 && unit + 1 < UNITS.len() {
        size /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        let text = format!("{size:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        format!(
            "{} {}",
            &text[..text.len().min(4)].trim_end_matches('.'),
            UNITS[unit]
        )
    }
}

/// How long to wait after each batch.
pub fn batch_pause(options: &Options, index: usize) -> Option<Duration> {
    let (size, interval) = options.batch?;
    (index > 0 && index % size == 0).then(|| Duration::from_millis(interval))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_follow_n8ns_table() {
        assert_eq!(
            status_message(404),
            "The resource you are requesting could not be found"
        );
        assert_eq!(
            status_message(418),
            "Your request is invalid or could not be processed by the service"
        );
        assert_eq!(
            status_message(500),
            "The service was not able to process your request"
        );
        assert_eq!(
            status_message(599),
            "The service failed to process your request"
        );
    }

    #[test]
    fn the_services_message_is_found_in_common_shapes() {
        assert_eq!(
            find_message(&json!({"message": "nope"}), 0).as_deref(),
            Some("nope")
        );
        assert_eq!(
            find_message(&json!({"error": {"message": "deep"}}), 0).as_deref(),
            Some("deep")
        );
        assert_eq!(find_message(&json!({"count": 1}), 0), None);
    }

    #[test]
    fn sizes_are_written_as_n8n_shows_them() {
        assert_eq!(human_size(13), "13 B");
        assert_eq!(human_size(1500), "1.5 kB");
        assert_eq!(human_size(2_000_000), "2 MB");
    }
}
