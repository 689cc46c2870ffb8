//! What flow nodes reach outside their run: the caller of a webhook waiting for its answer,
//! and other workflows (sub-workflows). A run gets these through one trait so nodes stay
//! testable without a server.

use async_trait::async_trait;

use super::data::Item;
use super::node::NodeError;

/// The answer a Respond to Webhook node gives.
#[derive(Clone, Debug)]
pub struct WebhookResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A sub-workflow to run for an Execute Workflow node.
#[derive(Clone, Debug)]
pub struct SubWorkflowCall {
    /// The workflow's id.
    pub workflow_id: String,
    pub items: Vec<Item>,
    /// Wait for it to finish and take its output.
    pub wait: bool,
    /// Who calls: checked against the sub-workflow's caller policy.
    pub caller_workflow_id: String,
    pub caller_project_id: Option<String>,
}

#[async_trait]
pub trait Services: Send + Sync {
    /// Sends the webhook's answer now (the first answer wins; later ones are ignored, as in
    /// n8n). Fails when the execution was not started by a webhook that waits for one.
    fn respond(&self, response: WebhookResponse) -> Result<(), NodeError>;

    /// Runs a sub-workflow; with `wait`, answers the items of its last node.
    async fn run_sub_workflow(&self, call: SubWorkflowCall) -> Result<Vec<Item>, NodeError>;
}
