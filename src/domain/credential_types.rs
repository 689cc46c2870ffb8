//! The credential-type catalog (`assets/credential-types.json`, compiled in): each type's
//! fields with n8n's names, types, required flags and defaults; the JSON Schema that
//! `GET /credentials/schema/{type}` answers; and validation of a credential's `data` with the
//! words of n8n's validator (`request.body.data requires property "apiKey"`).

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{json, Map, Value};

const CATALOG: &str = include_str!("../../assets/credential-types.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    String,
    Number,
    Boolean,
    Options,
    Json,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    pub display_name: String,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub password: bool,
    #[serde(default)]
    pub default: Option<Value>,
    #[serde(default)]
    pub options: Vec<String>,
}

/// How a credential of a type is tested.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TestSpec {
    /// `GET {baseUrl}/credentials/schema/n8nApi` with the key, as n8n's own credential test.
    N8nApi,
    /// `GET url` with `Authorization: Bearer <field>`.
    Bearer {
        url: String,
        field: String,
        #[serde(default)]
        headers: Map<String, Value>,
    },
    /// `GET url` with `<header>: <prefix><field>`.
    Header {
        url: String,
        header: String,
        field: String,
        #[serde(default)]
        prefix: String,
        #[serde(default)]
        headers: Map<String, Value>,
    },
    /// `GET url`, the secret being part of the URL.
    Get { url: String },
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialType {
    pub name: String,
    pub display_name: String,
    pub properties: Vec<Field>,
    #[serde(default)]
    pub test: Option<TestSpec>,
}

#[derive(Deserialize)]
struct Catalog {
    types: Vec<CredentialType>,
}

fn catalog() -> &'static [CredentialType] {
    static TYPES: OnceLock<Vec<CredentialType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        serde_json::from_str::<Catalog>(CATALOG)
            .expect("the credential-type catalog is valid JSON")
            .types
    })
}

/// Every known type.
pub fn all() -> &'static [CredentialType] {
    catalog()
}

/// The type named `name`, if the catalog has it.
pub fn find(name: &str) -> Option<&'static CredentialType> {
    catalog().iter().find(|t| t.name == name)
}

impl CredentialType {
    /// The JSON Schema of the type's fields.
    pub fn schema(&self) -> Value {
        let mut properties = Map::new();
        for field in &self.properties {
            let mut schema = match field.kind {
                FieldType::String | FieldType::Json => json!({ "type": "string" }),
                FieldType::Number => json!({ "type": "number" }),
                FieldType::Boolean => json!({ "type": "boolean" }),
                FieldType::Options => json!({ "type": "string", "enum": field.options }),
            };
            if let Some(default) = &field.default {
                schema["default"] = default.clone();
            }
            properties.insert(field.name.clone(), schema);
        }
        let required: Vec<&str> = self
            .properties
            .iter()
            .filter(|f| f.required)
            .map(|f| f.name.as_str())
            .collect();
        json!({ "additionalProperties": false, "type": "object", "properties": properties, "required": required })
    }

    /// Checks `data` against the type: known fields only, required fields present, values of
    /// the field's type (`null` counts as absent).
    pub fn validate(&self, data: &Map<String, Value>) -> Result<(), String> {
        for (key, value) in data {
            let Some(field) = self.properties.iter().find(|f| &f.name == key) else {
                return Err(format!(
                    "request.body.data is not allowed to have the additional property \"{key}\""
                ));
            };
            if value.is_null() {
                continue;
            }
            let ok = match field.kind {
                FieldType::String | FieldType::Json => value.is_string(),
                FieldType::Number => value.is_number(),
                FieldType::Boolean => value.is_boolean(),
                FieldType::Options => {
                    if !value
                        .as_str()
                        .is_some_and(|v| field.options.iter().any(|o| o == v))
                    {
                        return Err(format!(
                            "request.body.data.{key} is not one of enum values: {}",
                            field.options.join(",")
                        ));
                    }
                    true
                }
            };
            if !ok {
                let kind = match field.kind {
                    FieldType::Number => "number",
                    FieldType::Boolean => "boolean",
                    _ => "string",
                };
                return Err(format!(
                    "request.body.data.{key} is not of a type(s) {kind}"
                ));
            }
        }
        for field in self.properties.iter().filter(|f| f.required) {
            if data.get(&field.name).is_none_or(Value::is_null) {
                return Err(format!(
                    "request.body.data requires property \"{}\"",
                    field.name
                ));
            }
        }
        Ok(())
    }

    /// The value of `name` in `data`, or the field's default.
    pub fn value<'a>(&'a self, data: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
        data.get(name).filter(|v| !v.is_null()).or_else(|| {
            self.properties
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.default.as_ref())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_loads_with_at_least_forty_types_and_unique_names() {
        let types = all();
        assert!(types.len() >= 40, "{}", types.len());
        let mut names: Vec<&str> = types.iter().map(|t| t.name.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), types.len());
        for t in types {
            assert!(!t.properties.is_empty(), "{}", t.name);
        }
    }

    #[test]
    fn the_n8n_api_schema_is_what_the_n8n_node_expects() {
        let schema = find("n8nApi").expect("n8nApi").schema();
        assert_eq!(schema["type"], "object");
        assert_eq!(schema["additionalProperties"], false);
        assert!(
            schema["properties"]["apiKey"].is_object()
                && schema["properties"]["baseUrl"].is_object()
        );
        assert_eq!(schema["required"], json!(["apiKey", "baseUrl"]));
    }

    #[test]
    fn data_is_validated_with_n8ns_messages() {
        let postgres = find("postgres").expect("postgres");
        let data = |v: Value| v.as_object().expect("object").clone();
        assert!(postgres
            .validate(&data(
                json!({ "host": "db", "port": 5432, "ssl": "require" })
            ))
            .is_ok());
        assert_eq!(
            postgres.validate(&data(json!({ "port": "5432" }))),
            Err("request.body.data.port is not of a type(s) number".into())
        );
        assert_eq!(
            postgres.validate(&data(json!({ "ssl": "maybe" }))),
            Err("request.body.data.ssl is not one of enum values: allow,disable,require".into())
        );
        assert_eq!(
            postgres.validate(&data(json!({ "bogus": 1 }))),
            Err(
                "request.body.data is not allowed to have the additional property \"bogus\"".into()
            )
        );
        let header = find("httpHeaderAuth").expect("header");
        assert_eq!(
            header.validate(&data(json!({ "value": "x" }))),
            Err("request.body.data requires property \"name\"".into())
        );
    }
}
