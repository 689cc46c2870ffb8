//! Merge in each mode, and with an input that never arrives.

use serde_json::{json, Value};

use super::{fixed, node, webhook, workflow, Wires};
use crate::helpers::TestApp;
use crate::support::{call, last_execution, output_json, publish};

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
