//! The node types this server runs, by n8n type name and type version. A workflow that uses
//! any other node (or another version of one) is refused at publish with the node's name, so
//! nothing is published that cannot run.

mod aggregate;
mod basic;
mod code;
pub mod compare;
pub mod conditions;
mod crypto;
mod date_time;
mod execute_workflow;
pub mod fields;
mod filter;
mod filter_param;
mod http_request;
mod if_node;
mod item_lists;
mod limit;
mod merge;
mod remove_duplicates;
mod rename_keys;
pub(crate) mod respond;
mod set;
mod sort;
mod split_in_batches;
mod split_out;
mod summarize;
mod switch;
pub mod transform;
mod triggers;
pub mod types;
mod wait;

use std::collections::HashMap;
use std::sync::Arc;

use super::node::NodeType;
use super::workflow::Node;

pub use http_request::HTTP_REQUEST;
pub use triggers::{
    CRON, ERROR_TRIGGER, EXECUTE_WORKFLOW_TRIGGER, INTERVAL, MANUAL, SCHEDULE, START, WEBHOOK,
};

/// Where a node type's implementation serves a range of versions.
struct Entry {
    versions: &'static [f64],
    implementation: Arc<dyn NodeType>,
}

/// Every node type the engine can run.
pub struct Registry {
    types: HashMap<&'static str, Vec<Entry>>,
}

/// A node of a workflow that the engine cannot run.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsupported {
    pub name: String,
    pub kind: String,
    pub version: f64,
    /// Why, when the type and version are supported but not what the node asks of them.
    pub reason: Option<String>,
}

impl Registry {
    /// The built-in node types.
    pub fn builtin() -> Registry {
        let mut registry = Registry {
            types: HashMap::new(),
        };
        triggers::register(&mut registry);
        basic::register(&mut registry);
        set::register(&mut registry);
        respond::register(&mut registry);
        execute_workflow::register(&mut registry);
        wait::register(&mut registry);
        http_request::register(&mut registry);
        if_node::register(&mut registry);
        filter::register(&mut registry);
        switch::register(&mut registry);
        merge::register(&mut registry);
        split_in_batches::register(&mut registry);
        split_out::register(&mut registry);
        aggregate::register(&mut registry);
        limit::register(&mut registry);
        sort::register(&mut registry);
        remove_duplicates::register(&mut registry);
        summarize::register(&mut registry);
        rename_keys::register(&mut registry);
        date_time::register(&mut registry);
        crypto::register(&mut registry);
        item_lists::register(&mut registry);
        code::register(&mut registry);
        registry
    }

    pub(crate) fn add(
        &mut self,
        kind: &'static str,
        versions: &'static [f64],
        implementation: Arc<dyn NodeType>,
    ) {
        self.types.entry(kind).or_default().push(Entry {
            versions,
            implementation,
        });
    }

    /// The implementation for this node's type and version.
    pub fn get(&self, node: &Node) -> Option<&Arc<dyn NodeType>> {
        self.types
            .get(node.kind.as_str())?
            .iter()
            .find_map(|entry| {
                entry
                    .versions
                    .iter()
                    .any(|v| (v - node.type_version).abs() < 1e-9)
                    .then_some(&entry.implementation)
            })
    }

    /// The nodes of `nodes` that cannot run here. Disabled nodes and sticky notes do not
    /// run, so they never count.
    pub fn unsupported<'a>(&self, nodes: impl IntoIterator<Item = &'a Node>) -> Vec<Unsupported> {
        nodes
            .into_iter()
            .filter(|n| !n.disabled && n.kind != STICKY_NOTE)
            .filter_map(|n| {
                let reason = match self.get(n) {
                    None => None,
                    Some(implementation) => Some(implementation.refusal(n)?),
                };
                Some(Unsupported {
                    name: n.name.clone(),
                    kind: n.kind.clone(),
                    version: n.type_version,
                    reason,
                })
            })
            .collect()
    }

    /// Every supported type with its versions, sorted by type (for documentation and the web
    /// page).
    pub fn catalogue(&self) -> Vec<(&'static str, Vec<f64>)> {
        let mut list: Vec<(&'static str, Vec<f64>)> = self
            .types
            .iter()
            .map(|(kind, entries)| {
                let mut versions: Vec<f64> = entries
                    .iter()
                    .flat_map(|e| e.versions.iter().copied())
                    .collect();
                versions.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
                (*kind, versions)
            })
            .collect();
        list.sort_by_key(|(kind, _)| *kind);
        list
    }

    /// The catalogue as text, one type per line with its versions (`flowgate nodes`).
    pub fn describe(&self) -> String {
        self.catalogue()
            .into_iter()
            .map(|(kind, versions)| format!("{kind}\t{}\n", version_list(&versions)))
            .collect()
    }
}

/// Versions as n8n writes them: `1, 1.1, 2`.
fn version_list(versions: &[f64]) -> String {
    versions
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Sticky notes are canvas decoration, never run.
pub const STICKY_NOTE: &str = "n8n-nodes-base.stickyNote";

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/nodes.md` is what users read to know what runs: each registered type must have
    /// its row there, with exactly its versions.
    #[test]
    fn every_registered_node_type_is_documented() {
        let doc = include_str!("../../../docs/nodes.md");
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs");
        for (kind, versions) in Registry::builtin().catalogue() {
            let cell = format!("| `{kind}` | {} |", version_list(&versions));
            let row = doc.lines().find(|line| line.contains(&cell));
            let row = row.unwrap_or_else(|| {
                panic!("docs/nodes.md lacks the row for {kind} ending with: {cell}")
            });
            // The row links the family page, whose own table has the same row.
            let page = row
                .split("](")
                .nth(1)
                .and_then(|rest| rest.split(')').next())
                .unwrap_or_else(|| panic!("the row of {kind} links no family page"));
            let family = std::fs::read_to_string(docs.join(page))
                .unwrap_or_else(|e| panic!("docs/{page} of {kind}: {e}"));
            assert!(
                family.lines().any(|line| line.contains(&cell)),
                "docs/{page} lacks the row for {kind} ending with: {cell}"
            );
        }
    }
}
