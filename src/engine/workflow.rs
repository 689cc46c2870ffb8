//! A workflow version as the engine runs it: its nodes by name, its connections both ways, and
//! the settings that change how it runs. Built once per published version and shared by every
//! execution of that version.
//!
//! The stored documents are n8n's (`nodes`, `connections`, `settings`); this module reads them
//! leniently (a node field of the wrong type takes n8n's default), since the API already checked
//! the shapes it cares about when the workflow was saved.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::Value;

use super::data::JsonObject;

/// One node of the workflow, with n8n's field names and defaults.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    #[serde(default)]
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "one", deserialize_with = "lenient_f64")]
    pub type_version: f64,
    #[serde(default, deserialize_with = "lenient_object")]
    pub parameters: JsonObject,
    #[serde(default, deserialize_with = "lenient_position")]
    pub position: [f64; 2],
    #[serde(default, deserialize_with = "lenient_bool")]
    pub disabled: bool,
    #[serde(default, deserialize_with = "lenient_object")]
    pub credentials: JsonObject,
    #[serde(default, deserialize_with = "lenient_string")]
    pub webhook_id: Option<String>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub execute_once: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub always_output_data: bool,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub retry_on_fail: bool,
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub max_tries: Option<f64>,
    #[serde(default, deserialize_with = "lenient_opt_f64")]
    pub wait_between_tries: Option<f64>,
    #[serde(default, deserialize_with = "lenient_bool")]
    pub continue_on_fail: bool,
    #[serde(default, deserialize_with = "lenient_string")]
    pub on_error: Option<String>,
    /// The node exactly as stored, for the execution's stack (n8n keeps the whole node there).
    #[serde(skip)]
    pub raw: Value,
}

/// What a node does when it fails (n8n's `onError`, with `continueOnFail` as the older form).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnError {
    StopWorkflow,
    ContinueRegularOutput,
    ContinueErrorOutput,
}

impl Node {
    pub fn on_error(&self) -> OnError {
        match self.on_error.as_deref() {
            Some("continueRegularOutput") => OnError::ContinueRegularOutput,
            Some("continueErrorOutput") => OnError::ContinueErrorOutput,
            Some(_) => OnError::StopWorkflow,
            None if self.continue_on_fail => OnError::ContinueRegularOutput,
            None => OnError::StopWorkflow,
        }
    }

    /// The short type name (`set` for `n8n-nodes-base.set`).
    pub fn short_kind(&self) -> &str {
        self.kind.rsplit('.').next().unwrap_or(&self.kind)
    }
}

/// One edge end: the destination node and which of its inputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub node: String,
    pub input: usize,
}

/// One edge start, seen from the destination: the source node and which of its outputs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParentEdge {
    pub node: String,
    pub output: usize,
}

/// `settings.executionOrder`: `v1` runs depth-first by canvas position; anything else is
/// n8n's older breadth-first order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecutionOrder {
    V0,
    V1,
}

/// A workflow version, ready to run.
#[derive(Clone, Debug)]
pub struct Workflow {
    pub id: String,
    /// The saved version this is (absent for workflows built in tests).
    pub version_id: Option<String>,
    /// The project the workflow belongs to (absent for workflows built in tests).
    pub project_id: Option<String>,
    pub name: String,
    pub active: bool,
    pub nodes: Vec<Node>,
    by_name: HashMap<String, usize>,
    /// `children[node][output]`: where each main output of a node goes.
    children: HashMap<String, Vec<Vec<Edge>>>,
    /// `parents[node][input]`: what feeds each main input of a node.
    parents: HashMap<String, Vec<Vec<ParentEdge>>>,
    pub settings: JsonObject,
    pub static_data: JsonObject,
    pub pin_data: JsonObject,
}

#[derive(Deserialize)]
struct RawEdge {
    node: String,
    #[serde(rename = "type", default = "main")]
    kind: String,
    #[serde(default, deserialize_with = "lenient_usize")]
    index: usize,
}

