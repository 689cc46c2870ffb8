//! The OpenAPI 3 document of the public API, generated from the route table.
//!
//! Each endpoint carries a [`Doc`] (operation id, tag, parameters, body and responses); each
//! resource module contributes its component schemas. The security requirement, the
//! `x-required-scope` of every operation and the standard error responses (401, 403, 413,
//! 415, 429) are added here from the endpoint's auth declaration, so they always match what
//! the guard enforces.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::Endpoint;
use crate::config::Config;

/// The OpenAPI description of one operation.
pub struct Doc {
    pub operation_id: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: Option<&'static str>,
    pub params: Vec<Value>,
    pub body: Option<Value>,
    pub responses: Vec<(u16, Value)>,
    pub deprecated: bool,
}

impl Doc {
    pub fn new(operation_id: &'static str, tag: &'static str, summary: &'static str) -> Doc {
        Doc {
            operation_id,
            tag,
            summary,
            description: None,
            params: Vec::new(),
            body: None,
            responses: Vec::new(),
            deprecated: false,
        }
    }

    pub fn describe(mut self, text: &'static str) -> Doc {
        self.description = Some(text);
        self
    }

    pub fn param(mut self, param: Value) -> Doc {
        self.params.push(param);
        self
    }

    /// `limit` and `cursor`.
    pub fn paginated(self) -> Doc {
        self.param(query_param("limit", json!({"type": "integer", "minimum": 1, "maximum": 250, "default": 100}),
            "The maximum number of items to return (larger values are capped at 250)."))
            .param(query_param("cursor", json!({"type": "string"}),
                "Paginate by setting the cursor parameter to the nextCursor attribute returned by the previous request's response."))
    }

    /// A required JSON body.
    pub fn body(mut self, schema: Value) -> Doc {
        self.body = Some(
            json!({ "required": true, "content": { "application/json": { "schema": schema } } }),
        );
        self
    }

    /// An optional JSON body.
    pub fn optional_body(mut self, schema: Value) -> Doc {
        self.body = Some(
            json!({ "required": false, "content": { "application/json": { "schema": schema } } }),
        );
        self
    }

    /// A success (or documented error) response with a JSON body.
    pub fn response(mut self, status: u16, description: &str, schema: Value) -> Doc {
        self.responses.push((status, json!({ "description": description, "content": { "application/json": { "schema": schema } } })));
        self
    }

    /// A response without a body.
    pub fn empty_response(mut self, status: u16, description: &str) -> Doc {
        self.responses
            .push((status, json!({ "description": description })));
        self
    }

    /// Error responses with n8n's `{"message"}` body.
    pub fn errors(mut self, statuses: &[u16]) -> Doc {
        for status in statuses {
            self.responses
                .push((*status, error_response(reason(*status))));
        }
        self
    }

    pub fn deprecated(mut self) -> Doc {
        self.deprecated = true;
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "The request is invalid or provides malformed data.",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "The specified resource was not found.",
        405 => "Method not allowed",
        409 => "Conflict",
        413 => "The request body is too large.",
        415 => "Unsupported media type",
        429 => "Too many failed authentication attempts from this address.",
        _ => "Error",
    }
}

pub fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn error_response(description: &str) -> Value {
    json!({ "description": description, "content": { "application/json": { "schema": schema_ref("error") } } })
}

pub fn path_param(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": { "type": "string" } })
}

pub fn query_param(name: &str, schema: Value, description: &str) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// The `{data, nextCursor}` envelope around `item`.
pub fn list_of(item: Value) -> Value {
    json!({
        "type": "object",
        "required": ["data", "nextCursor"],
        "properties": {
            "data": { "type": "array", "items": item },
            "nextCursor": { "type": "string", "nullable": true, "description": "Paginate through items by setting the cursor parameter to a nextCursor attribute returned by a previous request. Default value fetches the first \"page\" of the collection." }
        }
    })
}

/// Component schemas shared by every resource.
fn common_schemas() -> Vec<(&'static str, Value)> {
    vec![(
        "error",
        json!({ "type": "object", "required": ["message"], "properties": { "message": { "type": "string" } } }),
    )]
}

