//! The route table against the scope catalog, and every route against every scope.

use std::collections::{BTreeMap, BTreeSet};

use axum::http::Method;
use flowgate::api::v1::endpoints;
use flowgate::auth::Scope;

use crate::helpers::TestApp;

/// The scope catalog of this server (docs/scopes.md): each scope with the routes that
/// require it. Paths are relative to `/api/v1`; parameter names do not matter.
const CATALOG: &[(&str, &str)] = &[
    ("communityPackage:install", "POST /community-packages"),
    ("communityPackage:list", "GET /community-packages"),
    (
        "communityPackage:uninstall",
        "DELETE /community-packages/{name}",
    ),
    (
        "communityPackage:update",
        "PATCH /community-packages/{name}",
    ),
    ("credential:create", "POST /credentials"),
    ("credential:read", "GET /credentials/{id}"),
    ("credential:read", "POST /credentials/{id}/test"),
    ("credential:list", "GET /credentials"),
    ("credential:update", "PATCH /credentials/{id}"),
    ("credential:delete", "DELETE /credentials/{id}"),
    ("credential:move", "PUT /credentials/{id}/transfer"),
    ("dataTable:create", "POST /data-tables"),
    ("dataTable:read", "GET /data-tables/{id}"),
    ("dataTable:list", "GET /data-tables"),
    ("dataTable:update", "PATCH /data-tables/{id}"),
    ("dataTable:delete", "DELETE /data-tables/{id}"),
    ("dataTableColumn:create", "POST /data-tables/{id}/columns"),
    ("dataTableColumn:read", "GET /data-tables/{id}/columns"),
    (
        "dataTableColumn:update",
        "PATCH /data-tables/{id}/columns/{columnId}",
    ),
    (
        "dataTableColumn:delete",
        "DELETE /data-tables/{id}/columns/{columnId}",
    ),
    ("dataTableRow:create", "POST /data-tables/{id}/rows"),
    ("dataTableRow:read", "GET /data-tables/{id}/rows"),
    ("dataTableRow:update", "PATCH /data-tables/{id}/rows/update"),
    (
        "dataTableRow:delete",
        "DELETE /data-tables/{id}/rows/delete",
    ),
    ("dataTableRow:delete", "DELETE /data-tables/{id}/rows/clear"),
    ("dataTableRow:upsert", "POST /data-tables/{id}/rows/upsert"),
    ("execution:read", "GET /executions/{id}"),
    ("execution:list", "GET /executions"),
    ("execution:retry", "POST /executions/{id}/retry"),
    ("execution:stop", "POST /executions/{id}/stop"),
    ("execution:stop", "POST /executions/stop"),
    ("execution:delete", "DELETE /executions/{id}"),
    ("executionTags:list", "GET /executions/{id}/tags"),
    ("executionTags:update", "PUT /executions/{id}/tags"),
    ("folder:create", "POST /projects/{projectId}/folders"),
    (
        "folder:read",
        "GET /projects/{projectId}/folders/{folderId}",
    ),
    ("folder:list", "GET /projects/{projectId}/folders"),
    (
        "folder:update",
        "PATCH /projects/{projectId}/folders/{folderId}",
    ),
    (
        "folder:delete",
        "DELETE /projects/{projectId}/folders/{folderId}",
    ),
    ("insights:read", "GET /insights/summary"),
    ("project:create", "POST /projects"),
    ("project:list", "GET /projects"),
    ("project:update", "PUT /projects/{id}"),
    ("project:update", "POST /projects/{id}/users"),
    ("project:update", "PATCH /projects/{id}/users/{userId}"),
    ("project:update", "DELETE /projects/{id}/users/{userId}"),
    ("project:delete", "DELETE /projects/{id}"),
    ("securityAudit:generate", "POST /audit"),
    ("sourceControl:pull", "POST /source-control/pull"),
    ("tag:create", "POST /tags"),
    ("tag:read", "GET /tags/{id}"),
    ("tag:list", "GET /tags"),
    ("tag:update", "PUT /tags/{id}"),
    ("tag:delete", "DELETE /tags/{id}"),
    ("user:create", "POST /users"),
    ("user:read", "GET /users/{id}"),
    ("user:list", "GET /users"),
    ("user:list", "GET /projects/{id}/users"),
    ("user:changeRole", "PATCH /users/{id}/role"),
    ("user:delete", "DELETE /users/{id}"),
    ("variable:create", "POST /variables"),
    ("variable:list", "GET /variables"),
    ("variable:update", "PUT /variables/{id}"),
    ("variable:delete", "DELETE /variables/{id}"),
    ("workflow:create", "POST /workflows"),
    ("workflow:read", "GET /workflows/{id}"),
    ("workflow:read", "GET /workflows/{id}/history"),
    ("workflow:read", "GET /workflows/{id}/versions/{versionId}"),
    ("workflow:read", "GET /workflows/{id}/{versionId}"),
    ("workflow:list", "GET /workflows"),
    ("workflow:update", "PUT /workflows/{id}"),
    ("workflow:delete", "DELETE /workflows/{id}"),
    ("workflow:delete", "POST /workflows/{id}/archive"),
    ("workflow:delete", "POST /workflows/{id}/unarchive"),
    ("workflow:move", "PUT /workflows/{id}/transfer"),
    ("workflow:activate", "POST /workflows/{id}/publish"),
    ("workflow:activate", "POST /workflows/{id}/unpublish"),
    ("workflow:activate", "POST /workflows/{id}/activate"),
    ("workflow:activate", "POST /workflows/{id}/deactivate"),
    ("workflowTags:list", "GET /workflows/{id}/tags"),
    ("workflowTags:update", "PUT /workflows/{id}/tags"),
];

