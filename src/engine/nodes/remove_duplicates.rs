//! Remove Duplicates (v1, v1.1, v2): drops items whose compared fields equal those of an
//! earlier item. Like n8n, it sorts by the compared fields, checks that each field exists and
//! keeps one type, then keeps the first item of each run of equal items.
//!
//! v2's "across executions" operations need a stored history of seen values, which this
//! server does not keep: they fail with a clear message. Clearing that history has nothing
//! to clear and passes the items on.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::{compare, fields, transform, Registry};
use crate::engine::data::{Item, JsonObject};
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

struct RemoveDuplicates;

/// Which fields two items are compared on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CompareOn {
    AllFields,
    AllFieldsExcept(Vec<String>),
    SelectedFields(Vec<String>),
}

/// The node's settings.
#[derive(Clone, Debug)]
pub struct Dedupe {
    pub compare: CompareOn,
    pub dot_notation: bool,
    pub remove_other_fields: bool,
    pub types: TypeRules,
}

/// How the node versions treat values of different types in a compared field.
#[derive(Clone, Copy, Debug)]
pub struct TypeRules {
    /// Fail when a field's type varies between items.
    pub check: bool,
    /// Null values are left out of that check, and the error tells which items differ
    /// (Remove Duplicates after v1).
    pub skip_null_and_explain: bool,
    /// Values sort by type first (Item Lists 3.1).
    pub rank_by_type: bool,
}

impl TypeRules {
    /// The rules of Remove Duplicates `version`.
    pub fn remove_duplicates(version: f64) -> TypeRules {
        TypeRules {
            check: true,
            skip_null_and_explain: version > 1.0,
            rank_by_type: false,
        }
    }
}

#[async_trait]
impl NodeType for RemoveDuplicates {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let items = run.input.items(0);
        if run.version() >= 2.0 {
            match run
                .param_str("operation", 0, "removeDuplicateInputItems")?
                .as_str()
            {
                "removeDuplicateInputItems" => {}
                "removeItemsSeenInPreviousExecutions" => {
                    return Err(NodeError::operation(
                        "Removing items processed in previous executions is not supported by this server",
                    )
                    .with_description(
                        "This server keeps no deduplication history; use \"Remove Items Repeated Within Current Input\"",
                    ))
                }
                _ => return Ok(Outcome::single(items.to_vec())),
            }
        }
        let dedupe = settings(run, TypeRules::remove_duplicates(run.version()))?;
        Ok(Outcome::single(remove_duplicates(items, &dedupe)?))
    }
}

/// The settings, read as `removeDuplicates` and Item Lists read them.
pub fn settings(run: &NodeRun<'_>, types: TypeRules) -> Result<Dedupe, NodeError> {
    let compare = match run.param_str("compare", 0, "allFields")?.as_str() {
        "allFieldsExcept" => CompareOn::AllFieldsExcept(transform::field_list_param(
            run,
            "fieldsToExclude",
            0,
            "Fields To Exclude",
        )?),
        "selectedFields" => CompareOn::SelectedFields(transform::field_list_param(
            run,
            "fieldsToCompare",
            0,
            "Fields To Compare",
        )?),
        _ => CompareOn::AllFields,
    };
    // n8n offers the options only when some fields are chosen; with "all fields" they are
    // not shown, and n8n ignores values left over from another choice.
    let options = compare != CompareOn::AllFields;
    Ok(Dedupe {
        compare,
        dot_notation: !(options && run.param_bool("options.disableDotNotation", 0, false)?),
        remove_other_fields: options && run.param_bool("options.removeOtherFields", 0, false)?,
        types,
    })
}