impl Workflow {
    /// Reads a stored version. Fails only when `nodes` is not a list of named, typed nodes.
    pub fn parse(
        id: &str,
        name: &str,
        active: bool,
        nodes: &Value,
        connections: &Value,
        settings: &Value,
    ) -> Result<Workflow, String> {
        let list = nodes
            .as_array()
            .ok_or("the workflow's nodes are not a list")?;
        let mut parsed = Vec::with_capacity(list.len());
        let mut by_name = HashMap::with_capacity(list.len());
        for raw in list {
            let mut node: Node = serde_json::from_value(raw.clone())
                .map_err(|e| format!("a node of the workflow cannot be read: {e}"))?;
            node.raw = raw.clone();
            if by_name.insert(node.name.clone(), parsed.len()).is_some() {
                return Err(format!("two nodes are named \"{}\"", node.name));
            }
            parsed.push(node);
        }
        let mut children: HashMap<String, Vec<Vec<Edge>>> = HashMap::new();
        let mut parents: HashMap<String, Vec<Vec<ParentEdge>>> = HashMap::new();
        if let Some(sources) = connections.as_object() {
            for (source, by_type) in sources {
                if !by_name.contains_key(source) {
                    continue;
                }
                let Some(outputs) = by_type.get("main").and_then(Value::as_array) else {
                    continue;
                };
                let mut node_children = Vec::with_capacity(outputs.len());
                for (output, targets) in outputs.iter().enumerate() {
                    let edges: Vec<RawEdge> = targets
                        .as_array()
                        .map(|t| {
                            t.iter()
                                .filter_map(|e| serde_json::from_value::<RawEdge>(e.clone()).ok())
                                .filter(|e| e.kind == "main" && by_name.contains_key(&e.node))
                                .collect()
                        })
                        .unwrap_or_default();
                    let mut output_edges = Vec::with_capacity(edges.len());
                    for edge in edges {
                        let inputs = parents.entry(edge.node.clone()).or_default();
                        if inputs.len() <= edge.index {
                            inputs.resize_with(edge.index + 1, Vec::new);
                        }
                        inputs[edge.index].push(ParentEdge {
                            node: source.clone(),
                            output,
                        });
                        output_edges.push(Edge {
                            node: edge.node,
                            input: edge.index,
                        });
                    }
                    node_children.push(output_edges);
                }
                children.insert(source.clone(), node_children);
            }
        }
        Ok(Workflow {
            id: id.to_owned(),
            version_id: None,
            project_id: None,
            name: name.to_owned(),
            active,
            nodes: parsed,
            by_name,
            children,
            parents,
            settings: settings.as_object().cloned().unwrap_or_default(),
            static_data: JsonObject::new(),
            pin_data: JsonObject::new(),
        })
    }

    pub fn node(&self, name: &str) -> Option<&Node> {
        self.by_name.get(name).map(|&i| &self.nodes[i])
    }

    /// Where output `output` of `node` goes.
    pub fn children(&self, node: &str, output: usize) -> &[Edge] {
        self.children
            .get(node)
            .and_then(|outputs| outputs.get(output))
            .map_or(&[], Vec::as_slice)
    }

    /// How many outputs of `node` have connections (the highest connected index + 1).
    pub fn connected_outputs(&self, node: &str) -> usize {
        self.children.get(node).map_or(0, Vec::len)
    }

    /// What feeds input `input` of `node`.
    pub fn parents(&self, node: &str, input: usize) -> &[ParentEdge] {
        self.parents
            .get(node)
            .and_then(|inputs| inputs.get(input))
            .map_or(&[], Vec::as_slice)
    }

    /// How many inputs of `node` have connections.
    pub fn connected_inputs(&self, node: &str) -> usize {
        self.parents.get(node).map_or(0, Vec::len)
    }

    /// Every node that feeds `node`, directly or not, nearest first.
    pub fn ancestors(&self, node: &str) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        let mut queue: std::collections::VecDeque<&str> = [node].into();
        while let Some(current) = queue.pop_front() {
            if let Some(inputs) = self.parents.get(current) {
                for edge in inputs.iter().flatten() {
                    let name = edge.node.as_str();
                    if name != node && !seen.contains(&name) {
                        seen.push(name);
                        queue.push_back(name);
                    }
                }
            }
        }
        seen
    }

    pub fn execution_order(&self) -> ExecutionOrder {
        match self.settings.get("executionOrder").and_then(Value::as_str) {
            Some("v1") => ExecutionOrder::V1,
            _ => ExecutionOrder::V0,
        }
    }

    /// `settings.timezone`, unless it is absent or n8n's "DEFAULT".
    pub fn timezone(&self) -> Option<&str> {
        self.settings
            .get("timezone")
            .and_then(Value::as_str)
            .filter(|tz| !tz.is_empty() && *tz != "DEFAULT")
    }
}

