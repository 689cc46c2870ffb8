//! Rewriting what an imported workflow says about other records whose ids changed on the way
//! in: the credentials its nodes use, the workflows its nodes call (Execute Workflow, and any
//! node with a `workflowId` parameter, such as the AI agent's workflow tool), and its error
//! workflow.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::files::id_of;

/// Ids of n8n's export mapped to the ids they got here (only the ones that changed matter).
#[derive(Default)]
pub(super) struct Renamed {
    pub credentials: HashMap<String, String>,
    pub workflows: HashMap<String, String>,
}

impl Renamed {
    /// Rewrites the references of one exported workflow object in place.
    pub fn rewrite(&self, workflow: &mut Map<String, Value>) {
        if let Some(Value::Array(nodes)) = workflow.get_mut("nodes") {
            for node in nodes.iter_mut().filter_map(Value::as_object_mut) {
                self.rewrite_credentials(node);
                if let Some(Value::Object(parameters)) = node.get_mut("parameters") {
                    if let Some(called) = parameters.get_mut("workflowId") {
                        self.rewrite_workflow_id(called);
                    }
                }
            }
        }
        if let Some(Value::Object(settings)) = workflow.get_mut("settings") {
            if let Some(error_workflow) = settings.get_mut("errorWorkflow") {
                self.rewrite_workflow_id(error_workflow);
            }
        }
    }

    fn rewrite_credentials(&self, node: &mut Map<String, Value>) {
        let Some(Value::Object(used)) = node.get_mut("credentials") else {
            return;
        };
        for reference in used.values_mut().filter_map(Value::as_object_mut) {
            if let Some(new) = id_of(reference, "id").and_then(|id| self.credentials.get(&id)) {
                reference.insert("id".to_owned(), Value::String(new.clone()));
            }
        }
    }

    /// A workflow id as n8n's parameters hold it: plain text, or a resource locator
    /// (`{"__rl": true, "mode": "id"|"list", "value": "..."}`).
    fn rewrite_workflow_id(&self, value: &mut Value) {
        match value {
            Value::String(id) => {
                if let Some(new) = self.workflows.get(id.as_str()) {
                    *id = new.clone();
                }
            }
            Value::Object(locator) => {
                if let Some(Value::String(id)) = locator.get_mut("value") {
                    if let Some(new) = self.workflows.get(id.as_str()) {
                        *id = new.clone();
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn called_workflows_error_workflow_and_credentials_follow_their_new_ids() {
        let mut renamed = Renamed::default();
        renamed.workflows.insert("old1".into(), "new1".into());
        renamed.workflows.insert("old2".into(), "new2".into());
        renamed.credentials.insert("c1".into(), "c9".into());
        let mut workflow = json!({
            "nodes": [
                { "type": "n8n-nodes-base.executeWorkflow",
                  "parameters": { "workflowId": { "__rl": true, "mode": "list", "value": "old1" } } },
                { "type": "n8n-nodes-base.executeWorkflow", "parameters": { "workflowId": "old2" } },
                { "type": "n8n-nodes-base.executeWorkflow", "parameters": { "workflowId": "kept" } },
                { "type": "n8n-nodes-base.httpRequest",
                  "credentials": { "httpBasicAuth": { "id": "c1", "name": "API" } } }
            ],
            "settings": { "errorWorkflow": "old2" }
        });
        renamed.rewrite(workflow.as_object_mut().expect("object"));
        assert_eq!(
            workflow["nodes"][0]["parameters"]["workflowId"]["value"],
            "new1"
        );
        assert_eq!(
            workflow["nodes"][0]["parameters"]["workflowId"]["mode"],
            "list"
        );
        assert_eq!(workflow["nodes"][1]["parameters"]["workflowId"], "new2");
        assert_eq!(workflow["nodes"][2]["parameters"]["workflowId"], "kept");
        assert_eq!(
            workflow["nodes"][3]["credentials"]["httpBasicAuth"],
            json!({ "id": "c9", "name": "API" })
        );
        assert_eq!(workflow["settings"]["errorWorkflow"], "new2");
    }
}