/// The items left once duplicates are removed.
pub fn remove_duplicates(items: &[Item], dedupe: &Dedupe) -> Result<Vec<Item>, NodeError> {
    let dots = dedupe.dot_notation;
    let Some(first) = items.first() else {
        return Ok(Vec::new());
    };
    let keys_of = |item: &Item| -> Vec<String> {
        if dots {
            flatten_keys(&item.json)
        } else {
            item.json.keys().cloned().collect()
        }
    };
    let keys: Vec<String> = match &dedupe.compare {
        CompareOn::AllFields => {
            let mut keys = Vec::new();
            for item in items {
                for key in keys_of(item) {
                    if !keys.contains(&key) {
                        keys.push(key);
                    }
                }
            }
            keys
        }
        CompareOn::AllFieldsExcept(excluded) => {
            if excluded.is_empty() {
                return Err(NodeError::operation(
                    "No fields specified. Please add a field to exclude from comparison",
                ));
            }
            // n8n takes the fields of the first item here (when dot notation is on).
            let mut keys = keys_of(first);
            if !dots {
                for item in &items[1..] {
                    for key in keys_of(item) {
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                }
            }
            keys.retain(|k| !excluded.contains(k));
            keys
        }
        CompareOn::SelectedFields(selected) => {
            if selected.is_empty() {
                return Err(NodeError::operation(
                    "No fields specified. Please add a field to compare on",
                ));
            }
            selected.iter().map(|k| k.trim().to_owned()).collect()
        }
    };
    let value = |index: usize, key: &str| transform::get(&items[index].json, key, dots);
    let mut order: Vec<usize> = (0..items.len()).collect();
    compare::js_sort(&mut order, |&a, &b| {
        for key in &keys {
            let (x, y) = (value(a, key), value(b, key));
            if dedupe.types.rank_by_type {
                let (rx, ry) = (type_rank(x), type_rank(y));
                if rx != ry {
                    return rx - ry;
                }
            }
            if !compare::is_equal(x, y) {
                return if compare::less_than(x, y) { -1.0 } else { 1.0 };
            }
        }
        0.0
    });
    validate(&order, &keys, dedupe, |index, key| value(index, key))?;
    let mut removed = vec![false; items.len()];
    let mut kept = order[0];
    for &index in &order[1..] {
        if keys
            .iter()
            .all(|key| compare::is_equal(value(index, key), value(kept, key)))
        {
            removed[index] = true;
        } else {
            kept = index;
        }
    }
    let remaining = items
        .iter()
        .zip(&removed)
        .filter(|(_, removed)| !**removed)
        .map(|(item, _)| item);
    if !dedupe.remove_other_fields {
        return Ok(remaining.cloned().collect());
    }
    // n8n pairs each trimmed item with its position among the kept items (not with the input
    // item it came from); recorded the same way here.
    Ok(remaining
        .enumerate()
        .map(|(position, item)| {
            let mut json = JsonObject::new();
            for key in &keys {
                if let Some(v) = transform::get(&item.json, key, dots) {
                    if item.json.contains_key(key.as_str()) {
                        json.insert(key.clone(), v.clone());
                    } else {
                        fields::set(&mut json, key, v.clone(), true);
                    }
                }
            }
            Item::paired(json, position)
        })
        .collect())
}

/// n8n's checks, in sorted order: every compared field is present in every item and has one
/// type throughout.
fn validate<'a>(
    order: &[usize],
    keys: &[String],
    dedupe: &Dedupe,
    value: impl Fn(usize, &str) -> Option<&'a Value>,
) -> Result<(), NodeError> {
    let later = dedupe.types.skip_null_and_explain;
    for key in keys {
        let mut kind: Option<&str> = None;
        for (position, &index) in order.iter().enumerate() {
            if key.is_empty() {
                return Err(NodeError::operation("Name of field to compare is blank"));
            }
            let found = value(index, key);
            if found.is_some_and(Value::is_null) && later {
                continue;
            }
            if found.is_none() {
                let error =
                    NodeError::operation(format!("'{key}' field is missing from some input items"));
                return Err(if !dedupe.dot_notation && key.contains('.') {
                    error.with_description("If you're trying to use a nested field, make sure you turn off 'disable dot notation' in the node options")
                } else {
                    error
                });
            }
            let this = compare::type_of(found);
            match kind {
                Some(previous) if previous != this && dedupe.types.check => {
                    let mut description = "The type of this field varies between items".to_owned();
                    if later {
                        description.push_str(&format!(
                            ", in item [{}] it's a {previous} and in item [{position}] it's a {this} ",
                            position.saturating_sub(1)
                        ));
                    }
                    return Err(NodeError::operation(format!(
                        "'{key}' isn't always the same type"
                    ))
                    .with_description(description));
                }
                _ => kind = Some(this),
            }
        }
    }
    Ok(())
}

