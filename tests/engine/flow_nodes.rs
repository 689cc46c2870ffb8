//! The flow-control nodes, run through real webhooks: If, Filter, Switch, Merge and Loop Over
//! Items. Several items are built the way any workflow can: one Edit Fields node per item
//! (JSON mode), appended by a Merge node with as many inputs. Expected answers were checked on
//! n8n 2.8.4 with the same workflows.

use serde_json::{json, Value};

mod loops;
mod merge;

use crate::helpers::TestApp;
use crate::support::{call, last_execution, output_json, publish};

pub(super) fn webhook(path: &str) -> Value {
    json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
           "position": [0, 0], "webhookId": format!("{path}-hook"),
           "parameters": {"path": path, "responseMode": "lastNode", "responseData": "allEntries", "options": {}}})
}

pub(super) fn node(
    name: &str,
    kind: &str,
    version: f64,
    position: [i64; 2],
    parameters: Value,
) -> Value {
    json!({"id": name.to_lowercase().replace(' ', "-"), "name": name, "type": format!("n8n-nodes-base.{kind}"),
           "typeVersion": version, "position": position, "parameters": parameters})
}

/// An Edit Fields node whose one output item is `json`.
pub(super) fn fixed(name: &str, y: i64, json: &Value) -> Value {
    node(
        name,
        "set",
        3.4,
        [200, y],
        json!({"mode": "raw", "jsonOutput": json.to_string(), "options": {}}),
    )
}

/// Connections `from` output -> `to` input.
pub(super) struct Wires(serde_json::Map<String, Value>);

impl Wires {
    pub(super) fn new() -> Wires {
        Wires(serde_json::Map::new())
    }

    pub(super) fn add(mut self, from: &str, output: usize, to: &str, input: usize) -> Wires {
        let outputs = self
            .0
            .entry(from.to_owned())
            .or_insert_with(|| json!({"main": []}));
        let list = outputs["main"].as_array_mut().expect("main");
        while list.len() <= output {
            list.push(json!([]));
        }
        list[output]
            .as_array_mut()
            .expect("output")
            .push(json!({"node": to, "type": "main", "index": input}));
        self
    }
}

/// A webhook followed by a node "Items" that puts out `items` (one Edit Fields node each,
/// appended by a Merge); answers the nodes and wires to extend.
pub(super) fn items_workflow(path: &str, items: &[Value]) -> (Vec<Value>, Wires) {
    let mut nodes = vec![webhook(path)];
    let mut wires = Wires::new();
    for (i, item) in items.iter().enumerate() {
        let name = format!("Item {}", i + 1);
        nodes.push(fixed(&name, i as i64 * 100, item));
        wires = wires.add("Webhook", 0, &name, 0).add(&name, 0, "Items", i);
    }
    nodes.push(node(
        "Items",
        "merge",
        3.2,
        [400, 0],
        json!({"numberInputs": items.len()}),
    ));
    (nodes, wires)
}

pub(super) fn workflow(nodes: Vec<Value>, wires: Wires) -> Value {
    json!({"nodes": nodes, "connections": Value::Object(wires.0), "settings": {"executionOrder": "v1"}})
}

/// A filter parameter with one condition on `{{ $json.<field> }}`.
pub(super) fn condition(
    field: &str,
    kind: &str,
    operation: &str,
    right: Value,
    strict: bool,
) -> Value {
    json!({
        "options": {"caseSensitive": true, "leftValue": "", "typeValidation": if strict { "strict" } else { "loose" }, "version": 2},
        "combinator": "and",
        "conditions": [{"id": "c1", "leftValue": format!("={{{{ $json.{field} }}}}"), "rightValue": right,
                        "operator": {"type": kind, "operation": operation}}]
    })
}

pub(super) fn runs(execution: &Value, node: &str) -> usize {
    execution["data"]["resultData"]["runData"][node]
        .as_array()
        .map_or(0, Vec::len)
}

#[tokio::test]
async fn if_sends_passing_items_to_true_and_the_rest_to_false() {
    let app = TestApp::spawn().await;
    let (mut nodes, wires) = items_workflow(
        "if-split",
        &[json!({"n": 1}), json!({"n": "7"}), json!({"n": 12})],
    );
    nodes.push(node(
        "If",
        "if",
        2.2,
        [600, 0],
        json!({"conditions": condition("n", "number", "gt", json!(5), false), "looseTypeValidation": true, "options": {}}),
    ));
    nodes.push(node("Big", "noOp", 1.0, [800, -100], json!({})));
    nodes.push(node("Small", "noOp", 1.0, [800, 100], json!({})));
    let wires = wires
        .add("Items", 0, "If", 0)
        .add("If", 0, "Big", 0)
        .add("If", 1, "Small", 0);
    let id = publish(&app, "if", &workflow(nodes, wires)).await;

    let answer = call(&app, "GET", "/webhook/if-split", None, &[]).await;

    // `v1` order runs the top child first, so the false branch ends the run.
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json(), json!([{"n": 1}]));
    let execution = last_execution(&app, &id).await;
    assert_eq!(
        output_json(&execution, "If", 0, 0),
        vec![json!({"n": "7"}), json!({"n": 12})]
    );
    assert_eq!(output_json(&execution, "If", 0, 1), vec![json!({"n": 1})]);
    let paired =
        &execution["data"]["resultData"]["runData"]["If"][0]["data"]["main"][0][1]["pairedItem"];
    assert_eq!(paired, &json!({"item": 2}));
    assert_eq!(output_json(&execution, "Big", 0, 0).len(), 2);
}

