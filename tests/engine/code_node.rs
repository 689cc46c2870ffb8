//! The Code node (and the legacy Function / Function Item nodes) run from a webhook: what
//! they return, how n8n's wrong shapes and thrown errors are recorded, the sandbox (no
//! `require`, `process`, `fetch`), and the time and memory limits. Messages and error shapes
//! were checked against n8n 2.8.4, except the limits' descriptions (ours name the setting).

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::support::{call, last_execution, output_json, publish};

/// Webhook (answering every item of the last node) → Split Out of `body.rows` → `nodes`.
fn workflow(path: &str, nodes: Vec<Value>) -> Value {
    let mut all = vec![
        json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
               "position": [0, 0], "webhookId": format!("{path}-hook"),
               "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode",
                              "responseData": "allEntries", "options": {}}}),
        json!({"id": "rows", "name": "Rows", "type": "n8n-nodes-base.splitOut", "typeVersion": 1,
               "position": [200, 0], "parameters": {"fieldToSplitOut": "body.rows", "options": {}}}),
    ];
    all.extend(nodes);
    let mut connections = serde_json::Map::new();
    for pair in all.windows(2) {
        connections.insert(
            pair[0]["name"].as_str().expect("name").to_owned(),
            json!({"main": [[{"node": pair[1]["name"], "type": "main", "index": 0}]]}),
        );
    }
    json!({"nodes": all, "connections": connections})
}

/// A Code node named `Code`.
fn code(mode: &str, js: &str) -> Value {
    json!({"id": "code", "name": "Code", "type": "n8n-nodes-base.code", "typeVersion": 2,
           "position": [400, 0], "parameters": {"mode": mode, "jsCode": js}})
}

fn all_items(js: &str) -> Value {
    code("runOnceForAllItems", js)
}

fn each_item(js: &str) -> Value {
    code("runOnceForEachItem", js)
}

/// Publishes, posts `rows`, answers the status, the body and the execution.
async fn run(app: &TestApp, path: &str, nodes: Vec<Value>, rows: Value) -> (u16, Value, Value) {
    let id = publish(app, path, &workflow(path, nodes)).await;
    let answer = call(
        app,
        "POST",
        &format!("/webhook/{path}"),
        Some(&json!({"rows": rows})),
        &[],
    )
    .await;
    let status = answer.status.as_u16();
    let body = serde_json::from_str(&answer.text()).unwrap_or(Value::Null);
    (status, body, last_execution(app, &id).await)
}

fn rows() -> Value {
    json!([{"n": 1}, {"n": 2}, {"n": 3}])
}

/// The Code node's run error as stored.
fn code_error(execution: &Value) -> Value {
    execution["data"]["resultData"]["runData"]["Code"][0]["error"].clone()
}

fn paired(execution: &Value) -> Vec<Value> {
    execution["data"]["resultData"]["runData"]["Code"][0]["data"]["main"][0]
        .as_array()
        .map(|items| items.iter().map(|i| i["pairedItem"].clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn run_once_for_all_items_accepts_items_plain_objects_and_a_single_object() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "all-items",
            "return $input.all().map(i => ({ json: { n: i.json.n * 10 } }));",
            json!([{"n": 10}, {"n": 20}, {"n": 30}]),
        ),
        (
            "all-plain",
            "return items.map(i => ({ n: i.json.n, kind: 'plain' }));",
            json!([{"n": 1, "kind": "plain"}, {"n": 2, "kind": "plain"}, {"n": 3, "kind": "plain"}]),
        ),
        (
            "all-single",
            "return { count: $input.all().length, first: $input.first().json.n, last: $input.last().json.n, current: $json.n };",
            json!([{"count": 3, "first": 1, "last": 3, "current": 1}]),
        ),
        ("all-null", "return null;", json!([])),
        (
            "all-binary",
            "return [{ binary: { file: { data: 'aGk=', mimeType: 'text/plain' } } }];",
            json!([{}]),
        ),
    ];
    for (path, js, expected) in cases {
        let (status, body, execution) = run(&app, path, vec![all_items(js)], rows()).await;
        assert_eq!(execution["status"], "success", "{path}: {execution}");
        if path == "all-binary" {
            let item = &execution["data"]["resultData"]["runData"]["Code"][0]["data"]["main"][0][0];
            assert_eq!(item["binary"]["file"]["mimeType"], "text/plain");
        }
        assert_eq!(
            Value::Array(output_json(&execution, "Code", 0, 0)),
            expected,
            "{path}"
        );
        if expected.as_array().is_some_and(|l| !l.is_empty()) {
            assert_eq!(status, 200, "{path}");
            assert_eq!(body, expected, "{path}");
        }
    }
}

