//! Following `pairedItem` links back from the current item to the item of an earlier node
//! that it came from (`$('Node').item`), with n8n's errors when the trail breaks.
//!
//! Each item a node puts out names the input item(s) it came from; the node's run records
//! which node, output and run fed each input. Walking those links from the current input
//! item back to the wanted node gives the matching item; several trails that end on
//! different items are an error, as in n8n.

use super::{Context, ExpressionError};
use crate::engine::data::{Item, PairedItem, SourceData};

/// Long chains (loops that ran many times) are followed this far at most.
const MAX_DEPTH: usize = 5_000;

/// The item of node `target` that input item `item_index` of the current node came from;
/// `None` where n8n's lookup ends in undefined rather than an error.
pub(crate) fn paired_item<'c>(
    ctx: &'c Context<'_>,
    target: &str,
    item_index: usize,
    method: &str,
) -> Result<Option<&'c Item>, ExpressionError> {
    let active = ctx.node.name.as_str();
    let Some(input) = ctx.input.get(item_index) else {
        return Err(ExpressionError::with_description(
            "Can’t get data for expression",
            format!(
                "Some intermediate nodes between ‘{target}‘ and ‘{active}‘ have not executed yet."
            ),
        ));
    };
    let Some(paired) = input.lineage().into_iter().next() else {
        return Err(missing_paired_item(active, method));
    };
    let source = ctx
        .source
        .get(paired.input())
        .or_else(|| ctx.source.first())
        .and_then(Option::as_ref)
        .ok_or_else(|| {
            ExpressionError::with_description(
                "Can’t get data for expression",
                "Apologies, this is an internal error. See details for more information",
            )
        })?;
    let walk = Walk {
        ctx,
        target,
        method,
    };
    walk.follow(source, &paired, 0)
}

struct Walk<'c, 'a, 's> {
    ctx: &'c Context<'a>,
    target: &'s str,
    method: &'s str,
}

impl<'c> Walk<'c, '_, '_> {
    fn follow(
        &self,
        source: &SourceData,
        paired: &PairedItem,
        depth: usize,
    ) -> Result<Option<&'c Item>, ExpressionError> {
        if depth > MAX_DEPTH {
            return Err(not_found(self.target));
        }
        let run = self
            .ctx
            .run_data
            .get(&source.previous_node)
            .and_then(|runs| runs.get(source.previous_node_run));
        let outputs = run
            .and_then(|r| r.data.as_ref())
            .and_then(|d| d.main.get(source.previous_node_output))
            .and_then(Option::as_ref)
            .ok_or_else(|| {
                ExpressionError::with_description(
                    "Can’t get data for expression",
                    format!(
                        "Expected output #{} from node {}",
                        source.previous_node_output, source.previous_node
                    ),
                )
            })?;
        if source.previous_node == self.target {
            return outputs
                .get(paired.item)
                .map(Some)
                .ok_or_else(|| missing_paired_item(&source.previous_node, self.method));
        }
        let item = outputs
            .get(paired.item)
            .ok_or_else(|| missing_paired_item(&source.previous_node, self.method))?;
        let next = item.lineage();
        if next.is_empty() {
            return Err(missing_paired_item(&source.previous_node, self.method));
        }
        let sources: &[Option<SourceData>] = run.map_or(&[], |r| r.source.as_slice());
        let mut found: Vec<&'c Item> = Vec::new();
        let mut first_error = None;
        let mut tried = 0;
        for link in &next {
            let Some(next_source) = sources.get(link.input()) else {
                continue;
            };
            tried += 1;
            let outcome = match next_source {
                Some(s) => self.follow(s, link, depth + 1),
                None => Err(not_found(self.target)),
            };
            match outcome {
                Ok(Some(item)) => found.push(item),
                Ok(None) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        // No link could be followed (each names an input the node never had): n8n trips over
        // its own empty result list there, and the block ends up undefined.
        let Some(&first) = found.first() else {
            return match first_error {
                Some(e) if tried > 0 => Err(e),
                _ => Ok(None),
            };
        };
        if found.iter().any(|other| !std::ptr::eq(*other, first)) {
            return Err(ExpressionError::with_description(
                "Multiple matches found",
                format!("Multiple matching items for item [{}]", paired.item),
            ));
        }
        Ok(Some(first))
    }
}

/// n8n's message when an item carries no `pairedItem` link.
pub(crate) fn missing_paired_item(node: &str, method: &str) -> ExpressionError {
    ExpressionError::new(format!(
        "Paired item data for {method} from node '{node}' is unavailable. Ensure '{node}' is providing the required output."
    ))
}

fn not_found(target: &str) -> ExpressionError {
    ExpressionError::with_description(
        "Paired item resolution failed",
        format!("Could not trace back to node '{target}'"),
    )
}