#[tokio::test]
async fn a_strict_if_fails_on_a_value_of_the_wrong_type_naming_the_condition() {
    let app = TestApp::spawn().await;
    let (mut nodes, wires) = items_workflow("if-strict", &[json!({"n": 1}), json!({"n": "7"})]);
    nodes.push(node(
        "If",
        "if",
        2.2,
        [600, 0],
        json!({"conditions": condition("n", "number", "gt", json!(5), true), "options": {}}),
    ));
    let id = publish(
        &app,
        "strict",
        &workflow(nodes, wires.add("Items", 0, "If", 0)),
    )
    .await;

    let answer = call(&app, "GET", "/webhook/if-strict", None, &[]).await;

    assert_eq!(answer.status, 500, "{}", answer.text());
    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["status"], "error");
    let error = &execution["data"]["resultData"]["error"];
    assert_eq!(
        error["message"],
        "Wrong type: '7' is a string but was expecting a number [condition 0, item 1]"
    );
    assert!(error["description"].as_str().is_some_and(
        |d| d.contains("Converting the first field to a number by adding <code>.toNumber()</code>")
    ));
}

#[tokio::test]
async fn filter_keeps_passing_items_and_records_the_discarded_ones() {
    let app = TestApp::spawn().await;
    let (mut nodes, wires) = items_workflow(
        "filter",
        &[json!({"s": "a"}), json!({"s": "B"}), json!({"s": "b"})],
    );
    nodes.push(node(
        "Filter",
        "filter",
        2.2,
        [600, 0],
        json!({"conditions": condition("s", "string", "equals", json!("b"), true), "options": {}}),
    ));
    let id = publish(
        &app,
        "filter",
        &workflow(nodes, wires.add("Items", 0, "Filter", 0)),
    )
    .await;

    let answer = call(&app, "GET", "/webhook/filter", None, &[]).await;

    assert_eq!(answer.json(), json!([{"s": "b"}]));
    let execution = last_execution(&app, &id).await;
    assert_eq!(
        output_json(&execution, "Filter", 0, 0),
        vec![json!({"s": "b"})]
    );
    assert_eq!(
        output_json(&execution, "Filter", 0, 1),
        vec![json!({"s": "a"}), json!({"s": "B"})]
    );
}

#[tokio::test]
async fn switch_routes_by_rules_with_an_extra_fallback_output() {
    let app = TestApp::spawn().await;
    let kinds = [
        json!({"kind": "a"}),
        json!({"kind": "b"}),
        json!({"kind": "z"}),
        json!({"kind": "A"}),
    ];
    let (mut nodes, wires) = items_workflow("switch", &kinds);
    let rule =
        |v: &str| json!({"conditions": condition("kind", "string", "equals", json!(v), true)});
    nodes.push(node(
        "Switch",
        "switch",
        3.2,
        [600, 0],
        json!({"rules": {"values": [rule("a"), rule("b")]}, "options": {"fallbackOutput": "extra"}}),
    ));
    nodes.push(node("Other", "noOp", 1.0, [800, 0], json!({})));
    let wires = wires
        .add("Items", 0, "Switch", 0)
        .add("Switch", 2, "Other", 0);
    let id = publish(&app, "switch", &workflow(nodes, wires)).await;

    let answer = call(&app, "GET", "/webhook/switch", None, &[]).await;

    assert_eq!(answer.json(), json!([{"kind": "z"}, {"kind": "A"}]));
    let execution = last_execution(&app, &id).await;
    assert_eq!(
        output_json(&execution, "Switch", 0, 0),
        vec![json!({"kind": "a"})]
    );
    assert_eq!(
        output_json(&execution, "Switch", 0, 1),
        vec![json!({"kind": "b"})]
    );
    assert_eq!(output_json(&execution, "Switch", 0, 2).len(), 2);
}

#[tokio::test]
async fn switch_expression_mode_rejects_the_index_of_a_missing_output() {
    let app = TestApp::spawn().await;
    let (mut nodes, wires) = items_workflow("switch-expr", &[json!({"to": 0}), json!({"to": 3})]);
    nodes.push(node(
        "Switch",
        "switch",
        3.2,
        [600, 0],
        json!({"mode": "expression", "numberOutputs": 3, "output": "={{ $json.to }}"}),
    ));
    let id = publish(
        &app,
        "switch-expr",
        &workflow(nodes, wires.add("Items", 0, "Switch", 0)),
    )
    .await;

    call(&app, "GET", "/webhook/switch-expr", None, &[]).await;

    let execution = last_execution(&app, &id).await;
    let error = &execution["data"]["resultData"]["error"];
    assert_eq!(error["message"], "The ouput 3 is not allowed. ");
    assert_eq!(
        error["description"],
        "Output indexes are zero based, if you want to use the extra output use 2"
    );
}

