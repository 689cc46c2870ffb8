//! Switch: routes each input item to one (or, with `allMatchingOutputs`, several) of its
//! outputs.
//!
//! - v1: four fixed outputs; rules compare one `value1` of `dataType` with each rule's `value2`
//!   and name their `output`; `fallbackOutput` -1 (none) or 0-3.
//! - v2: one output per rule (rules mode) or `outputsAmount` outputs (expression mode).
//! - v3-3.4: one output per rule of filter conditions (`rules.values[].conditions`), plus an
//!   extra fallback output with `options.fallbackOutput: "extra"`; or `numberOutputs` outputs
//!   and an `output` index per item (expression mode).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::conditions::legacy;
use super::filter_param::{self, Versions};
use super::types;
use super::Registry;
use crate::engine::data::Item;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::workflow::Node;

struct Switch;

/// Switch v3 took the node-level "convert types" switch at 3.1 and filter formats 2 and 3 at
/// 3.2 and 3.4.
const SWITCH_VERSIONS: Versions = Versions {
    loose_at_node_level: 3.1,
    format_2: 3.2,
    format_3: 3.4,
};

/// JavaScript's failure when an item is pushed to an output that is not there.
const NO_SUCH_OUTPUT: &str = "Cannot read properties of undefined (reading 'push')";

#[async_trait]
impl NodeType for Switch {
    fn outputs(&self, node: &Node) -> usize {
        let param = |path: &str| {
            path.split('.')
                .try_fold(&Value::Object(node.parameters.clone()), |v, k| v.get(k))
                .cloned()
        };
        let count = |path: &str| param(path).and_then(|v| v.as_array().map(Vec::len));
        let number = |path: &str, default: usize| {
            param(path)
                .and_then(|v| v.as_u64())
                .map_or(default, |n| n as usize)
        };
        let expression =
            param("mode").and_then(|m| m.as_str().map(str::to_owned)) == Some("expression".into());
        let version = node.type_version;
        if version < 2.0 {
            4
        } else if version < 3.0 {
            if expression {
                number("outputsAmount", 4)
            } else {
                count("rules.rules").unwrap_or(0)
            }
        } else if expression {
            number("numberOutputs", 4)
        } else {
            let extra = param("options.fallbackOutput") == Some(json!("extra"));
            count("rules.values").unwrap_or(0) + usize::from(extra)
        }
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let outputs = if run.version() < 3.0 {
            legacy(run)?
        } else {
            v3(run)?
        };
        Ok(Outcome::Output(outputs))
    }
}

/// The item as routed: linked to its own input index.
fn routed(item: &Item) -> Item {
    item.clone()
}

/// An error item on output 0 when the node continues on failure, otherwise the failure.
fn on_failure(
    run: &NodeRun<'_>,
    outputs: &mut Vec<Vec<Item>>,
    error: NodeError,
) -> Result<(), NodeError> {
    if !run.continue_on_fail() {
        return Err(error);
    }
    if outputs.is_empty() {
        outputs.push(Vec::new());
    }
    let mut json = serde_json::Map::new();
    json.insert("error".into(), Value::String(error.message));
    outputs[0].push(Item::new(json));
    Ok(())
}

fn v3(run: &NodeRun<'_>) -> Result<Vec<Vec<Item>>, NodeError> {
    let mode = run.param_str("mode", 0, "rules")?;
    let mut outputs: Vec<Vec<Item>> = Vec::new();
    for (i, item) in run.items.iter().enumerate() {
        let routed_item = routed(item);
        let result = if mode == "expression" {
            route_by_index(run, i, &mut outputs, routed_item)
        } else {
            route_by_rules(run, i, &mut outputs, routed_item)
        };
        if let Err(error) = result {
            on_failure(run, &mut outputs, error)?;
        }
    }
    if outputs.is_empty() {
        outputs.push(Vec::new());
    }
    Ok(outputs)
}

