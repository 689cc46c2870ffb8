//! How If, Filter and Switch read their conditions from a node: the filter options a node
//! version implies, evaluating one filter parameter for one item, and n8n's failure when a
//! value does not fit its comparison.

use serde_json::Value;

use super::conditions::{ConditionError, Defaults, Filter};
use crate::engine::node::{NodeError, NodeRun};

/// n8n's advice when a strict comparison fails without a more precise description.
const ENABLE_LOOSE: &str =
    "Try changing the type of comparison. Alternatively you can enable 'Convert types where required'.";

/// Which versions of a node changed how it reads its conditions.
pub struct Versions {
    /// From this version the node-level `looseTypeValidation` applies (before it, the
    /// `options.looseTypeValidation` option).
    pub loose_at_node_level: f64,
    /// From these versions the filter format is 2, then 3.
    pub format_2: f64,
    pub format_3: f64,
}

/// Whether the node converts types where required, for item `i`.
pub fn loose(run: &NodeRun<'_>, i: usize, versions: &Versions) -> Result<bool, NodeError> {
    if run.version() < versions.loose_at_node_level {
        run.param_bool("options.looseTypeValidation", i, false)
    } else {
        run.param_bool("looseTypeValidation", i, false)
    }
}

/// The options n8n's editor would have written into the filter for this node.
pub fn defaults(run: &NodeRun<'_>, i: usize, versions: &Versions) -> Result<Defaults, NodeError> {
    let version = run.version();
    Ok(Defaults {
        case_sensitive: !run.param_bool("options.ignoreCase", i, false)?,
        strict: !loose(run, i, versions)?,
        version: if version >= versions.format_3 {
            3
        } else if version >= versions.format_2 {
            2
        } else {
            1
        },
    })
}

/// Evaluates the (already resolved) filter `value` for item `i`.
pub fn passes(
    run: &NodeRun<'_>,
    value: &Value,
    i: usize,
    versions: &Versions,
) -> Result<bool, NodeError> {
    let zone: chrono_tz::Tz = run.env.timezone.parse().unwrap_or(chrono_tz::UTC);
    let defaults = defaults(run, i, versions)?;
    let filter =
        Filter::parse(value, defaults, zone).map_err(|e| failure(e, !defaults.strict, i))?;
    filter
        .passes(i)
        .map_err(|e| failure(e, loose(run, i, versions).unwrap_or(false), i))
}

/// A condition's failure as the node's error.
fn failure(error: ConditionError, loose: bool, i: usize) -> NodeError {
    let mut node_error = NodeError::operation(error.message).at_item(i);
    node_error.details.description = match error.description {
        Some(description) => Some(description),
        None if !loose => Some(ENABLE_LOOSE.to_owned()),
        None => None,
    };
    node_error
}
