//! Pagination (`options.pagination`): n8n repeats the request with parameters computed from the
//! previous answer through `$response` expressions. The expression engine does not offer
//! `$response` yet, so a node asking for pagination fails with an honest error rather than
//! fetching only the first page.

use serde_json::Value;

use crate::engine::node::{NodeError, NodeRun};

/// Fails when the node asks for any pagination mode other than `off`.
pub fn refuse_if_set(run: &NodeRun<'_>) -> Result<(), NodeError> {
    let Some(pagination) = run.raw_param("options.pagination.pagination") else {
        return Ok(());
    };
    // n8n's default mode, once the option is added, is "update a parameter in each request".
    let mode = pagination
        .get("paginationMode")
        .and_then(Value::as_str)
        .unwrap_or("updateAParameterInEachRequest");
    if mode == "off" {
        return Ok(());
    }
    Err(NodeError::operation(format!(
        "Pagination (\"{mode}\") is not supported by this server yet"
    ))
    .with_description("Remove the Pagination option and request each page with its own item, or loop over the pages in the workflow."))
}
