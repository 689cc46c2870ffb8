//! Summarize (v1, v1.1): count, sum, average, min, max, append, concatenate and count unique
//! values across items, optionally split into groups by other fields, as one item per group
//! or one item holding every group.
//!
//! Groups keep the order in which their values first appear. Version 1 turns group values
//! into text; version 1.1 keeps numbers, booleans and null as they are (objects and lists
//! become their JSON text in both).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::Value;

use super::{compare, transform, types, Registry};
use crate::engine::data::{Item, JsonObject};
use crate::engine::node::{from_param, NodeError, NodeRun, NodeType, Outcome};

struct Summarize;

/// One entry of "Fields to Summarize".
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregation {
    #[serde(default = "count")]
    pub aggregation: String,
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub include_empty: bool,
    #[serde(default = "comma")]
    pub separate_by: String,
    #[serde(default)]
    pub custom_separator: String,
}

fn count() -> String {
    "count".to_owned()
}

fn comma() -> String {
    ",".to_owned()
}

/// The node's options.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub dot_notation: bool,
    pub single_item: bool,
    pub skip_empty_split_fields: bool,
    /// Version 1 fails when a summarized field is in no item (unless told to continue).
    pub fail_if_field_not_found: bool,
    /// Version 1 turns group values into text.
    pub keys_as_text: bool,
}

#[async_trait]
impl NodeType for Summarize {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let version = run.version();
        let fail_if_missing =
            version < 1.1 && !run.param_bool("options.continueIfFieldNotFound", 0, false)?;
        run_summarize(run, version < 1.1, fail_if_missing)
    }
}

/// Runs the summary with the node's parameters; the versions differ in how they key groups
/// and whether a field found in no item fails the node.
pub fn run_summarize(
    run: &NodeRun<'_>,
    keys_as_text: bool,
    fail_if_field_not_found: bool,
) -> Result<Outcome, NodeError> {
    let aggregations: Vec<Aggregation> = match run.param_value("fieldsToSummarize.values", 0)? {
        None | Some(Value::Null) => Vec::new(),
        Some(value) => from_param("fieldsToSummarize", value)?,
    };
    let options = Options {
        dot_notation: !run.param_bool("options.disableDotNotation", 0, false)?,
        single_item: run.param_str("options.outputFormat", 0, "separateItems")? == "singleItem",
        skip_empty_split_fields: run.param_bool("options.skipEmptySplitFields", 0, false)?,
        fail_if_field_not_found,
        keys_as_text,
    };
    let split_by = transform::split_names(&run.param_str("fieldsToSplitBy", 0, "")?);
    Ok(Outcome::single(summarize(
        run.input.items(0),
        &aggregations,
        &split_by,
        &options,
    )?))
}

/// A value items are grouped by, compared as JavaScript's `Map` compares keys.
#[derive(Clone, Debug, PartialEq)]
enum GroupKey {
    Missing,
    Value(Value),
}

impl GroupKey {
    /// The key as an object property name (JavaScript's `String(key)`).
    fn text(&self) -> String {
        match self {
            GroupKey::Missing => "undefined".to_owned(),
            GroupKey::Value(v) => types::js_string(v),
        }
    }

    fn same(&self, other: &GroupKey) -> bool {
        match (self, other) {
            (GroupKey::Value(Value::Number(a)), GroupKey::Value(Value::Number(b))) => {
                a.as_f64() == b.as_f64()
            }
            _ => self == other,
        }
    }
}

/// The summary of a group: its figures, or its subgroups by the next split field.
enum Summary {
    Figures {
        fields: JsonObject,
        items: Vec<usize>,
    },
    Split {
        field: String,
        groups: Vec<(GroupKey, Summary)>,
    },
}

