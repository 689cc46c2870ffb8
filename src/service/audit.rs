//! The security audit (`POST /audit`): risk reports over what the instance stores, in n8n's
//! shape — one `"<Category> Risk Report"` per category with findings, each made of sections
//! (`title`, `description`, `recommendation`, `location`).
//!
//! The rules read workflows (their nodes and parameters) and credentials (never their
//! secrets), and the instance configuration.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use crate::config::Config;
use crate::db::credentials::CredentialRow;
use crate::db::workflows::WorkflowRow;
use crate::domain::time::parse_iso;

pub const CATEGORIES: [&str; 5] = ["credentials", "database", "nodes", "filesystem", "instance"];

/// Node types that run code or commands (n8n's "official risky nodes").
const RISKY: &[&str] = &[
    "n8n-nodes-base.executeCommand",
    "n8n-nodes-base.code",
    "n8n-nodes-base.function",
    "n8n-nodes-base.functionItem",
    "n8n-nodes-base.ssh",
    "@n8n/n8n-nodes-langchain.code",
    "@n8n/n8n-nodes-langchain.toolCode",
];

/// Node types that read or write the server's filesystem.
const FILESYSTEM: &[&str] = &[
    "n8n-nodes-base.readBinaryFile",
    "n8n-nodes-base.readBinaryFiles",
    "n8n-nodes-base.writeBinaryFile",
    "n8n-nodes-base.readWriteFile",
    "n8n-nodes-base.localFileTrigger",
    "n8n-nodes-base.readPdf",
];

/// Node types that run SQL.
const SQL: &[&str] = &[
    "n8n-nodes-base.postgres",
    "n8n-nodes-base.mySql",
    "n8n-nodes-base.microsoftSql",
    "n8n-nodes-base.crateDb",
    "n8n-nodes-base.questDb",
    "n8n-nodes-base.snowflake",
    "n8n-nodes-base.timescaleDb",
    "n8n-nodes-base.oracleDb",
];

const WEBHOOKS: &[&str] = &[
    "n8n-nodes-base.webhook",
    "n8n-nodes-base.formTrigger",
    "@n8n/n8n-nodes-langchain.chatTrigger",
];

/// What the audit looks at.
pub struct Inputs<'a> {
    pub workflows: &'a [WorkflowRow],
    pub credentials: &'a [CredentialRow],
    pub config: &'a Config,
    /// Whether `N8N_ENCRYPTION_KEY` was set explicitly (rather than generated).
    pub encryption_key_configured: bool,
    /// Whether any API key never expires.
    pub keys_without_expiry: bool,
    pub now: DateTime<Utc>,
}

struct NodeRef<'a> {
    workflow: &'a WorkflowRow,
    node: &'a Value,
}

