//! Aggregate: gathers fields of all items into lists in one item ("individual fields"), or
//! all items' data into one list ("all item data"), optionally with their binary files.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::{fields, transform, Registry};
use crate::engine::data::{Item, JsonObject};
use crate::engine::node::{from_param, NodeError, NodeRun, NodeType, Outcome};

pub struct Aggregate;

/// One entry of "Fields To Aggregate".
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct FieldToAggregate {
    pub field_to_aggregate: String,
    pub rename_field: bool,
    pub output_field_name: String,
}

/// How individual fields are gathered.
#[derive(Clone, Copy, Debug, Default)]
pub struct FieldOptions {
    pub dot_notation: bool,
    pub merge_lists: bool,
    pub keep_missing: bool,
}

/// Which fields of each item "all item data" keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Keep {
    All,
    Only(Vec<String>),
    Except(Vec<String>),
}

#[async_trait]
impl NodeType for Aggregate {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let items = run.input.items(0);
        let mode = run.param_str("aggregate", 0, "aggregateIndividualFields")?;
        let mut item = if mode == "aggregateIndividualFields" {
            let entries: Vec<FieldToAggregate> =
                match run.param_value("fieldsToAggregate.fieldToAggregate", 0)? {
                    None | Some(Value::Null) => Vec::new(),
                    Some(value) => from_param("fieldsToAggregate", value)?,
                };
            let options = FieldOptions {
                dot_notation: !run.param_bool("options.disableDotNotation", 0, false)?,
                merge_lists: run.param_bool("options.mergeLists", 0, false)?,
                keep_missing: run.param_bool("options.keepMissing", 0, false)?,
            };
            individual_fields(items, &entries, options)?
        } else {
            let destination = run.param_str("destinationFieldName", 0, "data")?;
            let keep = match run.param_str("include", 0, "allFields")?.as_str() {
                "specifiedFields" => Keep::Only(transform::field_list_param(
                    run,
                    "fieldsToInclude",
                    0,
                    "Fields To Include",
                )?),
                "allFieldsExcept" => Keep::Except(transform::field_list_param(
                    run,
                    "fieldsToExclude",
                    0,
                    "Fields To Exclude",
                )?),
                _ => Keep::All,
            };
            all_item_data(items, &destination, &keep)
        };
        if run.param_bool("options.includeBinaries", 0, false)? {
            let unique = run.param_bool("options.keepOnlyUnique", 0, false)?;
            let sources: Vec<&Item> = item
                .lineage()
                .iter()
                .filter_map(|p| items.get(p.item))
                .collect();
            item.binary = gather_binaries(&sources, unique);
        }
        Ok(Outcome::single(vec![item]))
    }
}

/// "Individual fields": one list per field, in one item paired with every input item.
pub fn individual_fields(
    items: &[Item],
    entries: &[FieldToAggregate],
    options: FieldOptions,
) -> Result<Item, NodeError> {
    if entries.is_empty() {
        return Err(NodeError::operation("No fields specified")
            .with_description("Please add a field to aggregate"));
    }
    let dots = options.dot_notation;
    let mut seen: Vec<&str> = Vec::new();
    let mut lists: Map<String, Value> = Map::new();
    for entry in entries {
        let input = entry.field_to_aggregate.as_str();
        let field = if entry.rename_field {
            entry.output_field_name.as_str()
        } else {
            input
        };
        if seen.contains(&field) {
            return Err(NodeError::operation(format!(
                "The '{field}' output field is used more than once"
            ))
            .with_description("Please make sure each output field name is unique"));
        }
        seen.push(field);
        if input.is_empty() {
            continue;
        }
        // The output name counts only with "rename" on (n8n drops it otherwise); without
        // one, the list is named after the last segment of a dotted path.
        let output = if entry.rename_field && !entry.output_field_name.is_empty() {
            entry.output_field_name.clone()
        } else if dots && input.contains('.') {
            input.rsplit('.').next().unwrap_or(input).to_owned()
        } else {
            input.to_owned()
        };
        let mut list = Vec::new();
        for item in items {
            let mut value = transform::get(&item.json, input, dots).cloned();
            if !options.keep_missing {
                match value {
                    Some(Value::Array(entries)) => {
                        value = Some(Value::Array(
                            entries.into_iter().filter(|e| !e.is_null()).collect(),
                        ))
                    }
                    None | Some(Value::Null) => continue,
                    _ => {}
                }
            }
            match value {
                Some(Value::Array(entries)) if options.merge_lists => list.extend(entries),
                // A missing value kept in a list is written as null, as JSON writes undefined.
                other => list.push(other.unwrap_or(Value::Null)),
            }
        }
        lists.insert(output, Value::Array(list));
    }
    let mut json = JsonObject::new();
    for (key, list) in lists {
        fields::set(&mut json, &key, list, dots);
    }
    Ok(Item {
        json,
        paired_item: transform::paired_with(0..items.len()),
        ..Item::default()
    })
}

/// "All item data": every item's (kept) fields in one list under `destination`; items left
/// with no field are dropped, and the new item is paired with the items that remain.
pub fn all_item_data(items: &[Item], destination: &str, keep: &Keep) -> Item {
    let mut list = Vec::new();
    let mut paired = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let json = match keep {
            Keep::Only(names) if !names.is_empty() => {
                filtered(&item.json, |k| names.iter().any(|n| n == k))
            }
            Keep::Except(names) if !names.is_empty() => {
                filtered(&item.json, |k| !names.iter().any(|n| n == k))
            }
            _ => item.json.clone(),
        };
        let filtering = match keep {
            Keep::Only(names) | Keep::Except(names) => !names.is_empty(),
            Keep::All => false,
        };
        if filtering && json.is_empty() {
            continue;
        }
        paired.push(index);
        list.push(Value::Object(json));
    }
    let mut json = JsonObject::new();
    json.insert(destination.to_owned(), Value::Array(list));
    Item {
        json,
        paired_item: transform::paired_with(paired),
        ..Item::default()
    }
}

