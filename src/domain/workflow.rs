//! The workflow document: validation of a create or update body with the words of n8n's
//! request validator (`request/body/nodes/0/name must be string`), n8n's defaults, and which
//! nodes can start a published workflow.
//!
//! Nodes, connections and settings are kept as JSON values rather than typed structs: the
//! server stores what the client sent (numbers keep their exact form, unknown parameter shapes
//! survive), after checking every field the public API schema describes.
//!
//! Past 600 lines only with its unit tests: the rules themselves are under 470 lines, and the
//! tests of each validator message read best next to the one checker that writes them.

use serde_json::{Map, Value};

/// Fields of a workflow that clients read and may send back; they are ignored on input, as
/// n8n ignores read-only fields.
const READ_ONLY: &[&str] = &[
    "id",
    "active",
    "createdAt",
    "updatedAt",
    "isArchived",
    "versionId",
    "versionCounter",
    "triggerCount",
    "tags",
    "shared",
    "activeVersion",
    "activeVersionId",
    "sourceWorkflowId",
    "parentFolder",
    "homeProject",
    "scopes",
    "usedCredentials",
];

/// Longest workflow name (n8n's column is 128 characters).
pub const NAME_MAX: usize = 128;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Create,
    Update,
}

/// A validated workflow body.
#[derive(Debug, Clone)]
pub struct WorkflowInput {
    pub name: String,
    pub description: Option<Option<String>>,
    pub nodes: Vec<Value>,
    pub connections: Value,
    pub settings: Value,
    pub node_groups: Value,
    pub static_data: Option<Value>,
    pub pin_data: Option<Value>,
    pub meta: Option<Value>,
    pub project_id: Option<String>,
    /// Absent: leave as is; `Some(None)`: the project root.
    pub parent_folder_id: Option<Option<String>>,
}

type Check = Result<(), String>;

fn at(path: &str, message: &str) -> String {
    format!("request/body{path} {message}")
}

#[derive(Clone, Copy)]
enum Kind {
    String,
    Boolean,
    Number,
    Object,
    Array,
    /// An array of numbers (node positions).
    Numbers,
    /// One of the listed strings.
    OneOf(&'static [&'static str]),
    /// `true`, `false`, or one of the listed strings.
    BoolOr(&'static [&'static str]),
    /// An array of `{key, value}` string pairs.
    KeyValues,
}

fn check(value: &Value, kind: Kind, path: &str) -> Check {
    let ok = match kind {
        Kind::String => value.is_string(),
        Kind::Boolean => value.is_boolean(),
        Kind::Number => value.is_number(),
        Kind::Object => value.is_object(),
        Kind::Array => value.is_array(),
        Kind::Numbers => {
            let Some(items) = value.as_array() else {
                return Err(at(path, "must be array"));
            };
            for (i, item) in items.iter().enumerate() {
                if !item.is_number() {
                    return Err(at(&format!("{path}/{i}"), "must be number"));
                }
            }
            true
        }
        Kind::OneOf(allowed) => {
            if !value.as_str().is_some_and(|s| allowed.contains(&s)) {
                return Err(at(path, "must be equal to one of the allowed values"));
            }
            true
        }
        Kind::BoolOr(allowed) => {
            value.is_boolean() || value.as_str().is_some_and(|s| allowed.contains(&s))
        }
        Kind::KeyValues => {
            let Some(items) = value.as_array() else {
                return Err(at(path, "must be array"));
            };
            for (i, item) in items.iter().enumerate() {
                let Some(pair) = item.as_object() else {
                    return Err(at(&format!("{path}/{i}"), "must be object"));
                };
                for key in ["key", "value"] {
                    match pair.get(key) {
                        None => {
                            return Err(at(
                                &format!("{path}/{i}"),
                                &format!("must have required property '{key}'"),
                            ))
                        }
                        Some(v) if !v.is_string() => {
                            return Err(at(&format!("{path}/{i}/{key}"), "must be string"))
                        }
                        _ => {}
                    }
                }
            }
            true
        }
    };
    if ok {
        return Ok(());
    }
    let expected = match kind {
        Kind::String => "string",
        Kind::Boolean | Kind::BoolOr(_) => "boolean",
        Kind::Number => "number",
        Kind::Object => "object",
        Kind::Array | Kind::Numbers | Kind::KeyValues => "array",
        Kind::OneOf(_) => "string",
    };
    Err(at(path, &format!("must be {expected}")))
}