#[tokio::test]
async fn run_once_for_each_item_pairs_each_output_with_its_item_and_skips_empty_answers() {
    let app = TestApp::spawn().await;
    let js = "if ($json.n === 2) return null;\n\
              const row = $('Rows').item.json;\n\
              return { n: $json.n, fromRows: row.n, index: $itemIndex, same: item.json.n === $input.item.json.n };";
    let (status, body, execution) = run(&app, "each", vec![each_item(js)], rows()).await;
    assert_eq!(status, 200, "{execution}");
    let expected = json!([
        {"n": 1, "fromRows": 1, "index": 0, "same": true},
        {"n": 3, "fromRows": 3, "index": 2, "same": true}
    ]);
    assert_eq!(body, expected);
    assert_eq!(
        paired(&execution),
        vec![json!({"item": 0}), json!({"item": 2})]
    );

    // `{json}` and `{json, binary}` answers are items too.
    let js = "return { json: { doubled: $json.n * 2 } };";
    let (_, body, _) = run(&app, "each-json", vec![each_item(js)], rows()).await;
    assert_eq!(
        body,
        json!([{"doubled": 2}, {"doubled": 4}, {"doubled": 6}])
    );
}

#[tokio::test]
async fn wrong_shapes_are_refused_with_n8ns_messages() {
    let app = TestApp::spawn().await;
    let not_items =
        "Please return an array of objects, one for each item you would like to output.";
    let cases = [
        (
            "wrong-text",
            all_items("return 'text';"),
            json!({"message": "Code doesn't return items properly", "description": not_items}),
        ),
        (
            "wrong-nothing",
            all_items("const a = 1;"),
            json!({"message": "Code doesn't return items properly", "description": not_items}),
        ),
        (
            "wrong-numbers",
            all_items("return [1, 2];"),
            json!({"message": "Code doesn't return items properly", "description": not_items}),
        ),
        (
            "wrong-mixed",
            all_items("return [{ json: { a: 1 } }, { b: 2 }];"),
            json!({"message": "Unknown top-level item key: b [item 1]", "itemIndex": 1,
                   "context": {"itemIndex": 1},
                   "description": "Access the properties of an item under `.json`, e.g. `item.json`"}),
        ),
        (
            "wrong-reserved",
            all_items("return [{ json: { a: 1 }, foo: 1 }];"),
            json!({"message": "Invalid output format [item 0]", "itemIndex": 0}),
        ),
        (
            "wrong-json",
            all_items("return [{ json: 5 }];"),
            json!({"message": "A 'json' property isn't an object [item 0]", "itemIndex": 0,
                   "description": "In the returned data, every key named 'json' must point to an object."}),
        ),
        (
            "wrong-each-array",
            each_item("return [{ json: { a: 1 } }];"),
            json!({"message": "A 'json' property isn't an object [item 0]", "itemIndex": 0}),
        ),
        (
            "wrong-each-first",
            each_item("const x = 1;\nreturn $input.first();"),
            json!({"message": "Can't use .first() here [line 2, for item 0]", "lineNumber": 2,
                   "description": "This is only available in 'Run Once for All Items' mode"}),
        ),
    ];
    for (path, node, expected) in cases {
        let (status, _, execution) = run(&app, path, vec![node], rows()).await;
        assert_eq!(status, 500, "{path}");
        assert_eq!(execution["status"], "error", "{path}");
        let error = code_error(&execution);
        assert!(
            crate::golden::contains(&error, &expected),
            "{path}: {error} lacks {expected}"
        );
        // n8n stores the Code node's errors as plain application errors.
        assert_eq!(error["level"], "error", "{path}");
        assert!(error.get("name").is_none(), "{path}: {error}");
        assert_eq!(
            execution["data"]["resultData"]["error"]["message"], error["message"],
            "{path}"
        );
    }
}

