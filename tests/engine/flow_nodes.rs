//! The flow-control nodes, run through real webhooks: If, Filter, Switch, Merge and Loop Over
//! Items. Several items are built the way any workflow can: one Edit Fields node per item
//! (JSON mode), appended by a Merge node with as many inputs. Expected answers were checked on
//! n8n 2.8.4 with the same workflows.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{call, last_execution, output_json, publish};

fn webhook(path: &str) -> Value {
    json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
           "position": [0, 0], "webhookId": format!("{path}-hook"),
           "parameters": {"path": path, "responseMode": "lastNode", "responseData": "allEntries", "options": {}}})
}

fn node(name: &str, kind: &str, version: f64, position: [i64; 2], parameters: Value) -> Value {
    json!({"id": name.to_lowercase().replace(' ', "-"), "name": name, "type": format!("n8n-nodes-base.{kind}"),
           "typeVersion": version, "position": position, "parameters": parameters})
}

/// An Edit Fields node whose one output item is `json`.
fn fixed(name: &str, y: i64, json: &Value) -> Value {
    node(
        name,
        "set",
        3.4,
        [200, y],
        json!({"mode": "raw", "jsonOutput": json.to_string(), "options": {}}),
    )
}

/// Connections `from` output -> `to` input.
struct Wires(serde_json::Map<String, Value>);

impl Wires {
    fn new() -> Wires {
        Wires(serde_json::Map::new())
    }