/// Checks an object against a closed list of properties.
fn check_object(value: &Value, path: &str, fields: &[(&str, Kind)]) -> Check {
    let Some(object) = value.as_object() else {
        return Err(at(path, "must be object"));
    };
    for (key, field) in object {
        match fields.iter().find(|(name, _)| name == key) {
            None => return Err(at(path, "must NOT have additional properties")),
            Some((_, kind)) => check(field, *kind, &format!("{path}/{key}"))?,
        }
    }
    Ok(())
}

const NODE_FIELDS: &[(&str, Kind)] = &[
    ("id", Kind::String),
    ("name", Kind::String),
    ("webhookId", Kind::String),
    ("disabled", Kind::Boolean),
    ("notesInFlow", Kind::Boolean),
    ("notes", Kind::String),
    ("type", Kind::String),
    ("typeVersion", Kind::Number),
    ("executeOnce", Kind::Boolean),
    ("alwaysOutputData", Kind::Boolean),
    ("retryOnFail", Kind::Boolean),
    ("maxTries", Kind::Number),
    ("waitBetweenTries", Kind::Number),
    ("continueOnFail", Kind::Boolean),
    ("onError", Kind::String),
    ("position", Kind::Numbers),
    ("parameters", Kind::Object),
    ("credentials", Kind::Object),
    ("customTelemetryTags", Kind::Object),
    ("createdAt", Kind::String),
    ("updatedAt", Kind::String),
];

const SAVE_DATA: &[&str] = &["DEFAULT", "all", "none"];

const SETTINGS_FIELDS: &[(&str, Kind)] = &[
    ("saveExecutionProgress", Kind::BoolOr(&["DEFAULT"])),
    ("saveManualExecutions", Kind::BoolOr(&["DEFAULT"])),
    ("saveDataErrorExecution", Kind::OneOf(SAVE_DATA)),
    ("saveDataSuccessExecution", Kind::OneOf(SAVE_DATA)),
    ("executionTimeout", Kind::Number),
    ("errorWorkflow", Kind::String),
    ("timezone", Kind::String),
    ("executionOrder", Kind::String),
    ("binaryMode", Kind::OneOf(&["separate", "combined"])),
    (
        "callerPolicy",
        Kind::OneOf(&[
            "any",
            "none",
            "workflowsFromAList",
            "workflowsFromSameOwner",
        ]),
    ),
    ("callerIds", Kind::String),
    ("timeSavedMode", Kind::OneOf(&["fixed", "dynamic"])),
    ("timeSavedPerExecution", Kind::Number),
    (
        "redactionPolicy",
        Kind::OneOf(&["none", "non-manual", "manual-only", "all"]),
    ),
    ("availableInMCP", Kind::Boolean),
    ("customTelemetryTags", Kind::KeyValues),
    ("credentialResolverId", Kind::String),
];

fn nullable_object(value: &Value, path: &str) -> Result<Option<Value>, String> {
    match value {
        Value::Null => Ok(None),
        Value::Object(_) => Ok(Some(value.clone())),
        _ => Err(at(path, "must be object")),
    }
}

