//! The OpenAPI document and the docs page.

use flowgate::api::v1::endpoints;

use crate::helpers::TestApp;

#[tokio::test]
async fn the_document_describes_every_route_with_its_scope() {
    let app = TestApp::spawn().await;

    let response = app.get("/api/v1/openapi.yml").send().await;

    assert_eq!(response.status, 200);
    assert_eq!(response.header("access-control-allow-origin"), Some("*"));
    let document: serde_json::Value = serde_yaml::from_slice(&response.body).expect("valid YAML");
    assert_eq!(document["openapi"], "3.0.0");
    assert_eq!(document["servers"][0]["url"], "/api/v1");
    for endpoint in endpoints() {
        let operation = &document["paths"][endpoint.path][endpoint.method.as_str().to_lowercase()];
        assert!(
            operation.is_object(),
            "{} {} missing",
            endpoint.method,
            endpoint.path
        );
        let scope = endpoint.auth.scope.map_or("none", |s| s.as_str());
        assert_eq!(
            operation["x-required-scope"], scope,
            "{} {}",
            endpoint.method, endpoint.path
        );
        assert!(operation["responses"]["401"].is_object());
        assert!(operation["operationId"].is_string());
    }
    let json = app.get("/api/v1/openapi.json").send().await;
    assert_eq!(json.json(), document);
}

/// A create links to the operations on what it made, so fuzzers and generators can chain them.
#[tokio::test]
async fn creates_link_to_the_operations_on_their_record() {
    let app = TestApp::spawn().await;

    let document = app.get("/api/v1/openapi.json").send().await.json();

    let links = &document["paths"]["/tags"]["post"]["responses"]["201"]["links"];
    let mut targets: Vec<&str> = links
        .as_object()
        .expect("links on POST /tags")
        .values()
        .map(|link| link["operationId"].as_str().expect("operationId"))
        .collect();
    targets.sort_unstable();
    assert_eq!(targets, ["deleteTag", "getTag", "updateTag"]);
    assert_eq!(links["getTag"]["parameters"]["id"], "$response.body#/id");
    let workflow_links = &document["paths"]["/workflows"]["post"]["responses"]["200"]["links"];
    assert_eq!(
        workflow_links["getWorkflow"]["parameters"]["id"],
        "$response.body#/id"
    );
}

#[tokio::test]
async fn every_schema_reference_resolves() {
    let app = TestApp::spawn().await;
    let document = app.get("/api/v1/openapi.json").send().await.json();

    fn walk(value: &serde_json::Value, document: &serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(|r| r.as_str()) {
                    let name = reference.trim_start_matches("#/components/schemas/");
                    assert!(
                        document["components"]["schemas"][name].is_object(),
                        "dangling {reference}"
                    );
                }
                map.values().for_each(|v| walk(v, document));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, document)),
            _ => {}
        }
    }
    walk(&document, &document);
}

#[tokio::test]
async fn the_docs_page_is_served_with_a_strict_content_security_policy() {
    let app = TestApp::spawn().await;

    let page = app.get("/api/v1/docs").send().await;
    let script = app.get("/api/v1/docs/docs.js").send().await;

    assert_eq!(page.status, 200);
    assert!(page.text().contains("n8n Public API"));
    assert!(
        !page.text().contains("http://") && !page.text().contains("https://"),
        "no outside resources"
    );
    let csp = page.header("content-security-policy").expect("csp");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(script.status, 200);
    assert!(script.text().contains("openapi.json"));
}

#[tokio::test]
async fn the_docs_page_can_be_switched_off() {
    let app = TestApp::spawn_with(|c| c.public_api_swaggerui_disabled = true).await;

    assert_eq!(app.get("/api/v1/docs").send().await.status, 404);
    assert_eq!(app.get("/api/v1/openapi.yml").send().await.status, 200);
}
