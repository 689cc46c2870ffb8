//! `GET /discover` tells a key what it may do.

use serde_json::json;

use crate::helpers::TestApp;

#[tokio::test]
async fn discover_lists_only_what_the_keys_scopes_open() {
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
    let mut resources: Vec<&String> = data["resources"]
        .as_object()
        .expect("resources")
        .keys()
        .collect();
    resources.sort();
    // Routes that need no scope (this one, the credential type schema) are not listed.
    assert_eq!(resources, ["tag", "workflow"]);
    assert_eq!(
        data["resources"]["tag"]["operations"],
        json!(["list", "read"])
    );
    let endpoints = data["resources"]["tag"]["endpoints"]
        .as_array()
        .expect("endpoints");
    assert!(endpoints.iter().any(
        |e| e == &json!({ "method": "GET", "path": "/api/v1/tags", "operationId": "getTags" })
    ));
    assert!(data["resources"]["workflow"]["endpoints"]
        .as_array()
        .expect("endpoints")
        .iter()
        .all(|e| e["method"] == "GET" && e.get("requestSchema").is_none()));
    assert_eq!(
        data["filters"]["resource"]["values"],
        json!(["tag", "workflow"])
    );
    assert_eq!(
        data["filters"]["operation"]["values"],
        json!(["list", "read"])
    );
    assert!(data["filters"]["resource"]["description"].is_string());
    assert_eq!(data["specUrl"], "/api/v1/openapi.yml");
    assert!(data.get("schemas").is_none());
}

#[tokio::test]
async fn schemas_come_inlined_on_each_endpoint_that_takes_a_body() {
    let app = TestApp::spawn().await;
    let key = app
        .key_with(&app.owner, &["tag:create", "tag:list", "workflow:create"])
        .await;

    let filtered = app
        .get("/api/v1/discover?resource=tag&operation=create&include=schemas")
        .key(&key)
        .send()
        .await
        .json();

    let data = &filtered["data"];
    let only: Vec<&String> = data["resources"]
        .as_object()
        .expect("resources")
        .keys()
        .collect();
    assert_eq!(only, ["tag"]);
    let create = &data["resources"]["tag"]["endpoints"][0];
    assert_eq!(create["method"], "POST");
    assert_eq!(
        create["requestSchema"]["properties"]["name"]["type"],
        "string"
    );
    // The filters still show every value this key may use.
    assert_eq!(
        data["filters"]["resource"]["values"],
        json!(["tag", "workflow"])
    );
    assert!(data.get("schemas").is_none());
    let workflows = app
        .get("/api/v1/discover?resource=workflow&include=schemas")
        .key(&key)
        .send()
        .await
        .json();
    let body = &workflows["data"]["resources"]["workflow"]["endpoints"][0]["requestSchema"];
    assert!(
        body["properties"]["nodes"].is_object() && !body.to_string().contains("$ref"),
        "{body}"
    );
    assert_eq!(
        app.get("/api/v1/discover?include=everything")
            .key(&key)
            .send()
            .await
            .status,
        400
    );
}
