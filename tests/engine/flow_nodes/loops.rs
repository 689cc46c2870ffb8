//! Loop Over Items (v3) and Split In Batches (v1, v2).

use serde_json::{json, Value};

use super::{items_workflow, node, runs, workflow};
use crate::helpers::TestApp;
use crate::support::{call, last_execution, output_json, publish};

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
