//! The data a workflow run passes between nodes and stores in its execution, in n8n's JSON
//! shape: items, paired-item links, a node's runs (`runData[node][run]`), the stack of nodes
//! still to run, and the execution's `data` document.
//!
//! Field names and optional fields follow what n8n writes into an execution's `data`, so a
//! client reading `GET /executions/{id}?includeData=true` sees the same document from us as
//! from n8n.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object: the `json` of an item, a node's parameters.
pub type JsonObject = Map<String, Value>;

/// One item flowing between nodes (n8n's `INodeExecutionData`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Item {
    pub json: JsonObject,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<Map<String, Value>>,
    /// Which input item(s) this item came from; `$('Node').item` follows these links back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paired_item: Option<PairedItems>,
    /// Set on items a node put out in place of failing (`continueOnFail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

impl Item {
    /// An item of `json` with no binary data and no lineage.
    pub fn new(json: JsonObject) -> Item {
        Item {
            json,
            ..Item::default()
        }
    }

    /// An item of `json` paired with input item `index` of input 0.
    pub fn paired(json: JsonObject, index: usize) -> Item {
        Item {
            json,
            paired_item: Some(PairedItems::One(PairedItem::new(index))),
            ..Item::default()
        }
    }

    /// The input item(s) this item is linked to, as a list.
    pub fn lineage(&self) -> Vec<PairedItem> {
        match &self.paired_item {
            None => Vec::new(),
            Some(PairedItems::Index(i)) => vec![PairedItem::new(*i)],
            Some(PairedItems::One(p)) => vec![p.clone()],
            Some(PairedItems::Many(list)) => list.clone(),
        }
    }
}

/// A link from an output item to the input item it came from (n8n's `IPairedItemData`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PairedItem {
    pub item: usize,
    /// The node input the item arrived on; absent means input 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input: Option<usize>,
    /// Where the linked item really came from when it is not the node's current input (Loop
    /// Over Items hands out items it received in an earlier run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_overwrite: Option<SourceData>,
}

impl PairedItem {
    pub fn new(item: usize) -> PairedItem {
        PairedItem {
            item,
            input: None,
            source_overwrite: None,
        }
    }

    pub fn on_input(item: usize, input: usize) -> PairedItem {
        PairedItem {
            item,
            input: (input > 0).then_some(input),
            source_overwrite: None,
        }
    }

    pub fn input(&self) -> usize {
        self.input.unwrap_or(0)
    }
}

/// n8n accepts a bare index, one link, or several links.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PairedItems {
    Index(usize),
    One(PairedItem),
    Many(Vec<PairedItem>),
}

/// Where a node's input came from (n8n's `ISourceData`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceData {
    pub previous_node: String,
    #[serde(default)]
    pub previous_node_output: usize,
    #[serde(default)]
    pub previous_node_run: usize,
}

/// The items of each output (or input) of a node: `{"main": [[items], null, ...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Connections {
    #[serde(default)]
    pub main: Vec<Option<Vec<Item>>>,
}

impl Connections {
    pub fn single(items: Vec<Item>) -> Connections {
        Connections {
            main: vec![Some(items)],
        }
    }

    /// The items of output/input `index`, empty when absent.
    pub fn items(&self, index: usize) -> &[Item] {
        self.main
            .get(index)
            .and_then(Option::as_ref)
            .map_or(&[], Vec::as_slice)
    }
}

/// The sources of each input of a node: `{"main": [source | null, ...]}`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsSource {
    #[serde(default)]
    pub main: Vec<Option<SourceData>>,
}

/// The status of a node run or of a whole execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionStatus {
    New,
    Running,
    Success,
    Error,
    Canceled,
    Crashed,
    Waiting,
    Unknown,
}

impl ExecutionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecutionStatus::New => "new",
            ExecutionStatus::Running => "running",
            ExecutionStatus::Success => "success",
            ExecutionStatus::Error => "error",
            ExecutionStatus::Canceled => "canceled",
            ExecutionStatus::Crashed => "crashed",
            ExecutionStatus::Waiting => "waiting",
            ExecutionStatus::Unknown => "unknown",
        }
    }
}

