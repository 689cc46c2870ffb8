//! n8n's webhook path rules: which (method, path) rows a published workflow registers, and
//! which row answers a request path.
//!
//! A Webhook node with a `webhookId` registers its `path` as written (without leading or
//! trailing `/`; an empty path becomes the `webhookId`). A path with `:param` segments is
//! registered as `<webhookId>/<path>`, and a request matches it when its first segment is that
//! `webhookId`, it has as many segments after it, and every fixed segment of the registered
//! path appears among them; when several match, the one with the most fixed segments wins.
//! Old nodes without a `webhookId` register `<workflowId>/<node name, lowercased>/<path>`.

use serde_json::Value;

use crate::db::webhooks::WebhookRow;
use crate::engine::workflow::{Node, Workflow};

pub const WEBHOOK_NODE: &str = "n8n-nodes-base.webhook";

/// The methods a Webhook node listens to.
pub fn methods(node: &Node) -> Vec<String> {
    let multiple = node
        .parameters
        .get("multipleMethods")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let methods: Vec<String> = match node.parameters.get("httpMethod") {
        Some(Value::Array(list)) if multiple || node.type_version >= 2.0 => list
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_uppercase)
            .collect(),
        Some(Value::String(m)) if !multiple => vec![m.to_uppercase()],
        _ if multiple => vec!["GET".to_owned(), "POST".to_owned()],
        _ => vec!["GET".to_owned()],
    };
    if methods.is_empty() {
        vec!["GET".to_owned()]
    } else {
        methods
    }
}

/// The path a Webhook node registers, or a message saying why it cannot be registered.
pub fn node_path(workflow_id: &str, node: &Node) -> Result<String, String> {
    let raw = match node.parameters.get("path") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let path = match raw.strip_prefix('=') {
        Some(expression) if expression.contains("{{") => {
            return Err(format!(
                "The path of the webhook node \"{}\" is an expression; give it a fixed path",
                node.name
            ))
        }
        Some(plain) => plain.to_owned(),
        None => raw,
    };
    let path = path.trim_matches('/').to_owned();
    match &node.webhook_id {
        Some(id) if !id.is_empty() => {
            if path.is_empty() {
                Ok(id.clone())
            } else if path.split('/').any(|s| s.starts_with(':')) {
                Ok(format!("{id}/{path}"))
            } else {
                Ok(path)
            }
        }
        _ => {
            let name: String = node.name.to_lowercase();
            let name = form_urlencoded::byte_serialize(name.as_bytes())
                .collect::<String>()
                .replace('+', "%20");
            Ok(format!("{workflow_id}/{name}/{path}")
                .trim_end_matches('/')
                .to_owned())
        }
    }
}

/// The rows a workflow registers when it is published: one per enabled Webhook node and
/// method.
pub fn registrations(workflow: &Workflow) -> Result<Vec<WebhookRow>, String> {
    let mut rows = Vec::new();
    for node in workflow
        .nodes
        .iter()
        .filter(|n| n.kind == WEBHOOK_NODE && !n.disabled)
    {
        let path = node_path(&workflow.id, node)?;
        let dynamic = path.split('/').any(|s| s.starts_with(':'));
        for method in methods(node) {
            let (webhook_id, path_length) = if dynamic {
                let id = node.webhook_id.clone().unwrap_or_default();
                let length = path.split('/').count() as i64 - 1;
                (Some(id), Some(length))
            } else {
                (None, None)
            };
            rows.push(WebhookRow {
                method,
                path: path.clone(),
                workflow_id: workflow.id.clone(),
                node: node.name.clone(),
                webhook_id,
                path_length,
            });
        }
    }
    Ok(rows)
}

/// A request path as n8n keys it.
pub fn normalize(request_path: &str) -> &str {
    request_path.trim_matches('/')
}