/// The whole document for the configured mount point.
pub fn document(endpoints: &[Endpoint], config: &Config) -> Value {
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for endpoint in endpoints {
        let doc = &endpoint.doc;
        let mut responses: BTreeMap<String, Value> = doc
            .responses
            .iter()
            .map(|(s, v)| (s.to_string(), v.clone()))
            .collect();
        let mut add = |status: u16| {
            responses
                .entry(status.to_string())
                .or_insert_with(|| error_response(reason(status)));
        };
        add(401);
        add(429);
        if endpoint.auth.scope.is_some() {
            add(403);
        }
        if doc.body.is_some() {
            add(400);
            add(413);
            add(415);
        }
        if !doc.params.is_empty() {
            add(400);
        }
        if endpoint.path.contains('{') {
            add(404);
        }
        let security = if endpoint.auth.api_key_only {
            json!([{ "ApiKeyAuth": [] }])
        } else {
            json!([{ "ApiKeyAuth": [] }, { "CookieAuth": [] }])
        };
        let mut operation = json!({
            "operationId": doc.operation_id,
            "tags": [doc.tag],
            "summary": doc.summary,
            "security": security,
            "x-required-scope": endpoint.auth.scope.map_or("none", |s| s.as_str()),
            "responses": responses,
        });
        if let Some(description) = doc.description {
            operation["description"] = json!(description);
        }
        if !doc.params.is_empty() {
            operation["parameters"] = json!(doc.params);
        }
        if let Some(body) = &doc.body {
            operation["requestBody"] = body.clone();
        }
        if doc.deprecated {
            operation["deprecated"] = json!(true);
        }
        paths
            .entry(endpoint.path.to_owned())
            .or_default()
            .insert(endpoint.method.as_str().to_lowercase(), operation);
    }

    add_links(&mut paths);
    let mut schemas = Map::new();
    for (name, schema) in common_schemas().into_iter().chain(super::schemas()) {
        schemas.insert(name.to_owned(), schema);
    }
    let server = config.public_api_server_url();
    json!({
        "openapi": "3.0.0",
        "info": {
            "title": "n8n Public API",
            "description": "n8n Public API. Every operation lists the API-key scope it requires under `x-required-scope`.",
            "version": "1.1.1",
            "license": { "name": "Sustainable Use License", "url": "https://github.com/n8n-io/n8n/blob/master/LICENSE.md" }
        },
        "servers": [{ "url": server }],
        "security": [{ "ApiKeyAuth": [] }],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "ApiKeyAuth": { "type": "apiKey", "in": "header", "name": "X-N8N-API-KEY" },
                "CookieAuth": { "type": "apiKey", "in": "cookie", "name": "n8n-auth" }
            }
        }
    })
}

/// OpenAPI links from each create (`POST <path>` answering 200 or 201) to the operations on
/// the record it made (`<path>/{id}`), its `id` feeding the path parameter: what lets schema
/// fuzzers and client generators chain a create into reads, updates and deletes.
fn add_links(paths: &mut BTreeMap<String, Map<String, Value>>) {
    let mut links: Vec<(String, String, Map<String, Value>)> = Vec::new();
    for (path, operations) in paths.iter() {
        if !operations.contains_key("post") {
            continue;
        }
        let prefix = format!("{path}/{{");
        let mut found = Map::new();
        for (target_path, target_operations) in paths.iter() {
            let Some(param) = target_path
                .strip_prefix(&prefix)
                .and_then(|rest| rest.strip_suffix('}'))
                .filter(|param| !param.contains(['/', '{', '}']))
            else {
                continue;
            };
            for target in target_operations.values() {
                let Some(operation_id) = target["operationId"].as_str() else {
                    continue;
                };
                found.insert(
                    operation_id.to_owned(),
                    json!({
                        "operationId": operation_id,
                        "parameters": { param: "$response.body#/id" },
                    }),
                );
            }
        }
        if !found.is_empty() {
            for status in ["200", "201"] {
                if operations["post"]["responses"].get(status).is_some() {
                    links.push((path.clone(), status.to_owned(), found.clone()));
                }
            }
        }
    }
    for (path, status, found) in links {
        if let Some(response) = paths
            .get_mut(&path)
            .and_then(|operations| operations.get_mut("post"))
            .and_then(|post| post["responses"].get_mut(&status))
            .filter(|response| response.get("$ref").is_none())
        {
            response["links"] = Value::Object(found);
        }
    }
}

/// The document as YAML.
pub fn to_yaml(document: &Value) -> String {
    serde_yaml::to_string(document).unwrap_or_default()
}

/// Serves a rendering of the document (no authentication; any origin may read it, as in n8n).
pub fn serve(body: Bytes, content_type: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
        .into_response()
}
