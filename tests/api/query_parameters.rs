//! Query parameters an operation does not document are refused, as n8n's request validator
//! refuses them (checked against n8n 2.8.4 on every route family it has; the rest follow its
//! later OpenAPI document).

use axum::http::Method;

use crate::helpers::TestApp;

/// The route's path with every `{param}` filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| {
            if segment.starts_with('{') {
                match segment {
                    "{credentialTypeName}" => "n8nApi",
                    "{name}" => "n8n-nodes-example",
                    _ => "AAAAAAAAAAAAAAAA",
                }
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_operation_refuses_an_unknown_query_parameter_after_authentication() {
    let app = TestApp::spawn().await;
    for endpoint in flowgate::api::v1::endpoints() {
        let path = format!("/api/v1{}?limit=5&bogus=1&other=2", concrete(endpoint.path));
        let unauthenticated = app.request(endpoint.method.clone(), &path).send().await;
        assert_eq!(
            unauthenticated.status,
            401,
            "{} {}: {}",
            endpoint.method,
            path,
            unauthenticated.text()
        );
        let mut request = app
            .request(endpoint.method.clone(), &path)
            .key(&app.owner_key);
        if endpoint.method != Method::GET && endpoint.method != Method::DELETE {
            request = request.json(serde_json::json!({}));
        }
        let answered = request.send().await;
        let documents_limit = endpoint
            .doc
            .params
            .iter()
            .any(|p| p["in"] == "query" && p["name"] == "limit");
        let first = if documents_limit { "bogus" } else { "limit" };
        assert_eq!(
            (answered.status.as_u16(), answered.message()),
            (400, format!("Unknown query parameter '{first}'")),
            "{} {}",
            endpoint.method,
            path
        );
    }
}

#[tokio::test]
async fn documented_parameters_pass() {
    let app = TestApp::spawn().await;
    let key = &app.owner_key;
    for path in [
        "/api/v1/workflows?limit=5&offset=0&active=true&tags=a&name=x&projectId=p&excludePinnedData=true",
        "/api/v1/executions?includeData=false&ignoreDataSizeLimit=true&redactExecutionData=false",
        "/api/v1/users?offset=0&includeRole=true",
        "/api/v1/tags?limit=1",
    ] {
        let r = app.get(path).key(key).send().await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
    }
}
