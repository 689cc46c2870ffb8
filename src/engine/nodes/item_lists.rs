//! Item Lists (v3, v3.1): n8n's older node combining what Split Out, Aggregate ("concatenate
//! items"), Limit, Sort, Remove Duplicates and Summarize now do, with the same parameter
//! names; each operation runs that node's code.
//!
//! Where Item Lists differs, it is kept: its duplicate removal checks types in 3.0 and orders
//! by type in 3.1; its summary keys groups by text and never fails on a missing field.
//! Versions 1 to 2.2 read other parameter shapes and are not offered (refused at publish).

use std::sync::Arc;

use async_trait::async_trait;

use super::aggregate::Aggregate;
use super::limit::Limit;
use super::remove_duplicates::{self, TypeRules};
use super::sort::Sort;
use super::split_out::SplitOut;
use super::summarize;
use super::Registry;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

struct ItemLists;

#[async_trait]
impl NodeType for ItemLists {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let operation = run.param_str("operation", 0, "splitOutItems")?;
        match operation.as_str() {
            "splitOutItems" => SplitOut.execute(run).await,
            "concatenateItems" => Aggregate.execute(run).await,
            "limit" => Limit.execute(run).await,
            "sort" => Sort.execute(run).await,
            "removeDuplicates" => {
                let types = if run.version() >= 3.1 {
                    TypeRules {
                        check: false,
                        skip_null_and_explain: false,
                        rank_by_type: true,
                    }
                } else {
                    TypeRules::remove_duplicates(1.0)
                };
                let dedupe = remove_duplicates::settings(run, types)?;
                Ok(Outcome::single(remove_duplicates::remove_duplicates(
                    run.input.items(0),
                    &dedupe,
                )?))
            }
            "summarize" => summarize::run_summarize(run, true, false),
            other => Err(NodeError::operation(format!(
                "The operation \"{other}\" is not supported!"
            ))),
        }
    }
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.itemLists", &[3.0, 3.1], Arc::new(ItemLists));
}
