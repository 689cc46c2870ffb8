//! What answers become: items by format, n8n's errors, continuing on failure, retries,
//! batching and redirects (pagination is in `pages`).

use serde_json::{json, Value};

use super::server::TestServer;
use super::*;
use crate::helpers::TestApp;

#[tokio::test]
async fn answers_become_items_by_format() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let get = |path: &str, options: Value| json!({"url": server.url(path), "options": options});

    // A JSON array: one item per element, each paired with the input item.
    let array = run(&app, "array", 4.2, get("/array", json!({})), json!({})).await;
    assert_eq!(
        http_output(&array),
        vec![json!({"n": 1}), json!({"n": 2}), json!({"n": 3})]
    );
    assert_eq!(
        array["data"]["resultData"]["runData"]["HTTP Request"][0]["data"]["main"][0][2]
            ["pairedItem"],
        json!({"item": 0})
    );

    // Text goes into `data`.
    let text = run(&app, "text", 4.2, get("/text", json!({})), json!({})).await;
    assert_eq!(http_output(&text), vec![json!({"data": "hello there"})]);

    // Text asked for explicitly, into another field.
    let named = run(
        &app,
        "text-named",
        4.2,
        get(
            "/json-as-text",
            json!({"response": {"response": {"responseFormat": "text", "outputPropertyName": "raw"}}}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(http_output(&named), vec![json!({"raw": "{\"a\":1}"})]);

    // The full response: body, headers, status code and message.
    let full = run(
        &app,
        "full",
        4.2,
        get(
            "/things",
            json!({"response": {"response": {"fullResponse": true}}}),
        ),
        json!({}),
    )
    .await;
    let item = &http_output(&full)[0];
    assert_eq!(item["body"], json!({"ok": true, "method": "GET"}));
    assert_eq!(item["statusCode"], 200);
    assert_eq!(item["statusMessage"], "OK");
    assert_eq!(item["headers"]["content-type"], "application/json");

    // An empty answer is an empty item.
    let empty = run(&app, "empty", 4.2, get("/empty", json!({})), json!({})).await;
    assert_eq!(http_output(&empty), vec![json!({})]);

    // JSON asked for but not given.
    let bad = run(
        &app,
        "bad-json",
        4.2,
        get(
            "/text",
            json!({"response": {"response": {"responseFormat": "json"}}}),
        ),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&bad)["message"],
        "Response body is not valid JSON. Change \"Response Format\" to \"Text\""
    );
}

#[tokio::test]
async fn an_error_status_fails_the_node_with_n8ns_api_error_unless_never_error() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let not_found = run(
        &app,
        "missing",
        4.2,
        json!({"url": server.url("/status/404"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(not_found["status"], "error");
    let error = http_error(&not_found);
    assert_eq!(error["name"], "NodeApiError");
    assert_eq!(
        error["message"],
        "The resource you are requesting could not be found"
    );
    assert_eq!(error["httpCode"], "404");
    assert_eq!(error["description"], "failure 404");
    assert_eq!(error["context"]["itemIndex"], 0);
    assert_eq!(
        error["messages"],
        json!(["404 - \"{\\\"message\\\":\\\"failure 404\\\",\\\"code\\\":404}\""])
    );
    assert_eq!(
        not_found["data"]["resultData"]["error"]["message"],
        "The resource you are requesting could not be found"
    );

    let failing = run(
        &app,
        "server-error",
        4.2,
        json!({"url": server.url("/status/500"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&failing)["message"],
        "The service was not able to process your request"
    );

    // Nobody listening: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let refused = run(
        &app,
        "refused",
        4.2,
        json!({"url": format!("http://{closed}/x"), "options": {}}),
        json!({}),
    )
    .await;
    let error = http_error(&refused);
    assert_eq!(
        error["message"],
        "The service refused the connection - perhaps it is offline"
    );
    assert_eq!(error["httpCode"], "ECONNREFUSED");
    assert_eq!(
        error["messages"],
        json!([format!("connect ECONNREFUSED {closed}")])
    );

    let slow = run(
        &app,
        "timeout",
        4.2,
        json!({"url": server.url("/slow"), "options": {"timeout": 300}}),
        json!({}),
    )
    .await;
    let error = http_error(&slow);
    assert_eq!(
        error["message"],
        "The connection was aborted, perhaps the server is offline"
    );
    assert_eq!(error["messages"], json!(["timeout of 300ms exceeded"]));

    let tolerated = run(
        &app,
        "never-error",
        4.2,
        json!({"url": server.url("/status/404"),
               "options": {"response": {"response": {"neverError": true, "fullResponse": true}}}}),
        json!({}),
    )
    .await;
    assert_eq!(tolerated["status"], "success", "{tolerated}");
    let item = &http_output(&tolerated)[0];
    assert_eq!(item["statusCode"], 404);
    assert_eq!(item["body"], json!({"message": "failure 404", "code": 404}));
}

#[tokio::test]
async fn a_failing_request_continues_as_an_error_item_or_on_the_error_output() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let regular = run(
        &app,
        "continue-regular",
        4.2,
        json!({"url": server.url("/status/404"), "options": {}}),
        json!({"onError": "continueRegularOutput"}),
    )
    .await;
    assert_eq!(regular["status"], "success", "{regular}");
    // The item carries the request's own error, as n8n's does.
    assert_eq!(
        http_output(&regular),
        vec![json!({"error": {
            "message": "404 - \"{\\\"message\\\":\\\"failure 404\\\",\\\"code\\\":404}\"",
            "name": "AxiosError", "code": "ERR_BAD_REQUEST", "status": 404
        }})]
    );

    let flow = json!({
        "nodes": [
            webhook("error-output"),
            {"id": "http", "name": "HTTP Request", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2,
             "position": [200, 0], "onError": "continueErrorOutput",
             "parameters": {"url": server.url("/status/500"), "options": {}}},
            {"id": "ok", "name": "On success", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [400, -100], "parameters": {}},
            {"id": "bad", "name": "On failure", "type": "n8n-nodes-base.noOp", "typeVersion": 1, "position": [400, 100], "parameters": {}}
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "HTTP Request", "type": "main", "index": 0}]]},
            "HTTP Request": {"main": [
                [{"node": "On success", "type": "main", "index": 0}],
                [{"node": "On failure", "type": "main", "index": 0}]
            ]}
        }
    });
    let id = publish(&app, "error-output", &flow).await;
    call(
        &app,
        "POST",
        "/webhook/error-output",
        Some(&json!({"n": 1})),
        &[],
    )
    .await;
    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    let failed = output_json(&execution, "On failure", 0, 0);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["error"]["code"], "ERR_BAD_RESPONSE");
    assert_eq!(failed[0]["error"]["status"], 500);
    // Merged with the json of the item that failed.
    assert_eq!(failed[0]["body"], json!({"n": 1}));
    assert!(execution["data"]["resultData"]["runData"]
        .get("On success")
        .is_none());
}

