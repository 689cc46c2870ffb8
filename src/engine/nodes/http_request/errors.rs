//! What a failed request becomes: n8n's NodeApiError for a status outside 2xx (its message
//! for the status, the service's own message as description) or for a request that got no
//! answer (its Node.js error code), and the request error n8n keeps in an item that continues
//! on failure.

use serde_json::{json, Value};

use super::response::Answer;
use crate::engine::node::NodeError;
use crate::service::outbound::refusal;

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
        _ if status < 500 => "Your request is invalid or could not be processed by the service",
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
}
