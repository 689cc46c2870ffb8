//! Filter: keeps the input items that pass the node's conditions, on its one output. As in
//! n8n, the run also records the discarded items as a second list (nothing is connected to
//! it).
//! Version 1 reads the older typed lists (combined by `combineConditions` AND/OR); versions
//! 2-2.3 read a filter parameter, exactly as If does.

use std::sync::Arc;

use async_trait::async_trait;

use super::if_node::{legacy_passes, split, split_by_filter, IF_VERSIONS};
use super::Registry;
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};

struct Filter;

#[async_trait]
impl NodeType for Filter {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let (kept, discarded) = if run.version() < 2.0 {
            split(run, "combineConditions", "AND", legacy_passes)?
        } else {
            split_by_filter(run, &IF_VERSIONS)?
        };
        Ok(Outcome::Output(vec![kept, discarded]))
    }
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.filter",
        &[1.0, 2.0, 2.1, 2.2, 2.3],
        Arc::new(Filter),
    );
}
