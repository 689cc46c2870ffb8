//! Limit: keeps the first or the last `maxItems` items.

use std::sync::Arc;

use async_trait::async_trait;

use super::Registry;
use crate::engine::data::Item;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

pub struct Limit;

/// Which end of the list to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    First,
    Last,
}

impl Keep {
    pub fn parse(name: &str) -> Keep {
        // n8n keeps the last items for any value other than "firstItems".
        if name == "firstItems" {
            Keep::First
        } else {
            Keep::Last
        }
    }
}

#[async_trait]
impl NodeType for Limit {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let max_items = run.param_f64("maxItems", 0, 1.0)?;
        let keep = Keep::parse(&run.param_str("keep", 0, "firstItems")?);
        Ok(Outcome::single(limit(
            run.input.items(0).to_vec(),
            max_items,
            keep,
        )))
    }
}

/// The items kept; they pass on unchanged (each still paired with its input item).
pub fn limit(mut items: Vec<Item>, max_items: f64, keep: Keep) -> Vec<Item> {
    let len = items.len();
    if max_items.is_nan() || max_items > len as f64 {
        return items;
    }
    // JavaScript's `slice` bounds: fractions truncate, negatives count from the end.
    let bound = |x: f64| -> usize {
        let x = x.trunc();
        if x < 0.0 {
            (len as f64 + x).max(0.0) as usize
        } else {
            x.min(len as f64) as usize
        }
    };
    match keep {
        Keep::First => {
            items.truncate(bound(max_items));
            items
        }
        Keep::Last => items.split_off(bound(len as f64 - max_items)),
    }
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.limit", &[1.0], Arc::new(Limit));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(n: usize) -> Vec<Item> {
        (0..n)
            .map(|i| Item::paired(json!({ "n": i }).as_object().expect("object").clone(), i))
            .collect()
    }

    fn numbers(items: &[Item]) -> Vec<i64> {
        items
            .iter()
            .map(|i| i.json["n"].as_i64().expect("n"))
            .collect()
    }

    #[test]
    fn keeps_the_first_or_the_last_items() {
        assert_eq!(numbers(&limit(items(5), 2.0, Keep::First)), vec![0, 1]);
        assert_eq!(numbers(&limit(items(5), 2.0, Keep::Last)), vec![3, 4]);
        assert_eq!(numbers(&limit(items(2), 5.0, Keep::Last)), vec![0, 1]);
        assert_eq!(numbers(&limit(items(3), 3.0, Keep::First)), vec![0, 1, 2]);
        assert_eq!(
            numbers(&limit(items(3), 0.0, Keep::First)),
            Vec::<i64>::new()
        );
    }
}
