//! How a failed Code node run is reported: n8n stores the Code node's errors as plain
//! application errors (`level: error`, the message with `[line N]`, the user's error type
//! as the description); the legacy Function nodes fail like other nodes.

use crate::engine::node::{ApplicationError, NodeError};
use crate::expression::code::{CodeError, CodeFailure};

/// The node's error for a failed run; `legacy` for the Function and Function Item nodes.
pub fn to_node_error(failure: CodeFailure, legacy: bool) -> NodeError {
    match failure {
        CodeFailure::Failed(error) if legacy => legacy_error(error),
        CodeFailure::Failed(error) => {
            let stack = stack_line(&error);
            application(
                error.message,
                error.description,
                error.item_index,
                error.line_number,
                stack,
            )
        }
        CodeFailure::TimedOut(limit) => {
            let seconds = limit.as_secs();
            let message = format!(
                "Task execution timed out after {seconds} {}",
                if seconds == 1 { "second" } else { "seconds" }
            );
            let stack = format!("Error: {message}");
            application(
                message,
                Some(format!(
                    "A Code node may run for at most {seconds} s (N8N_RUNNERS_TASK_TIMEOUT). \
                     Make sure every path of the code ends (no endless loops), or process \
                     the items in smaller batches."
                )),
                None,
                None,
                stack,
            )
        }
        CodeFailure::OutOfMemory(limit) => application(
            "Node ran out of memory".to_owned(),
            Some(format!(
                "A Code node may use at most {} MB (N8N_RUNNERS_MAX_OLD_SPACE_SIZE). Process \
                 fewer items at a time, e.g. in batches with a loop node.",
                limit / (1024 * 1024)
            )),
            None,
            None,
            "Error: Node ran out of memory".to_owned(),
        ),
        CodeFailure::Canceled => NodeError::operation("The execution was canceled"),
        CodeFailure::NeverSettled => {
            let message = "The code's promise never settled".to_owned();
            application(
                message.clone(),
                Some(
                    "The code awaited a promise that nothing resolves (no timer or other work \
                     was left to run)."
                        .to_owned(),
                ),
                None,
                None,
                format!("Error: {message}"),
            )
        }
        CodeFailure::Internal(detail) => {
            tracing::warn!(%detail, "Code node runtime failed");
            NodeError::operation("The code could not be run")
        }
    }
}

/// n8n's answer to a Code node without code (its runner refuses the task).
pub fn no_code() -> NodeError {
    application(
        "Unknown error".to_owned(),
        Some("The node has no code to run".to_owned()),
        None,
        None,
        "Error: Unknown error".to_owned(),
    )
}

fn application(
    message: String,
    description: Option<String>,
    item_index: Option<usize>,
    line_number: Option<u64>,
    stack: String,
) -> NodeError {
    let mut error = NodeError::operation(message);
    error.details.description = description;
    error.details.item_index = item_index;
    error.details.application = Some(ApplicationError { line_number, stack });
    error
}

/// The first line of the error's JavaScript stack: `Type: message`.
fn stack_line(error: &CodeError) -> String {
    match (&error.description, error.kind.as_str()) {
        (Some(kind), "user") => format!("{kind}: {}", error.message),
        _ => format!("Error: {}", error.message),
    }
}

fn legacy_error(error: CodeError) -> NodeError {
    let mut node_error = NodeError::operation(error.message);
    if let Some(index) = error.item_index {
        node_error = node_error.at_item(index);
    }
    node_error
}