/// Routes without a scope: any valid key may call them.
const NO_SCOPE: &[&str] = &[
    "GET /credentials/schema/{credentialTypeName}",
    "GET /discover",
];

/// `/tags/{tagId}` and `/tags/{id}` are the same route.
fn normalise(route: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in route.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

fn table() -> BTreeMap<String, Option<&'static str>> {
    endpoints()
        .iter()
        .map(|e| {
            (
                normalise(&format!("{} {}", e.method, e.path)),
                e.auth.scope.map(Scope::as_str),
            )
        })
        .collect()
}

#[test]
fn every_route_requires_the_scope_the_catalog_gives_it() {
    let catalog: BTreeMap<String, &str> = CATALOG.iter().map(|(s, r)| (normalise(r), *s)).collect();
    let no_scope: BTreeSet<String> = NO_SCOPE.iter().map(|r| normalise(r)).collect();

    for (route, scope) in table() {
        match scope {
            Some(scope) => assert_eq!(
                catalog.get(&route).copied(),
                Some(scope),
                "{route} requires {scope}"
            ),
            None => assert!(
                no_scope.contains(&route),
                "{route} requires no scope but the catalog lists none for it"
            ),
        }
    }
}

#[test]
fn every_catalog_route_is_built_or_listed_as_not_yet_built() {
    // Routes of the catalog that later issues build; this list only ever shrinks. A route
    // that is built must leave it (the test fails while it stays).
    let not_yet_built: BTreeSet<String> = NOT_YET_BUILT.iter().map(|r| normalise(r)).collect();
    let table = table();

    for (scope, route) in CATALOG {
        let route = normalise(route);
        let built = table.contains_key(&route);
        assert!(
            built != not_yet_built.contains(&route),
            "{scope} {route}: built={built}, listed as not built={}",
            !built
        );
    }
    for route in NO_SCOPE {
        let route = normalise(route);
        assert!(
            table.contains_key(&route) != not_yet_built.contains(&route),
            "{route}"
        );
    }
}

#[test]
fn every_catalog_scope_except_the_reserved_one_guards_a_route() {
    let catalog_scopes: BTreeSet<&str> = CATALOG.iter().map(|(s, _)| *s).collect();
    let all: BTreeSet<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let reserved: BTreeSet<&str> = ["user:enforceMfa"].into();

    assert_eq!(
        all.difference(&catalog_scopes)
            .copied()
            .collect::<BTreeSet<_>>(),
        reserved
    );
    assert!(catalog_scopes.is_subset(&all));
}

/// Fills the path's parameters with a plausible id.
fn concrete(path: &str) -> String {
    normalise(path).replace("{}", "AAAAAAAAAAAAAAAA")
}

#[tokio::test]
async fn every_route_denies_every_scope_but_its_own() {
    let app = TestApp::spawn().await;
    let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();

    for endpoint in endpoints() {
        let path = format!("/api/v1{}", concrete(endpoint.path));
        let send = |key: String| {
            let mut request = app.request(endpoint.method.clone(), &path).key(&key);
            if matches!(endpoint.method, Method::POST | Method::PUT | Method::PATCH) {
                request = request.json(serde_json::json!({}));
            }
            request.send()
        };
        let route = format!("{} {}", endpoint.method, endpoint.path);

        let anonymous = app.request(endpoint.method.clone(), &path).send().await;
        assert_eq!(anonymous.status, 401, "{route} without a key");

        match endpoint.auth.scope {
            Some(scope) => {
                let others: Vec<&str> = all
                    .iter()
                    .copied()
                    .filter(|s| *s != scope.as_str())
                    .collect();
                let without = app.key_with(&app.owner, &others).await;
                let denied = send(without).await;
                assert_eq!(
                    denied.status,
                    403,
                    "{route} with every scope but {scope}: {}",
                    denied.text()
                );
                assert_eq!(denied.message(), "Forbidden");

                let only = app.key_with(&app.owner, &[scope.as_str()]).await;
                let allowed = send(only).await;
                assert!(
                    !matches!(allowed.status.as_u16(), 401 | 403),
                    "{route} with only {scope}: {} {}",
                    allowed.status,
                    allowed.text()
                );
            }
            None => {
                let any = app.key_with(&app.owner, &["tag:read"]).await;
                let allowed = send(any).await;
                assert!(
                    !matches!(allowed.status.as_u16(), 401 | 403),
                    "{route}: {}",
                    allowed.text()
                );
            }
        }
    }
}

const NOT_YET_BUILT: &[&str] = &[];
