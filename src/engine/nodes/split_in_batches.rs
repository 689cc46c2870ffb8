//! Split In Batches / Loop Over Items: hands its input out `batchSize` items at a time, one
//! batch per run of the node within one execution, keeping the rest in its node context.
//!
//! - v1: one output; returns nothing once the items are used up (a loop ends by an If on
//!   the context's `noItemsLeft`).
//! - v2: outputs "loop" (0) and "done" (1).
//! - v3 (Loop Over Items): outputs "done" (0) and "loop" (1); when every batch came back, "done"
//!   gets all the items that came back through the loop.
//!
//! `options.reset` starts over with the current input.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Value};

use super::Registry;
use crate::engine::data::{Item, PairedItem, PairedItems, SourceData};
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use crate::engine::workflow::Node;

struct SplitInBatches;

#[async_trait]
impl NodeType for SplitInBatches {
    fn outputs(&self, node: &Node) -> usize {
        if node.type_version < 2.0 {
            1
        } else {
            2
        }
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let version = run.version();
        let default_size = if version >= 3.0 { 1.0 } else { 10.0 };
        let size = run.param_f64("batchSize", 0, default_size)?;
        if size.is_nan() || size < 1.0 {
            return Err(NodeError::operation(format!(
                "The batch size must be at least 1, got {}",
                super::types::js_number(size)
            )));
        }
        let size = size as usize;
        let reset = run.param_bool("options.reset", 0, false)?;
        let mut context = run.context.lock().unwrap_or_else(|e| e.into_inner());
        let input: Vec<Item> = run.input.items(0).to_vec();

        let batch: Vec<Item>;
        if !context.contains_key("items") || reset {
            let source = run.source.first().cloned().flatten();
            let mut rest = input;
            let tail = rest.split_off(size.min(rest.len()));
            batch = rest;
            context.insert("currentRunIndex".into(), json!(0));
            context.insert(
                "maxRunIndex".into(),
                json!((batch.len() + tail.len()).div_ceil(size)),
            );
            context.insert("sourceData".into(), json!(source));
            context.insert("items".into(), to_json(&tail));
            if version >= 2.0 {
                context.insert("processedItems".into(), json!([]));
            }
        } else {
            let run_index = context
                .get("currentRunIndex")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            context.insert("currentRunIndex".into(), json!(run_index + 1));
            let first_source: Option<SourceData> = context
                .get("sourceData")
                .and_then(|v| serde_json::from_value(v.clone()).ok());
            let mut remaining = from_json(context.get("items"));
            let tail = remaining.split_off(size.min(remaining.len()));
            batch = remaining
                .into_iter()
                .map(|item| relinked(item, first_source.as_ref()))
                .collect();
            context.insert("items".into(), to_json(&tail));
            if version >= 2.0 {
                // What came back through the loop, linked to where it came from.
                let back_source = run.source.first().cloned().flatten();
                let mut processed = from_json(context.get("processedItems"));
                processed.extend(input.into_iter().enumerate().map(|(index, mut item)| {
                    item.paired_item = Some(PairedItems::One(PairedItem {
                        item: index,
                        input: None,
                        source_overwrite: back_source.clone(),
                    }));
                    item
                }));
                context.insert("processedItems".into(), to_json(&processed));
            }
        }
        let left = context
            .get("items")
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty);
        context.insert("noItemsLeft".into(), json!(left));

        if batch.is_empty() {
            if version < 2.0 {
                return Ok(Outcome::Nothing);
            }
            context.insert("done".into(), json!(true));
            let processed = from_json(context.get("processedItems"));
            return Ok(Outcome::Output(if version >= 3.0 {
                vec![processed, Vec::new()]
            } else {
                vec![Vec::new(), processed]
            }));
        }
        if version < 2.0 {
            return Ok(Outcome::single(batch));
        }
        context.insert("done".into(), json!(false));
        Ok(Outcome::Output(if version >= 3.0 {
            vec![Vec::new(), batch]
        } else {
            vec![batch, Vec::new()]
        }))
    }
}

/// An item handed out in a later run, linked to its place in the first run's input.
fn relinked(mut item: Item, source: Option<&SourceData>) -> Item {
    let links = match item.paired_item {
        None => vec![PairedItem::new(0)],
        Some(_) => item.lineage(),
    };
    let links: Vec<PairedItem> = links
        .into_iter()
        .map(|link| PairedItem {
            source_overwrite: source.cloned(),
            ..link
        })
        .collect();
    item.paired_item = Some(match <[PairedItem; 1]>::try_from(links) {
        Ok([one]) => PairedItems::One(one),
        Err(many) => PairedItems::Many(many),
    });
    item
}

fn to_json(items: &[Item]) -> Value {
    serde_json::to_value(items).unwrap_or(Value::Array(Vec::new()))
}

fn from_json(value: Option<&Value>) -> Vec<Item> {
    value
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.splitInBatches",
        &[1.0, 2.0, 3.0],
        Arc::new(SplitInBatches),
    );
}
