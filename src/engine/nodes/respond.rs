//! Respond to Webhook (versions 1 to 1.5): sends the answer of a webhook whose Webhook node
//! responds "using Respond to Webhook node", then passes its input on.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use super::fields;
use super::Registry;
use crate::engine::data::{Item, PairedItem, PairedItems};
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::services::WebhookResponse;
use crate::engine::workflow::Node;

/// Nodes whose request a Respond to Webhook node can answer.
const ANSWERABLE: &[&str] = &[
    "n8n-nodes-base.webhook",
    "n8n-nodes-base.formTrigger",
    "@n8n/n8n-nodes-langchain.chatTrigger",
    "n8n-nodes-base.wait",
];

struct RespondToWebhook;

/// The credential a Respond to Webhook node needs and names none of: a JWT answer is signed
/// with a `jwtAuth` credential, and n8n refuses to publish the node without one.
pub fn missing_credential(node: &Node) -> Option<&'static str> {
    if node.disabled
        || node.kind != "n8n-nodes-base.respondToWebhook"
        || node.parameters.get("respondWith").and_then(Value::as_str) != Some("jwt")
    {
        return None;
    }
    let named = node
        .credentials
        .get("jwtAuth")
        .and_then(|reference| reference.get("id"))
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty());
    (!named).then_some("jwtAuth")
}

fn second_output(node: &Node) -> bool {
    let v = node.type_version;
    (v - 1.3).abs() < 1e-9
        || (v >= 1.4
            && node
                .parameters
                .get("enableResponseOutput")
                .and_then(Value::as_bool)
                .unwrap_or(false))
}

#[async_trait]
impl NodeType for RespondToWebhook {
    fn outputs(&self, node: &Node) -> usize {
        if second_output(node) {
            2
        } else {
            1
        }
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let items = run.input.items(0).to_vec();
        // A binary answer needs the first item's bytes, read from the binary data store.
        let mut with_bytes = None;
        if run.param_str("respondWith", 0, "firstIncomingItem")? == "binary" {
            if let Some(first) = items.first() {
                with_bytes = Some(vec![crate::engine::binary::inline_item(run, first).await?]);
            }
        }
        // A JWT answer signs with the node's `jwtAuth` credential, read (decrypted) here.
        let signing = if run.param_str("respondWith", 0, "firstIncomingItem")? == "jwt" {
            Some(run.credentials("jwtAuth").await)
        } else {
            None
        };
        let response = match answer(run, with_bytes.as_deref().unwrap_or(&items), signing) {
            Ok(response) => response,
            Err(error) if run.continue_on_fail() => {
                let links = (0..items.len()).map(PairedItem::new).collect();
                let mut json = Map::new();
                json.insert("error".into(), Value::String(error.message));
                return Ok(Outcome::single(vec![Item {
                    json,
                    paired_item: Some(PairedItems::Many(links)),
                    ..Item::default()
                }]));
            }
            Err(error) => return Err(error),
        };
        let described = json!({
            "body": response.1,
            "headers": response.0.headers.iter().map(|(n, v)| (n.clone(), Value::String(v.clone()))).collect::<Map<String, Value>>(),
            "statusCode": response.0.status,
        });
        if let Some(services) = &run.env.services {
            services.respond(response.0)?;
        }
        if second_output(run.node) {
            let mut json = Map::new();
            json.insert("response".into(), described);
            return Ok(Outcome::Output(vec![items, vec![Item::new(json)]]));
        }
        Ok(Outcome::single(items))
    }
}

