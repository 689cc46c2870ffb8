//! `GET /discover`: what the calling key may do — its scopes, the resources and operations
//! they open with their endpoints, and where the full specification is. Built from the route
//! table, so it always matches what the guard enforces. As n8n's: only routes behind a scope
//! the key holds are listed (the two routes that need no scope, this one and the credential
//! type schema, are not resources of their own), `filters` says which values `resource` and
//! `operation` may take for this key, and `include=schemas` puts each endpoint's request body
//! schema on the endpoint itself, with its references resolved.

use std::collections::{BTreeMap, BTreeSet};

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
            .param(query_param("include", json!({"type": "string", "enum": ["schemas"]}), "Also return the request body schema of each endpoint."))
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

/// The resource and operation of a scope (`workflow:read` → `workflow`, `read`).
fn resource_and_operation(scope: &str) -> (String, String) {
    let (resource, operation) = scope.split_once(':').unwrap_or((scope, ""));
    (resource.to_owned(), operation.to_owned())
}

/// How deep references inside one request schema are resolved (the schemas of this API nest
/// a few levels; a reference that would go deeper, or back into itself, stays a reference).
const INLINE_DEPTH: usize = 8;

/// `schema` with every `{"$ref": "#/components/schemas/<name>"}` replaced by that schema.
fn inline(schema: &Value, components: &Map<String, Value>, within: &mut Vec<String>) -> Value {
    match schema {
        Value::Object(object) => {
            if let Some(name) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                let target = components.get(name);
                return match target {
                    Some(target)
                        if within.len() < INLINE_DEPTH && !within.iter().any(|n| n == name) =>
                    {
                        within.push(name.to_owned());
                        let resolved = inline(target, components, within);
                        within.pop();
                        resolved
                    }
                    _ => schema.clone(),
                };
            }
            Value::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.clone(), inline(v, components, within)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| inline(v, components, within))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The endpoints the caller's scopes reach, by resource, with the filter values.
struct Catalogue {
    resources: Map<String, Value>,
    resource_values: BTreeSet<String>,
    operation_values: BTreeSet<String>,
}

/// Walks the route table; `components` (with `include=schemas`) inlines request schemas.
fn catalogue(
    principal: &Principal,
    query: &Query,
    prefix: &str,
    components: Option<&Map<String, Value>>,
) -> Catalogue {
    let mut resources: BTreeMap<String, (Vec<String>, Vec<Value>)> = BTreeMap::new();
    let mut resource_values = BTreeSet::new();
    let mut operation_values = BTreeSet::new();
    for endpoint in super::endpoints() {
        let Some(scope) = endpoint.auth.scope else {
            continue;
        };
        if !principal.scopes.contains(scope)
            || (endpoint.auth.api_key_only
                && principal.credential == crate::auth::Credential::Session)
        {
            continue;
        }
        let (resource, operation) = resource_and_operation(scope.as_str());
        resource_values.insert(resource.clone());
        operation_values.insert(operation.clone());
        if query.resource.as_deref().is_some_and(|r| r != resource)
            || query.operation.as_deref().is_some_and(|o| o != operation)
        {
            continue;
        }
        let mut described = json!({
            "method": endpoint.method.as_str(),
            "path": format!("{prefix}{}", endpoint.path),
            "operationId": endpoint.doc.operation_id,
        });
        if let (Some(components), Some(body)) = (components, &endpoint.doc.body) {
            let schema = &body["content"]["application/json"]["schema"];
            if !schema.is_null() {
                described["requestSchema"] = inline(schema, components, &mut Vec::new());
            }
        }
        let entry = resources.entry(resource).or_default();
        if !entry.0.contains(&operation) {
            entry.0.push(operation);
        }
        entry.1.push(described);
    }
    let resources = resources
        .into_iter()
        .map(|(name, (operations, endpoints))| {
            (
                name,
                json!({ "operations": operations, "endpoints": endpoints }),
            )
        })
        .collect();
    Catalogue {
        resources,
        resource_values,
        operation_values,
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
    let components: Map<String, Value> = if with_schemas {
        super::schemas()
            .into_iter()
            .map(|(n, s)| (n.to_owned(), s))
            .collect()
    } else {
        Map::new()
    };
    let Catalogue {
        resources,
        resource_values,
        operation_values,
    } = catalogue(
        &principal,
        &query,
        &prefix,
        with_schemas.then_some(&components),
    );
    let data = json!({
        "scopes": principal.scopes.names(),
        "resources": resources,
        "filters": {
            "resource": {
                "description": "Only the endpoints of this resource.",
                "values": resource_values,
            },
            "operation": {
                "description": "Only the endpoints of this operation.",
                "values": operation_values,
            },
        },
        "specUrl": format!("{prefix}/openapi.yml"),
    });
    Ok(Json(json!({ "data": data })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_resolved_and_cycles_stay_references() {
        let components: Map<String, Value> = serde_json::from_value(json!({
            "tag": { "type": "object", "properties": { "name": { "type": "string" } } },
            "node": { "type": "object", "properties": {
                "children": { "type": "array", "items": { "$ref": "#/components/schemas/node" } },
                "tag": { "$ref": "#/components/schemas/tag" } } }
        }))
        .expect("components");
        let schema = json!({ "type": "array", "items": { "$ref": "#/components/schemas/node" } });

        let inlined = inline(&schema, &components, &mut Vec::new());

        assert_eq!(
            inlined["items"]["properties"]["tag"]["properties"]["name"]["type"],
            "string"
        );
        assert_eq!(
            inlined["items"]["properties"]["children"]["items"]["$ref"],
            "#/components/schemas/node"
        );
        let unknown = json!({ "$ref": "#/components/schemas/none" });
        assert_eq!(inline(&unknown, &components, &mut Vec::new()), unknown);
    }
}