/// The output items of the node.
pub fn summarize(
    items: &[Item],
    aggregations: &[Aggregation],
    split_by: &[String],
    options: &Options,
) -> Result<Vec<Item>, NodeError> {
    if aggregations.iter().all(|a| a.field.is_empty()) {
        return Err(NodeError::operation(
            "You need to add at least one aggregation to 'Fields to Summarize' with non empty 'Field'",
        ));
    }
    let all: Vec<usize> = (0..items.len()).collect();
    let summary = split(items, &all, aggregations, split_by, options);
    if options.fail_if_field_not_found {
        for aggregation in aggregations.iter().filter(|a| !a.field.is_empty()) {
            let found = items.iter().any(|i| {
                transform::get(&i.json, &aggregation.field, options.dot_notation).is_some()
            });
            if !found {
                return Err(NodeError::operation(format!(
                    "The field '{}' does not exist in any items",
                    aggregation.field
                )));
            }
        }
    }
    if options.single_item {
        return Ok(vec![Item {
            json: nested_object(summary),
            paired_item: transform::paired_with(all),
            ..Item::default()
        }]);
    }
    Ok(flatten(summary)
        .into_iter()
        .map(|(json, indexes)| Item {
            json,
            paired_item: transform::paired_with(indexes),
            ..Item::default()
        })
        .collect())
}

fn split(
    items: &[Item],
    group: &[usize],
    aggregations: &[Aggregation],
    split_by: &[String],
    options: &Options,
) -> Summary {
    let Some((field, rest)) = split_by.split_first() else {
        let fields = aggregations
            .iter()
            .map(|a| {
                let name = normalize(&format!("{}{}", prefix(&a.aggregation), a.field));
                (name, figure(items, group, a, options.dot_notation))
            })
            .collect();
        return Summary::Figures {
            fields,
            items: group.to_vec(),
        };
    };
    let mut groups: Vec<(GroupKey, Vec<usize>)> = Vec::new();
    for &index in group {
        let mut key = match transform::get(&items[index].json, field, options.dot_notation) {
            None => GroupKey::Missing,
            Some(v @ (Value::Object(_) | Value::Array(_))) => {
                GroupKey::Value(Value::String(compare::js_stringify(v)))
            }
            Some(v) => GroupKey::Value(v.clone()),
        };
        if options.keys_as_text {
            key = GroupKey::Value(Value::String(key.text()));
        }
        if options.skip_empty_split_fields && is_falsy_non_number(&key) {
            continue;
        }
        match groups.iter_mut().find(|(k, _)| k.same(&key)) {
            Some((_, members)) => members.push(index),
            None => groups.push((key, vec![index])),
        }
    }
    Summary::Split {
        field: field.clone(),
        groups: groups
            .into_iter()
            .map(|(key, members)| (key, split(items, &members, aggregations, rest, options)))
            .collect(),
    }
}

fn is_falsy_non_number(key: &GroupKey) -> bool {
    match key {
        GroupKey::Missing => true,
        GroupKey::Value(Value::Null | Value::Bool(false)) => true,
        GroupKey::Value(Value::String(s)) => s.is_empty(),
        GroupKey::Value(_) => false,
    }
}

fn prefix(aggregation: &str) -> &'static str {
    match aggregation {
        "append" => "appended_",
        "average" => "average_",
        "concatenate" => "concatenated_",
        "countUnique" => "unique_count_",
        "max" => "max_",
        "min" => "min_",
        "sum" => "sum_",
        _ => "count_",
    }
}

/// n8n's output field names: brackets and quotes dropped, spaces and dots become `_`.
fn normalize(name: &str) -> String {
    name.chars()
        .filter(|c| !matches!(c, '[' | ']' | '"'))
        .map(|c| if c == ' ' || c == '.' { '_' } else { c })
        .collect()
}

fn is_empty(value: Option<&Value>) -> bool {
    matches!(value, None | Some(Value::Null)) || value.and_then(Value::as_str) == Some("")
}

