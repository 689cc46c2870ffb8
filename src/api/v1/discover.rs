//! `GET /discover`: what the calling key may do — its scopes, the resources and operations
//! they open with their endpoints, and where the full specification is. Built from the route
//! table, so it always matches what the guard enforces.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Method;
use axum::routing::get;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::openapi::{query_param, Doc};
use super::Endpoint;
use crate::app::AppState;
use crate::auth::Principal;
use crate::error::{ApiError, Result};
use crate::extract::ApiQuery;

pub fn endpoints() -> Vec<Endpoint> {
    vec![Endpoint::new(Method::GET, "/discover", None, get(discover),
        Doc::new("discover", "Discover", "What this API key may do")
            .param(query_param("include", json!({"type": "string", "enum": ["schemas"]}), "Also return the request and response schemas of each endpoint."))
            .param(query_param("resource", json!({"type": "string"}), "Only this resource (e.g. workflow)."))
            .param(query_param("operation", json!({"type": "string"}), "Only this operation (e.g. read)."))
            .response(200, "What the key may do.", json!({"type": "object", "required": ["data"], "properties": {"data": {"type": "object", "properties": {
                "scopes": {"type": "array", "items": {"type": "string"}}, "resources": {"type": "object"},
                "filters": {"type": "object"}, "specUrl": {"type": "string"}}}}})))
    .handler_kind()]
}

#[derive(Deserialize)]
pub struct Query {
    include: Option<String>,
    resource: Option<String>,
    operation: Option<String>,
}

/// The resource and operation of an endpoint: from its scope, or (for routes any key may call)
/// from its path.
fn resource_and_operation(endpoint: &Endpoint) -> (String, String) {
    match endpoint.auth.scope {
        Some(scope) => {
            let (resource, operation) = scope
                .as_str()
                .split_once(':')
                .unwrap_or((scope.as_str(), ""));
            (resource.to_owned(), operation.to_owned())
        }
        None => {
            let first = endpoint
                .path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default();
            (
                first.trim_end_matches('s').to_owned(),
                endpoint.doc.operation_id.to_owned(),
            )
        }
    }
}

async fn discover(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<Query>,
) -> Result<Json<Value>> {
    let with_schemas = match query.include.as_deref() {
        None => false,
        Some("schemas") => true,
        Some(_) => {
            return Err(ApiError::bad_request(
                "request/query/include must be equal to one of the allowed values: schemas",
            ))
        }
    };
    let prefix = format!(
        "{}{}",
        state.config.base_path().unwrap_or_default(),
        state.config.public_api_prefix()
    );
    let mut resources: BTreeMap<String, (Vec<String>, Vec<Value>)> = BTreeMap::new();
    for endpoint in super::endpoints() {
        if endpoint
            .auth
            .scope
            .is_some_and(|s| !principal.scopes.contains(s))
        {
            continue;
        }
        if endpoint.auth.api_key_only && principal.credential == crate::auth::Credential::Session {
            continue;
        }
        let (resource, operation) = resource_and_operation(&endpoint);
        if query.resource.as_deref().is_some_and(|r| r != resource)
            || query.operation.as_deref().is_some_and(|o| o != operation)
        {
            continue;
        }
        let mut described = json!({
            "method": endpoint.method.as_str(),
            "path": format!("{prefix}{}", endpoint.path),
            "operationId": endpoint.doc.operation_id,
            "summary": endpoint.doc.summary,
            "scope": endpoint.auth.scope.map(|s| s.as_str()),
        });
        if with_schemas {
            if let Some(body) = &endpoint.doc.body {
                described["requestBody"] = body["content"]["application/json"]["schema"].clone();
            }
            if let Some((_, ok)) = endpoint
                .doc
                .responses
                .iter()
                .find(|(s, _)| (200..300).contains(s))
            {
                described["response"] = ok["content"]["application/json"]["schema"].clone();
            }
        }
        let entry = resources.entry(resource).or_default();
        if !entry.0.contains(&operation) {
            entry.0.push(operation);
        }
        entry.1.push(described);
    }
    let resources: Map<String, Value> = resources
        .into_iter()
        .map(|(name, (operations, endpoints))| {
            (
                name,
                json!({ "operations": operations, "endpoints": endpoints }),
            )
        })
        .collect();
    let mut data = json!({
        "scopes": principal.scopes.names(),
        "resources": resources,
        "filters": { "resource": query.resource, "operation": query.operation },
        "specUrl": format!("{prefix}/openapi.yml"),
    });
    if with_schemas {
        let schemas: Map<String, Value> = super::schemas()
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s))
            .collect();
        data["schemas"] = Value::Object(schemas);
    }
    Ok(Json(json!({ "data": data })))
}