/// Validates a create or update body and fills in n8n's defaults.
pub fn parse(body: Value, kind: BodyKind) -> Result<WorkflowInput, String> {
    let Value::Object(mut object) = body else {
        return Err(at("", "must be object"));
    };
    for key in READ_ONLY {
        object.remove(*key);
    }
    let mut allowed = vec![
        "name",
        "nodes",
        "connections",
        "settings",
        "staticData",
        "pinData",
        "meta",
        "nodeGroups",
        "parentFolderId",
        "description",
    ];
    if kind == BodyKind::Create {
        allowed.push("projectId");
    }
    if object.keys().any(|k| !allowed.contains(&k.as_str())) {
        return Err(at("", "must NOT have additional properties"));
    }
    for required in ["name", "nodes", "connections", "settings"] {
        if !object.contains_key(required) {
            return Err(at("", &format!("must have required property '{required}'")));
        }
    }

    let name = object.remove("name").unwrap_or_default();
    let Value::String(name) = name else {
        return Err(at("/name", "must be string"));
    };
    if name.chars().count() > NAME_MAX {
        return Err(at(
            "/name",
            &format!("must NOT have more than {NAME_MAX} characters"),
        ));
    }

    let nodes = match object.remove("nodes") {
        Some(Value::Array(nodes)) => nodes,
        _ => return Err(at("/nodes", "must be array")),
    };
    let mut checked = Vec::with_capacity(nodes.len());
    for (i, mut node) in nodes.into_iter().enumerate() {
        check_object(&node, &format!("/nodes/{i}"), NODE_FIELDS)?;
        // n8n gives every node an id when the client did not.
        if let Some(fields) = node.as_object_mut() {
            if !fields.contains_key("id") {
                fields.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
            }
        }
        checked.push(node);
    }

    let connections = object.remove("connections").unwrap_or_default();
    check(&connections, Kind::Object, "/connections")?;

    let settings = object.remove("settings").unwrap_or_default();
    check_object(&settings, "/settings", SETTINGS_FIELDS)?;
    let settings = with_default_settings(settings);

    let node_groups = match object.remove("nodeGroups") {
        None | Some(Value::Null) => Value::Array(Vec::new()),
        Some(groups) => {
            let Some(items) = groups.as_array() else {
                return Err(at("/nodeGroups", "must be array"));
            };
            for (i, group) in items.iter().enumerate() {
                let path = format!("/nodeGroups/{i}");
                check_object(
                    group,
                    &path,
                    &[
                        ("id", Kind::String),
                        ("name", Kind::String),
                        ("description", Kind::String),
                        ("nodeIds", Kind::Array),
                    ],
                )?;
                for required in ["id", "name", "nodeIds"] {
                    if group.get(required).is_none() {
                        return Err(at(
                            &path,
                            &format!("must have required property '{required}'"),
                        ));
                    }
                }
                if group["nodeIds"]
                    .as_array()
                    .is_some_and(|ids| ids.iter().any(|id| !id.is_string()))
                {
                    return Err(at(&format!("{path}/nodeIds"), "must be array of strings"));
                }
                if group
                    .get("description")
                    .and_then(Value::as_str)
                    .is_some_and(|d| d.chars().count() > 155)
                {
                    return Err(at(
                        &format!("{path}/description"),
                        "must NOT have more than 155 characters",
                    ));
                }
            }
            groups
        }
    };

    // staticData may also arrive as a JSON string, as n8n accepts.
    let static_data = match object.remove("staticData") {
        None | Some(Value::Null) => None,
        Some(Value::String(text)) => match serde_json::from_str::<Value>(&text) {
            Ok(v @ Value::Object(_)) => Some(v),
            _ => return Err(at("/staticData", "must be object")),
        },
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err(at("/staticData", "must be object")),
    };
    let pin_data = match object.remove("pinData") {
        None => None,
        Some(v) => nullable_object(&v, "/pinData")?,
    };
    let meta = match object.remove("meta") {
        None => None,
        Some(v) => nullable_object(&v, "/meta")?,
    };
    let description = match object.remove("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(d)) => Some(Some(d)),
        Some(_) => return Err(at("/description", "must be string")),
    };
    let project_id = match object.remove("projectId") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p),
        Some(_) => return Err(at("/projectId", "must be string")),
    };
    let parent_folder_id = match object.remove("parentFolderId") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(f)) => Some(Some(f)),
        Some(_) => return Err(at("/parentFolderId", "must be string")),
    };

    Ok(WorkflowInput {
        name,
        description,
        nodes: checked,
        connections,
        settings,
        node_groups,
        static_data,
        pin_data,
        meta,
        project_id,
        parent_folder_id,
    })
}