#[tokio::test]
async fn a_thrown_error_names_its_line_and_continue_on_fail_turns_it_into_an_item() {
    let app = TestApp::spawn().await;
    let (status, _, execution) = run(
        &app,
        "throws",
        vec![all_items("const a = 1;\nthrow new Error('boom');")],
        rows(),
    )
    .await;
    assert_eq!(status, 500);
    let error = code_error(&execution);
    assert_eq!(error["message"], "boom [line 2]");
    assert_eq!(error["lineNumber"], 2);
    assert_eq!(error["description"], Value::Null);
    assert_eq!(error["stack"], "Error: boom [line 2]");

    let (_, _, execution) = run(
        &app,
        "type-error",
        vec![each_item("const x = undefined;\nreturn x.y;")],
        rows(),
    )
    .await;
    let error = code_error(&execution);
    assert_eq!(error["description"], "TypeError");
    assert_eq!(error["lineNumber"], 2);
    assert_eq!(error["itemIndex"], 0);
    let message = error["message"].as_str().unwrap_or_default();
    assert!(message.ends_with("[line 2, for item 0]"), "{message}");

    let mut node = all_items("throw new Error('boom');");
    node["onError"] = json!("continueRegularOutput");
    let (status, body, execution) = run(&app, "throws-continue", vec![node], rows()).await;
    assert_eq!(status, 200);
    assert_eq!(body, json!([{"error": "boom [line 1]"}]));
    assert_eq!(execution["status"], "success");

    let mut node = each_item("if ($json.n === 2) throw new Error('bad');\nreturn $json;");
    node["onError"] = json!("continueRegularOutput");
    let (_, body, execution) = run(&app, "each-continue", vec![node], rows()).await;
    assert_eq!(
        body,
        json!([{"n": 1}, {"error": "bad [line 1, for item 1]"}, {"n": 3}])
    );
    assert_eq!(paired(&execution)[1], json!({"item": 1}));
}

#[tokio::test]
async fn the_sandbox_has_no_modules_process_network_or_host() {
    let app = TestApp::spawn().await;
    let cases = [
        (
            "no-require",
            "const fs = require('fs');\nreturn [];",
            "Module 'fs' is disallowed [line 1]",
            None,
        ),
        (
            "no-process",
            "return [{ json: { env: process.env } }];",
            "process is not defined [line 1]",
            Some("ReferenceError"),
        ),
        (
            "no-fetch",
            "await fetch('http://127.0.0.1:1/');\nreturn [];",
            "fetch is not defined [line 1]",
            Some("ReferenceError"),
        ),
        (
            "no-host-by-constructor",
            "const p = this.constructor.constructor('return process')();\nreturn [{ json: { p } }];",
            "process is not defined",
            Some("ReferenceError"),
        ),
    ];
    for (path, js, message, description) in cases {
        let (status, _, execution) = run(&app, path, vec![all_items(js)], rows()).await;
        assert_eq!(status, 500, "{path}");
        let error = code_error(&execution);
        let text = error["message"].as_str().unwrap_or_default();
        assert!(text.starts_with(message), "{path}: {error}");
        if let Some(description) = description {
            assert_eq!(error["description"], description, "{path}");
        }
    }

    // What exists is only pure JavaScript: no file, network or process objects on the global.
    let js = "return [{ json: { kinds: ['process', 'require', 'fetch', 'XMLHttpRequest', 'Deno', 'Bun', 'std', 'os']\n  .map(n => typeof globalThis[n]) } }];";
    let (_, body, _) = run(&app, "globals", vec![all_items(js)], rows()).await;
    assert_eq!(
        body,
        json!([{"kinds": ["undefined", "undefined", "undefined", "undefined", "undefined", "undefined", "undefined", "undefined"]}])
    );
}