fn filtered(json: &JsonObject, keep: impl Fn(&str) -> bool) -> JsonObject {
    json.iter()
        .filter(|(k, _)| keep(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The binary files of `items` in one map; a name already taken gets `_1`, `_2`, ...; with
/// `unique`, a file like one already kept (same type, size and extension) is left out.
pub fn gather_binaries(items: &[&Item], unique: bool) -> Option<Map<String, Value>> {
    let mut out: Option<Map<String, Value>> = None;
    let mut kept: Vec<[Option<Value>; 4]> = Vec::new();
    for item in items {
        for (key, file) in item.binary.iter().flatten() {
            let target = out.get_or_insert_with(Map::new);
            if unique {
                let signature = ["mimeType", "fileType", "fileSize", "fileExtension"]
                    .map(|field| file.get(field).cloned());
                if kept.contains(&signature) {
                    continue;
                }
                kept.push(signature);
            }
            let mut name = key.clone();
            let mut suffix = 1;
            while target.contains_key(&name) {
                name = format!("{key}_{suffix}");
                suffix += 1;
            }
            target.insert(name, file.clone());
        }
    }
    out
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.aggregate", &[1.0], Arc::new(Aggregate));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::data::{PairedItem, PairedItems};
    use serde_json::json;

    fn items(values: Vec<Value>) -> Vec<Item> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| Item::paired(v.as_object().expect("object").clone(), i))
            .collect()
    }

    fn entry(field: &str, output: Option<&str>) -> FieldToAggregate {
        FieldToAggregate {
            field_to_aggregate: field.into(),
            rename_field: output.is_some(),
            output_field_name: output.unwrap_or_default().into(),
        }
    }

    #[test]
    fn individual_fields_gather_values_and_skip_missing_ones() {
        let input = items(vec![
            json!({"name": "a", "user": {"tags": ["x", null]}}),
            json!({"name": null, "user": {"tags": ["y"]}}),
            json!({"other": 1}),
        ]);
        let options = FieldOptions {
            dot_notation: true,
            ..FieldOptions::default()
        };
        let item = individual_fields(
            &input,
            &[entry("name", None), entry("user.tags", Some("all.tags"))],
            options,
        )
        .expect("aggregate");
        assert_eq!(
            Value::Object(item.json),
            json!({"name": ["a"], "all": {"tags": [["x"], ["y"]]}})
        );
        assert_eq!(
            item.paired_item,
            Some(PairedItems::Many(vec![
                PairedItem::new(0),
                PairedItem::new(1),
                PairedItem::new(2)
            ]))
        );
        let merged = individual_fields(
            &input,
            &[entry("user.tags", None)],
            FieldOptions {
                merge_lists: true,
                keep_missing: true,
                ..options
            },
        )
        .expect("aggregate");
        assert_eq!(
            Value::Object(merged.json),
            json!({"tags": ["x", null, "y", null]})
        );
    }

    #[test]
    fn an_output_name_counts_only_with_rename_on() {
        // n8n 2.8.4: a leftover output name with "rename" off is ignored; a missing field
        // kept with "keep missing" is null.
        let mut hidden = entry("data", Some("zz"));
        hidden.rename_field = false;
        let item = individual_fields(
            &items(vec![json!({"data": 1}), json!({"x": 3})]),
            &[hidden, entry("missing", None)],
            FieldOptions {
                dot_notation: true,
                keep_missing: true,
                ..FieldOptions::default()
            },
        )
        .expect("aggregate");
        assert_eq!(
            Value::Object(item.json),
            json!({"data": [1, null], "missing": [null, null]})
        );
    }

    #[test]
    fn an_output_name_used_twice_fails() {
        let error = individual_fields(
            &items(vec![json!({"a": 1})]),
            &[entry("a", None), entry("b", Some("a"))],
            FieldOptions::default(),
        )
        .expect_err("duplicate");
        assert_eq!(error.message, "The 'a' output field is used more than once");
    }

    #[test]
    fn all_item_data_keeps_the_chosen_fields_and_drops_empty_items() {
        let input = items(vec![json!({"a": 1, "b": 2}), json!({"c": 3})]);
        let item = all_item_data(&input, "rows", &Keep::Only(vec!["a".into()]));
        assert_eq!(Value::Object(item.json), json!({"rows": [{"a": 1}]}));
        assert_eq!(
            item.paired_item,
            Some(PairedItems::Many(vec![PairedItem::new(0)]))
        );
        let item = all_item_data(&input, "data", &Keep::Except(vec!["b".into()]));
        assert_eq!(
            Value::Object(item.json),
            json!({"data": [{"a": 1}, {"c": 3}]})
        );
    }

    #[test]
    fn binaries_are_gathered_under_free_names() {
        let first = Item {
            binary: Some(
                json!({"data": {"mimeType": "text/plain", "fileSize": "1 B"}})
                    .as_object()
                    .expect("object")
                    .clone(),
            ),
            ..Item::default()
        };
        let second = first.clone();
        let all = gather_binaries(&[&first, &second], false).expect("binaries");
        assert_eq!(all.keys().collect::<Vec<_>>(), vec!["data", "data_1"]);
        let unique = gather_binaries(&[&first, &second], true).expect("binaries");
        assert_eq!(unique.len(), 1);
    }
}
