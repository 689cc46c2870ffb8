//! The answers of a webhook: at once (`onReceived`), from the last node (`lastNode`), from a
//! Respond to Webhook node (`responseNode`), and for a resumed waiting execution; plus the
//! node options checked before a run starts.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::engine::binary::BinaryStore;
use crate::engine::data::ExecutionStatus;
use crate::engine::execute::{last_node_items, Ended};
use crate::engine::services::WebhookResponse;
use crate::engine::workflow::{Node, Workflow};
use crate::error::ApiError;

const RESPOND_NODE: &str = "n8n-nodes-base.respondToWebhook";

/// n8n answers failures of a run with `{"code": 0, "message": ...}` and status 500.
pub fn run_failure(message: &str) -> Response {
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        &json!({"code": 0, "message": message}),
    )
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    let text = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(
            axum::http::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// n8n's check that a Webhook node v2 and its Respond to Webhook nodes agree.
pub fn check_response_mode(workflow: &Workflow, node: &Node, mode: &str) -> Option<String> {
    if node.type_version < 2.0 {
        return None;
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut queue = vec![node.name.as_str()];
    let mut respond_connected = false;
    while let Some(current) = queue.pop() {
        for output in 0..workflow.connected_outputs(current) {
            for edge in workflow.children(current, output) {
                if seen.contains(&edge.node.as_str()) {
                    continue;
                }
                seen.push(edge.node.as_str());
                if workflow
                    .node(&edge.node)
                    .is_some_and(|n| n.kind == RESPOND_NODE)
                {
                    respond_connected = true;
                }
                queue.push(edge.node.as_str());
            }
        }
    }
    if mode == "responseNode" && !respond_connected {
        return Some("No Respond to Webhook node found in the workflow".to_owned());
    }
    if respond_connected && mode != "responseNode" && mode != "streaming" {
        return Some("Unused Respond to Webhook node found in the workflow".to_owned());
    }
    None
}

/// The status the node's options ask for (v1: `responseCode`; v2: `options.responseCode`).
fn response_code(node: &Node) -> StatusCode {
    let parameters = &node.parameters;
    let code = parameters
        .get("responseCode")
        .and_then(Value::as_u64)
        .or_else(|| {
            let values = parameters
                .get("options")?
                .get("responseCode")?
                .get("values")?;
            values
                .get("customCode")
                .and_then(Value::as_u64)
                .filter(|c| *c > 0)
                .or_else(|| values.get("responseCode").and_then(Value::as_u64))
        })
        .unwrap_or(200);
    u16::try_from(code)
        .ok()
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::OK)
}

/// The headers of `options.responseHeaders.entries`.
fn extra_headers(node: &Node, response: &mut Response) {
    let entries = node
        .parameters
        .get("options")
        .and_then(|o| o.get("responseHeaders"))
        .and_then(|h| h.get("entries"))
        .and_then(Value::as_array);
    for entry in entries.into_iter().flatten() {
        let (Some(name), Some(value)) = (
            entry.get("name").and_then(Value::as_str),
            entry.get("value").and_then(Value::as_str),
        ) else {
            continue;
        };
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
}

fn option_str<'a>(node: &'a Node, key: &str) -> Option<&'a str> {
    node.parameters.get("options")?.get(key)?.as_str()
}

/// `onReceived`: answered as soon as the run started.
pub fn on_received(node: &Node) -> Response {
    let status = response_code(node);
    let custom = option_str(node, "responseData").filter(|s| !s.is_empty());
    let no_body = node
        .parameters
        .get("options")
        .and_then(|o| o.get("noResponseBody"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
        || custom == Some("noData");
    let mut response = if no_body {
        (status, Body::empty()).into_response()
    } else if let Some(text) = custom {
        (
            status,
            [(axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8")],
            text.to_owned(),
        )
            .into_response()
    } else {
        json_response(status, &json!({"message": "Workflow was started"}))
    };
    extra_headers(node, &mut response);
    response
}

/// `lastNode`: answered with the last node's output once the run ended.
pub async fn last_node(node: &Node, ended: &Ended, store: &BinaryStore) -> Response {
    if ended.status != ExecutionStatus::Success && ended.status != ExecutionStatus::Waiting {
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": "Error in workflow"}),
        );
    }
    let status = response_code(node);
    let mode = node
        .parameters
        .get("responseData")
        .and_then(Value::as_str)
        .unwrap_or("firstEntryJson");
    let items = last_node_items(&ended.data);
    let mut response = match mode {
        "noData" => (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )],
            Body::empty(),
        )
            .into_response(),
        "allEntries" => json_response(
            status,
            &Value::Array(
                items
                    .iter()
                    .map(|i| Value::Object(i.json.clone()))
                    .collect(),
            ),
        ),
        "firstEntryBinary" => match first_binary(node, &items, store).await {
            Ok(response) => response,
            Err(message) => return run_failure(&message),
        },
        _ => {
            let Some(first) = items.first() else {
                return run_failure("No item to return was found");
            };
            let body = match option_str(node, "responsePropertyName").filter(|p| !p.is_empty()) {
                Some(property) => first.json.get(property).cloned().unwrap_or(Value::Null),
                None => Value::Object(first.json.clone()),
            };
            let mut response = json_response(status, &body);
            if let Some(content_type) =
                option_str(node, "responseContentType").filter(|c| !c.is_empty())
            {
                if let Ok(value) = HeaderValue::from_str(content_type) {
                    response
                        .headers_mut()
                        .insert(axum::http::header::CONTENT_TYPE, value);
                }
            }
            response
        }
    };
    extra_headers(node, &mut response);
    response
}

async fn first_binary(
    node: &Node,
    items: &[crate::engine::data::Item],
    store: &BinaryStore,
) -> Result<Response, String> {
    let property = node
        .parameters
        .get("responseBinaryPropertyName")
        .and_then(Value::as_str)
        .unwrap_or("data");
    let first = items.first().ok_or("No item to return was found")?;
    let binary = first
        .binary
        .as_ref()
        .and_then(|b| b.get(property))
        .ok_or("The binary property to return was not found")?;
    let bytes = store.read(binary).await.map_err(|e| e.to_string())?;
    let mime = binary
        .get("mimeType")
        .and_then(Value::as_str)
        .unwrap_or("application/octet-stream")
        .to_owned();
    Ok((
        response_code(node),
        [(axum::http::header::CONTENT_TYPE, mime)],
        bytes,
    )
        .into_response())
}

/// The answer a Respond to Webhook node gave.
pub fn from_node(answer: WebhookResponse) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

/// `responseNode` mode when the run ended without reaching a Respond to Webhook node.
pub fn after_run_without_answer(
    result: Result<Result<Ended, ApiError>, tokio::task::JoinError>,
) -> Response {
    match result {
        Ok(Ok(ended)) if ended.status == ExecutionStatus::Error => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": "Error in workflow"}),
        ),
        Ok(Ok(_)) => (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )],
            Body::empty(),
        )
            .into_response(),
        Ok(Err(e)) => e.into_response(),
        Err(_) => json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": "Error in workflow"}),
        ),
    }
}
