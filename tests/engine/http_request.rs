//! The HTTP Request node, black-box: workflows published through the API call a local test
//! service (which records what it gets), and the executions are read back through the API.
//! Expected messages and item shapes were checked against n8n 2.8.

use serde_json::{json, Value};

use crate::helpers::TestApp;
use crate::http_server::TestServer;
use crate::support::{call, last_execution, output_json, publish};

fn webhook(path: &str) -> Value {
    json!({"id": "hook", "name": "Webhook", "type": "n8n-nodes-base.webhook", "typeVersion": 2,
           "position": [0, 0], "webhookId": format!("{path}-hook"),
           "parameters": {"path": path, "httpMethod": "POST", "responseMode": "lastNode", "options": {}}})
}

/// A workflow: Webhook → HTTP Request (`parameters`, `extra` merged into the node).
fn workflow(path: &str, version: f64, parameters: Value, extra: Value) -> Value {
    let mut node = json!({"id": "http", "name": "HTTP Request", "type": "n8n-nodes-base.httpRequest",
                          "typeVersion": version, "position": [200, 0], "parameters": parameters});
    if let (Some(node), Some(extra)) = (node.as_object_mut(), extra.as_object()) {
        node.extend(extra.clone());
    }
    json!({
        "nodes": [webhook(path), node],
        "connections": {"Webhook": {"main": [[{"node": "HTTP Request", "type": "main", "index": 0}]]}},
    })
}

/// Publishes the workflow, calls its webhook, and answers the finished execution.
async fn run(app: &TestApp, path: &str, version: f64, parameters: Value, extra: Value) -> Value {
    let id = publish(app, path, &workflow(path, version, parameters, extra)).await;
    call(
        app,
        "POST",
        &format!("/webhook/{path}"),
        Some(&json!({"n": 1})),
        &[],
    )
    .await;
    last_execution(app, &id).await
}

fn http_output(execution: &Value) -> Vec<Value> {
    output_json(execution, "HTTP Request", 0, 0)
}

fn http_error(execution: &Value) -> Value {
    execution["data"]["resultData"]["runData"]["HTTP Request"][0]["error"].clone()
}

async fn credential(app: &TestApp, kind: &str, data: Value) -> String {
    let created = app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(json!({"name": format!("{kind} test"), "type": kind, "data": data}))
        .send()
        .await;
    assert_eq!(created.status, 200, "{}", created.text());
    created.json()["id"].as_str().expect("id").to_owned()
}

fn uses(kind: &str, id: &str) -> Value {
    json!({"credentials": {kind: {"id": id, "name": format!("{kind} test")}}})
}

#[tokio::test]
async fn a_get_with_query_and_headers_reaches_the_service_and_its_json_becomes_the_item() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let execution = run(
        &app,
        "get-json",
        4.2,
        json!({
            "url": server.url("/things?fixed=1"),
            "sendQuery": true,
            "queryParameters": {"parameters": [{"name": "q", "value": "a b"}, {"name": "n", "value": "={{ $json.body.n }}"}]},
            "sendHeaders": true,
            "headerParameters": {"parameters": [{"name": "X-Trace", "value": "t-1"}]},
            "options": {}
        }),
        json!({}),
    )
    .await;

    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        http_output(&execution),
        vec![json!({"ok": true, "method": "GET"})]
    );
    let seen = server.seen_at("/things");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].query, "fixed=1&q=a%20b&n=1");
    // Header names are lowercased by default, and n8n's accept header is sent.
    assert_eq!(seen[0].header("x-trace"), Some("t-1"));
    assert!(seen[0]
        .header("accept")
        .is_some_and(|a| a.starts_with("application/json,text/html")));
}