/// One run of a node (n8n's `ITaskData`): `runData[node][runIndex]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskData {
    /// Unix milliseconds.
    pub start_time: i64,
    /// The order of this run among all node runs of the execution.
    #[serde(default)]
    pub execution_index: usize,
    /// Milliseconds.
    pub execution_time: i64,
    pub execution_status: ExecutionStatus,
    /// Where each input came from (`null` for a start node).
    #[serde(default)]
    pub source: Vec<Option<SourceData>>,
    /// The node's outputs; absent when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Connections>,
    /// n8n's serialised error (`message`, `name`, `description`, `stack`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    /// Advice a node gives about its run (n8n shows these in the editor); kept for the shape.
    #[serde(default)]
    pub hints: Vec<Value>,
}

/// The runs of every node that ran, in the order they first ran.
pub type RunData = indexmap::IndexMap<String, Vec<TaskData>>;

/// A node waiting on the stack with its input (n8n's `IExecuteData`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExecuteData {
    /// The node as written in the workflow (n8n stores the whole node here).
    pub node: Value,
    pub data: Connections,
    pub source: Option<ConnectionsSource>,
}

/// What is left to do: the stack and the partial inputs of multi-input nodes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionState {
    #[serde(default)]
    pub context_data: JsonObject,
    #[serde(default)]
    pub node_execution_stack: Vec<ExecuteData>,
    #[serde(default)]
    pub metadata: JsonObject,
    /// `waitingExecution[node][runIndex].main[input]`: inputs that arrived before the others.
    #[serde(default)]
    pub waiting_execution: indexmap::IndexMap<String, indexmap::IndexMap<usize, Connections>>,
    #[serde(default)]
    pub waiting_execution_source:
        indexmap::IndexMap<String, indexmap::IndexMap<usize, ConnectionsSource>>,
}

/// The results so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResultData {
    /// The execution's error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
    #[serde(default)]
    pub run_data: RunData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin_data: Option<JsonObject>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_node_executed: Option<String>,
    /// The execution's custom data (`$execution.customData`), as n8n keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<JsonObject>,
}

/// An execution's `data` document (n8n's `IRunExecutionData`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunExecutionData {
    /// The document's format version (n8n writes 1).
    #[serde(default = "format_version")]
    pub version: u32,
    #[serde(default)]
    pub start_data: JsonObject,
    #[serde(default)]
    pub result_data: ResultData,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_data: Option<ExecutionState>,
    /// ISO-8601, while the execution waits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_till: Option<String>,
}

impl Default for RunExecutionData {
    fn default() -> RunExecutionData {
        RunExecutionData {
            version: format_version(),
            start_data: JsonObject::new(),
            result_data: ResultData::default(),
            execution_data: None,
            wait_till: None,
        }
    }
}

fn format_version() -> u32 {
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paired_items_read_every_form_n8n_writes() {
        let forms = [
            (json!(3), vec![PairedItem::new(3)]),
            (json!({"item": 1}), vec![PairedItem::new(1)]),
            (
                json!({"item": 1, "input": 1}),
                vec![PairedItem::on_input(1, 1)],
            ),
            (
                json!([{"item": 0}, {"item": 2}]),
                vec![PairedItem::new(0), PairedItem::new(2)],
            ),
        ];
        for (form, expected) in forms {
            let item: Item =
                serde_json::from_value(json!({"json": {}, "pairedItem": form})).expect("item");
            assert_eq!(item.lineage(), expected);
        }
    }

    #[test]
    fn an_item_is_written_as_n8n_writes_it() {
        let item = Item::paired(json!({"a": 1}).as_object().expect("object").clone(), 2);
        assert_eq!(
            serde_json::to_value(&item).expect("json"),
            json!({"json": {"a": 1}, "pairedItem": {"item": 2}})
        );
    }
}
