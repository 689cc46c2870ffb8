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

/// The properties a component schema gives an object (through `$ref` and `allOf`), with the
/// ones it requires.
fn schema_fields(
    document: &serde_json::Value,
    schema: &serde_json::Value,
) -> (
    std::collections::BTreeSet<String>,
    std::collections::BTreeSet<String>,
) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = reference.trim_start_matches("#/components/schemas/");
        return schema_fields(document, &document["components"]["schemas"][name]);
    }
    let mut properties: std::collections::BTreeSet<String> = schema["properties"]
        .as_object()
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default();
    let mut required: std::collections::BTreeSet<String> = schema["required"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|n| n.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        let (p, r) = schema_fields(document, part);
        properties.extend(p);
        required.extend(r);
    }
    (properties, required)
}

/// Checks an answer of `method path` against the schema the document gives its `status`
/// response: no field the schema leaves out, none it requires missing, and none of its
/// properties absent but those listed in `absent` (fields the answer only sometimes has).
fn assert_answer_matches_schema(
    document: &serde_json::Value,
    (method, path, status): (&str, &str, &str),
    answer: &serde_json::Value,
    absent: &[&str],
) {
    let schema = &document["paths"][path][method]["responses"][status]["content"]
        ["application/json"]["schema"];
    assert!(schema.is_object(), "{method} {path} {status} has no schema");
    let (properties, required) = schema_fields(document, schema);
    let fields: std::collections::BTreeSet<String> = answer
        .as_object()
        .unwrap_or_else(|| panic!("{method} {path} answers an object: {answer}"))
        .keys()
        .cloned()
        .collect();
    let undocumented: Vec<&String> = fields.difference(&properties).collect();
    assert!(
        undocumented.is_empty(),
        "{method} {path} answers fields its schema lacks: {undocumented:?}"
    );
    let missing: Vec<&String> = required.difference(&fields).collect();
    assert!(
        missing.is_empty(),
        "{method} {path} lacks required fields: {missing:?}"
    );
    let unshown: Vec<&String> = properties
        .difference(&fields)
        .filter(|p| !absent.contains(&p.as_str()))
        .collect();
    assert!(
        unshown.is_empty(),
        "{method} {path} documents fields it does not answer: {unshown:?}"
    );
}

/// The response types and their component schemas are written apart; this holds them
/// together for the biggest resources: a field added to (or dropped from) an answer without
/// its schema fails here, as does a schema property no answer carries.
#[tokio::test]
async fn answers_carry_the_fields_of_their_documented_schemas() {
    use serde_json::json;
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    let document = app.get("/api/v1/openapi.json").send().await.json();

    let tag = app
        .post("/api/v1/tags")
        .key(key)
        .json(json!({ "name": "documented" }))
        .send()
        .await
        .json();
    let workflow = app
        .create_workflow(key, crate::helpers::publishable_body("documented"))
        .await;
    let workflow_id = workflow["id"].as_str().expect("id").to_owned();
    let published = app
        .post(&format!("/api/v1/workflows/{workflow_id}/publish"))
        .key(key)
        .send()
        .await;
    assert_eq!(published.status, 200, "{}", published.text());
    let read_workflow = app
        .get(&format!("/api/v1/workflows/{workflow_id}"))
        .key(key)
        .send()
        .await
        .json();
    let credential = app
        .post("/api/v1/credentials")
        .key(key)
        .json(json!({ "name": "Documented", "type": "httpHeaderAuth", "data": { "name": "X-Key", "value": "v" } }))
        .send()
        .await;
    assert_eq!(credential.status, 200, "{}", credential.text());
    let user = app
        .get(&format!("/api/v1/users/{}?includeRole=true", app.owner.id))
        .key(key)
        .send()
        .await
        .json();
    let execution_id = {
        let now = "2026-01-01T00:00:00.000Z";
        let mut tx = app.state.db.begin().await.expect("tx");
        let id = flowgate::db::executions::insert(
            tx.conn(),
            &flowgate::db::executions::NewExecution {
                workflow_id: &workflow_id,
                mode: "trigger",
                status: "success",
                finished: true,
                created_at: now,
                started_at: Some(now),
                stopped_at: Some(now),
                data: Some(r#"{"resultData":{"runData":{}}}"#),
            },
        )
        .await
        .expect("insert");
        tx.commit().await.expect("commit");
        id
    };
    let execution = app
        .get(&format!(
            "/api/v1/executions/{execution_id}?includeData=true"
        ))
        .key(key)
        .send()
        .await
        .json();

    for (operation, answer, absent) in [
        (("post", "/tags", "201"), &tag, &[][..]),
        (("post", "/workflows", "200"), &workflow, &[][..]),
        // The parent folder is shown where n8n shows it (create, update), not on a read.
        (
            ("get", "/workflows/{id}", "200"),
            &read_workflow,
            &["parentFolder"][..],
        ),
        (("post", "/credentials", "200"), &credential.json(), &[][..]),
        (("get", "/users/{id}", "200"), &user, &[][..]),
        // A recorded run without a stored workflow has no `workflowData` to show.
        (
            ("get", "/executions/{id}", "200"),
            &execution,
            &["workflowData"][..],
        ),
    ] {
        assert_answer_matches_schema(&document, operation, answer, absent);
    }
}