/// The same code, run again and again (its compiled form is kept between runs), starts each
/// run from nothing: whatever one run tries to leave on the global object, on `this`, on its
/// own function or on the built-ins is not there for the next.
#[tokio::test]
async fn the_same_code_run_twice_sees_nothing_the_first_run_left() {
    let app = TestApp::spawn().await;
    let js = "const seen = {\n\
        global: typeof globalThis.leak,\n\
        self: typeof this.leak,\n\
        callee: typeof arguments.callee.leak,\n\
        proto: typeof [].leak,\n\
        counter: typeof counter,\n\
      };\n\
      for (const set of [() => { globalThis.leak = 1; }, () => { this.leak = 1; },\n\
        () => { arguments.callee.leak = 1; }, () => { Array.prototype.leak = 1; },\n\
        () => { counter = 1; }]) {\n\
        try { set(); } catch (e) {}\n\
      }\n\
      return [{ json: seen }];";
    let id = publish(&app, "leak", &workflow("leak", vec![all_items(js)])).await;
    let fresh = json!([{"global": "undefined", "self": "undefined", "callee": "undefined",
                        "proto": "undefined", "counter": "undefined"}]);
    for round in 0..3 {
        let answer = call(
            &app,
            "POST",
            "/webhook/leak",
            Some(&json!({"rows": [{"n": 1}]})),
            &[],
        )
        .await;
        assert_eq!(
            answer.status.as_u16(),
            200,
            "round {round}: {}",
            answer.text()
        );
        let body: Value = serde_json::from_str(&answer.text()).expect("json");
        assert_eq!(body, fresh, "round {round}");
    }
    assert_eq!(last_execution(&app, &id).await["status"], "success");
}

#[tokio::test]
async fn other_nodes_and_the_run_are_reachable() {
    let app = TestApp::spawn().await;
    let js = "return [{ json: {\n\
        rows: $('Rows').all().length,\n\
        firstRow: $('Rows').first().json.n,\n\
        body: $('Webhook').first().json.body.rows.length,\n\
        old: $node['Rows'].json.n,\n\
        listed: $items('Rows').map(i => i.json.n),\n\
        workflowId: $workflow.id,\n\
        executionId: $execution.id,\n\
        mode: $execution.mode,\n\
        vars: typeof $vars,\n\
        nowIsDateTime: $now instanceof DateTime,\n\
        picked: $jmespath({ a: [{ b: 1 }, { b: 2 }] }, 'a[*].b'),\n\
        logged: console.log('hello', { n: 1 }) === undefined,\n\
        custom: $execution.customData.set('source', 'code') === undefined,\n\
    } }];";
    let id = publish(&app, "reach", &workflow("reach", vec![all_items(js)])).await;
    let answer = call(
        &app,
        "POST",
        "/webhook/reach",
        Some(&json!({"rows": rows()})),
        &[],
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let execution = last_execution(&app, &id).await;
    let body = answer.json();
    assert_eq!(
        body[0],
        json!({"rows": 3, "firstRow": 1, "body": 3, "old": 1, "listed": [1, 2, 3],
               "workflowId": id, "executionId": execution["id"].to_string().trim_matches('"'),
               "mode": "production", "vars": "object", "nowIsDateTime": true,
               "picked": [1, 2], "logged": true, "custom": true})
    );
    assert_eq!(execution["customData"], json!({"source": "code"}));

    // `$env` is refused as in expressions (N8N_BLOCK_ENV_ACCESS_IN_NODE defaults to true).
    let (status, _, execution) = run(
        &app,
        "env",
        vec![all_items("return [{ json: { home: $env.HOME } }];")],
        rows(),
    )
    .await;
    assert_eq!(status, 500);
    assert!(code_error(&execution)["message"]
        .as_str()
        .unwrap_or_default()
        .starts_with("access to env vars denied"));
}

#[tokio::test]
async fn async_code_and_timers_finish_before_the_node_ends() {
    let app = TestApp::spawn().await;
    let js = "const wait = ms => new Promise(resolve => setTimeout(resolve, ms));\n\
              const started = Date.now();\n\
              await wait(30);\n\
              const values = await Promise.all([1, 2, 3].map(async n => { await wait(5); return n * 2; }));\n\
              let ticks = 0;\n\
              await new Promise(resolve => { const t = setInterval(() => { if (++ticks === 3) { clearInterval(t); resolve(); } }, 2); });\n\
              return [{ json: { values, ticks, waited: Date.now() - started >= 30 } }];";
    let (status, body, _) = run(&app, "async", vec![all_items(js)], rows()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{"values": [2, 4, 6], "ticks": 3, "waited": true}])
    );

    // A promise nothing can resolve ends the node at once instead of waiting for the limit.
    let (status, _, execution) = run(
        &app,
        "never",
        vec![all_items("await new Promise(() => {});\nreturn [];")],
        rows(),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(
        code_error(&execution)["message"],
        "The code's promise never settled"
    );
}