#[tokio::test]
async fn the_first_versions_of_if_filter_and_switch_read_their_typed_lists() {
    let app = TestApp::spawn().await;
    let (mut nodes, wires) = items_workflow(
        "legacy",
        &[json!({"n": 3, "s": "abc"}), json!({"n": 8, "s": "xyz"})],
    );
    nodes.push(node(
        "If",
        "if",
        1.0,
        [600, -200],
        json!({"conditions": {"number": [{"value1": "={{ $json.n }}", "operation": "larger", "value2": 5}],
                              "string": [{"value1": "={{ $json.s }}", "operation": "contains", "value2": "y"}]},
               "combineOperation": "any"}),
    ));
    nodes.push(node(
        "Filter",
        "filter",
        1.0,
        [600, 0],
        json!({"conditions": {"number": [{"value1": "={{ $json.n }}", "operation": "smallerEqual", "value2": 3}]}}),
    ));
    nodes.push(node(
        "Switch 1",
        "switch",
        1.0,
        [600, 200],
        json!({"dataType": "string", "value1": "={{ $json.s }}",
               "rules": {"rules": [{"operation": "equal", "value2": "xyz", "output": 2}]}, "fallbackOutput": 3}),
    ));
    nodes.push(node(
        "Switch 2",
        "switch",
        2.0,
        [600, 400],
        json!({"dataType": "number", "value1": "={{ $json.n }}",
               "rules": {"rules": [{"operation": "smaller", "value2": 5}, {"operation": "larger", "value2": 5}]}}),
    ));
    let mut wires = wires;
    for target in ["If", "Filter", "Switch 1", "Switch 2"] {
        wires = wires.add("Items", 0, target, 0);
    }
    let id = publish(&app, "legacy", &workflow(nodes, wires)).await;

    call(&app, "GET", "/webhook/legacy", None, &[]).await;

    let execution = last_execution(&app, &id).await;
    let outputs = |node: &str| -> Vec<Vec<Value>> {
        (0..4)
            .map(|o| output_json(&execution, node, 0, o))
            .collect()
    };
    let (low, high) = (json!({"n": 3, "s": "abc"}), json!({"n": 8, "s": "xyz"}));
    assert_eq!(outputs("If")[..2], [vec![high.clone()], vec![low.clone()]]);
    assert_eq!(
        outputs("Filter")[..2],
        [vec![low.clone()], vec![high.clone()]]
    );
    assert_eq!(
        outputs("Switch 1"),
        vec![vec![], vec![], vec![high.clone()], vec![low.clone()]]
    );
    assert_eq!(outputs("Switch 2")[..2], [vec![low], vec![high]]);
}

#[tokio::test]
async fn switch_sends_to_every_matching_output_and_falls_back_to_a_rule_output() {
    let app = TestApp::spawn().await;
    let kinds = [
        json!({"kind": "a"}),
        json!({"kind": "b"}),
        json!({"kind": "z"}),
    ];
    let (mut nodes, wires) = items_workflow("switch-all", &kinds);
    let rule =
        |op: &str, v: &str| json!({"conditions": condition("kind", "string", op, json!(v), true)});
    nodes.push(node(
        "Switch",
        "switch",
        3.2,
        [600, 0],
        json!({"rules": {"values": [rule("equals", "a"), rule("notEquals", "b"), rule("equals", "q")]},
               "options": {"allMatchingOutputs": true, "fallbackOutput": 2}}),
    ));
    let id = publish(
        &app,
        "switch-all",
        &workflow(nodes, wires.add("Items", 0, "Switch", 0)),
    )
    .await;

    call(&app, "GET", "/webhook/switch-all", None, &[]).await;

    let execution = last_execution(&app, &id).await;
    assert_eq!(
        output_json(&execution, "Switch", 0, 0),
        vec![json!({"kind": "a"})]
    );
    assert_eq!(
        output_json(&execution, "Switch", 0, 1),
        vec![json!({"kind": "a"}), json!({"kind": "z"})]
    );
    assert_eq!(
        output_json(&execution, "Switch", 0, 2),
        vec![json!({"kind": "b"})]
    );
}

#[tokio::test]
async fn an_if_that_continues_on_failure_sends_failing_items_to_false() {
    let app = TestApp::spawn().await;
    let (mut nodes, wires) =
        items_workflow("if-continue", &[json!({"kind": "a"}), json!({"kind": "b"})]);
    let mut check = node(
        "If",
        "if",
        2.2,
        [600, 0],
        json!({"conditions": condition("kind", "number", "gt", json!(5), true), "options": {}}),
    );
    check["onError"] = json!("continueRegularOutput");
    nodes.push(check);
    let id = publish(
        &app,
        "if-continue",
        &workflow(nodes, wires.add("Items", 0, "If", 0)),
    )
    .await;

    call(&app, "GET", "/webhook/if-continue", None, &[]).await;

    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["status"], "success");
    assert!(output_json(&execution, "If", 0, 0).is_empty());
    assert_eq!(output_json(&execution, "If", 0, 1).len(), 2);
}
