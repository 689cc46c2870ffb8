//! Split Out: turns a list inside each item (or several lists, side by side) into separate
//! items, optionally keeping the item's other fields, or splits the item's binary files.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{fields, transform, Registry};
use crate::engine::data::{Item, JsonObject, PairedItem, PairedItems};
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

pub struct SplitOut;

/// Which of the item's other fields the new items carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Include {
    None,
    All,
    /// These fields (read with the node's dot-notation setting).
    Selected(Vec<String>),
}

/// The node's parameters for one item.
#[derive(Clone, Debug)]
pub struct Split {
    pub fields: Vec<String>,
    pub destinations: Vec<String>,
    pub include: Include,
    pub dot_notation: bool,
    pub include_binary: bool,
}

#[async_trait]
impl NodeType for SplitOut {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let mut out = Vec::new();
        for (i, item) in run.input.items(0).iter().enumerate() {
            let split = parameters(run, i)?;
            out.extend(split_item(item, i, &split)?);
        }
        Ok(Outcome::single(out))
    }
}

fn parameters(run: &NodeRun<'_>, i: usize) -> Result<Split, NodeError> {
    let fields: Vec<String> = run
        .param_str("fieldToSplitOut", i, "")?
        .split(',')
        .map(|field| {
            let field = field.trim();
            field.strip_prefix("$json.").unwrap_or(field).to_owned()
        })
        .collect();
    let destinations =
        transform::split_names(&run.param_str("options.destinationFieldName", i, "")?);
    if !destinations.is_empty() && destinations.len() != fields.len() {
        return Err(NodeError::operation(
            "If multiple fields to split out are given, the same number of destination fields must be given",
        ));
    }
    let include = match run.param_str("include", i, "noOtherFields")?.as_str() {
        "allOtherFields" => Include::All,
        "selectedOtherFields" => Include::Selected(transform::field_list_param(
            run,
            "fieldsToInclude",
            i,
            "Fields To Include",
        )?),
        _ => Include::None,
    };
    Ok(Split {
        fields,
        destinations,
        include,
        dot_notation: !run.param_bool("options.disableDotNotation", i, false)?,
        include_binary: run.param_bool("options.includeBinary", i, false)?,
    })
}

/// The items one input item splits into, each paired with input item `index`.
pub fn split_item(item: &Item, index: usize, split: &Split) -> Result<Vec<Item>, NodeError> {
    let dots = split.dot_notation;
    let multi = split.fields.len() > 1;
    let mut parts: Vec<Item> = Vec::new();
    for (entry, field) in split.fields.iter().enumerate() {
        let destination = split.destinations.get(entry).map_or("", String::as_str);
        if field == "$binary" {
            for (element, (key, file)) in item.binary.iter().flatten().enumerate() {
                let part = part_at(&mut parts, element, index);
                part.binary
                    .get_or_insert_with(Map::new)
                    .insert(key.clone(), file.clone());
            }
            continue;
        }
        let elements = match transform::get(&item.json, field, dots) {
            None => Vec::new(),
            Some(Value::Array(list)) => list.clone(),
            Some(Value::Object(map)) => map.values().cloned().collect(),
            Some(other) => vec![other.clone()],
        };
        let name = if destination.is_empty() {
            field.as_str()
        } else {
            destination
        };
        for (element_index, element) in elements.into_iter().enumerate() {
            let part = part_at(&mut parts, element_index, index);
            let spread = split.include == Include::None && destination.is_empty() && !multi;
            match element {
                // A lone list of objects becomes the objects themselves.
                Value::Object(map) if spread => part.json.extend(map),
                Value::Array(list) if spread => {
                    for (position, value) in list.into_iter().enumerate() {
                        part.json.insert(position.to_string(), value);
                    }
                }
                other => {
                    part.json.insert(name.to_owned(), other);
                }
            }
        }
    }
    let mut out = Vec::with_capacity(parts.len());
    for mut part in parts {
        match &split.include {
            Include::None => {}
            Include::All => {
                let mut json = item.json.clone();
                for field in &split.fields {
                    unset(&mut json, field, dots);
                }
                json.extend(part.json);
                part.json = json;
            }
            Include::Selected(names) => {
                if names.is_empty() {
                    return Err(NodeError::operation("No fields specified")
                        .with_description("Please add a field to include"));
                }
                for name in names {
                    if let Some(value) = transform::get(&item.json, name, dots) {
                        part.json.insert(name.clone(), value.clone());
                    }
                }
            }
        }
        if split.include_binary && part.binary.is_none() {
            part.binary = item.binary.clone();
        }
        out.push(part);
    }
    Ok(out)
}