#[tokio::test]
async fn json_bodies_are_sent_from_fields_with_dotted_names_or_from_json_text() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let fields = run(
        &app,
        "post-fields",
        4.2,
        json!({
            "method": "POST", "url": server.url("/fields"), "sendBody": true,
            "bodyParameters": {"parameters": [{"name": "user.name", "value": "Ada"}, {"name": "count", "value": "={{ $json.body.n }}"}]},
            "options": {}
        }),
        json!({}),
    )
    .await;
    assert_eq!(fields["status"], "success", "{fields}");
    let seen = &server.seen_at("/fields")[0];
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(
        seen.body_json(),
        json!({"user": {"name": "Ada"}, "count": 1})
    );

    // Version 3 keeps a dotted name as it is.
    run(
        &app,
        "post-fields-v3",
        3.0,
        json!({
            "method": "POST", "url": server.url("/fields-v3"), "sendBody": true,
            "bodyParameters": {"parameters": [{"name": "user.name", "value": "Ada"}]},
            "options": {}
        }),
        json!({}),
    )
    .await;
    assert_eq!(
        server.seen_at("/fields-v3")[0].body_json(),
        json!({"user.name": "Ada"})
    );

    run(
        &app,
        "post-json",
        4.2,
        json!({
            "method": "PUT", "url": server.url("/json"), "sendBody": true, "specifyBody": "json",
            "jsonBody": "{\"list\": [1, 2], \"ok\": true}", "options": {}
        }),
        json!({}),
    )
    .await;
    let seen = &server.seen_at("/json")[0];
    assert_eq!(seen.method, "PUT");
    assert_eq!(seen.body_json(), json!({"list": [1, 2], "ok": true}));

    let invalid = run(
        &app,
        "post-bad-json",
        4.2,
        json!({"method": "POST", "url": server.url("/never"), "sendBody": true, "specifyBody": "json",
               "jsonBody": "{nope", "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(invalid["status"], "error");
    assert_eq!(
        http_error(&invalid)["message"],
        "The value in the \"JSON Body\" field is not valid JSON"
    );
    assert!(server.seen_at("/never").is_empty());
}

#[tokio::test]
async fn form_multipart_and_raw_bodies_carry_their_content_types() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    run(
        &app,
        "form",
        4.2,
        json!({
            "method": "POST", "url": server.url("/form"), "sendBody": true, "contentType": "form-urlencoded",
            "bodyParameters": {"parameters": [{"name": "name", "value": "Ada Lovelace"}, {"name": "lang", "value": "en"}]},
            "options": {}
        }),
        json!({}),
    )
    .await;
    let form = &server.seen_at("/form")[0];
    assert_eq!(
        form.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(form.body_text(), "name=Ada%20Lovelace&lang=en");

    run(
        &app,
        "multipart",
        4.2,
        json!({
            "method": "POST", "url": server.url("/multipart"), "sendBody": true, "contentType": "multipart-form-data",
            "bodyParameters": {"parameters": [{"parameterType": "formData", "name": "title", "value": "report"}]},
            "options": {}
        }),
        json!({}),
    )
    .await;
    let multipart = &server.seen_at("/multipart")[0];
    assert!(multipart
        .header("content-type")
        .is_some_and(|c| c.starts_with("multipart/form-data; boundary=")));
    let body = multipart.body_text();
    assert!(
        body.contains("Content-Disposition: form-data; name=\"title\""),
        "{body}"
    );
    assert!(body.contains("\r\n\r\nreport\r\n"), "{body}");

    run(
        &app,
        "raw",
        4.2,
        json!({
            "method": "POST", "url": server.url("/raw"), "sendBody": true, "contentType": "raw",
            "rawContentType": "text/csv", "body": "a,b\n1,2", "options": {}
        }),
        json!({}),
    )
    .await;
    let raw = &server.seen_at("/raw")[0];
    assert_eq!(raw.header("content-type"), Some("text/csv"));
    assert_eq!(raw.body_text(), "a,b\n1,2");
}

#[tokio::test]
async fn a_downloaded_file_is_binary_data_and_can_be_sent_on_as_a_body() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let flow = json!({
        "nodes": [
            webhook("file-flow"),
            {"id": "get", "name": "Download", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2, "position": [200, 0],
             "parameters": {"url": server.url("/file.png"), "options": {}}},
            {"id": "put", "name": "Upload", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2, "position": [400, 0],
             "parameters": {"method": "POST", "url": server.url("/upload"), "sendBody": true, "contentType": "binaryData",
                            "inputDataFieldName": "data", "options": {}}},
            {"id": "form", "name": "Form upload", "type": "n8n-nodes-base.httpRequest", "typeVersion": 4.2, "position": [600, 0],
             "parameters": {"method": "POST", "url": server.url("/form-upload"), "sendBody": true, "contentType": "multipart-form-data",
                            "bodyParameters": {"parameters": [{"parameterType": "formBinaryData", "name": "file", "inputDataFieldName": "data"}]},
                            "options": {}}}
        ],
        "connections": {
            "Webhook": {"main": [[{"node": "Download", "type": "main", "index": 0}]]},
            "Download": {"main": [[{"node": "Upload", "type": "main", "index": 0}, {"node": "Form upload", "type": "main", "index": 0}]]}
        }
    });
    let id = publish(&app, "file-flow", &flow).await;
    call(&app, "POST", "/webhook/file-flow", Some(&json!({})), &[]).await;
    let execution = last_execution(&app, &id).await;
    assert_eq!(execution["status"], "success", "{execution}");

    let download = &execution["data"]["resultData"]["runData"]["Download"][0]["data"]["main"][0][0];
    let binary = &download["binary"]["data"];
    assert_eq!(binary["mimeType"], "image/png");
    assert_eq!(binary["fileName"], "pixel.png");
    assert_eq!(binary["fileExtension"], "png");
    assert_eq!(binary["fileSize"], "12 B");
    assert_eq!(binary["data"], "iVBORw0KGgpmYWtl");
    // The item keeps the json it came with.
    assert_eq!(download["json"]["body"], json!({}));

    let upload = &server.seen_at("/upload")[0];
    assert_eq!(upload.header("content-type"), Some("image/png"));
    assert_eq!(upload.body, b"\x89PNG\r\n\x1a\nfake");
    let form = server.seen_at("/form-upload")[0].body.clone();
    let text = String::from_utf8_lossy(&form);
    assert!(
        text.contains("name=\"file\"; filename=\"pixel.png\""),
        "{text}"
    );
    assert!(text.contains("Content-Type: image/png"), "{text}");
}

#[tokio::test]
async fn a_binary_body_without_binary_input_fails_in_n8ns_words() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let execution = run(
        &app,
        "no-binary",
        4.2,
        json!({"method": "POST", "url": server.url("/upload"), "sendBody": true, "contentType": "binaryData",
               "inputDataFieldName": "data", "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(execution["status"], "error");
    assert_eq!(
        http_error(&execution)["message"],
        "This operation expects the node's input data to contain a binary file 'data', but none was found [item 0]"
    );
}

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
async fn pagination_is_refused_honestly() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let execution = run(
        &app,
        "pages",
        4.2,
        json!({"url": server.url("/array"),
               "options": {"pagination": {"pagination": {"paginationMode": "responseContainsNextURL", "nextURL": "={{ $response.body.next }}"}}}}),
        json!({}),
    )
    .await;
    assert_eq!(execution["status"], "error");
    assert_eq!(
        http_error(&execution)["message"],
        "Pagination (\"responseContainsNextURL\") is not supported by this server yet"
    );
    assert!(server.seen().is_empty());
}

/// Runs a GET of `path` with generic credential `kind` (a new credential of `data`), and
/// answers what the service saw and the execution.
async fn with_generic(
    app: &TestApp,
    server: &TestServer,
    name: &str,
    kind: &str,
    data: Value,
    path: &str,
) -> (crate::http_server::Seen, Value) {
    let id = credential(app, kind, data).await;
    let execution = run(
        app,
        name,
        4.2,
        json!({"url": server.url(path), "authentication": "genericCredentialType",
               "genericAuthType": kind, "options": {}}),
        uses(kind, &id),
    )
    .await;
    let seen = server.seen_at(path).last().cloned().expect("a request");
    (seen, execution)
}

#[tokio::test]
async fn generic_credentials_authenticate_the_request_and_stay_out_of_the_execution() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;

    let (seen, execution) = with_generic(
        &app,
        &server,
        "header-auth",
        "httpHeaderAuth",
        json!({"name": "X-Api-Key", "value": "header-secret-1"}),
        "/header",
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(seen.header("x-api-key"), Some("header-secret-1"));
    assert!(!execution.to_string().contains("header-secret-1"));

    let (seen, _) = with_generic(
        &app,
        &server,
        "basic-auth",
        "httpBasicAuth",
        json!({"user": "ada", "password": "basic-secret"}),
        "/basic",
    )
    .await;
    // base64("ada:basic-secret")
    assert_eq!(
        seen.header("authorization"),
        Some("Basic YWRhOmJhc2ljLXNlY3JldA==")
    );

    let (seen, _) = with_generic(
        &app,
        &server,
        "query-auth",
        "httpQueryAuth",
        json!({"name": "api_key", "value": "query-secret"}),
        "/query",
    )
    .await;
    assert_eq!(seen.query, "api_key=query-secret");

    let (seen, _) = with_generic(
        &app,
        &server,
        "bearer-auth",
        "httpBearerAuth",
        json!({"token": "bearer-secret"}),
        "/bearer",
    )
    .await;
    assert_eq!(seen.header("authorization"), Some("Bearer bearer-secret"));

    let (seen, _) = with_generic(
        &app,
        &server,
        "custom-auth",
        "httpCustomAuth",
        json!({"json": "{\"headers\": {\"X-Sig\": \"s1\"}, \"qs\": {\"tenant\": \"t1\"}}"}),
        "/custom",
    )
    .await;
    assert_eq!(seen.header("x-sig"), Some("s1"));
    assert_eq!(seen.query, "tenant=t1");

    let (seen, execution) = with_generic(
        &app,
        &server,
        "digest-auth",
        "httpDigestAuth",
        json!({"user": "ada", "password": "lovelace"}),
        "/digest",
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(http_output(&execution), vec![json!({"digest": "accepted"})]);
    assert!(seen
        .header("authorization")
        .is_some_and(|a| a.starts_with("Digest username=\"ada\"")));
}

#[tokio::test]
async fn oauth2_client_credentials_fetch_a_token_once_and_reuse_it() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let id = credential(
        &app,
        "oAuth2Api",
        json!({"grantType": "clientCredentials", "accessTokenUrl": server.url("/token"),
               "clientId": "client-1", "clientSecret": "secret-1", "scope": "read", "authentication": "header"}),
    )
    .await;
    let parameters = json!({"url": server.url("/protected"), "authentication": "genericCredentialType",
                            "genericAuthType": "oAuth2Api", "options": {}});
    let workflow_id = publish(
        &app,
        "oauth2",
        &workflow("oauth2", 4.2, parameters, uses("oAuth2Api", &id)),
    )
    .await;
    for _ in 0..2 {
        call(&app, "POST", "/webhook/oauth2", Some(&json!({})), &[]).await;
    }
    let execution = last_execution(&app, &workflow_id).await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        http_output(&execution),
        vec![json!({"granted": "Bearer token-1"})]
    );
    assert_eq!(server.tokens_issued(), 1);
    let token_request = &server.seen_at("/token")[0];
    assert_eq!(
        token_request.body_text(),
        "grant_type=client_credentials&scope=read"
    );
    assert_eq!(server.seen_at("/protected").len(), 2);
}

#[tokio::test]
async fn a_stored_oauth2_token_is_used_as_it_is() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let (_, execution) = with_generic(
        &app,
        &server,
        "oauth2-stored",
        "oAuth2Api",
        json!({"grantType": "authorizationCode", "authUrl": server.url("/auth"), "accessTokenUrl": server.url("/token"),
               "clientId": "c", "clientSecret": "s", "oauthTokenData": "{\"access_token\": \"stored-token\"}"}),
        "/protected",
    )
    .await;
    assert_eq!(
        http_output(&execution),
        vec![json!({"granted": "Bearer stored-token"})]
    );
}

