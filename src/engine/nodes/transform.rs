//! What the data-transformation nodes (Split Out, Aggregate, Sort, Remove Duplicates,
//! Summarize, Item Lists, ...) share: reading a list of field names, reading a field of an
//! item with or without dot notation, and the pairing of an item made from many.

use serde_json::Value;

use super::fields;
use crate::engine::data::{JsonObject, PairedItem, PairedItems};
use crate::engine::node::{NodeError, NodeRun};

/// n8n's `prepareFieldsArray`: a comma-separated text (entries trimmed, empty ones dropped)
/// or a list of names.
pub fn field_list(value: Option<Value>, label: &str) -> Result<Vec<String>, NodeError> {
    match value {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(split_names(&text)),
        Some(Value::Array(list)) => Ok(list
            .iter()
            .map(super::types::js_string)
            .collect()),
        Some(_) => Err(NodeError::operation(format!(
            "The '{label}' parameter must be a string of fields separated by commas or an array of strings."
        ))),
    }
}

/// A comma-separated list of names, trimmed, without empty entries.
pub fn split_names(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The list parameter at `path` for item `item_index`.
pub fn field_list_param(
    run: &NodeRun<'_>,
    path: &str,
    item_index: usize,
    label: &str,
) -> Result<Vec<String>, NodeError> {
    field_list(run.param_value(path, item_index)?, label)
}

/// The value of `field` in `json`: a lodash path, or with dot notation disabled, one key.
/// As lodash does, a path that is itself a key of the object (`"a.b"`) reads that key.
pub fn get<'a>(json: &'a JsonObject, field: &str, dot_notation: bool) -> Option<&'a Value> {
    if dot_notation {
        if let Some(value) = json.get(field) {
            return Some(value);
        }
    }
    fields::get(json, field, dot_notation)
}

/// The pairing of an item made from input items `indexes`.
pub fn paired_with(indexes: impl IntoIterator<Item = usize>) -> Option<PairedItems> {
    Some(PairedItems::Many(
        indexes.into_iter().map(PairedItem::new).collect(),
    ))
}
