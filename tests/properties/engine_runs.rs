//! The run loop against generated workflows: whatever the graph (cycles, dangling edges,
//! nodes wired to inputs they lack, disabled and failing nodes, every error setting), a run
//! ends with a status before its deadline, and never panics.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use flowgate::engine::data::{Connections, ExecutionStatus, Item};
use flowgate::engine::nodes::Registry;
use flowgate::engine::run::{Run, RunEnv};
use flowgate::engine::workflow::Workflow;
use flowgate::expression::{ExecutionInfo, Expressions};
use proptest::prelude::*;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

/// How long one generated run may take: cycles run until this deadline stops them.
const DEADLINE: Duration = Duration::from_millis(300);

/// A node of a generated workflow (the trigger is always node 0).
#[derive(Clone, Debug)]
struct GenNode {
    kind: NodeKind,
    disabled: bool,
    always_output: bool,
    on_error: Option<&'static str>,
    execute_once: bool,
    retries: bool,
}

#[derive(Clone, Debug)]
enum NodeKind {
    NoOp,
    Set {
        field: String,
        value: Value,
    },
    SetJson(String),
    Stop,
    Unknown,
    /// A flow node with fixed parameters: (type, version, parameters).
    Flow(&'static str, f64, Value),
}

/// Flow nodes with the parameters real workflows give them (and a few they should not).
fn flow_node() -> impl Strategy<Value = NodeKind> {
    let condition = |op: &str, right: Value| {
        json!({"conditions": {"options": {"caseSensitive": true, "typeValidation": "loose"},
            "conditions": [{"leftValue": "={{ $json.a }}", "rightValue": right,
                "operator": {"type": "number", "operation": op}}], "combinator": "and"}})
    };
    prop_oneof![
        Just(NodeKind::Flow(
            "n8n-nodes-base.if",
            2.2,
            condition("gt", json!(0))
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.filter",
            2.2,
            condition("lt", json!("x"))
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.switch",
            3.2,
            json!({"mode": "expression", "numberOutputs": 2, "output": "={{ $json.a }}"})
        )),
        Just(NodeKind::Flow("n8n-nodes-base.merge", 3.0, json!({}))),
        Just(NodeKind::Flow(
            "n8n-nodes-base.merge",
            3.0,
            json!({"mode": "combine", "combineBy": "combineByPosition"})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.merge",
            2.1,
            json!({"mode": "chooseBranch"})
        )),
        (1i64..4).prop_map(|size| NodeKind::Flow(
            "n8n-nodes-base.splitInBatches",
            3.0,
            json!({"batchSize": size})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.limit",
            1.0,
            json!({"maxItems": 1})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.sort",
            1.0,
            json!({"sortFieldsUi": {"sortField": [{"fieldName": "a"}]}})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.aggregate",
            1.0,
            json!({"aggregate": "aggregateAllItemData"})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.splitOut",
            1.0,
            json!({"fieldToSplitOut": "data"})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.summarize",
            1.1,
            json!({"fieldsToSummarize": {"values": [{"aggregation": "sum", "field": "a"}]}})
        )),
        Just(NodeKind::Flow(
            "n8n-nodes-base.removeDuplicates",
            2.0,
            json!({})
        )),
    ]
}

fn node_kind() -> impl Strategy<Value = NodeKind> {
    prop_oneof![
        3 => Just(NodeKind::NoOp),
        3 => ("[a-z.\\[\\]0-9]{0,8}", prop_oneof![
            Just(json!("={{ $json.a }}")),
            Just(json!("={{ $json[\"x\"].y }}")),
            Just(json!("={{ ")),
            Just(json!("text {{ $json.missing }} more")),
            any::<i64>().prop_map(Value::from),
            "\\PC{0,12}".prop_map(Value::String),
        ]).prop_map(|(field, value)| NodeKind::Set { field, value }),
        1 => "\\PC{0,24}".prop_map(NodeKind::SetJson),
        1 => Just(NodeKind::Stop),
        1 => Just(NodeKind::Unknown),
        4 => flow_node(),
    ]
}

fn gen_node() -> impl Strategy<Value = GenNode> {
    (
        node_kind(),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.2),
        prop::option::of(prop_oneof![
            Just("continueRegularOutput"),
            Just("continueErrorOutput"),
            Just("stopWorkflow"),
        ]),
        prop::bool::weighted(0.15),
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(kind, disabled, always_output, on_error, execute_once, retries)| GenNode {
                kind,
                disabled,
                always_output,
                on_error,
                execute_once,
                retries,
            },
        )
}

/// An edge: from node, its output, to node, its input.
type GenEdge = (usize, usize, usize, usize);