#[tokio::test]
async fn a_predefined_credential_type_applies_its_own_rule() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let id = credential(&app, "githubApi", json!({"accessToken": "gh-secret"})).await;
    let execution = run(
        &app,
        "github",
        4.2,
        json!({"url": server.url("/repos"), "authentication": "predefinedCredentialType",
               "nodeCredentialType": "githubApi", "options": {}}),
        uses("githubApi", &id),
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        server.seen_at("/repos")[0].header("authorization"),
        Some("token gh-secret")
    );

    let telegram = credential(&app, "telegramApi", json!({"accessToken": "t"})).await;
    let refused = run(
        &app,
        "telegram",
        4.2,
        json!({"url": server.url("/bot"), "authentication": "predefinedCredentialType",
               "nodeCredentialType": "telegramApi", "options": {}}),
        uses("telegramApi", &telegram),
    )
    .await;
    assert_eq!(
        http_error(&refused)["message"],
        "The credential type \"telegramApi\" cannot be used by the HTTP Request node on this server"
    );
}

#[tokio::test]
async fn a_missing_or_foreign_credential_fails_the_node_in_n8ns_words() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let params = json!({"url": server.url("/secret"), "authentication": "genericCredentialType",
                        "genericAuthType": "httpHeaderAuth", "options": {}});

    let unset = run(&app, "no-credential", 4.2, params.clone(), json!({})).await;
    assert_eq!(unset["status"], "error");
    assert_eq!(http_error(&unset)["message"], "Credentials not found");

    let unknown = run(
        &app,
        "unknown-credential",
        4.2,
        params.clone(),
        uses("httpHeaderAuth", "doesNotExist1"),
    )
    .await;
    assert_eq!(
        http_error(&unknown)["message"],
        "Credential with ID \"doesNotExist1\" does not exist for type \"httpHeaderAuth\"."
    );

    let project = app.create_project("Elsewhere").await;
    let foreign = app
        .post("/api/v1/credentials")
        .key(&app.owner_key)
        .json(
            json!({"name": "theirs", "type": "httpHeaderAuth", "projectId": project,
                     "data": {"name": "X-Key", "value": "not-yours"}}),
        )
        .send()
        .await;
    assert_eq!(foreign.status, 200, "{}", foreign.text());
    let foreign_id = foreign.json()["id"].as_str().expect("id").to_owned();
    let denied = run(
        &app,
        "foreign-credential",
        4.2,
        params,
        uses("httpHeaderAuth", &foreign_id),
    )
    .await;
    let error = http_error(&denied);
    assert_eq!(error["message"], "Node has no access to credential");
    assert_eq!(
        error["description"],
        "Please recreate the credential or ask its owner to share it with you."
    );
    assert!(server.seen_at("/secret").is_empty());
}

