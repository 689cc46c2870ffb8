//! Merge: puts the items of several inputs together once they arrived.
//!
//! - v3-3.2: `append`, `combine` by `combineByFields` / `combineByPosition` / `combineAll`,
//!   and `chooseBranch`, over `numberInputs` inputs (2 by default).
//! - v2-2.1: the same over two inputs, `combinationMode` `mergeByFields` / `mergeByPosition` /
//!   `multiplex`, and `chooseBranch` with `output` input1 / input2 / empty.
//! - v1: the first modes ([`v1`]).
//!
//! `combineBySql` runs SQL over the inputs in n8n (an in-memory SQL engine); it is refused
//! with a clear error here.

mod by_fields;
mod combine;
mod v1;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::Registry;
use crate::engine::data::Item;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome, RequiredInputs};
use crate::engine::workflow::Node;
use by_fields::{FieldPair, Join};
use combine::{add_suffix, merged_item, Clash};

struct Merge;

fn raw<'a>(node: &'a Node, key: &str) -> Option<&'a Value> {
    node.parameters.get(key)
}

#[async_trait]
impl NodeType for Merge {
    fn inputs(&self, node: &Node) -> usize {
        if node.type_version >= 3.0 {
            raw(node, "numberInputs")
                .and_then(Value::as_u64)
                .map_or(2, |n| n.clamp(1, 10) as usize)
        } else {
            2
        }
    }

    fn required_inputs(&self, node: &Node) -> RequiredInputs {
        if node.type_version < 2.0 {
            return RequiredInputs::Any;
        }
        if raw(node, "mode").and_then(Value::as_str) == Some("chooseBranch") {
            RequiredInputs::Indexes(vec![0, 1])
        } else {
            RequiredInputs::Count(1)
        }
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        if run.version() < 2.0 {
            return v1::execute(run).map(|items| Outcome::Output(vec![items]));
        }
        let inputs: Vec<Vec<Item>> = (0..self.inputs(run.node))
            .map(|i| run.input.items(i).to_vec())
            .collect();
        let v3 = run.version() >= 3.0;
        let mode = run.param_str("mode", 0, "append")?;
        let out = match mode.as_str() {
            "append" => Some(inputs.into_iter().flatten().collect()),
            "chooseBranch" => Some(choose_branch(run, &inputs, v3)?),
            "combine" => {
                let how = if v3 {
                    run.param_str("combineBy", 0, "combineByFields")?
                } else {
                    run.param_str("combinationMode", 0, "mergeByFields")?
                };
                match how.as_str() {
                    "combineByFields" | "mergeByFields" => by_fields(run, &inputs, v3)?,
                    "combineByPosition" if v3 => Some(by_position_v3(run, inputs)?),
                    "mergeByPosition" => Some(by_position_v2(run, inputs)?),
                    "combineAll" | "multiplex" => Some(all_pairs(run, &inputs)?),
                    other => {
                        return Err(NodeError::operation(format!(
                            "The combine mode \"{other}\" is not known"
                        )))
                    }
                }
            }
            "combineBySql" => {
                return Err(NodeError::operation(
                    "The SQL Query mode of the Merge node is not supported by this server",
                ))
            }
            other => {
                return Err(NodeError::operation(format!(
                    "The mode \"{other}\" is not known"
                )))
            }
        };
        Ok(match out {
            Some(items) => Outcome::Output(vec![items]),
            None => Outcome::Output(Vec::new()),
        })
    }
}

fn input(inputs: &[Vec<Item>], index: usize) -> &[Item] {
    inputs.get(index).map_or(&[], Vec::as_slice)
}

fn clash(run: &NodeRun<'_>) -> Result<Clash, NodeError> {
    Ok(Clash::read(
        run.param_value("options.clashHandling.values", 0)?.as_ref(),
    ))
}

/// "Choose branch": the items of one input, or one empty item linked to every input item.
fn choose_branch(
    run: &NodeRun<'_>,
    inputs: &[Vec<Item>],
    v3: bool,
) -> Result<Vec<Item>, NodeError> {
    let wait_mode = run.param_str(
        "chooseBranchMode",
        0,
        if v3 { "waitForAll" } else { "waitForBoth" },
    )?;
    if wait_mode != "waitForAll" && wait_mode != "waitForBoth" {
        return Ok(Vec::new());
    }
    let output = run.param_str("output", 0, if v3 { "specifiedInput" } else { "input1" })?;
    match output.as_str() {
        "specifiedInput" => {
            let chosen = run.param_f64("useDataOfInput", 0, 1.0)?;
            if chosen > inputs.len() as f64 || chosen < 1.0 {
                return Err(NodeError::operation(format!(
                    "Input {} doesn't exist",
                    super::types::js_number(chosen)
                ))
                .with_description(format!(
                    "The node has only {} inputs, so selecting input {} is not possible.",
                    inputs.len(),
                    super::types::js_number(chosen)
                )));
            }
            Ok(input(inputs, chosen as usize - 1).to_vec())
        }
        "input1" => Ok(input(inputs, 0).to_vec()),
        "input2" => Ok(input(inputs, 1).to_vec()),
        "empty" => {
            let parts: Vec<&Item> = input(inputs, 0).iter().chain(input(inputs, 1)).collect();
            let mut item = merged_item(Default::default(), &parts);
            item.binary = None;
            Ok(vec![item])
        }
        _ => Ok(Vec::new()),
    }
}

