//! `GET /discover` tells a key what it may do.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn discover_lists_the_keys_scopes_and_the_endpoints_they_open() {
    let app = TestApp::spawn().await;
    let key = app
        .key_with(&app.owner, &["tag:read", "tag:list", "workflow:read"])
        .await;

    let response = app.get("/api/v1/discover").key(&key).send().await;

    assert_eq!(response.status, 200, "{}", response.text());
    let data = &response.json()["data"];
    assert_eq!(
        data["scopes"],
        json!(["tag:read", "tag:list", "workflow:read"])
    );
    assert_eq!(
        data["resources"]["tag"]["operations"],
        json!(["list", "read"])
    );
    let endpoints = data["resources"]["tag"]["endpoints"]
        .as_array()
        .expect("endpoints");
    assert!(endpoints
        .iter()
        .any(|e| e["method"] == "GET" && e["path"] == "/api/v1/tags" && e["scope"] == "tag:list"));
    assert!(
        data["resources"].get("credential").is_some(),
        "the schema route needs no scope"
    );
    assert!(data["resources"]["workflow"]["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .all(|e| e["scope"] == "workflow:read"));
    assert_eq!(data["specUrl"], "/api/v1/openapi.yml");

    let filtered = app
        .get("/api/v1/discover?resource=tag&operation=read&include=schemas")
        .key(&key)
        .send()
        .await
        .json();
    let only = filtered["data"]["resources"]
        .as_object()
        .expect("resources");
    assert_eq!(only.keys().collect::<Vec<_>>(), vec!["tag"]);
    assert_eq!(
        filtered["data"]["resources"]["tag"]["endpoints"][0]["response"]["$ref"],
        "#/components/schemas/tag"
    );
    assert!(filtered["data"]["schemas"]["tag"].is_object());
    assert_eq!(
        app.get("/api/v1/discover?include=everything")
            .key(&key)
            .send()
            .await
            .status,
        400
    );
}
