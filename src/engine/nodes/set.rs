//! Edit Fields (Set): versions 1 and 2 (typed value lists, "keep only set"), 3.0-3.2 (typed
//! field list, include modes) and 3.3-3.4 (assignments, "include other fields"), in manual
//! and JSON modes.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::fields;
use super::types::{self, FieldType};
use super::Registry;
use crate::engine::data::{Item, PairedItem, PairedItems};
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

struct Set;

/// The options every version reads.
struct Options {
    dot_notation: bool,
    ignore_conversion_errors: bool,
    include: String,
    include_binary: bool,
}

#[async_trait]
impl NodeType for Set {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let version = run.version();
        if version < 3.0 {
            return Ok(Outcome::single(
                run.per_item(|i, item| Ok(vec![v1(run, i, item)?]))?,
            ));
        }
        let mode = run.param_str("mode", 0, "manual")?;
        let items = run.per_item(|i, item| {
            let options = options(run, i)?;
            let new_fields = if mode == "raw" {
                raw_fields(run, i)?
            } else if version < 3.3 {
                listed_fields(run, i, &options)?
            } else {
                assigned_fields(run, i, &options)?
            };
            Ok(vec![compose(run, i, item, new_fields, &options)?])
        })?;
        Ok(Outcome::single(items))
    }
}

fn options(run: &NodeRun<'_>, i: usize) -> Result<Options, NodeError> {
    let version = run.version();
    let include = if version >= 3.3 {
        if run.param_bool("includeOtherFields", i, false)? {
            run.param_str("include", i, "all")?
        } else {
            "none".to_owned()
        }
    } else {
        run.param_str("include", i, "all")?
    };
    let include_binary = if version >= 3.4 {
        !run.param_bool("options.stripBinary", i, false)? && include != "none"
    } else {
        run.param_bool("options.includeBinary", i, false)?
    };
    Ok(Options {
        dot_notation: run.param_bool("options.dotNotation", i, true)?,
        ignore_conversion_errors: run.param_bool("options.ignoreConversionErrors", i, false)?,
        include,
        include_binary,
    })
}

/// Checks one field against its type, as n8n's Edit Fields does.
fn validated(
    run: &NodeRun<'_>,
    name: &str,
    kind: &str,
    value: Value,
    i: usize,
    options: &Options,
) -> Result<Value, NodeError> {
    let version = run.version();
    if version >= 3.2 && value.is_null() {
        return Ok(Value::Null);
    }
    let Some(field_type) = FieldType::parse(kind) else {
        return Ok(value);
    };
    let description = format!(
        "To fix the error try to change the type for the field \"{name}\" or activate the option “Ignore Type Conversion Errors” to apply a less strict type validation"
    );
    let value = if field_type == FieldType::String {
        match value {
            Value::Null if version > 3.0 => {
                if options.ignore_conversion_errors {
                    return Ok(Value::Null);
                }
                return Err(NodeError::operation(format!(
                    "'{name}' expects a string but we got 'null' [item {i}]"
                ))
                .with_description(description));
            }
            Value::Object(_) | Value::Array(_) => Value::String(value.to_string()),
            other => Value::String(types::js_string(&other)),
        }
    } else {
        value
    };
    let zone: chrono_tz::Tz = run.env.timezone.parse().unwrap_or(chrono_tz::UTC);
    match types::validate(name, &value, field_type, false, zone) {
        Ok(converted) => Ok(converted),
        Err(_) if options.ignore_conversion_errors => Ok(value),
        Err(message) => Err(NodeError::operation(format!("{message} [item {i}]"))
            .with_description(description)
            .at_item(i)),
    }
}

/// Versions 3.3+: `assignments.assignments[] = {name, value, type}`.
fn assigned_fields(
    run: &NodeRun<'_>,
    i: usize,
    options: &Options,
) -> Result<Vec<(String, Value)>, NodeError> {
    let assignments = run
        .param_value("assignments.assignments", i)?
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    for assignment in assignments.as_array().into_iter().flatten() {
        let name = types::js_string(assignment.get("name").unwrap_or(&Value::Null));
        let kind = assignment
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("string");
        if kind == "binary" {
            continue;
        }
        let value = assignment.get("value").cloned().unwrap_or(Value::Null);
        out.push((
            name.clone(),
            validated(run, &name, kind, value, i, options)?,
        ));
    }
    Ok(out)
}

/// Versions 3.0-3.2: `fields.values[] = {name, type: "stringValue", stringValue, ...}`.
fn listed_fields(
    run: &NodeRun<'_>,
    i: usize,
    options: &Options,
) -> Result<Vec<(String, Value)>, NodeError> {
    let entries = run.param_value("fields.values", i)?.unwrap_or(Value::Null);
    let mut out = Vec::new();
    for entry in entries.as_array().into_iter().flatten() {
        let name = types::js_string(entry.get("name").unwrap_or(&Value::Null));
        let kind = entry
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("stringValue");
        let mut value = entry.get(kind).cloned().unwrap_or(Value::Null);
        if kind == "objectValue" {
            if let Value::String(text) = &value {
                value = parse_json_object(text, i, Some(&name))?;
            }
        }
        out.push((
            name.clone(),
            validated(run, &name, kind, value, i, options)?,
        ));
    }
    Ok(out)
}