#[tokio::test]
async fn an_endless_loop_is_stopped_by_the_time_limit_while_other_executions_go_on() {
    let app = TestApp::spawn_with(|config| config.engine.code_timeout_secs = 2).await;
    let loop_id = publish(
        &app,
        "loop",
        &workflow("loop", vec![all_items("while (true) {}\nreturn [];")]),
    )
    .await;
    let quick_id = publish(
        &app,
        "quick",
        &workflow("quick", vec![all_items("return [{ json: { ok: true } }];")]),
    )
    .await;
    let started = Instant::now();
    let body = json!({"rows": rows()});
    let looping = call(&app, "POST", "/webhook/loop", Some(&body), &[]);
    // While the loop holds its thread, other executions run.
    let quick = async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        for _ in 0..3 {
            let answer = call(
                &app,
                "POST",
                "/webhook/quick",
                Some(&json!({"rows": rows()})),
                &[],
            )
            .await;
            assert_eq!(answer.status, 200);
            assert_eq!(answer.json(), json!([{"ok": true}]));
        }
        started.elapsed()
    };
    let (looped, quick_done) = tokio::join!(looping, quick);
    assert!(
        quick_done < Duration::from_millis(1800),
        "quick runs waited for the loop: {quick_done:?}"
    );
    assert_eq!(looped.status, 500);
    assert!(started.elapsed() >= Duration::from_secs(2));
    let execution = last_execution(&app, &loop_id).await;
    assert_eq!(execution["status"], "error");
    let error = code_error(&execution);
    assert_eq!(error["message"], "Task execution timed out after 2 seconds");
    assert!(error["description"]
        .as_str()
        .unwrap_or_default()
        .contains("N8N_RUNNERS_TASK_TIMEOUT"));
    assert_eq!(last_execution(&app, &quick_id).await["status"], "success");
}

