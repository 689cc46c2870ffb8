//! Sort: orders items by fields (text without regard to case, as n8n compares it), or at
//! random. Sorting by JavaScript code needs a code runtime this server does not have; such a
//! node fails with a clear message.

use std::sync::Arc;

use async_trait::async_trait;
use rand::seq::SliceRandom;
use serde::Deserialize;
use serde_json::Value;

use super::{compare, transform, Registry};
use crate::engine::data::Item;
use crate::engine::node::{from_param, NodeError, NodeRun, NodeType, Outcome};

pub struct Sort;

/// One entry of "Fields To Sort By".
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SortField {
    #[serde(default)]
    pub field_name: String,
    #[serde(default = "ascending")]
    pub order: String,
}

fn ascending() -> String {
    "ascending".to_owned()
}

#[async_trait]
impl NodeType for Sort {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let mut items = run.input.items(0).to_vec();
        match run.param_str("type", 0, "simple")?.as_str() {
            "random" => {
                items.shuffle(&mut rand::thread_rng());
            }
            "code" => {
                return Err(NodeError::operation(
                    "sort type code is not supported by this server",
                ))
            }
            _ => {
                let fields = sort_fields(run, "sortFieldsUi.sortField")?;
                let dots = !run.param_bool("options.disableDotNotation", 0, false)?;
                sort_items(&mut items, &fields, dots)?;
            }
        }
        Ok(Outcome::single(items))
    }
}

/// The "Fields To Sort By" list at `path`.
pub fn sort_fields(run: &NodeRun<'_>, path: &str) -> Result<Vec<SortField>, NodeError> {
    match run.param_value(path, 0)? {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(value) => from_param(path, value),
    }
}

/// Sorts `items` by `fields` in n8n's way: every field must exist in some item; text compares
/// without regard to case; other values compare as lodash's `lt` does (as numbers).
pub fn sort_items(items: &mut [Item], fields: &[SortField], dots: bool) -> Result<(), NodeError> {
    if fields.is_empty() {
        return Err(NodeError::operation(
            "No sorting specified. Please add a field to sort by",
        ));
    }
    for field in fields {
        let name = field.field_name.as_str();
        let found = items.iter().any(|item| {
            if dots {
                transform::get(&item.json, name, true).is_some()
            } else {
                item.json.contains_key(name)
            }
        });
        if !found {
            let error = NodeError::operation(format!(
                "Couldn't find the field '{name}' in the input data"
            ));
            return Err(if !dots && name.contains('.') {
                error.with_description("If you're trying to use a nested field, make sure you turn off 'disable dot notation' in the node options")
            } else {
                error
            });
        }
    }
    let directions: Vec<(&str, f64)> = fields
        .iter()
        .map(|f| {
            let direction = if f.order == "ascending" { 1.0 } else { -1.0 };
            (f.field_name.as_str(), direction)
        })
        .collect();
    compare::js_sort(items, |a, b| {
        for (name, direction) in &directions {
            let x = lowered(transform::get(&a.json, name, dots));
            let y = lowered(transform::get(&b.json, name, dots));
            if !compare::is_equal(x.as_ref(), y.as_ref()) {
                return if compare::less_than(x.as_ref(), y.as_ref()) {
                    -direction
                } else {
                    *direction
                };
            }
        }
        0.0
    });
    Ok(())
}

fn lowered(value: Option<&Value>) -> Option<Value> {
    match value {
        Some(Value::String(s)) => Some(Value::String(s.to_lowercase())),
        other => other.cloned(),
    }
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.sort", &[1.0], Arc::new(Sort));
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

    fn field(name: &str, order: &str) -> SortField {
        SortField {
            field_name: name.into(),
            order: order.into(),
        }
    }

    fn values(items: &[Item], key: &str) -> Vec<Value> {
        items
            .iter()
            .map(|i| i.json.get(key).cloned().unwrap_or(Value::Null))
            .collect()
    }

    #[test]
    fn text_sorts_without_case_and_ties_keep_their_order() {
        let mut list = items(vec![
            json!({"n": "banana", "k": 1}),
            json!({"n": "Apple", "k": 2}),
            json!({"n": "apple", "k": 3}),
            json!({"n": "cherry", "k": 4}),
        ]);
        sort_items(&mut list, &[field("n", "ascending")], true).expect("sort");
        assert_eq!(
            values(&list, "k"),
            vec![json!(2), json!(3), json!(1), json!(4)]
        );
        sort_items(
            &mut list,
            &[field("n", "descending"), field("k", "descending")],
            true,
        )
        .expect("sort");
        assert_eq!(
            values(&list, "k"),
            vec![json!(4), json!(1), json!(3), json!(2)]
        );
    }

    #[test]
    fn nested_fields_and_numbers_sort() {
        let mut list = items(vec![
            json!({"a": {"v": 10}}),
            json!({"a": {"v": 9}}),
            json!({"a": {"v": "11"}}),
        ]);
        sort_items(&mut list, &[field("a.v", "ascending")], true).expect("sort");
        let order: Vec<Value> = list.iter().map(|i| i.json["a"]["v"].clone()).collect();
        assert_eq!(order, vec![json!(9), json!(10), json!("11")]);
    }

    #[test]
    fn mixed_types_order_as_n8n_2_8_orders_them() {
        // Recorded from n8n 2.8.4: its comparator is not a total order over mixed types, so
        // the result follows V8's insertion sort step by step.
        let input = json!([{"v":"b"},{"v":10},{"v":"B"},{"v":null},{"v":"10"},{"v":2},{"x":1},
                           {"v":true},{"v":"a"},{"v":[3]},{"v":{"o":1}}]);
        let expected = json!([{"v":"b"},{"v":10},{"v":"B"},{"v":null},{"v":true},{"v":2},
                              {"v":"10"},{"x":1},{"v":"a"},{"v":[3]},{"v":{"o":1}}]);
        let mut list = items(input.as_array().expect("list").clone());
        sort_items(&mut list, &[field("v", "ascending")], true).expect("sort");
        let got: Vec<Value> = list.iter().map(|i| Value::Object(i.json.clone())).collect();
        assert_eq!(Value::Array(got), expected);
    }

    #[test]
    fn a_field_missing_everywhere_fails() {
        let mut list = items(vec![json!({"a": 1})]);
        let error =
            sort_items(&mut list, &[field("b.c", "ascending")], false).expect_err("missing");
        assert_eq!(
            error.message,
            "Couldn't find the field 'b.c' in the input data"
        );
        assert!(error.details.description.is_some());
        assert!(sort_items(&mut list, &[], true).is_err());
    }
}