#[tokio::test]
async fn retry_on_fail_sends_the_request_again() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let execution = run(
        &app,
        "retry",
        4.2,
        json!({"url": server.url("/status/503"), "options": {}}),
        json!({"retryOnFail": true, "maxTries": 2, "waitBetweenTries": 0}),
    )
    .await;
    assert_eq!(execution["status"], "error");
    assert_eq!(server.seen_at("/status/503").len(), 2);
    assert_eq!(
        http_error(&execution)["message"],
        "Service unavailable - try again later or consider setting this node to retry automatically (in the node settings)"
    );
}

#[tokio::test]
async fn batching_spaces_the_requests_of_many_items() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let flow = json!({
        "nodes": [
            webhook("batches"),
            {"id": "list", "name": "List", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2, "position": [200, 0],
             "parameters": {"url": server.url("/array"), "options": {}}},
            {"id": "each", "name": "Each", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2, "position": [400, 0],
             "parameters": {"url": server.url("/each"), "sendQuery": true,
                            "queryParameters": {"parameters": [{"name": "n", "value": "={{ $json.n }}"}]},
                            "options": {"batching": {"batch": {"batchSize": 1, "batchInterval": 150}}}}}
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "List", "type": "main", "index": 0}]]},
            "List": {"main": [[{"node": "Each", "type": "main", "index": 0}]]}
        }
    });
    let id = publish(&app, "batches", &flow).await;
    let started = std::time::Instant::now();
    call(&app, "POST", "/webhook/batches", Some(&json!({})), &[]).await;
    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let queries: Vec<String> = server
        .seen_at("/each")
        .into_iter()
        .map(|s| s.query)
        .collect();
    assert_eq!(queries, vec!["n=1", "n=2", "n=3"]);
    assert_eq!(output_json(&execution, "Each", 0, 0).len(), 3);
}

#[tokio::test]
async fn version_3_does_not_follow_redirects_and_fails_with_the_redirect_status() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let execution = run(
        &app,
        "v3-redirect",
        3.0,
        json!({"url": server.url("/redirect?to=%2Ftext"), "options": {}}),
        json!({}),
    )
    .await;
    let error = http_error(&execution);
    assert_eq!(error["message"], "302 - \"\"");
    assert_eq!(error["httpCode"], "302");
    assert!(server.seen_at("/text").is_empty());

    // Version 4 follows unless told not to.
    let refused = run(
        &app,
        "v4-no-follow",
        4.2,
        json!({"url": server.url("/redirect?to=%2Ftext"),
               "options": {"redirect": {"redirect": {"followRedirects": false}}}}),
        json!({}),
    )
    .await;
    assert_eq!(http_error(&refused)["httpCode"], "302");
    assert!(server.seen_at("/text").is_empty());
}