fn by_fields(
    run: &NodeRun<'_>,
    inputs: &[Vec<Item>],
    v3: bool,
) -> Result<Option<Vec<Item>>, NodeError> {
    let pairs = if v3 && !run.param_bool("advanced", 0, false)? {
        run.param_str("fieldsToMatchString", 0, "")?
            .split(',')
            .map(|f| FieldPair {
                field1: f.trim().to_owned(),
                field2: f.trim().to_owned(),
            })
            .collect()
    } else {
        let values = run
            .param_value("mergeByFields.values", 0)?
            .unwrap_or(Value::Null);
        values
            .as_array()
            .into_iter()
            .flatten()
            .map(|pair| {
                let text = |key: &str| {
                    pair.get(key)
                        .map(super::types::js_string)
                        .unwrap_or_default()
                };
                FieldPair {
                    field1: text("field1"),
                    field2: text("field2"),
                }
            })
            .collect()
    };
    let pairs = by_fields::check_pairs(pairs)?;
    let join = Join {
        pairs,
        mode: run.param_str("joinMode", 0, "keepMatches")?,
        output_from: run.param_str("outputDataFrom", 0, "both")?,
        clash: clash(run)?,
        dots: !run.param_bool("options.disableDotNotation", 0, false)?,
        fuzzy: run.param_bool("options.fuzzyCompare", 0, false)?,
        first_match_only: run.param_str("options.multipleMatches", 0, "all")? == "first",
        check_presence: run.version() < 2.1,
    };
    by_fields::join(input(inputs, 0), input(inputs, 1), &join, v3)
}

/// Every pair of an input-1 item and an input-2 item (a cross join).
fn all_pairs(run: &NodeRun<'_>, inputs: &[Vec<Item>]) -> Result<Vec<Item>, NodeError> {
    let clash = clash(run)?;
    let mut first = input(inputs, 0).to_vec();
    let mut second = input(inputs, 1).to_vec();
    if clash.is("preferInput1") {
        std::mem::swap(&mut first, &mut second);
    }
    if clash.is("addSuffix") {
        first = add_suffix(&first, "1");
        second = add_suffix(&second, "2");
    }
    let mut out = Vec::with_capacity(first.len() * second.len());
    for a in &first {
        for b in &second {
            let json = clash.merge(&a.json, &[&b.json]);
            out.push(merged_item(json, &[a, b]));
        }
    }
    Ok(out)
}

/// v3: item `i` of every input merged into one; the preferred input's fields win.
fn by_position_v3(run: &NodeRun<'_>, mut inputs: Vec<Vec<Item>>) -> Result<Vec<Item>, NodeError> {
    let clash = clash(run)?;
    let include_unpaired = run.param_bool("options.includeUnpaired", 0, false)?;
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let preferred_index = match clash.resolve.as_deref() {
        Some(resolve) if resolve.contains("preferInput") => resolve
            .replace("preferInput", "")
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|i| *i < inputs.len())
            .unwrap_or(inputs.len() - 1),
        _ => inputs.len() - 1,
    };
    let preferred = inputs[preferred_index].clone();
    if clash.is("addSuffix") {
        for (index, items) in inputs.iter_mut().enumerate() {
            *items = add_suffix(items, &(index + 1).to_string());
        }
    }
    let lengths = inputs.iter().map(Vec::len).chain([preferred.len()]);
    let count = if include_unpaired {
        lengths.max().unwrap_or(0)
    } else {
        lengths.min().unwrap_or(0)
    };
    let empty = Item::default();
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        let preferred_entry = preferred.get(i).unwrap_or(&empty);
        let entries: Vec<&Item> = inputs
            .iter()
            .map(|items| items.get(i).unwrap_or(&empty))
            .collect();
        let sources: Vec<_> = entries
            .iter()
            .map(|e| &e.json)
            .chain(std::iter::once(&preferred_entry.json))
            .collect();
        let json = clash.merge(&Default::default(), &sources);
        let parts: Vec<&Item> = entries
            .iter()
            .copied()
            .chain(std::iter::once(preferred_entry))
            .collect();
        out.push(merged_item(json, &parts));
    }
    Ok(out)
}

/// v2: item `i` of input 1 and of input 2 merged; unpaired items pass as they are.
fn by_position_v2(run: &NodeRun<'_>, inputs: Vec<Vec<Item>>) -> Result<Vec<Item>, NodeError> {
    let clash = clash(run)?;
    let include_unpaired = run.param_bool("options.includeUnpaired", 0, false)?;
    let mut first = input(&inputs, 0).to_vec();
    let mut second = input(&inputs, 1).to_vec();
    if first.is_empty() || second.is_empty() {
        return Ok(first.into_iter().chain(second).collect());
    }
    if clash.is("preferInput1") {
        std::mem::swap(&mut first, &mut second);
    }
    if clash.is("addSuffix") {
        first = add_suffix(&first, "1");
        second = add_suffix(&second, "2");
    }
    let count = if include_unpaired {
        first.len().max(second.len())
    } else {
        first.len().min(second.len())
    };
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        match (first.get(i), second.get(i)) {
            (Some(a), Some(b)) => {
                let json = clash.merge(&a.json, &[&b.json]);
                out.push(merged_item(json, &[a, b]));
            }
            (Some(only), None) | (None, Some(only)) => out.push(only.clone()),
            (None, None) => {}
        }
    }
    Ok(out)
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.merge",
        &[1.0, 2.0, 2.1, 3.0, 3.1, 3.2],
        Arc::new(Merge),
    );
}
