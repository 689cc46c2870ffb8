//! If: every input item goes to output 0 ("true") when it passes the node's conditions,
//! otherwise to output 1 ("false"). Version 1 reads the older typed lists (`conditions.string[]`
//! and so on, combined by `combineOperation` all/any); versions 2-2.3 read a filter parameter.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::conditions::legacy;
use super::filter_param::{self, Versions};
use super::Registry;
use crate::engine::data::Item;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::workflow::Node;

struct If;

/// If v2 took the node-level "convert types" switch at 2.1 and filter formats 2 and 3 at 2.2
/// and 2.3 (Filter v2 follows the same steps).
pub const IF_VERSIONS: Versions = Versions {
    loose_at_node_level: 2.1,
    format_2: 2.2,
    format_3: 2.3,
};

#[async_trait]
impl NodeType for If {
    fn outputs(&self, _node: &Node) -> usize {
        2
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let (kept, dropped) = if run.version() < 2.0 {
            split(run, "combineOperation", "all", legacy_passes)?
        } else {
            split_by_filter(run, &IF_VERSIONS)?
        };
        Ok(Outcome::Output(vec![kept, dropped]))
    }
}

/// Splits the items by a filter parameter `conditions` (If v2+, Filter v2+). An item whose
/// conditions fail goes to the second list when the node continues on failure.
pub fn split_by_filter(
    run: &NodeRun<'_>,
    versions: &Versions,
) -> Result<(Vec<Item>, Vec<Item>), NodeError> {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (i, item) in run.items.iter().enumerate() {
        let outcome = run.param_value("conditions", i).and_then(|value| {
            filter_param::passes(run, value.as_ref().unwrap_or(&Value::Null), i, versions)
        });
        match outcome {
            Ok(true) => kept.push(item.clone()),
            Ok(false) => dropped.push(item.clone()),
            Err(_) if run.continue_on_fail() => dropped.push(item.clone()),
            Err(error) => return Err(error),
        }
    }
    Ok((kept, dropped))
}

/// Splits the items by the older typed lists, combined by the parameter `combine_param`
/// (`all`/`any` for If, `AND`/`OR` for Filter).
pub fn split(
    run: &NodeRun<'_>,
    combine_param: &str,
    combine_default: &str,
    passes: fn(&NodeRun<'_>, usize, bool) -> Result<bool, NodeError>,
) -> Result<(Vec<Item>, Vec<Item>), NodeError> {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (i, item) in run.items.iter().enumerate() {
        let combine = run.param_str(combine_param, i, combine_default)?;
        let all = matches!(combine.as_str(), "all" | "AND");
        if passes(run, i, all)? {
            kept.push(item.clone());
        } else {
            dropped.push(item.clone());
        }
    }
    Ok((kept, dropped))
}

/// Whether item `i` passes the older typed lists: with `all`, every entry must pass; otherwise
/// one is enough. No entries at all pass with `all` and fail with `any`.
pub fn legacy_passes(run: &NodeRun<'_>, i: usize, all: bool) -> Result<bool, NodeError> {
    for data_type in legacy::DATA_TYPES {
        let entries = run
            .param_value(&format!("conditions.{data_type}"), i)?
            .unwrap_or(Value::Null);
        for entry in entries.as_array().into_iter().flatten() {
            let passed = legacy::Entry::read(entry, data_type)
                .passes(data_type)
                .map_err(|message| NodeError::operation(message).at_item(i))?;
            if passed && !all {
                return Ok(true);
            }
            if !passed && all {
                return Ok(false);
            }
        }
    }
    Ok(all)
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.if",
        &[1.0, 2.0, 2.1, 2.2, 2.3],
        Arc::new(If),
    );
}