/// One aggregation over the items of a group.
fn figure(items: &[Item], group: &[usize], entry: &Aggregation, dots: bool) -> Value {
    let values: Vec<Option<&Value>> = group
        .iter()
        .map(|&i| transform::get(&items[i].json, &entry.field, dots))
        .collect();
    // "Include empty values" is offered for append, concatenate, count and count unique
    // (the other aggregations never look at it).
    let keep_empty = entry.include_empty;
    let present = || {
        values
            .iter()
            .copied()
            .filter(move |v| keep_empty || !is_empty(*v))
    };
    let numbers = || values.iter().filter_map(|v| v.and_then(Value::as_f64));
    match entry.aggregation.as_str() {
        "append" => Value::Array(
            present()
                .map(|v| v.cloned().unwrap_or(Value::Null))
                .collect(),
        ),
        "concatenate" => {
            let separator = if entry.separate_by == "other" {
                entry.custom_separator.as_str()
            } else {
                entry.separate_by.as_str()
            };
            let parts: Vec<String> = present()
                .map(|v| match v {
                    None => "undefined".to_owned(),
                    Some(v @ (Value::Object(_) | Value::Array(_) | Value::Null)) => {
                        compare::js_stringify(v)
                    }
                    Some(v) => types::js_string(v),
                })
                .collect();
            Value::String(parts.join(separator))
        }
        "sum" => types::number_value(numbers().fold(0.0, |acc, n| acc + n)),
        "average" => {
            let count = numbers().count();
            types::number_value(numbers().fold(0.0, |acc, n| acc + n) / count as f64)
        }
        "min" | "max" => {
            let min = entry.aggregation == "min";
            let mut best: Option<&Value> = None;
            for value in values.iter().copied().flatten() {
                if matches!(value, Value::Null) || value.as_str() == Some("") {
                    continue;
                }
                let better = match best {
                    None => true,
                    Some(b) if min => compare::js_less(value, b),
                    Some(b) => compare::js_less(b, value),
                };
                if better {
                    best = Some(value);
                }
            }
            best.cloned().unwrap_or(Value::Null)
        }
        "countUnique" => {
            // JavaScript's Set: equal primitives count once, every object or list counts.
            let mut seen: Vec<&Value> = Vec::new();
            let mut objects = 0;
            for value in present().flatten() {
                match value {
                    Value::Object(_) | Value::Array(_) => objects += 1,
                    other if !seen.iter().any(|s| compare::is_equal(Some(s), Some(other))) => {
                        seen.push(other)
                    }
                    _ => {}
                }
            }
            let undefined = usize::from(present().any(|v| v.is_none()));
            Value::from(seen.len() + objects + undefined)
        }
        _ => Value::from(present().count()),
    }
}

/// "Each split in a separate item": one item per innermost group, carrying its group values.
fn flatten(summary: Summary) -> Vec<(JsonObject, Vec<usize>)> {
    match summary {
        Summary::Figures { fields, items } => vec![(fields, items)],
        Summary::Split { field, groups } => {
            let name = normalize(&field);
            let mut out = Vec::new();
            for (key, inner) in groups {
                for (mut json, items) in flatten(inner) {
                    match &key {
                        // JavaScript writes no key for undefined.
                        GroupKey::Missing => {
                            json.shift_remove(&name);
                        }
                        GroupKey::Value(v) => {
                            json.insert(name.clone(), v.clone());
                        }
                    }
                    out.push((json, items));
                }
            }
            out
        }
    }
}

/// "All splits in a single item": groups nested as objects keyed by their values.
fn nested_object(summary: Summary) -> JsonObject {
    match summary {
        Summary::Figures { fields, .. } => fields,
        Summary::Split { groups, .. } => {
            let mut out = JsonObject::new();
            for (key, inner) in groups {
                out.insert(key.text(), Value::Object(nested_object(inner)));
            }
            js_key_order(out)
        }
    }
}

/// JavaScript's order of object keys: array indexes first, ascending, then the rest as
/// inserted.
fn js_key_order(object: JsonObject) -> JsonObject {
    let index = |k: &str| -> Option<u32> {
        let n: u32 = k.parse().ok()?;
        (n.to_string() == k && n != u32::MAX).then_some(n)
    };
    let (mut indexed, rest): (Vec<_>, Vec<_>) =
        object.into_iter().partition(|(k, _)| index(k).is_some());
    indexed.sort_by_key(|(k, _)| index(k));
    indexed.into_iter().chain(rest).collect()
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.summarize", &[1.0, 1.1], Arc::new(Summarize));
}

#[cfg(test)]
#[path = "summarize_tests.rs"]
mod tests;
