//! A run to evaluate expressions in: Webhook → Prepare → Edit Fields, with Edit Fields
//! running on the two items Prepare put out. The clock is fixed at
//! 2024-03-15T14:30:45.123Z and the workflow's time zone is America/New_York.

use std::collections::HashMap;

use serde_json::{json, Value};

use crate::engine::data::{
    Connections, ExecutionStatus, Item, JsonObject, RunData, SourceData, TaskData,
};
use crate::engine::workflow::Workflow;
use crate::expression::{Context, EnvAccess, ExecutionInfo, ExpressionError, Expressions, Limits};

pub(crate) struct Fixture {
    pub workflow: Workflow,
    pub run_data: RunData,
    pub input: Vec<Item>,
    pub source: Vec<Option<SourceData>>,
    pub execution: ExecutionInfo,
    pub vars: JsonObject,
    pub env: Option<HashMap<String, String>>,
    pub now: chrono::DateTime<chrono::Utc>,
    pub timezone: String,
    pub item_index: usize,
    pub limits: Limits,
}

fn object(v: Value) -> JsonObject {
    v.as_object().cloned().unwrap_or_default()
}

fn task(items: Vec<Item>, source: Option<SourceData>) -> TaskData {
    TaskData {
        start_time: 0,
        execution_index: 0,
        execution_time: 1,
        execution_status: ExecutionStatus::Success,
        source: vec![source],
        data: Some(Connections::single(items)),
        error: None,
        hints: Vec::new(),
    }
}

fn from(node: &str) -> SourceData {
    SourceData {
        previous_node: node.into(),
        previous_node_output: 0,
        previous_node_run: 0,
    }
}

impl Fixture {
    pub fn standard() -> Fixture {
        let nodes = json!([
            {"id": "w1", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
             "position": [0, 0], "parameters": {"path": "people", "httpMethod": "POST"}},
            {"id": "p1", "name": "Prepare", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
             "position": [200, 0], "parameters": {"mode": "raw"}},
            {"id": "e1", "name": "Edit Fields", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
             "position": [400, 0], "parameters": {"options": {}}},
            {"id": "u1", "name": "Unrun", "type": "n8n-nodes-base.noOp", "typeVersion": 1,
             "position": [400, 200], "parameters": {}}
        ]);
        let connections = json!({
            "Webhook": {"main": [[{"node": "Prepare", "type": "main", "index": 0}]]},
            "Prepare": {"main": [[{"node": "Edit Fields", "type": "main", "index": 0}]]}
        });
        let workflow = Workflow::parse(
            "wf1",
            "People",
            true,
            &nodes,
            &connections,
            &json!({"timezone": "America/New_York"}),
        )
        .unwrap_or_else(|e| panic!("fixture workflow: {e}"));
        let webhook_item = Item::new(object(json!({
            "headers": {"content-type": "application/json"},
            "params": {},
            "query": {"debug": "1"},
            "body": {"people": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}]}
        })));
        let prepared = vec![
            Item::paired(
                object(json!({
                    "name": "Ada Lovelace", "email": "ada@example.com", "age": 36,
                    "tags": ["math", "poetry", "math"], "score": 12.5,
                    "joined": "2024-01-05T10:00:00.000Z", "nested": {"a": {"b": [1, 2, 3]}},
                    "empty": "", "nothing": null, "flag": true, "x y": "spaced"
                })),
                0,
            ),
            Item::paired(
                object(json!({
                    "name": "Alan Turing", "email": "alan@example.org", "age": 41,
                    "tags": [], "score": 7, "joined": "2023-06-23T08:00:00.000Z",
                    "nested": {}, "empty": "x", "nothing": 0, "flag": false
                })),
                0,
            ),
        ];
        let mut run_data = RunData::new();
        run_data.insert("Webhook".into(), vec![task(vec![webhook_item], None)]);
        run_data.insert(
            "Prepare".into(),
            vec![task(prepared.clone(), Some(from("Webhook")))],
        );
        // The engine links each input item to its own index before a node runs.
        let input = prepared
            .iter()
            .enumerate()
            .map(|(i, item)| Item::paired(item.json.clone(), i))
            .collect();
        Fixture {
            workflow,
            run_data,
            input,
            source: vec![Some(from("Prepare"))],
            execution: ExecutionInfo {
                id: "42".into(),
                mode: "webhook".into(),
                resume_url: "http://localhost:5678/webhook-waiting/42".into(),
                custom_data: Default::default(),
            },
            vars: object(json!({"region": "eu"})),
            env: None,
            now: chrono::DateTime::parse_from_rfc3339("2024-03-15T14:30:45.123Z")
                .map(|d| d.with_timezone(&chrono::Utc))
                .unwrap_or_default(),
            timezone: "America/New_York".into(),
            item_index: 0,
            limits: Limits::default(),
        }
    }

    pub fn context(&self) -> Context<'_> {
        Context {
            workflow: &self.workflow,
            run_data: &self.run_data,
            node: self
                .workflow
                .node("Edit Fields")
                .unwrap_or_else(|| panic!("fixture node")),
            input: &self.input,
            source: &self.source,
            item_index: self.item_index,
            run_index: 0,
            execution: &self.execution,
            vars: &self.vars,
            env: match &self.env {
                Some(vars) => EnvAccess::Allowed(vars),
                None => EnvAccess::Blocked,
            },
            now: self.now,
            timezone: &self.timezone,
            additional: None,
        }
    }

    pub fn eval(&self, expression: &str) -> Result<Value, ExpressionError> {
        Expressions::new(self.limits.clone()).resolve(&json!(expression), &self.context())
    }
}