/// n8n's defaults for settings the client left out.
fn with_default_settings(settings: Value) -> Value {
    let mut merged = Map::new();
    merged.insert(
        "callerPolicy".into(),
        Value::String("workflowsFromSameOwner".into()),
    );
    merged.insert("availableInMCP".into(), Value::Bool(false));
    if let Value::Object(given) = settings {
        merged.extend(given);
    }
    Value::Object(merged)
}

/// Node types that look like triggers by name but cannot start a published workflow.
const NOT_ACTIVATING: &[&str] = &[
    "n8n-nodes-base.manualTrigger",
    "n8n-nodes-base.executeWorkflowTrigger",
    "n8n-nodes-base.errorTrigger",
    "n8n-nodes-base.evaluationTrigger",
    "n8n-nodes-base.start",
];

/// Triggers, webhooks and pollers whose names do not end in `Trigger`.
const ACTIVATING: &[&str] = &[
    "n8n-nodes-base.webhook",
    "n8n-nodes-base.cron",
    "n8n-nodes-base.interval",
    "n8n-nodes-base.emailReadImap",
    "n8n-nodes-base.rssFeedReadTrigger",
];

/// How many enabled nodes can start the workflow when it is published.
pub fn trigger_count(nodes: &Value) -> i64 {
    let Some(nodes) = nodes.as_array() else {
        return 0;
    };
    nodes
        .iter()
        .filter(|node| node.get("disabled").and_then(Value::as_bool) != Some(true))
        .filter_map(|node| node.get("type").and_then(Value::as_str))
        .filter(|kind| !NOT_ACTIVATING.contains(kind))
        .filter(|kind| {
            ACTIVATING.contains(kind)
                || kind
                    .rsplit('.')
                    .next()
                    .is_some_and(|short| short.ends_with("Trigger"))
        })
        .count() as i64
}

/// Nodes that let a workflow be published without counting as triggers: it runs when another
/// workflow calls it or fails (n8n 2.x publishes these with `triggerCount` 0).
const STARTED_BY_OTHERS: &[&str] = &[
    "n8n-nodes-base.executeWorkflowTrigger",
    "n8n-nodes-base.errorTrigger",
];

/// Whether a workflow with these nodes may be published.
pub fn can_publish(nodes: &Value) -> bool {
    trigger_count(nodes) > 0
        || nodes.as_array().is_some_and(|nodes| {
            nodes.iter().any(|node| {
                node.get("disabled").and_then(Value::as_bool) != Some(true)
                    && node
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|kind| STARTED_BY_OTHERS.contains(&kind))
            })
        })
}