/// JSON mode: `jsonOutput`, a JSON object (expressions inside it already evaluated).
fn raw_fields(run: &NodeRun<'_>, i: usize) -> Result<Vec<(String, Value)>, NodeError> {
    let value = run
        .param_value("jsonOutput", i)?
        .unwrap_or(Value::String(String::new()));
    let object = match value {
        Value::String(text) => parse_json_object(&text, i, None)?,
        other => other,
    };
    match object {
        Value::Object(map) => Ok(map.into_iter().collect()),
        _ => Err(NodeError::operation(format!(
            "The 'JSON Output' in item {i} does not contain a valid JSON object"
        ))),
    }
}

fn parse_json_object(text: &str, i: usize, entry: Option<&str>) -> Result<Value, NodeError> {
    let location = match entry {
        Some(name) => format!("entry \"{name}\" inside 'Fields to Set'"),
        None => "'JSON Output'".to_owned(),
    };
    let parsed: Value = serde_json::from_str(text).map_err(|_| {
        NodeError::operation(format!("The {location} in item {i} contains invalid JSON"))
            .with_description(text.to_owned())
    })?;
    if !parsed.is_object() {
        return Err(NodeError::operation(format!(
            "The {location} in item {i} does not contain a valid JSON object"
        )));
    }
    Ok(parsed)
}

/// The new item: the input's fields the include mode keeps, then the new fields.
fn compose(
    run: &NodeRun<'_>,
    i: usize,
    item: &Item,
    new_fields: Vec<(String, Value)>,
    options: &Options,
) -> Result<Item, NodeError> {
    let dots = options.dot_notation;
    let mut json = Map::new();
    match options.include.as_str() {
        "all" => json = item.json.clone(),
        "none" => {}
        "selected" => {
            for key in list_param(run, "includeFields", i)? {
                let value = fields::get(&item.json, &key, dots)
                    .cloned()
                    .unwrap_or(Value::Null);
                let target = if dots && key.contains('.') {
                    key.rsplit('.').next().unwrap_or(&key).to_owned()
                } else {
                    key
                };
                fields::set(&mut json, &target, value, dots);
            }
        }
        "except" => {
            json = item.json.clone();
            for key in list_param(run, "excludeFields", i)? {
                fields::unset(&mut json, &key, dots);
            }
        }
        other => {
            return Err(NodeError::operation(format!(
                "The include option \"{other}\" is not known!"
            )))
        }
    }
    for (name, value) in new_fields {
        fields::set(&mut json, &name, value, dots);
    }
    Ok(Item {
        json,
        binary: if options.include_binary {
            item.binary.clone()
        } else {
            None
        },
        paired_item: Some(PairedItems::One(PairedItem::new(i))),
        error: None,
    })
}

fn list_param(run: &NodeRun<'_>, name: &str, i: usize) -> Result<Vec<String>, NodeError> {
    Ok(run
        .param_str(name, i, "")?
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// Versions 1 and 2: `values.{string,number,boolean}[] = {name, value}`, `keepOnlySet`.
fn v1(run: &NodeRun<'_>, i: usize, item: &Item) -> Result<Item, NodeError> {
    let keep_only_set = run.param_bool("keepOnlySet", i, false)?;
    let dots = run.param_bool("options.dotNotation", i, true)?;
    let mut json = if keep_only_set {
        Map::new()
    } else {
        item.json.clone()
    };
    for kind in ["boolean", "number", "string"] {
        let entries = run
            .param_value(&format!("values.{kind}"), i)?
            .unwrap_or(Value::Null);
        for entry in entries.as_array().into_iter().flatten() {
            let name = types::js_string(entry.get("name").unwrap_or(&Value::Null));
            let raw = entry.get("value").cloned().unwrap_or(Value::Null);
            let value = match kind {
                "boolean" => Value::Bool(types::to_boolean(&raw).unwrap_or(
                    !matches!(raw, Value::Null | Value::Bool(false))
                        && raw != Value::String(String::new()),
                )),
                "number" => types::number_value(types::to_number(&raw).unwrap_or(f64::NAN)),
                _ => Value::String(types::js_string(&raw)),
            };
            fields::set(&mut json, &name, value, dots);
        }
    }
    Ok(Item {
        json,
        binary: item.binary.clone(),
        paired_item: Some(PairedItems::One(PairedItem::new(i))),
        error: None,
    })
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.set",
        &[1.0, 2.0, 3.0, 3.1, 3.2, 3.3, 3.4],
        Arc::new(Set),
    );
}
