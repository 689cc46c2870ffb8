//! Merge v1, the first modes: `append`, `mergeByIndex` (join left / inner / outer),
//! `multiplex`, `mergeByKey` / `keepKeyMatches` / `removeKeyMatches` (by `propertyName1` and
//! `propertyName2`), `passThrough` and `wait`.

use std::collections::HashMap;

use serde_json::Value;

use super::combine::{field, merged_item};
use crate::engine::data::{Item, PairedItem, PairedItems};
use crate::engine::node::{NodeError, NodeRun};

pub fn execute(run: &NodeRun<'_>) -> Result<Vec<Item>, NodeError> {
    let input1 = run.input.items(0);
    let input2 = run.input.items(1);
    let mode = run.param_str("mode", 0, "append")?;
    Ok(match mode.as_str() {
        "append" => input1.iter().chain(input2).cloned().collect(),
        "mergeByIndex" => by_index(run, input1, input2)?,
        "multiplex" => {
            let mut out = Vec::new();
            for a in input1 {
                for b in input2 {
                    let mut json = a.json.clone();
                    json.extend(b.json.clone());
                    let mut item = merged_item(json, &[a, b]);
                    item.binary = None;
                    out.push(item);
                }
            }
            out
        }
        "keepKeyMatches" | "mergeByKey" | "removeKeyMatches" => by_key(run, &mode, input1, input2)?,
        "passThrough" => {
            if run.param_str("output", 0, "input1")? == "input1" {
                input1.to_vec()
            } else {
                input2.to_vec()
            }
        }
        "wait" => vec![Item {
            paired_item: Some(PairedItems::Many(
                (0..input1.len()).map(PairedItem::new).collect(),
            )),
            ..Item::default()
        }],
        other => {
            return Err(NodeError::operation(format!(
                "The mode \"{other}\" is not known"
            )))
        }
    })
}

fn by_index(run: &NodeRun<'_>, input1: &[Item], input2: &[Item]) -> Result<Vec<Item>, NodeError> {
    let join = run.param_str("join", 0, "left")?;
    if input1.is_empty() {
        return Ok(if join == "outer" {
            input2.to_vec()
        } else {
            Vec::new()
        });
    }
    if input2.is_empty() {
        return Ok(if join == "inner" {
            Vec::new()
        } else {
            input1.to_vec()
        });
    }
    let count = match join.as_str() {
        "inner" => input1.len().min(input2.len()),
        "outer" => input1.len().max(input2.len()),
        _ => input1.len(),
    };
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        match (input1.get(i), input2.get(i)) {
            (Some(a), Some(b)) => {
                let mut json = a.json.clone();
                json.extend(b.json.clone());
                out.push(merged_item(json, &[a, b]));
            }
            (Some(only), None) | (None, Some(only)) => out.push(only.clone()),
            (None, None) => {}
        }
    }
    Ok(out)
}

/// The key of an item as v1 compares it: text and numbers (as text); anything else has none.
fn key(value: Option<&Value>) -> Option<String> {
    match value? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(crate::engine::nodes::types::number_text(n)),
        _ => None,
    }
}

fn by_key(
    run: &NodeRun<'_>,
    mode: &str,
    input1: &[Item],
    input2: &[Item],
) -> Result<Vec<Item>, NodeError> {
    let property1 = run.param_str("propertyName1", 0, "")?;
    let property2 = run.param_str("propertyName2", 0, "")?;
    let overwrite = run.param_str("overwrite", 0, "always")?;
    if input1.is_empty() {
        return Ok(Vec::new());
    }
    if input2.is_empty() || property1.is_empty() || property2.is_empty() {
        return Ok(if mode == "keepKeyMatches" {
            Vec::new()
        } else {
            input1.to_vec()
        });
    }
    let mut lookup: HashMap<String, &Item> = HashMap::new();
    for entry in input2 {
        let value = field(&entry.json, &property2, true);
        // JavaScript skips falsy keys here (`!key`).
        if let Some(k) = key(value).filter(|k| !k.is_empty() && k != "0") {
            lookup.insert(k, entry);
        }
    }
    let mut out = Vec::new();
    for entry in input1 {
        let Some(reference) = key(field(&entry.json, &property1, true)) else {
            // No comparable key: only "remove key matches" keeps the item.
            if mode == "removeKeyMatches" {
                out.push(entry.clone());
            }
            continue;
        };
        match (lookup.get(&reference), mode) {
            (None, "keepKeyMatches") => {}
            // "Merge by key" keeps an item without a match unchanged.
            (None, _) => out.push(entry.clone()),
            (Some(_), "removeKeyMatches") => {}
            (Some(_), "keepKeyMatches") => out.push(entry.clone()),
            (Some(other), _) => {
                let mut merged = entry.clone();
                for (name, value) in &other.json {
                    if *name == property2 {
                        continue;
                    }
                    let write = match overwrite.as_str() {
                        "always" => true,
                        "undefined" => !merged.json.contains_key(name),
                        "blank" => merged
                            .json
                            .get(name)
                            .is_none_or(|v| v.is_null() || v.as_str() == Some("")),
                        _ => false,
                    };
                    if write {
                        merged.json.insert(name.clone(), value.clone());
                    }
                }
                out.push(merged);
            }
        }
    }
    Ok(out)
}