/// The new item at `position`, made when first needed.
fn part_at(parts: &mut Vec<Item>, position: usize, index: usize) -> &mut Item {
    while parts.len() <= position {
        parts.push(Item {
            json: JsonObject::new(),
            paired_item: Some(PairedItems::One(PairedItem::new(index))),
            ..Item::default()
        });
    }
    &mut parts[position]
}

/// lodash's `unset`: a path that is itself a key is that key.
fn unset(json: &mut JsonObject, field: &str, dots: bool) {
    if json.shift_remove(field).is_none() && dots {
        fields::unset(json, field, true);
    }
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.splitOut", &[1.0], Arc::new(SplitOut));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        Item::paired(value.as_object().expect("object").clone(), 0)
    }

    fn split(fields: &str, include: Include) -> Split {
        Split {
            fields: fields.split(',').map(|f| f.trim().to_owned()).collect(),
            destinations: Vec::new(),
            include,
            dot_notation: true,
            include_binary: false,
        }
    }

    fn jsons(items: &[Item]) -> Vec<Value> {
        items
            .iter()
            .map(|i| Value::Object(i.json.clone()))
            .collect()
    }

    #[test]
    fn a_list_of_objects_becomes_the_objects() {
        let input = item(json!({"id": 7, "rows": [{"a": 1}, {"a": 2}]}));
        let out = split_item(&input, 3, &split("rows", Include::None)).expect("split");
        assert_eq!(jsons(&out), vec![json!({"a": 1}), json!({"a": 2})]);
        assert_eq!(
            out[1].paired_item,
            Some(PairedItems::One(PairedItem::new(3)))
        );
    }

    #[test]
    fn values_keep_the_field_name_and_other_fields_come_along() {
        let input = item(json!({"id": 7, "deep": {"tags": ["x", "y"]}, "z": 0}));
        let out = split_item(&input, 0, &split("deep.tags", Include::All)).expect("split");
        assert_eq!(
            jsons(&out),
            vec![
                json!({"id": 7, "deep": {}, "z": 0, "deep.tags": "x"}),
                json!({"id": 7, "deep": {}, "z": 0, "deep.tags": "y"})
            ]
        );
        let out = split_item(
            &input,
            0,
            &split(
                "deep.tags",
                Include::Selected(vec!["id".into(), "nope".into()]),
            ),
        )
        .expect("split");
        assert_eq!(out.len(), 2);
        assert_eq!(
            Value::Object(out[0].json.clone()),
            json!({"deep.tags": "x", "id": 7})
        );
    }

    #[test]
    fn several_fields_split_side_by_side_into_destinations() {
        let input = item(json!({"a": [1, 2, 3], "b": ["x"], "o": {"k": "v"}}));
        let mut both = split("a, b", Include::None);
        both.destinations = vec!["first".into(), "second".into()];
        let out = split_item(&input, 0, &both).expect("split");
        assert_eq!(
            jsons(&out),
            vec![
                json!({"first": 1, "second": "x"}),
                json!({"first": 2}),
                json!({"first": 3})
            ]
        );
        // An object splits into its values; a missing field into nothing.
        let out = split_item(&input, 0, &split("o", Include::None)).expect("split");
        assert_eq!(jsons(&out), vec![json!({"o": "v"})]);
        assert!(split_item(&input, 0, &split("missing", Include::None))
            .expect("split")
            .is_empty());
    }

    #[test]
    fn selected_fields_without_names_fail() {
        let input = item(json!({"a": [1]}));
        let error = split_item(&input, 0, &split("a", Include::Selected(Vec::new())))
            .expect_err("no fields");
        assert_eq!(error.message, "No fields specified");
    }
}
