//! What the nodes of one run reach outside it: the webhook caller waiting for an answer,
//! stored credentials, the shared HTTP client, and sub-workflows (run here, within the
//! callee's caller policy and a bounded depth).

use super::*;

/// The services of one run: its webhook answer and the sub-workflows it starts.
pub(super) struct RunServices {
    pub(super) engine: Engine,
    pub(super) respond: std::sync::Mutex<Option<oneshot::Sender<WebhookResponse>>>,
    /// How deep in sub-workflow calls this run is.
    pub(super) depth: usize,
}

/// Sub-workflows may call sub-workflows, but not without end.
pub(super) const MAX_SUB_WORKFLOW_DEPTH: usize = 16;

#[async_trait::async_trait]
impl Services for RunServices {
    fn respond(&self, response: WebhookResponse) -> Result<(), NodeError> {
        let sender = self
            .respond
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(sender) = sender {
            // The caller may have gone away; the run goes on regardless.
            let _ = sender.send(response);
        }
        Ok(())
    }

    async fn credential(
        &self,
        project_id: Option<&str>,
        kind: &str,
        id: &str,
    ) -> Result<JsonObject, NodeError> {
        crate::engine::services::open_credential(&self.engine, project_id, kind, id).await
    }

    async fn store_oauth_token_data(
        &self,
        project_id: Option<&str>,
        kind: &str,
        id: &str,
        token_data: Value,
    ) -> Result<(), NodeError> {
        crate::engine::services::store_oauth_token_data(
            &self.engine,
            project_id,
            kind,
            id,
            token_data,
        )
        .await
    }

    fn http(&self) -> &crate::engine::services::HttpShared {
        &self.engine.inner().http
    }

    fn binary(&self) -> Option<&crate::engine::binary::BinaryStore> {
        Some(&self.engine.inner().binary)
    }

    async fn run_sub_workflow(&self, call: SubWorkflowCall) -> Result<Vec<Item>, NodeError> {
        if self.depth >= MAX_SUB_WORKFLOW_DEPTH {
            return Err(NodeError::operation(
                "Sub-workflows are nested too deeply (is a workflow calling itself?)",
            ));
        }
        let workflow = self
            .engine
            .runnable(&call.workflow_id)
            .await
            .map_err(|e| NodeError::operation(e.to_string()))?
            .ok_or_else(|| {
                NodeError::operation(format!(
                    "Workflow with ID \"{}\" does not exist",
                    call.workflow_id
                ))
            })?;
        check_caller_policy(&workflow, &call)?;
        let trigger = workflow
            .nodes
            .iter()
            .find(|n| n.kind == crate::engine::nodes::EXECUTE_WORKFLOW_TRIGGER && !n.disabled)
            .map(|n| n.name.clone())
            .ok_or_else(|| {
                NodeError::operation("Missing node to start execution")
                    .with_description("Please make sure the workflow you're calling contains an Execute Workflow Trigger node")
            })?;
        let start = Start {
            mode: Mode::Integrated,
            node: trigger,
            input: Connections::single(call.items),
            respond: None,
        };
        if !call.wait {
            let engine = self.engine.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.run(workflow, start).await {
                    tracing::warn!(error = %e, "a sub-workflow could not run");
                }
            });
            return Ok(Vec::new());
        }
        let ended = Box::pin(self.engine.run(workflow, start))
            .await
            .map_err(|e| NodeError::operation(e.to_string()))?;
        match ended.status {
            ExecutionStatus::Success => Ok(last_node_items(&ended.data)),
            _ => {
                let message = ended
                    .data
                    .result_data
                    .error
                    .as_ref()
                    .and_then(|e| e.get("message"))
                    .and_then(Value::as_str)
                    .unwrap_or("The sub-workflow failed")
                    .to_owned();
                Err(NodeError::operation(message))
            }
        }
    }
}

/// n8n's `callerPolicy` of the called workflow: `any`, `none`, `workflowsFromAList`
/// (`callerIds`), or by default `workflowsFromSameOwner` (the same project).
pub(super) fn check_caller_policy(
    target: &Workflow,
    call: &SubWorkflowCall,
) -> Result<(), NodeError> {
    if target.id == call.caller_workflow_id {
        return Ok(());
    }
    let policy = target
        .settings
        .get("callerPolicy")
        .and_then(Value::as_str)
        .unwrap_or("workflowsFromSameOwner");
    let allowed = match policy {
        "any" => true,
        "none" => false,
        "workflowsFromAList" => target
            .settings
            .get("callerIds")
            .and_then(Value::as_str)
            .is_some_and(|ids| {
                ids.split(',')
                    .any(|id| id.trim() == call.caller_workflow_id)
            }),
        _ => target.project_id.is_some() && target.project_id == call.caller_project_id,
    };
    if allowed {
        return Ok(());
    }
    Err(NodeError::operation(format!("Target workflow ID {} may not be called", target.id))
        .with_description("The workflow you are calling does not allow this workflow to call it (its settings: \"This workflow can be called by\")"))
}