/// Expression mode: `output` names the index for each item.
fn route_by_index(
    run: &NodeRun<'_>,
    i: usize,
    outputs: &mut Vec<Vec<Item>>,
    item: Item,
) -> Result<(), NodeError> {
    let count = run.param_f64("numberOutputs", i, 4.0)?;
    if i == 0 {
        *outputs = vec![Vec::new(); count.max(0.0) as usize];
    }
    let index = match run.param_value("output", i)? {
        None | Some(Value::Null) => None,
        Some(value) => Some(types::to_number(&value).ok_or_else(|| {
            // n8n checks the parameter's declared type while reading it: an expression error.
            let mut error =
                NodeError::operation(format!("Invalid input for 'Output Index' [item {i}]"))
                    .with_description(format!(
                        "'output' expects a number but we got {}",
                        types::describe(&value)
                    ))
                    .at_item(i);
            error.name = "ExpressionError";
            error
        })?),
    };
    let Some(index) = index else {
        return Err(NodeError::operation(NO_SUCH_OUTPUT).at_item(i));
    };
    check_index(outputs.len(), index, i)?;
    push(outputs, index, item, i)
}

/// n8n's check of an output index: the extra output's own number and anything outside fail.
fn check_index(len: usize, index: f64, i: usize) -> Result<(), NodeError> {
    let shown = types::js_number(index);
    if index == len as f64 {
        return Err(
            NodeError::operation(format!("The ouput {shown} is not allowed. "))
                .with_description(format!(
                    "Output indexes are zero based, if you want to use the extra output use {}",
                    types::js_number(index - 1.0)
                ))
                .at_item(i),
        );
    }
    if index < 0.0 || index > len as f64 {
        return Err(
            NodeError::operation(format!("The ouput {shown} is not allowed"))
                .with_description(format!("It has to be between 0 and {}", len as i64 - 1))
                .at_item(i),
        );
    }
    Ok(())
}

fn push(outputs: &mut [Vec<Item>], index: f64, item: Item, i: usize) -> Result<(), NodeError> {
    if index.fract() != 0.0 || index < 0.0 {
        return Err(NodeError::operation(NO_SUCH_OUTPUT).at_item(i));
    }
    match outputs.get_mut(index as usize) {
        Some(output) => {
            output.push(item);
            Ok(())
        }
        None => Err(NodeError::operation(NO_SUCH_OUTPUT).at_item(i)),
    }
}

/// Rules mode: the first rule (or every rule, with `allMatchingOutputs`) whose conditions pass
/// takes the item; otherwise the fallback output, if any.
fn route_by_rules(
    run: &NodeRun<'_>,
    i: usize,
    outputs: &mut Vec<Vec<Item>>,
    item: Item,
) -> Result<(), NodeError> {
    let rules = run.param_value("rules.values", i)?.unwrap_or(Value::Null);
    let rules = rules.as_array().map(Vec::as_slice).unwrap_or_default();
    if rules.is_empty() {
        return Ok(());
    }
    let fallback = run.param_value("options.fallbackOutput", i)?;
    let all_matching = run.param_bool("options.allMatchingOutputs", i, false)?;
    if i == 0 {
        *outputs = vec![Vec::new(); rules.len()];
        if fallback == Some(json!("extra")) {
            outputs.push(Vec::new());
        }
    }
    let mut matched = false;
    for (index, rule) in rules.iter().enumerate() {
        let conditions = rule.get("conditions").unwrap_or(&Value::Null);
        if !filter_param::passes(run, conditions, i, &SWITCH_VERSIONS)? {
            continue;
        }
        matched = true;
        push(outputs, index as f64, item.clone(), i)?;
        if !all_matching {
            return Ok(());
        }
    }
    match fallback {
        _ if matched => Ok(()),
        None | Some(Value::Null) => Ok(()),
        Some(Value::String(s)) if s == "none" => Ok(()),
        Some(Value::String(s)) if s == "extra" => {
            let last = outputs.len() as f64 - 1.0;
            push(outputs, last, item, i)
        }
        Some(other) => {
            let index = types::to_number(&other).unwrap_or(f64::NAN);
            check_index(outputs.len(), index, i)?;
            push(outputs, index, item, i)
        }
    }
}

