//! Sending one request (answering a Digest challenge or renewing an OAuth2 token when the
//! service asks) and turning the answer into items as n8n does: a JSON object is one item, a
//! JSON array one item per element, text goes into `data`, a file into binary data; a status
//! outside 2xx is n8n's NodeApiError with its message for that status.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use serde_json::{json, Map, Value};

use super::errors::{transport_error, Failure};
use super::oauth2::OAuth2;
use super::parameters::{Options, ResponseFormat};
use super::{digest, file};
use crate::engine::data::{Item, PairedItem, PairedItems};
use crate::engine::node::NodeError;

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
    pub google: Option<super::google::Renewal>,
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
    } else if retry.oauth2.is_some() || retry.google.is_some() {
        let used = again
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default()
            .to_owned();
        let token = match (&retry.oauth2, &retry.google) {
            (Some(oauth2), _) => oauth2.renewed(&used).await,
            (None, Some(google)) => {
                google
                    .account
                    .renewed(google.services.as_ref(), &used)
                    .await
            }
            (None, None) => return read(response).await,
        }
        .map_err(Failure::from)?;
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
            binary.insert(options.output_property.clone(), file::binary_entry(&answer));
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

/// How long to wait after each batch.
pub fn batch_pause(options: &Options, index: usize) -> Option<Duration> {
    let (size, interval) = options.batch?;
    (index > 0 && index.is_multiple_of(size)).then(|| Duration::from_millis(interval))
}