/// n8n's answer when a workflow without a trigger is published.
pub const NO_TRIGGER: &str =
    "Workflow cannot be activated because it has no trigger node. At least one trigger, webhook, or polling node is required.";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn error(body: Value) -> String {
        parse(body, BodyKind::Create).expect_err("invalid")
    }

    fn minimal() -> Value {
        json!({ "name": "w", "nodes": [], "connections": {}, "settings": {} })
    }

    #[test]
    fn messages_match_n8ns_validator() {
        assert_eq!(
            error(json!({ "name": "w", "nodes": [], "connections": {} })),
            "request/body must have required property 'settings'"
        );
        assert_eq!(
            error(json!({ "name": "w", "nodes": {}, "connections": {}, "settings": {} })),
            "request/body/nodes must be array"
        );
        assert_eq!(
            error(
                json!({ "name": "w", "nodes": [{ "foo": 1 }], "connections": {}, "settings": {} })
            ),
            "request/body/nodes/0 must NOT have additional properties"
        );
        assert_eq!(
            error(
                json!({ "name": "w", "nodes": [{ "name": 5 }], "connections": {}, "settings": {} })
            ),
            "request/body/nodes/0/name must be string"
        );
        assert_eq!(
            error(
                json!({ "name": "w", "nodes": [{ "position": [1, "a"] }], "connections": {}, "settings": {} })
            ),
            "request/body/nodes/0/position/1 must be number"
        );
        assert_eq!(
            error(json!({ "name": "w", "nodes": [], "connections": [], "settings": {} })),
            "request/body/connections must be object"
        );
        assert_eq!(
            error(json!({ "name": "w", "nodes": [], "connections": {}, "settings": { "foo": 1 } })),
            "request/body/settings must NOT have additional properties"
        );
        assert_eq!(
            error(json!({ "name": "w", "nodes": [], "connections": {}, "settings": { "saveDataErrorExecution": "bogus" } })),
            "request/body/settings/saveDataErrorExecution must be equal to one of the allowed values"
        );
        assert_eq!(
            error(
                json!({ "name": "w", "nodes": [], "connections": {}, "settings": {}, "bogus": 1 })
            ),
            "request/body must NOT have additional properties"
        );
        assert_eq!(
            error(
                json!({ "name": "x".repeat(129), "nodes": [], "connections": {}, "settings": {} })
            ),
            "request/body/name must NOT have more than 128 characters"
        );
    }

    #[test]
    fn read_only_fields_are_ignored_and_defaults_filled_in() {
        let mut body = minimal();
        body["id"] = json!("mine");
        body["active"] = json!(true);
        body["tags"] = json!([{ "id": "t" }]);
        body["nodes"] = json!([{ "name": "A", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [0, 0], "parameters": {} }]);
        let input = parse(body, BodyKind::Create).expect("valid");
        assert_eq!(
            input.settings,
            json!({ "callerPolicy": "workflowsFromSameOwner", "availableInMCP": false })
        );
        assert!(input.nodes[0]["id"]
            .as_str()
            .is_some_and(|id| id.len() == 36));
        assert_eq!(input.node_groups, json!([]));
    }

    #[test]
    fn static_data_may_be_an_object_a_json_string_or_null() {
        let mut body = minimal();
        body["staticData"] = json!("{\"a\":1}");
        assert_eq!(
            parse(body.clone(), BodyKind::Create)
                .expect("valid")
                .static_data,
            Some(json!({ "a": 1 }))
        );
        body["staticData"] = Value::Null;
        assert_eq!(
            parse(body.clone(), BodyKind::Create)
                .expect("valid")
                .static_data,
            None
        );
        body["staticData"] = json!("abc");
        assert_eq!(error(body), "request/body/staticData must be object");
    }

    #[test]
    fn project_id_is_accepted_on_create_only() {
        let mut body = minimal();
        body["projectId"] = json!("p");
        assert!(parse(body.clone(), BodyKind::Create).is_ok());
        assert_eq!(
            parse(body, BodyKind::Update).expect_err("invalid"),
            "request/body must NOT have additional properties"
        );
    }

    #[test]
    fn triggers_are_counted_but_manual_starts_are_not() {
        let nodes = json!([
            { "type": "n8n-nodes-base.scheduleTrigger" },
            { "type": "n8n-nodes-base.webhook" },
            { "type": "n8n-nodes-base.manualTrigger" },
            { "type": "n8n-nodes-base.set" },
            { "type": "@n8n/n8n-nodes-langchain.chatTrigger", "disabled": true }
        ]);
        assert_eq!(trigger_count(&nodes), 2);
        assert_eq!(trigger_count(&json!([])), 0);
    }

    #[test]
    fn workflows_started_by_other_workflows_can_be_published_without_triggers() {
        let called = json!([{ "type": "n8n-nodes-base.executeWorkflowTrigger" }]);
        assert_eq!(trigger_count(&called), 0);
        assert!(can_publish(&called));
        assert!(can_publish(
            &json!([{ "type": "n8n-nodes-base.errorTrigger" }])
        ));
        assert!(!can_publish(
            &json!([{ "type": "n8n-nodes-base.manualTrigger" }])
        ));
        assert!(!can_publish(
            &json!([{ "type": "n8n-nodes-base.errorTrigger", "disabled": true }])
        ));
    }
}