/// Item Lists 3.1's order of types: text, numbers, booleans, missing, objects, lists, null.
fn type_rank(value: Option<&Value>) -> f64 {
    match value {
        Some(Value::String(_)) => 1.0,
        Some(Value::Number(_)) => 2.0,
        Some(Value::Bool(_)) => 4.0,
        None => 6.0,
        Some(Value::Object(_)) => 7.0,
        Some(Value::Array(_)) => 9.0,
        Some(Value::Null) => 10.0,
    }
}

/// n8n's `flattenKeys`: the dotted path of every leaf; an empty object or list has none.
pub fn flatten_keys(json: &JsonObject) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in json {
        leaf_paths(value, key.clone(), &mut out);
    }
    out
}

fn leaf_paths(value: &Value, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                leaf_paths(child, format!("{path}.{key}"), out);
            }
        }
        Value::Array(list) => {
            for (index, child) in list.iter().enumerate() {
                leaf_paths(child, format!("{path}.{index}"), out);
            }
        }
        _ => {
            if !out.contains(&path) {
                out.push(path);
            }
        }
    }
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.removeDuplicates",
        &[1.0, 1.1, 2.0],
        Arc::new(RemoveDuplicates),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(values: Vec<Value>) -> Vec<Item> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| Item::paired(v.as_object().expect("object").clone(), i))
            .collect()
    }

    fn dedupe(compare: CompareOn) -> Dedupe {
        Dedupe {
            compare,
            dot_notation: true,
            remove_other_fields: false,
            types: TypeRules::remove_duplicates(2.0),
        }
    }

    fn jsons(items: &[Item]) -> Vec<Value> {
        items
            .iter()
            .map(|i| Value::Object(i.json.clone()))
            .collect()
    }

    #[test]
    fn the_first_of_equal_items_is_kept_in_input_order() {
        let input = items(vec![
            json!({"id": 2, "tag": {"a": 1}}),
            json!({"id": 1, "tag": {"a": 1}}),
            json!({"id": 2, "tag": {"a": 1}}),
            json!({"id": 1, "tag": {"a": 2}}),
        ]);
        let out = remove_duplicates(&input, &dedupe(CompareOn::AllFields)).expect("dedupe");
        assert_eq!(out.len(), 3);
        assert_eq!(out[2].json["tag"], json!({"a": 2}));
        let out = remove_duplicates(
            &input,
            &dedupe(CompareOn::SelectedFields(vec!["id".into()])),
        )
        .expect("dedupe");
        assert_eq!(jsons(&out), jsons(&input[..2]));
        let out = remove_duplicates(
            &input,
            &dedupe(CompareOn::AllFieldsExcept(vec!["tag.a".into()])),
        )
        .expect("dedupe");
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn missing_fields_and_mixed_types_fail_as_in_n8n() {
        let input = items(vec![json!({"id": 1}), json!({"name": "x"})]);
        let error = remove_duplicates(&input, &dedupe(CompareOn::AllFields)).expect_err("missing");
        assert_eq!(error.message, "'id' field is missing from some input items");
        let input = items(vec![
            json!({"id": 1}),
            json!({"id": "1"}),
            json!({"id": null}),
        ]);
        let error = remove_duplicates(&input, &dedupe(CompareOn::AllFields)).expect_err("types");
        assert_eq!(error.message, "'id' isn't always the same type");
        assert_eq!(
            error.details.description.as_deref(),
            Some("The type of this field varies between items, in item [1] it's a number and in item [2] it's a string ")
        );
    }

    #[test]
    fn other_fields_can_be_removed() {
        let input = items(vec![
            json!({"id": 1, "x": 1}),
            json!({"id": 1, "x": 2}),
            json!({"id": 3, "x": 3}),
        ]);
        let mut settings = dedupe(CompareOn::SelectedFields(vec!["id".into()]));
        settings.remove_other_fields = true;
        let out = remove_duplicates(&input, &settings).expect("dedupe");
        assert_eq!(jsons(&out), vec![json!({"id": 1}), json!({"id": 3})]);
        assert_eq!(out[1].lineage()[0].item, 1);
    }

    #[test]
    fn keys_flatten_to_leaf_paths() {
        let json = json!({"a": {"b": 1, "c": []}, "l": [1, {"d": null}], "e": {}})
            .as_object()
            .expect("object")
            .clone();
        assert_eq!(flatten_keys(&json), vec!["a.b", "l.0", "l.1.d"]);
    }
}