/// Versions 1 and 2: one `value1` of `dataType` against each rule's `value2`.
fn legacy(run: &NodeRun<'_>) -> Result<Vec<Vec<Item>>, NodeError> {
    let v1 = run.version() < 2.0;
    let mut outputs: Vec<Vec<Item>> = if v1 { vec![Vec::new(); 4] } else { Vec::new() };
    for (i, item) in run.items.iter().enumerate() {
        if let Err(error) = legacy_item(run, i, item, v1, &mut outputs) {
            on_failure(run, &mut outputs, error)?;
        }
    }
    Ok(outputs)
}

fn legacy_item(
    run: &NodeRun<'_>,
    i: usize,
    item: &Item,
    v1: bool,
    outputs: &mut Vec<Vec<Item>>,
) -> Result<(), NodeError> {
    let rules = run.param_value("rules.rules", i)?.unwrap_or(Value::Null);
    let rules = rules.as_array().map(Vec::as_slice).unwrap_or_default();
    let mode = run.param_str("mode", i, "rules")?;
    let out_of_range = |index: f64, len: usize| {
        NodeError::operation(format!(
            "The ouput {} is not allowed. It has to be between 0 and {}!",
            types::js_number(index),
            len as i64 - 1
        ))
        .at_item(i)
    };
    if mode == "expression" {
        if !v1 && i == 0 {
            let count = run.param_f64("outputsAmount", i, 4.0)?;
            *outputs = vec![Vec::new(); count.max(0.0) as usize];
        }
        let index = run.param_f64("output", i, 0.0)?;
        if index < 0.0 || index >= outputs.len() as f64 {
            return Err(out_of_range(index, outputs.len()));
        }
        return push(outputs, index, routed(item), i);
    }
    if !v1 && i == 0 {
        *outputs = vec![Vec::new(); rules.len()];
    }
    let data_type = run.param_str("dataType", 0, "number")?;
    let (default_value1, _, _) = legacy::defaults(&data_type);
    let value1 = run
        .param_value("value1", i)?
        .unwrap_or(default_value1.clone());
    let default_operation = match data_type.as_str() {
        "boolean" | "string" => "equal",
        "dateTime" => "after",
        _ => "smaller",
    };
    for (index, rule) in rules.iter().enumerate() {
        let value2 = rule
            .get("value2")
            .cloned()
            .unwrap_or(match data_type.as_str() {
                "boolean" => Value::Bool(false),
                "string" => Value::from(""),
                _ => Value::from(0),
            });
        let entry = legacy::Entry {
            value1: value1.clone(),
            operation: rule
                .get("operation")
                .and_then(Value::as_str)
                .unwrap_or(default_operation)
                .to_owned(),
            value2,
        };
        let passed = entry
            .passes(&data_type)
            .map_err(|message| NodeError::operation(message).at_item(i))?;
        if !passed {
            continue;
        }
        let target = if v1 {
            rule.get("output").and_then(Value::as_f64).unwrap_or(0.0)
        } else {
            index as f64
        };
        if v1 && (target < 0.0 || target >= outputs.len() as f64) {
            return Err(out_of_range(target, outputs.len()));
        }
        return push(outputs, target, routed(item), i);
    }
    let fallback = run.param_f64("fallbackOutput", i, -1.0)?;
    if fallback == -1.0 {
        return Ok(());
    }
    if fallback < 0.0 || fallback >= outputs.len() as f64 {
        return Err(out_of_range(fallback, outputs.len()));
    }
    push(outputs, fallback, routed(item), i)
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.switch",
        &[1.0, 2.0, 3.0, 3.1, 3.2, 3.3, 3.4],
        Arc::new(Switch),
    );
}