    fn add(mut self, from: &str, output: usize, to: &str, input: usize) -> Wires {
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
fn items_workflow(path: &str, items: &[Value]) -> (Vec<Value>, Wires) {
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

fn workflow(nodes: Vec<Value>, wires: Wires) -> Value {
    json!({"nodes": nodes, "connections": Value::Object(wires.0), "settings": {"executionOrder": "v1"}})
}

/// A filter parameter with one condition on `{{ $json.<field> }}`.
fn condition(field: &str, kind: &str, operation: &str, right: Value, strict: bool) -> Value {
    json!({
        "options": {"caseSensitive": true, "leftValue": "", "typeValidation": if strict { "strict" } else { "loose" }, "version": 2},
        "combinator": "and",
        "conditions": [{"id": "c1", "leftValue": format!("={{{{ $json.{field} }}}}"), "rightValue": right,
                        "operator": {"type": kind, "operation": operation}}]
    })
}

fn runs(execution: &Value, node: &str) -> usize {
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

/// Two branches into a Merge: input 1 gets `first`, input 2 gets `second`.
async fn merge(path: &str, first: &[Value], second: &[Value], parameters: Value) -> Value {
    let app = TestApp::spawn().await;
    let mut nodes = vec![webhook(path)];
    let mut wires = Wires::new();
    for (input, items) in [first, second].into_iter().enumerate() {
        for (i, item) in items.iter().enumerate() {
            let name = format!("In{} {}", input + 1, i + 1);
            nodes.push(fixed(&name, (input * 300 + i * 100) as i64, item));
            wires =
                wires
                    .add("Webhook", 0, &name, 0)
                    .add(&name, 0, &format!("Input {}", input + 1), i);
        }
        nodes.push(node(
            &format!("Input {}", input + 1),
            "merge",
            3.2,
            [400, input as i64 * 300],
            json!({"numberInputs": items.len().max(2)}),
        ));
        wires = wires.add(&format!("Input {}", input + 1), 0, "Merge", input);
    }
    nodes.push(node("Merge", "merge", 3.2, [600, 0], parameters));
    let id = publish(&app, path, &workflow(nodes, wires)).await;
    let answer = call(&app, "GET", &format!("/webhook/{path}"), None, &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let execution = last_execution(&app, &id).await;
    Value::Array(output_json(&execution, "Merge", 0, 0))
}

#[tokio::test]
async fn merge_combines_in_each_mode_as_n8n_does() {
    let left = [json!({"id": 1, "a": "x"}), json!({"id": 2, "a": "y"})];
    let right = [json!({"id": 1, "b": "p"}), json!({"id": 3, "b": "q"})];
    let fields = |join: &str| json!({"mode": "combine", "combineBy": "combineByFields", "fieldsToMatchString": "id", "joinMode": join, "options": {}});
    assert_eq!(
        merge("m-append", &left, &right, json!({})).await,
        json!([{"id": 1, "a": "x"}, {"id": 2, "a": "y"}, {"id": 1, "b": "p"}, {"id": 3, "b": "q"}])
    );
    assert_eq!(
        merge("m-matches", &left, &right, fields("keepMatches")).await,
        json!([{"id": 1, "a": "x", "b": "p"}])
    );
    assert_eq!(
        merge("m-nonmatches", &left, &right, fields("keepNonMatches")).await,
        json!([{"id": 2, "a": "y", "_source": "input1"}, {"id": 3, "b": "q", "_source": "input2"}])
    );
    assert_eq!(
        merge("m-everything", &left, &right, fields("keepEverything")).await,
        json!([{"id": 1, "a": "x", "b": "p"}, {"id": 2, "a": "y"}, {"id": 3, "b": "q"}])
    );
    assert_eq!(
        merge("m-enrich1", &left, &right, fields("enrichInput1")).await,
        json!([{"id": 1, "a": "x", "b": "p"}, {"id": 2, "a": "y"}])
    );
    assert_eq!(
        merge("m-enrich2", &left, &right, fields("enrichInput2")).await,
        json!([{"id": 1, "b": "p", "a": "x"}, {"id": 3, "b": "q"}])
    );
    assert_eq!(
        merge(
            "m-position",
            &left,
            &right,
            json!({"mode": "combine", "combineBy": "combineByPosition", "options": {}})
        )
        .await,
        json!([{"id": 1, "a": "x", "b": "p"}, {"id": 3, "a": "y", "b": "q"}])
    );
    assert_eq!(
        merge(
            "m-all",
            &left[..1],
            &right,
            json!({"mode": "combine", "combineBy": "combineAll", "options": {}})
        )
        .await,
        json!([{"id": 1, "a": "x", "b": "p"}, {"id": 3, "a": "x", "b": "q"}])
    );
    assert_eq!(
        merge(
            "m-branch",
            &left,
            &right,
            json!({"mode": "chooseBranch", "useDataOfInput": 2})
        )
        .await,
        json!(right)
    );
}

#[tokio::test]
async fn merge_runs_with_the_input_that_arrived_when_the_other_never_does() {
    let app = TestApp::spawn().await;
    let never = json!({"options": {"caseSensitive": true, "leftValue": "", "typeValidation": "strict", "version": 2},
        "combinator": "and", "conditions": [{"id": "x", "leftValue": 1, "rightValue": 2, "operator": {"type": "number", "operation": "equals"}}]});
    let nodes = vec![
        webhook("merge-one"),
        fixed("A", 0, &json!({"id": 1, "a": "x"})),
        fixed("B", 200, &json!({"id": 1, "b": "y"})),
        node(
            "Never",
            "if",
            2.2,
            [400, 200],
            json!({"conditions": never, "options": {}}),
        ),
        node("Merge", "merge", 3.2, [600, 0], json!({})),
    ];
    let wires = Wires::new()
        .add("Webhook", 0, "A", 0)
        .add("Webhook", 0, "B", 0)
        .add("A", 0, "Merge", 0)
        .add("B", 0, "Never", 0)
        .add("Never", 0, "Merge", 1);
    let id = publish(&app, "merge-one", &workflow(nodes, wires)).await;

    let answer = call(&app, "GET", "/webhook/merge-one", None, &[]).await;

    assert_eq!(answer.json(), json!([{"id": 1, "a": "x"}]));
    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["data"]["resultData"]["lastNodeExecuted"], "Merge");
}

#[tokio::test]
async fn loop_over_items_hands_out_batches_until_done() {
    let app = TestApp::spawn().await;
    let items: Vec<Value> = (1..=5).map(|n| json!({"n": n})).collect();
    let (mut nodes, wires) = items_workflow("loop", &items);
    nodes.push(node(
        "Loop",
        "splitInBatches",
        3.0,
        [600, 0],
        json!({"batchSize": 2, "options": {}}),
    ));
    nodes.push(node(
        "Inside",
        "set",
        3.4,
        [800, 100],
        json!({"assignments": {"assignments": [{"id": "a", "name": "seen", "value": "={{ $json.n }}", "type": "number"}]},
               "includeOtherFields": true, "options": {}}),
    ));
    nodes.push(node("Done", "noOp", 1.0, [800, -100], json!({})));
    let wires = wires
        .add("Items", 0, "Loop", 0)
        .add("Loop", 0, "Done", 0)
        .add("Loop", 1, "Inside", 0)
        .add("Inside", 0, "Loop", 0);
    let id = publish(&app, "loop", &workflow(nodes, wires)).await;

    let answer = call(&app, "GET", "/webhook/loop", None, &[]).await;

    let seen: Vec<Value> = (1..=5).map(|n| json!({"n": n, "seen": n})).collect();
    assert_eq!(answer.json(), Value::Array(seen.clone()));
    let execution = last_execution(&app, &id).await;
    assert_eq!(
        (runs(&execution, "Loop"), runs(&execution, "Inside")),
        (4, 3)
    );
    for (run, batch) in [(0, vec![1, 2]), (1, vec![3, 4]), (2, vec![5])] {
        let expected: Vec<Value> = batch.iter().map(|n| json!({"n": n})).collect();
        assert_eq!(
            output_json(&execution, "Loop", run, 1),
            expected,
            "batch {run}"
        );
        assert!(output_json(&execution, "Loop", run, 0).is_empty());
    }
    assert_eq!(output_json(&execution, "Loop", 3, 0), seen);
    let later =
        &execution["data"]["resultData"]["runData"]["Loop"][1]["data"]["main"][1][0]["pairedItem"];
    assert_eq!(
        later,
        &json!({"item": 2, "sourceOverwrite": {"previousNode": "Items", "previousNodeOutput": 0, "previousNodeRun": 0}})
    );
}

#[tokio::test]
async fn split_in_batches_v1_and_v2_loop_until_their_items_are_used_up() {
    for version in [1.0, 2.0] {
        let app = TestApp::spawn().await;
        let path = format!("split-v{version}");
        let items: Vec<Value> = (1..=3).map(|n| json!({"n": n})).collect();
        let (mut nodes, wires) = items_workflow(&path, &items);
        nodes.push(node(
            "Split",
            "splitInBatches",
            version,
            [600, 0],
            json!({"batchSize": 2, "options": {}}),
        ));
        nodes.push(node("Body", "noOp", 1.0, [800, 0], json!({})));
        nodes.push(node("Finished", "noOp", 1.0, [800, 200], json!({})));
        let mut wires = wires
            .add("Items", 0, "Split", 0)
            .add("Split", 0, "Body", 0)
            .add("Body", 0, "Split", 0);
        if version >= 2.0 {
            wires = wires.add("Split", 1, "Finished", 0);
        }
        let id = publish(&app, &path, &workflow(nodes, wires)).await;

        let answer = call(&app, "GET", &format!("/webhook/{path}"), None, &[]).await;

        let execution = last_execution(&app, &id).await;
        if version < 2.0 {
            // v1 puts out nothing once empty: that run is not recorded and the loop ends.
            assert_eq!(answer.json(), json!([{"n": 3}]));
            assert_eq!(runs(&execution, "Split"), 2);
        } else {
            // v2: "loop" is output 0, "done" output 1.
            assert_eq!(answer.json(), Value::Array(items.clone()));
            assert_eq!(runs(&execution, "Split"), 3);
            assert_eq!(
                output_json(&execution, "Split", 1, 0),
                vec![json!({"n": 3})]
            );
            assert_eq!(output_json(&execution, "Split", 2, 1), items);
        }
        assert_eq!(runs(&execution, "Body"), 2);
    }
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
