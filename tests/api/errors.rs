//! Every error is n8n's `{"message": ...}` JSON with n8n's status.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn malformed_json_is_400_invalid_json() {
    let app = TestApp::spawn().await;

    let response = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .header("content-type", "application/json")
        .raw("{\"name\":")
        .send()
        .await;

    response.assert_error(400, "Invalid JSON in request body");
}

#[tokio::test]
async fn json_nested_ten_thousand_deep_is_a_clean_400() {
    let app = TestApp::spawn().await;
    let deep = format!("{{\"name\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));

    let response = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .header("content-type", "application/json")
        .raw(deep)
        .send()
        .await;

    response.assert_error(400, "Invalid JSON in request body");
}

#[tokio::test]
async fn a_wrong_or_missing_content_type_is_415() {
    let app = TestApp::spawn().await;

    let text = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .header("content-type", "text/plain")
        .raw("{\"name\":\"a\"}")
        .send()
        .await;
    let none = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .raw("{\"name\":\"a\"}")
        .send()
        .await;

    text.assert_error(415, "unsupported media type text/plain");
    none.assert_error(415, "unsupported media type undefined");
}

#[tokio::test]
async fn a_body_over_the_size_limit_is_413() {
    let app = TestApp::spawn_with(|c| c.payload_size_max_mib = 1).await;
    let big = json!({ "name": "x".repeat(2 * 1024 * 1024) });

    let response = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .json(big)
        .send()
        .await;

    assert_eq!(response.status, 413);
    assert!(response.json()["message"].is_string());
}

#[tokio::test]
async fn unknown_paths_are_404_and_wrong_methods_405_as_json() {
    let app = TestApp::spawn().await;

    let missing = app
        .get("/api/v1/nothing-here")
        .key(&app.owner_key)
        .send()
        .await;
    let wrong_method = app.patch("/api/v1/tags").key(&app.owner_key).send().await;
    let elsewhere = app.get("/no/such/page").send().await;

    missing.assert_error(404, "not found");
    wrong_method.assert_error(405, "PATCH method not allowed");
    assert_eq!(elsewhere.status, 404);
    assert!(elsewhere.json()["message"].is_string());
}

#[tokio::test]
async fn every_response_carries_nosniff_and_a_request_id() {
    let app = TestApp::spawn().await;

    let ok = app.get("/api/v1/tags").key(&app.owner_key).send().await;
    let err = app.get("/api/v1/tags").send().await;

    for response in [ok, err] {
        assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
        assert!(response
            .header("x-request-id")
            .is_some_and(|v| !v.is_empty()));
        assert!(response.header("access-control-allow-origin").is_none());
    }
}

#[tokio::test]
async fn invalid_utf8_in_a_body_is_a_clean_400() {
    let app = TestApp::spawn().await;

    let response = app
        .post("/api/v1/tags")
        .key(&app.owner_key)
        .header("content-type", "application/json")
        .raw(vec![b'{', b'"', b'n', 0xff, 0xfe, b'"', b':', b'1', b'}'])
        .send()
        .await;

    response.assert_error(400, "Invalid JSON in request body");
}