fn one() -> f64 {
    1.0
}

fn main() -> String {
    "main".to_owned()
}

fn lenient_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Value::deserialize(d)?.as_f64().unwrap_or(1.0))
}

fn lenient_opt_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    Ok(Value::deserialize(d)?.as_f64())
}

fn lenient_usize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    Ok(Value::deserialize(d)?
        .as_u64()
        .map_or(0, |n| usize::try_from(n).unwrap_or(0)))
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Value::deserialize(d)?.as_bool().unwrap_or(false))
}

fn lenient_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => Some(s),
        _ => None,
    })
}

fn lenient_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<JsonObject, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Object(map) => map,
        _ => JsonObject::new(),
    })
}

fn lenient_position<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; 2], D::Error> {
    let value = Value::deserialize(d)?;
    let at = |i: usize| value.get(i).and_then(Value::as_f64).unwrap_or(0.0);
    Ok([at(0), at(1)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Workflow {
        let nodes = json!([
            {"name": "Hook", "type": "n8n-nodes-base.webhook", "typeVersion": 2, "position": [0, 0], "parameters": {"path": "x"}},
            {"name": "If", "type": "n8n-nodes-base.if", "typeVersion": 2.2, "position": [200, 0], "parameters": {}},
            {"name": "Yes", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [400, -100]},
            {"name": "Merge", "type": "n8n-nodes-base.merge", "typeVersion": 3, "position": [600, 0], "continueOnFail": true}
        ]);
        let connections = json!({
            "Hook": {"main": [[{"node": "If", "type": "main", "index": 0}]]},
            "If": {"main": [[{"node": "Yes", "type": "main", "index": 0}], [{"node": "Merge", "type": "main", "index": 1}]]},
            "Yes": {"main": [[{"node": "Merge", "type": "main", "index": 0}]]},
            "Gone": {"main": [[{"node": "Yes", "type": "main", "index": 0}]]}
        });
        Workflow::parse(
            "w1",
            "Sample",
            true,
            &nodes,
            &connections,
            &json!({"executionOrder": "v1"}),
        )
        .expect("workflow")
    }

    #[test]
    fn connections_are_read_both_ways() {
        let workflow = sample();
        assert_eq!(
            workflow.children("If", 1),
            &[Edge {
                node: "Merge".into(),
                input: 1
            }]
        );
        assert_eq!(workflow.parents("Merge", 0)[0].node, "Yes");
        assert_eq!(workflow.parents("Merge", 1)[0].output, 1);
        assert_eq!(workflow.connected_inputs("Merge"), 2);
        // An edge from a node that does not exist is ignored.
        assert_eq!(workflow.parents("Yes", 0).len(), 1);
        assert_eq!(workflow.ancestors("Merge"), vec!["Yes", "If", "Hook"]);
        assert_eq!(workflow.execution_order(), ExecutionOrder::V1);
    }

    #[test]
    fn node_settings_take_n8ns_defaults() {
        let workflow = sample();
        let hook = workflow.node("Hook").expect("node");
        assert_eq!(hook.type_version, 2.0);
        assert_eq!(hook.on_error(), OnError::StopWorkflow);
        assert_eq!(hook.short_kind(), "webhook");
        let merge = workflow.node("Merge").expect("node");
        assert_eq!(merge.on_error(), OnError::ContinueRegularOutput);
        assert!(merge.parameters.is_empty());
    }

    #[test]
    fn duplicate_node_names_are_refused() {
        let nodes = json!([
            {"name": "A", "type": "n8n-nodes-base.noOp"},
            {"name": "A", "type": "n8n-nodes-base.noOp"}
        ]);
        assert!(Workflow::parse("w", "w", false, &nodes, &json!({}), &json!({})).is_err());
    }
}