#[tokio::test]
async fn cloud_metadata_is_refused_directly_and_through_a_redirect() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let direct = run(
        &app,
        "metadata",
        4.2,
        json!({"url": "http://169.254.169.254/latest/meta-data/", "options": {"timeout": 2000}}),
        json!({}),
    )
    .await;
    assert_eq!(direct["status"], "error");
    assert_eq!(
        http_error(&direct)["message"],
        "Requests to cloud metadata addresses are not allowed (169.254.169.254)"
    );

    let redirected = run(
        &app,
        "metadata-redirect",
        4.2,
        json!({"url": server.url("/redirect?to=http%3A%2F%2F169.254.169.254%2Flatest%2F"), "options": {"timeout": 2000}}),
        json!({}),
    )
    .await;
    assert_eq!(redirected["status"], "error");
    assert_eq!(
        http_error(&redirected)["message"],
        "Requests to cloud metadata addresses are not allowed (169.254.169.254)"
    );
    assert_eq!(server.seen_at("/redirect").len(), 1);

    // A redirect to an allowed place is followed (from version 4 by default).
    let followed = run(
        &app,
        "redirect-ok",
        4.2,
        json!({"url": server.url("/redirect?to=%2Ftext"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(http_output(&followed), vec![json!({"data": "hello there"})]);
}

#[tokio::test]
async fn the_operator_can_allow_only_listed_hosts_or_refuse_private_networks() {
    let server = TestServer::start().await;
    let listed = TestApp::spawn_with(|c| c.outbound.allowed_hosts = "api.example.com".into()).await;
    let refused = run(
        &listed,
        "not-listed",
        4.2,
        json!({"url": server.url("/things"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&refused)["message"],
        "The host \"127.0.0.1\" is not in the hosts this instance may call (N8N_OUTBOUND_ALLOWED_HOSTS)"
    );

    let private = TestApp::spawn_with(|c| c.outbound.block_private_networks = true).await;
    let blocked = run(
        &private,
        "private",
        4.2,
        json!({"url": server.url("/things"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&blocked)["message"],
        "Requests to private, loopback or link-local addresses are not allowed"
    );
    let by_name = run(
        &private,
        "private-name",
        4.2,
        json!({"url": server.url("/things").replace("127.0.0.1", "localhost"), "options": {}}),
        json!({}),
    )
    .await;
    assert_eq!(
        http_error(&by_name)["message"],
        "Requests to private, loopback or link-local addresses are not allowed"
    );
    assert!(server.seen().is_empty());
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

#[tokio::test]
async fn a_refused_oauth2_token_is_renewed_with_client_credentials_and_the_request_sent_again() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let (_, execution) = with_generic(
        &app,
        &server,
        "oauth2-renew",
        "oAuth2Api",
        json!({"grantType": "clientCredentials", "accessTokenUrl": server.url("/token"),
               "clientId": "client-1", "clientSecret": "secret-1",
               "oauthTokenData": "{\"access_token\": \"expired\"}"}),
        "/protected",
    )
    .await;
    assert_eq!(execution["status"], "success", "{execution}");
    assert_eq!(
        http_output(&execution),
        vec![json!({"granted": "Bearer token-1"})]
    );
    let attempts: Vec<String> = server
        .seen_at("/protected")
        .iter()
        .filter_map(|s| s.header("authorization").map(str::to_owned))
        .collect();
    assert_eq!(attempts, vec!["Bearer expired", "Bearer token-1"]);
    assert!(!execution.to_string().contains("secret-1"));
}

#[tokio::test]
async fn a_repeated_query_name_keeps_its_last_value_before_4_3_and_becomes_a_list_from_4_3() {
    let app = TestApp::spawn().await;
    let server = TestServer::start().await;
    let params = |path: &str, options: Value| {
        json!({"url": server.url(path), "sendQuery": true,
               "queryParameters": {"parameters": [{"name": "tag", "value": "a"}, {"name": "tag", "value": "b"}]},
               "options": options})
    };
    run(&app, "dup-42", 4.2, params("/dup-42", json!({})), json!({})).await;
    run(&app, "dup-43", 4.3, params("/dup-43", json!({})), json!({})).await;
    run(
        &app,
        "dup-repeat",
        4.4,
        params("/dup-repeat", json!({"queryParameterArrays": "repeat"})),
        json!({}),
    )
    .await;
    assert_eq!(server.seen_at("/dup-42")[0].query, "tag=b");
    assert_eq!(
        server.seen_at("/dup-43")[0].query,
        "tag%5B0%5D=a&tag%5B1%5D=b"
    );
    assert_eq!(server.seen_at("/dup-repeat")[0].query, "tag=a&tag=b");
}