impl NodeRef<'_> {
    fn location(&self) -> Value {
        json!({
            "kind": "node",
            "workflowId": self.workflow.id,
            "workflowName": self.workflow.name,
            "nodeId": self.node.get("id").cloned().unwrap_or(Value::Null),
            "nodeName": self.node.get("name").cloned().unwrap_or(Value::Null),
            "nodeType": self.node.get("type").cloned().unwrap_or(Value::Null),
        })
    }

    fn kind(&self) -> &str {
        self.node
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

fn section(title: &str, description: &str, recommendation: &str, location: Vec<Value>) -> Value {
    json!({ "title": title, "description": description, "recommendation": recommendation, "location": location })
}

/// Runs the audit; `None` when nothing was found (n8n then answers an empty array).
pub fn run(inputs: &Inputs<'_>, categories: &[String], days_abandoned: i64) -> Option<Value> {
    let parsed: Vec<(&WorkflowRow, Vec<Value>)> = inputs
        .workflows
        .iter()
        .map(|w| {
            (
                w,
                serde_json::from_str::<Vec<Value>>(&w.nodes).unwrap_or_default(),
            )
        })
        .collect();
    let nodes: Vec<NodeRef<'_>> = parsed
        .iter()
        .flat_map(|(w, nodes)| nodes.iter().map(move |node| NodeRef { workflow: w, node }))
        .collect();

    let mut reports = Map::new();
    let wanted = |c: &str| categories.is_empty() || categories.iter().any(|x| x == c);
    let mut add = |title: &str, risk: &str, sections: Vec<Value>| {
        if !sections.is_empty() {
            reports.insert(
                title.to_owned(),
                json!({ "risk": risk, "sections": sections }),
            );
        }
    };
    if wanted("credentials") {
        add(
            "Credentials Risk Report",
            "credentials",
            credentials_report(inputs, &nodes, days_abandoned),
        );
    }
    if wanted("database") {
        add("Database Risk Report", "database", database_report(&nodes));
    }
    if wanted("nodes") {
        add("Nodes Risk Report", "nodes", nodes_report(&nodes));
    }
    if wanted("filesystem") {
        add(
            "Filesystem Risk Report",
            "filesystem",
            filesystem_report(&nodes),
        );
    }
    if wanted("instance") {
        add(
            "Instance Risk Report",
            "instance",
            instance_report(inputs, &nodes),
        );
    }
    (!reports.is_empty()).then_some(Value::Object(reports))
}

/// Credential ids a node refers to (`credentials: {type: {id, name}}`).
fn credential_ids(node: &Value) -> Vec<&str> {
    node.get("credentials")
        .and_then(Value::as_object)
        .map(|creds| {
            creds
                .values()
                .filter_map(|c| c.get("id").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default()
}

fn credentials_report(
    inputs: &Inputs<'_>,
    nodes: &[NodeRef<'_>],
    days_abandoned: i64,
) -> Vec<Value> {
    // A number of days past what a date can hold (the API allows any integer >= 1) puts the
    // cutoff before all time: nothing is that old.
    let cutoff = Duration::try_days(days_abandoned)
        .and_then(|d| inputs.now.checked_sub_signed(d))
        .unwrap_or(chrono::DateTime::<chrono::Utc>::MIN_UTC);
    let mut used: HashSet<&str> = HashSet::new();
    let mut used_active: HashSet<&str> = HashSet::new();
    let mut used_recently: HashSet<&str> = HashSet::new();
    for n in nodes {
        if n.workflow.is_archived {
            continue;
        }
        for id in credential_ids(n.node) {
            used.insert(id);
            if n.workflow.active {
                used_active.insert(id);
            }
            if parse_iso(&n.workflow.updated_at).is_some_and(|t| t >= cutoff) {
                used_recently.insert(id);
            }
        }
    }
    let location = |pred: &dyn Fn(&str) -> bool| -> Vec<Value> {
        inputs
            .credentials
            .iter()
            .filter(|c| pred(&c.id))
            .map(|c| json!({ "kind": "credential", "id": c.id, "name": c.name }))
            .collect()
    };
    let mut sections = Vec::new();
    let unused = location(&|id| !used.contains(id));
    if !unused.is_empty() {
        sections.push(section(
            "Credentials not used in any workflow",
            "These credentials are not used in any workflow. Keeping unused credentials in your instance is an unneeded security risk.",
            "Consider deleting these credentials if you no longer need them.",
            unused,
        ));
    }
    let inactive = location(&|id| used.contains(id) && !used_active.contains(id));
    if !inactive.is_empty() {
        sections.push(section(
            "Credentials not used in active workflows",
            "These credentials are not used in published workflows. Keeping unused credentials in your instance is an unneeded security risk.",
            "Consider deleting these credentials if you no longer need them.",
            inactive,
        ));
    }
    let stale = location(&|id| used.contains(id) && !used_recently.contains(id));
    if !stale.is_empty() {
        sections.push(section(
            "Credentials not used in recently executed workflows",
            &format!("These credentials are only used in workflows that have not changed in the past {days_abandoned} days. Keeping unused credentials in your instance is an unneeded security risk."),
            "Consider deleting these credentials if you no longer need them.",
            stale,
        ));
    }
    sections
}

fn contains_expression(text: &str) -> bool {
    text.starts_with('=') || text.contains("{{")
}

fn database_report(nodes: &[NodeRef<'_>]) -> Vec<Value> {
    let mut expressions = Vec::new();
    let mut no_parameters = Vec::new();
    for n in nodes.iter().filter(|n| SQL.contains(&n.kind())) {
        let params = n.node.get("parameters");
        let Some(query) = params.and_then(|p| p.get("query")).and_then(Value::as_str) else {
            continue;
        };
        if contains_expression(query) {
            expressions.push(n.location());
        } else if params
            .and_then(|p| p.get("options"))
            .and_then(|o| o.get("queryReplacement"))
            .is_none()
            && query.contains(['\'', '"'])
        {
            no_parameters.push(n.location());
        }
    }
    let mut sections = Vec::new();
    if !expressions.is_empty() {
        sections.push(section(
            "Expressions in \"Execute Query\" fields in SQL nodes",
            "This SQL node has an expression in the \"Query\" field of an \"Execute Query\" operation. Building a SQL query with an expression may lead to a SQL injection attack.",
            "Consider using the \"Query Parameters\" field to pass parameters to the query, or validating the input of the expression.",
            expressions,
        ));
    }
    if !no_parameters.is_empty() {
        sections.push(section(
            "Query parameters not used in SQL nodes",
            "This SQL node has literal values in its query and does not use query parameters.",
            "Consider using the \"Query Parameters\" field to pass values to the query.",
            no_parameters,
        ));
    }
    sections
}

fn nodes_report(nodes: &[NodeRef<'_>]) -> Vec<Value> {
    let risky: Vec<Value> = nodes
        .iter()
        .filter(|n| RISKY.contains(&n.kind()))
        .map(NodeRef::location)
        .collect();
    let community: Vec<Value> = nodes
        .iter()
        .filter(|n| {
            !n.kind().is_empty()
                && !n.kind().starts_with("n8n-nodes-base.")
                && !n.kind().starts_with("@n8n/")
        })
        .map(NodeRef::location)
        .collect();
    let mut sections = Vec::new();
    if !risky.is_empty() {
        sections.push(section(
            "Official risky nodes",
            "These nodes are part of n8n's official nodes and may be used to fetch and run any arbitrary code in the host system. This may lead to exploits such as remote code execution.",
            "Consider reviewing the parameters in these nodes, replacing them with less risky nodes, or blocking these node types (NODES_EXCLUDE).",
            risky,
        ));
    }
    if !community.is_empty() {
        sections.push(section(
            "Community nodes",
            "These nodes are sourced from the community. Community nodes are not vetted by n8n and have full access to the host system. This may lead to exploits such as remote code execution.",
            "Consider reviewing the source code in any community nodes installed in this n8n instance, and uninstalling any community nodes no longer used.",
            community,
        ));
    }
    sections
}

fn filesystem_report(nodes: &[NodeRef<'_>]) -> Vec<Value> {
    let location: Vec<Value> = nodes
        .iter()
        .filter(|n| FILESYSTEM.contains(&n.kind()))
        .map(NodeRef::location)
        .collect();
    if location.is_empty() {
        return Vec::new();
    }
    vec![section(
        "Nodes that interact with the filesystem",
        "This node reads from and writes to any accessible file in the host filesystem. Sensitive file content may be manipulated through a node operation.",
        "Consider protecting any sensitive files in the host filesystem, or refactoring the workflow so that it does not require host filesystem interaction.",
        location,
    )]
}

fn instance_report(inputs: &Inputs<'_>, nodes: &[NodeRef<'_>]) -> Vec<Value> {
    let unprotected: Vec<Value> = nodes
        .iter()
        .filter(|n| {
            WEBHOOKS.contains(&n.kind())
                && n.node.get("disabled").and_then(Value::as_bool) != Some(true)
        })
        .filter(|n| {
            let auth = n
                .node
                .get("parameters")
                .and_then(|p| p.get("authentication"))
                .and_then(Value::as_str);
            auth.is_none_or(|a| a == "none")
        })
        .map(NodeRef::location)
        .collect();
    let mut sections = Vec::new();
    if !unprotected.is_empty() {
        sections.push(section(
            "Unprotected webhooks in instance",
            "These webhook nodes have the \"Authentication\" field set to \"None\" and are not directly connected to a node to validate the payload. Every unprotected webhook allows your workflow to be called by any third party who knows the webhook URL.",
            "Consider setting the \"Authentication\" field to an option other than \"None\", or validating the payload with one of the following nodes.",
            unprotected,
        ));
    }
    let mut findings = BTreeMap::new();
    if !inputs.config.public_api_disabled && inputs.keys_without_expiry {
        findings.insert(
            "publicApiKeysWithoutExpiry",
            "The public API is enabled and some API keys never expire.",
        );
    }
    if !inputs.config.secure_cookie {
        findings.insert(
            "secureCookieDisabled",
            "N8N_SECURE_COOKIE is false: the session cookie is also sent over plain HTTP.",
        );
    }
    if !inputs.encryption_key_configured {
        findings.insert("encryptionKeyNotSet", "N8N_ENCRYPTION_KEY is not set; the key was generated and lives only in the data folder. Back it up, or set it explicitly.");
    }
    if !findings.is_empty() {
        let mut s = section(
            "Security settings",
            "Instance settings that weaken security.",
            "Review each setting listed here.",
            Vec::new(),
        );
        s["settings"] = json!({
            "publicApiEnabled": !inputs.config.public_api_disabled,
            "secureCookie": inputs.config.secure_cookie,
            "encryptionKeyConfigured": inputs.encryption_key_configured,
            "findings": findings,
        });
        sections.push(s);
    }
    sections
}
