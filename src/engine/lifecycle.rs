//! What the engine does when a workflow is published or unpublished: refuse what it cannot
//! run, and register (or remove) the workflow's webhooks, inside the transaction that changes
//! the workflow, so the change and its webhooks commit together on every instance.

use crate::db::webhooks::{self, WebhookRow};
use crate::db::workflows::{VersionRow, WorkflowRow};
use crate::db::Conn;
use crate::error::ApiError;
use crate::service::workflows::{WorkflowEvent, WorkflowLifecycle};

use super::webhook::paths;
use super::Engine;

/// n8n's answer when another published workflow already answers a webhook's method and path.
pub const WEBHOOK_CONFLICT: &str = "There is a conflict with one of the webhooks.";

#[async_trait::async_trait]
impl WorkflowLifecycle for Engine {
    async fn publishing(
        &self,
        conn: Conn<'_>,
        workflow: &WorkflowRow,
        version: &VersionRow,
    ) -> Result<(), ApiError> {
        self.check_and_register(conn, workflow, version).await
    }

    async fn unpublishing(&self, conn: Conn<'_>, workflow_id: &str) -> Result<(), ApiError> {
        webhooks::delete_for_workflow(conn, workflow_id).await?;
        Ok(())
    }

    /// Schedules follow at once on this instance (other instances pick the change up on
    /// their next schedule check).
    fn changed(&self, _event: WorkflowEvent) {
        self.inner().schedules_changed.notify_one();
    }
}

impl Engine {
    /// Checks that `version` of `workflow` can run here and registers its webhooks.
    async fn check_and_register(
        &self,
        mut conn: Conn<'_>,
        workflow: &WorkflowRow,
        version: &VersionRow,
    ) -> Result<(), ApiError> {
        let parsed = super::parse_version(workflow, version).map_err(ApiError::bad_request)?;
        let unsupported = self.registry().unsupported(&parsed.nodes);
        if !unsupported.is_empty() {
            let list: Vec<String> = unsupported
                .iter()
                .map(|u| match &u.reason {
                    None => format!("\"{}\" ({} version {})", u.name, u.kind, u.version),
                    Some(reason) => {
                        format!(
                            "\"{}\" ({} version {}: {reason})",
                            u.name, u.kind, u.version
                        )
                    }
                })
                .collect();
            return Err(ApiError::bad_request(format!(
                "This workflow cannot be published: this server cannot run the node{} {}",
                if list.len() == 1 { "" } else { "s" },
                list.join(", ")
            )));
        }
        check_credentials_named(&parsed)?;
        super::schedule::check(&parsed).map_err(ApiError::bad_request)?;
        check_sub_workflows(conn.reborrow(), &parsed).await?;
        let rows = paths::registrations(&parsed).map_err(ApiError::bad_request)?;
        webhooks::delete_for_workflow(conn.reborrow(), &workflow.id).await?;
        let mut seen: Vec<(&str, &str)> = Vec::new();
        for row in &rows {
            let key = (row.method.as_str(), row.path.as_str());
            if seen.contains(&key) {
                return Err(ApiError::bad_request(WEBHOOK_CONFLICT));
            }
            seen.push(key);
            if let Some(other) =
                webhooks::find_conflict(conn.reborrow(), &row.method, &row.path).await?
            {
                if other.workflow_id != workflow.id {
                    return Err(ApiError::bad_request(WEBHOOK_CONFLICT));
                }
            }
            insert(conn.reborrow(), row).await?;
        }
        Ok(())
    }
}

/// n8n 2.x publishes a workflow only when the workflows its Execute Workflow nodes call (by a
/// fixed id) are published too, so what runs is always a published version.
async fn check_sub_workflows(
    mut conn: Conn<'_>,
    workflow: &super::workflow::Workflow,
) -> Result<(), ApiError> {
    for node in workflow
        .nodes
        .iter()
        .filter(|n| n.kind == "n8n-nodes-base.executeWorkflow" && !n.disabled)
    {
        let source = node
            .parameters
            .get("source")
            .and_then(serde_json::Value::as_str);
        if source.is_some_and(|s| s != "database") {
            continue;
        }
        let target = match node.parameters.get("workflowId") {
            Some(serde_json::Value::String(id)) => id.clone(),
            Some(serde_json::Value::Object(locator)) => locator
                .get("value")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            _ => continue,
        };
        if target.is_empty() || target.starts_with('=') || target == workflow.id {
            continue;
        }
        let found = if crate::domain::ids::is_plausible_id(&target) {
            crate::db::workflows::find(conn.reborrow(), &target).await?
        } else {
            None
        };
        match found {
            Some(row) if row.active => {}
            Some(row) => {
                return Err(ApiError::bad_request(format!(
                    "Cannot publish workflow: Node \"{}\" references workflow {} (\"{}\") which is not published. Please publish all referenced sub-workflows first.",
                    node.name, row.id, row.name
                )))
            }
            None => {
                return Err(ApiError::bad_request(format!(
                    "Cannot publish workflow: Node \"{}\" references workflow {target} which does not exist.",
                    node.name
                )))
            }
        }
    }
    Ok(())
}

async fn insert(conn: Conn<'_>, row: &WebhookRow) -> Result<(), ApiError> {
    webhooks::insert(conn, row).await.map_err(|e| {
        if webhooks::PATH_UNIQUE.matches(&e) {
            ApiError::bad_request(WEBHOOK_CONFLICT)
        } else {
            e.into()
        }
    })
}

/// n8n's refusal of a workflow with a node that needs a credential and names none: a webhook
/// whose authentication has nothing to compare with (it could only ever answer 500), a
/// Respond to Webhook node answering with a JWT it has no key to sign.
fn check_credentials_named(workflow: &super::workflow::Workflow) -> Result<(), ApiError> {
    let issues: Vec<String> = workflow
        .nodes
        .iter()
        .filter_map(|node| {
            let kind = super::webhook::access::missing_credential(node)
                .or_else(|| super::nodes::respond::missing_credential(node))?;
            Some(format!(
                "Node \"{}\":\n  - Missing required credential: {kind}",
                node.name
            ))
        })
        .collect();
    if issues.is_empty() {
        return Ok(());
    }
    Err(ApiError::bad_request(format!(
        "Cannot publish workflow: {} node{} have configuration issues:\n\n{}",
        issues.len(),
        if issues.len() == 1 { "" } else { "s" },
        issues.join("\n\n")
    )))
}