/// The answer, and its body as the node's second output shows it. `signing` is the `jwtAuth`
/// credential of a JWT answer.
fn answer(
    run: &NodeRun<'_>,
    items: &[Item],
    signing: Option<Result<crate::engine::data::JsonObject, NodeError>>,
) -> Result<(WebhookResponse, Value), NodeError> {
    if run.version() >= 1.1 {
        let reachable = run
            .workflow
            .ancestors(&run.node.name)
            .iter()
            .filter_map(|name| run.workflow.node(name))
            .any(|n| ANSWERABLE.contains(&n.kind.as_str()));
        if !reachable {
            return Err(NodeError::operation("No Webhook node found in the workflow").with_description(
                "Insert a Webhook node to your workflow and set the “Respond” parameter to “Using Respond to Webhook Node” ",
            ));
        }
    }
    let respond_with = run.param_str("respondWith", 0, "firstIncomingItem")?;
    let mut headers: Vec<(String, Value)> = Vec::new();
    let entries = run
        .param_value("options.responseHeaders.entries", 0)?
        .unwrap_or(Value::Null);
    for entry in entries.as_array().into_iter().flatten() {
        let name = text(entry.get("name")).to_ascii_lowercase();
        if !name.is_empty() {
            headers.push((name, Value::String(text(entry.get("value")))));
        }
    }
    let mut status = run.param_f64("options.responseCode", 0, 200.0)? as u16;
    let key = run.param_str("options.responseKey", 0, "")?;
    let keyed = |value: Value| -> Value {
        if key.is_empty() {
            return value;
        }
        let mut root = Map::new();
        fields::set(&mut root, &key, value, true);
        Value::Object(root)
    };
    let body: Value = match respond_with.as_str() {
        "json" => match run.param_value("responseBody", 0)? {
            Some(Value::String(textual)) if !textual.is_empty() => serde_json::from_str(&textual)
                .map_err(|_| {
                NodeError::operation("Invalid JSON in 'Response Body' field").with_description(
                    "Check that the syntax of the JSON in the 'Response Body' parameter is valid",
                )
            })?,
            Some(Value::String(_)) | None | Some(Value::Null) => Value::Null,
            Some(other) => other,
        },
        "allIncomingItems" => keyed(Value::Array(
            items
                .iter()
                .map(|i| Value::Object(i.json.clone()))
                .collect(),
        )),
        "firstIncomingItem" => keyed(
            items
                .first()
                .map(|i| Value::Object(i.json.clone()))
                .unwrap_or(Value::Null),
        ),
        "text" => Value::String(run.param_str("responseBody", 0, "")?),
        "noData" => Value::Null,
        "redirect" => {
            headers.push((
                "location".into(),
                Value::String(run.param_str("redirectURL", 0, "")?),
            ));
            if run.raw_param("options.responseCode").is_none() {
                status = 307;
            }
            Value::Null
        }
        "binary" => return binary(run, items, headers, status),
        "jwt" => {
            let failed = |reason: String| {
                NodeError::operation("Error signing JWT token").with_description(reason)
            };
            let credential = signing
                .unwrap_or_else(|| Err(NodeError::operation("no jwtAuth credential was read")))
                .map_err(|e| failed(e.message))?;
            // The payload parameter is JSON text, or an object when an expression made one.
            let payload = match run.param_value("payload", 0)? {
                Some(Value::String(textual)) => serde_json::from_str(&textual)
                    .map_err(|e| failed(format!("the payload is not valid JSON: {e}")))?,
                Some(Value::Null) | None => Value::Object(Map::new()),
                Some(other) => other,
            };
            let now = chrono::Utc::now().timestamp();
            let token = crate::domain::jwt::sign(&payload, &credential, now).map_err(failed)?;
            json!({ "token": token })
        }
        other => {
            return Err(NodeError::operation(format!(
                "The Response Data option \"{other}\" is not supported!"
            )))
        }
    };
    // n8n answers every body it does not send as text as JSON, an empty one included.
    let (bytes, content_type) = match &body {
        Value::Null => (Vec::new(), Some("application/json; charset=utf-8")),
        Value::String(s) => (s.clone().into_bytes(), Some("text/html; charset=utf-8")),
        other => (
            serde_json::to_vec(other).unwrap_or_default(),
            Some("application/json; charset=utf-8"),
        ),
    };
    if let Some(content_type) = content_type {
        if !headers.iter().any(|(n, _)| n == "content-type") {
            headers.push(("content-type".into(), Value::String(content_type.into())));
        }
    }
    let response = WebhookResponse {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.clone(), text(Some(v))))
            .collect(),
        body: bytes,
    };
    Ok((response, body))
}

fn binary(
    run: &NodeRun<'_>,
    items: &[Item],
    mut headers: Vec<(String, Value)>,
    status: u16,
) -> Result<(WebhookResponse, Value), NodeError> {
    use base64::Engine as _;
    let missing = || NodeError::operation("No binary data exists on the first item!");
    let binary = items
        .first()
        .and_then(|i| i.binary.as_ref())
        .ok_or_else(missing)?;
    let property = if run.param_str("responseDataSource", 0, "automatically")? == "set" {
        run.param_str("inputFieldName", 0, "data")?
    } else {
        binary.keys().next().cloned().ok_or_else(missing)?
    };
    let data = binary.get(&property).ok_or_else(|| {
        NodeError::operation(format!("The item has no binary field '{property}'"))
    })?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.get("data").and_then(Value::as_str).unwrap_or_default())
        .map_err(|_| NodeError::operation("The binary data could not be read"))?;
    if !headers.iter().any(|(n, _)| n == "content-type") {
        let mime = data
            .get("mimeType")
            .and_then(Value::as_str)
            .unwrap_or("application/octet-stream");
        headers.push(("content-type".into(), Value::String(mime.into())));
    }
    let response = WebhookResponse {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| (n.clone(), text(Some(v))))
            .collect(),
        body: bytes,
    };
    Ok((response, Value::Null))
}

fn text(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => super::types::js_string(other),
    }
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.respondToWebhook",
        &[1.0, 1.1, 1.2, 1.3, 1.4, 1.5],
        Arc::new(RespondToWebhook),
    );
}