/// Among parameterised rows of the right webhookId and length, the one that answers `path`
/// (the request path without its first segment), with the values of its `:params`.
pub fn best_dynamic<'a>(
    candidates: &'a [WebhookRow],
    path: &str,
) -> Option<(&'a WebhookRow, serde_json::Map<String, Value>)> {
    let segments: Vec<&str> = path.split('/').collect();
    let mut best: Option<(&WebhookRow, usize)> = None;
    for row in candidates {
        let registered: Vec<&str> = row.path.split('/').skip(1).collect();
        let fixed: Vec<&str> = registered
            .iter()
            .copied()
            .filter(|s| !s.starts_with(':'))
            .collect();
        if !fixed.iter().all(|s| segments.contains(s)) {
            continue;
        }
        if best.is_none_or(|(_, count)| fixed.len() > count) {
            best = Some((row, fixed.len()));
        }
    }
    let (row, _) = best?;
    let mut params = serde_json::Map::new();
    for (name, value) in row.path.split('/').skip(1).zip(segments.iter()) {
        if let Some(name) = name.strip_prefix(':') {
            params.insert(name.to_owned(), Value::String((*value).to_owned()));
        }
    }
    Some((row, params))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn workflow(nodes: Value) -> Workflow {
        Workflow::parse("wf1", "w", true, &nodes, &json!({}), &json!({})).expect("workflow")
    }

    #[test]
    fn static_paths_are_registered_as_written_per_method() {
        let w = workflow(json!([
            {"name": "Hook", "type": WEBHOOK_NODE, "typeVersion": 2, "webhookId": "abc",
             "parameters": {"path": "/orders/new/", "httpMethod": "POST"}},
            {"name": "Both", "type": WEBHOOK_NODE, "typeVersion": 2, "webhookId": "def",
             "parameters": {"path": "both", "multipleMethods": true, "httpMethod": ["GET", "PUT"]}},
            {"name": "Off", "type": WEBHOOK_NODE, "typeVersion": 2, "webhookId": "ghi", "disabled": true,
             "parameters": {"path": "off"}}
        ]));
        let rows = registrations(&w).expect("rows");
        let keys: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.method.clone(), r.path.clone()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("POST".into(), "orders/new".into()),
                ("GET".into(), "both".into()),
                ("PUT".into(), "both".into())
            ]
        );
        assert!(rows.iter().all(|r| r.webhook_id.is_none()));
    }

    #[test]
    fn parameterised_paths_are_prefixed_with_the_webhook_id() {
        let w = workflow(json!([
            {"name": "Hook", "type": WEBHOOK_NODE, "typeVersion": 2, "webhookId": "abc",
             "parameters": {"path": "user/:id/orders"}}
        ]));
        let rows = registrations(&w).expect("rows");
        assert_eq!(rows[0].path, "abc/user/:id/orders");
        assert_eq!(rows[0].webhook_id.as_deref(), Some("abc"));
        assert_eq!(rows[0].path_length, Some(3));
        let (row, params) = best_dynamic(&rows, "user/42/orders").expect("match");
        assert_eq!(row.node, "Hook");
        assert_eq!(
            params,
            json!({"id": "42"}).as_object().cloned().expect("map")
        );
        assert!(best_dynamic(&rows, "team/42/orders").is_none());
    }

    #[test]
    fn the_most_specific_parameterised_path_wins() {
        let row = |path: &str| WebhookRow {
            method: "GET".into(),
            path: path.into(),
            workflow_id: "w".into(),
            node: path.into(),
            webhook_id: Some("abc".into()),
            path_length: Some(2),
        };
        let rows = vec![row("abc/:a/:b"), row("abc/user/:b")];
        let (found, params) = best_dynamic(&rows, "user/7").expect("match");
        assert_eq!(found.path, "abc/user/:b");
        assert_eq!(params["b"], json!("7"));
    }

    #[test]
    fn empty_and_legacy_paths_follow_n8n() {
        let w = workflow(json!([
            {"name": "Empty", "type": WEBHOOK_NODE, "typeVersion": 2, "webhookId": "abc", "parameters": {}},
            {"name": "Old Hook", "type": WEBHOOK_NODE, "typeVersion": 1, "parameters": {"path": "x"}}
        ]));
        let rows = registrations(&w).expect("rows");
        assert_eq!(rows[0].path, "abc");
        assert_eq!(rows[1].path, "wf1/old%20hook/x");
    }

    #[test]
    fn an_expression_path_is_refused_with_the_node_name() {
        let w = workflow(json!([
            {"name": "Hook", "type": WEBHOOK_NODE, "typeVersion": 2, "webhookId": "abc",
             "parameters": {"path": "={{ $json.x }}"}}
        ]));
        assert!(registrations(&w).unwrap_err().contains("\"Hook\""));
    }
}