#[tokio::test]
async fn stopping_an_execution_interrupts_its_code() {
    let app = TestApp::spawn().await;
    let id = publish(
        &app,
        "spin",
        &workflow("spin", vec![all_items("while (true) {}\nreturn [];")]),
    )
    .await;
    let started = Instant::now();
    let body = json!({"rows": rows()});
    let spinning = call(&app, "POST", "/webhook/spin", Some(&body), &[]);
    let stop = async {
        for _ in 0..250 {
            let list = app
                .get(&format!(
                    "/api/v1/executions?workflowId={id}&status=running"
                ))
                .key(&app.owner_key)
                .send()
                .await
                .json();
            if let Some(first) = list["data"].as_array().and_then(|d| d.first()).cloned() {
                let running = first["id"].as_str().expect("id").to_owned();
                let stopped = app
                    .post(&format!("/api/v1/executions/{running}/stop"))
                    .key(&app.owner_key)
                    .send()
                    .await;
                assert_eq!(stopped.status, 200, "{}", stopped.text());
                return running;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no running execution");
    };
    let (_, running) = tokio::join!(spinning, stop);
    // The node's limit is 300 s: only the stop can have ended it.
    let ended = crate::support::wait_for_status(&app, &running, "canceled").await;
    assert!(started.elapsed() < Duration::from_secs(30), "{ended}");
}

#[tokio::test]
async fn a_memory_bomb_is_stopped_by_the_memory_limit() {
    let app = TestApp::spawn_with(|config| config.engine.code_memory_mb = 32).await;
    let js = "const hoard = [];\nwhile (true) hoard.push(new Array(100000).fill('x'));\nreturn [];";
    let (status, _, execution) = run(&app, "bomb", vec![all_items(js)], rows()).await;
    assert_eq!(status, 500);
    let error = code_error(&execution);
    assert_eq!(error["message"], "Node ran out of memory");
    assert!(error["description"]
        .as_str()
        .unwrap_or_default()
        .contains("32 MB"));

    // The next run on the same server works.
    let (status, body, _) = run(
        &app,
        "after-bomb",
        vec![all_items("return [{ json: { fine: true } }];")],
        rows(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body, json!([{"fine": true}]));
}

/// QuickJS, short of memory, may build its `InternalError` without the message: the run ends
/// as a memory failure (thrown by hand here, where the real case depends on the allocation).
#[tokio::test]
async fn an_internal_error_without_a_message_ends_the_run_as_out_of_memory() {
    let app = TestApp::spawn().await;
    let js = "throw new InternalError();";
    let (status, _, execution) = run(&app, "no-message", vec![all_items(js)], rows()).await;
    assert_eq!(status, 500);
    assert_eq!(code_error(&execution)["message"], "Node ran out of memory");
}

#[tokio::test]
async fn python_code_nodes_are_refused_at_publish() {
    let app = TestApp::spawn().await;
    for language in ["python", "pythonNative"] {
        let node = json!({"id": "py", "name": "Py", "type": "n8n-nodes-base.code", "typeVersion": 2,
                          "position": [400, 0],
                          "parameters": {"language": language, "pythonCode": "return _input.all()"}});
        let id = crate::support::create(&app, language, &workflow(language, vec![node])).await;
        let published = app
            .post(&format!("/api/v1/workflows/{id}/activate"))
            .key(&app.owner_key)
            .send()
            .await;
        assert_eq!(published.status, 400, "{language}");
        let message = published.message();
        assert!(
            message.contains("\"Py\"") && message.contains("Python"),
            "{language}: {message}"
        );
    }
}

#[tokio::test]
async fn the_legacy_function_nodes_run_their_code() {
    let app = TestApp::spawn().await;
    let function = json!({"id": "code", "name": "Code", "type": "n8n-nodes-base.function",
        "typeVersion": 1, "position": [400, 0],
        "parameters": {"functionCode": "return items.map(i => ({ json: { n: i.json.n, index: i.index } }));"}});
    let (status, body, _) = run(&app, "function", vec![function], rows()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{"n": 1, "index": 0}, {"n": 2, "index": 1}, {"n": 3, "index": 2}])
    );

    let function_item = json!({"id": "code", "name": "Code", "type": "n8n-nodes-base.functionItem",
        "typeVersion": 1, "position": [400, 0],
        "parameters": {"functionCode": "item.square = item.n * item.n;\nreturn item;"}});
    let (status, body, execution) = run(&app, "function-item", vec![function_item], rows()).await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!([{"n": 1, "square": 1}, {"n": 2, "square": 4}, {"n": 3, "square": 9}])
    );
    assert_eq!(paired(&execution)[2], json!({"item": 2}));

    let function_item = json!({"id": "code", "name": "Code", "type": "n8n-nodes-base.functionItem",
        "typeVersion": 1, "position": [400, 0], "parameters": {"functionCode": "const a = 1;"}});
    let (status, _, execution) =
        run(&app, "function-item-empty", vec![function_item], rows()).await;
    assert_eq!(status, 500);
    assert_eq!(
        code_error(&execution)["message"],
        "No data got returned. Always an object has to be returned!"
    );
}