fn workflow_json(nodes: &[GenNode], edges: &[GenEdge]) -> (Value, Value) {
    let name = |i: usize| {
        if i == 0 {
            "Trigger".to_owned()
        } else {
            format!("N{i}")
        }
    };
    let mut list = vec![json!({
        "name": "Trigger",
        "type": "n8n-nodes-base.manualTrigger",
        "typeVersion": 1,
        "position": [0, 0],
        "parameters": {}
    })];
    for (i, node) in nodes.iter().enumerate() {
        let i = i + 1;
        let (kind, version, parameters) = match &node.kind {
            NodeKind::NoOp => ("n8n-nodes-base.noOp", 1.0, json!({})),
            NodeKind::Set { field, value } => (
                "n8n-nodes-base.set",
                3.4,
                json!({"assignments": {"assignments": [
                    {"id": "a", "name": field, "value": value, "type": "string"}
                ]}, "includeOtherFields": true}),
            ),
            NodeKind::SetJson(text) => (
                "n8n-nodes-base.set",
                3.4,
                json!({"mode": "raw", "jsonOutput": text}),
            ),
            NodeKind::Stop => (
                "n8n-nodes-base.stopAndError",
                1.0,
                json!({"errorMessage": "stopped"}),
            ),
            NodeKind::Unknown => ("n8n-nodes-base.noSuchNode", 1.0, json!({})),
            NodeKind::Flow(kind, version, parameters) => (*kind, *version, parameters.clone()),
        };
        let mut value = json!({
            "name": name(i),
            "type": kind,
            "typeVersion": version,
            "position": [i * 200, (i % 3) * 100],
            "parameters": parameters,
            "disabled": node.disabled,
            "alwaysOutputData": node.always_output,
            "executeOnce": node.execute_once,
        });
        if let Some(on_error) = node.on_error {
            value["onError"] = json!(on_error);
        }
        if node.retries {
            value["retryOnFail"] = json!(true);
            value["maxTries"] = json!(2);
            value["waitBetweenTries"] = json!(0);
        }
        list.push(value);
    }
    let mut connections: BTreeMap<String, Vec<Vec<Value>>> = BTreeMap::new();
    for &(from, output, to, input) in edges {
        let outputs = connections.entry(name(from)).or_default();
        while outputs.len() <= output {
            outputs.push(Vec::new());
        }
        outputs[output].push(json!({"node": name(to), "type": "main", "index": input}));
    }
    let connections: serde_json::Map<String, Value> = connections
        .into_iter()
        .map(|(k, v)| (k, json!({ "main": v })))
        .collect();
    (Value::Array(list), Value::Object(connections))
}

fn env() -> Arc<RunEnv> {
    Arc::new(RunEnv {
        execution: ExecutionInfo {
            id: "1".to_owned(),
            mode: "manual".to_owned(),
            ..ExecutionInfo::default()
        },
        vars: Default::default(),
        env_vars: None,
        timezone: "UTC".to_owned(),
        expressions: Expressions::default(),
        code: Default::default(),
        registry: Arc::new(Registry::builtin()),
        cancel: CancellationToken::new(),
        deadline: Some(Instant::now() + DEADLINE),
        fixed_now: None,
        services: None,
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_generated_workflow_ends_with_a_status_before_its_deadline(
        nodes in prop::collection::vec(gen_node(), 1..7),
        raw_edges in prop::collection::vec((0usize..8, 0usize..3, 0usize..8, 0usize..3), 0..14),
        order in prop_oneof![Just("v0"), Just("v1")],
        items in prop::collection::vec(prop::collection::btree_map("[a-z]{1,3}", any::<i32>(), 0..3), 0..4),
    ) {
        let count = nodes.len() + 1;
        // Edges from the trigger first so most graphs run somewhere; any node may feed any
        // node, the trigger included (cycles and self-loops are the point).
        let mut edges: Vec<GenEdge> = vec![(0, 0, 1, 0)];
        edges.extend(raw_edges.into_iter().map(|(f, o, t, i)| (f % count, o, t % count, i)));
        let (node_list, connections) = workflow_json(&nodes, &edges);
        let settings = json!({ "executionOrder": order });
        let workflow = match Workflow::parse("w1", "generated", true, &node_list, &connections, &settings) {
            Ok(workflow) => Arc::new(workflow),
            Err(message) => {
                prop_assert!(!message.is_empty());
                return Ok(());
            }
        };
        let input: Vec<Item> = items
            .into_iter()
            .map(|fields| Item::new(fields.into_iter().map(|(k, v)| (k, json!(v))).collect()))
            .collect();
        let start = workflow.node("Trigger").cloned().expect("the trigger");
        let began = Instant::now();
        let status = runtime().block_on(async {
            let mut run = Run::start(Arc::clone(&workflow), env(), &start, Connections::single(input));
            tokio::time::timeout(DEADLINE * 10, run.execute()).await
        });
        prop_assert!(status.is_ok(), "the run did not end within ten times its deadline");
        let status = status.unwrap_or(ExecutionStatus::Unknown);
        prop_assert!(
            matches!(status, ExecutionStatus::Success | ExecutionStatus::Error | ExecutionStatus::Canceled),
            "status {status:?}"
        );
        prop_assert!(began.elapsed() < DEADLINE * 10);
    }
}
