//! What the node sends: query strings, headers and bodies of each content type.

use serde_json::{json, Value};

use super::server::TestServer;
use super::*;
use crate::helpers::TestApp;

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
    // Kept in the binary data store (filesystem, the default), the item holds a reference.
    assert_eq!(binary["data"], "filesystem-v2");
    assert!(binary["id"]
        .as_str()
        .is_some_and(|id| id.starts_with("filesystem-v2:workflows/")));
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
