//! Execute Workflow (versions 1 to 1.3): runs another stored workflow (its published version,
//! else its draft) from its Execute Workflow Trigger with this node's items, once for all items
//! or once per item, and hands on the sub-workflow's last output (or its own input when it
//! does not wait).

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::Registry;
use crate::engine::data::{Item, PairedItem, PairedItems};
use crate::engine::node::{error_item, NodeError, NodeRun, NodeType, Outcome};
use crate::engine::services::SubWorkflowCall;

struct ExecuteWorkflow;

/// The workflow id of the `workflowId` parameter: a plain id (v1) or a resource locator.
fn workflow_id(run: &NodeRun<'_>, i: usize) -> Result<String, NodeError> {
    let source = run.param_str("source", i, "database")?;
    if source != "database" {
        return Err(NodeError::operation(format!(
            "Running a sub-workflow from \"{source}\" is not supported by this server; store the workflow and choose it from the database"
        )));
    }
    let id = match run.param_value("workflowId", i)? {
        Some(Value::Object(locator)) => locator
            .get("value")
            .map(super::types::js_string)
            .unwrap_or_default(),
        Some(Value::Null) | None => String::new(),
        Some(other) => super::types::js_string(&other),
    };
    if id.is_empty() {
        return Err(NodeError::operation("No workflow to execute was selected"));
    }
    Ok(id)
}

/// The items sent to the sub-workflow: the input, with the mapped `workflowInputs` values
/// merged in and the fields the mapping removed left out (v1.2+).
fn inputs(run: &NodeRun<'_>) -> Result<Vec<Item>, NodeError> {
    let removed: Vec<String> = run
        .raw_param("workflowInputs.schema")
        .and_then(Value::as_array)
        .map(|schema| {
            schema
                .iter()
                .filter(|f| f.get("removed").and_then(Value::as_bool) == Some(true))
                .filter_map(|f| {
                    f.get("displayName")
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                })
                .collect()
        })
        .unwrap_or_default();
    let mapped = run.raw_param("workflowInputs.value").is_some();
    let mut out = Vec::with_capacity(run.items.len());
    for (index, item) in run.items.iter().enumerate() {
        let mut json = item.json.clone();
        if mapped {
            if let Some(Value::Object(values)) = run.param_value("workflowInputs.value", index)? {
                json.extend(values);
            }
        }
        json.retain(|k, _| !removed.contains(k));
        out.push(Item {
            json,
            binary: item.binary.clone(),
            paired_item: Some(PairedItems::One(PairedItem::new(index))),
            error: None,
        });
    }
    Ok(out)
}

async fn call(
    run: &NodeRun<'_>,
    workflow_id: String,
    items: Vec<Item>,
    wait: bool,
) -> Result<Vec<Item>, NodeError> {
    let services = run
        .env
        .services
        .as_ref()
        .ok_or_else(|| NodeError::operation("Sub-workflows cannot run here"))?;
    services
        .run_sub_workflow(SubWorkflowCall {
            workflow_id,
            items,
            wait,
            caller_workflow_id: run.workflow.id.clone(),
            caller_project_id: run.workflow.project_id.clone(),
        })
        .await
}

#[async_trait]
impl NodeType for ExecuteWorkflow {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let items = inputs(run)?;
        let mode = run.param_str("mode", 0, "once")?;
        if mode == "each" {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let result = async {
                    let wait = run.param_bool("options.waitForSubWorkflow", i, true)?;
                    let id = workflow_id(run, i)?;
                    let produced = call(run, id, vec![item.clone()], wait).await?;
                    Ok::<_, NodeError>(if wait {
                        produced
                    } else {
                        vec![run.items[i].clone()]
                    })
                }
                .await;
                match result {
                    Ok(produced) => out.extend(produced.into_iter().map(|mut p| {
                        p.paired_item = Some(PairedItems::One(PairedItem::new(i)));
                        p
                    })),
                    Err(error) if run.continue_on_fail() => out.push(error_item(&error, i)),
                    Err(error) => {
                        let mut wrapped = NodeError::operation(format!(
                            "Error executing workflow with item at index {i}"
                        ))
                        .with_description(error.message.clone())
                        .at_item(i);
                        wrapped.name = error.name;
                        return Err(wrapped);
                    }
                }
            }
            return Ok(Outcome::single(out));
        }
        let all_links: Vec<PairedItem> = (0..items.len()).map(PairedItem::new).collect();
        let result = async {
            let wait = run.param_bool("options.waitForSubWorkflow", 0, true)?;
            let id = workflow_id(run, 0)?;
            let count = items.len();
            let produced = call(run, id, items, wait).await?;
            if !wait {
                return Ok::<_, NodeError>(run.items.to_vec());
            }
            let same_length = produced.len() == count;
            Ok(produced
                .into_iter()
                .enumerate()
                .map(|(index, mut item)| {
                    item.paired_item = Some(if same_length {
                        PairedItems::One(PairedItem::new(index))
                    } else {
                        PairedItems::Many(all_links.clone())
                    });
                    item
                })
                .collect::<Vec<_>>())
        }
        .await;
        let result: Result<Vec<Item>, NodeError> = result;
        match result {
            Ok(items) => Ok(Outcome::single(items)),
            Err(error) if run.continue_on_fail() => {
                let mut json = Map::new();
                json.insert("error".into(), Value::String(error.message));
                Ok(Outcome::single(vec![Item {
                    json,
                    paired_item: Some(PairedItems::Many(all_links)),
                    ..Item::default()
                }]))
            }
            Err(error) => Err(error),
        }
    }
}

/// The Execute Workflow Trigger inside a run: hands on the caller's items, keeping only the
/// declared fields when the trigger (v1.1) declares its inputs.
struct ExecuteWorkflowTrigger;

#[async_trait]
impl NodeType for ExecuteWorkflowTrigger {
    fn is_trigger(&self) -> bool {
        true
    }

    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let items = run.input.items(0).to_vec();
        let source = run
            .raw_param("inputSource")
            .and_then(Value::as_str)
            .unwrap_or("passthrough");
        if run.version() < 1.1 || source != "workflowInputs" {
            return Ok(Outcome::single(items));
        }
        let declared: Vec<(String, String)> = run
            .raw_param("workflowInputs.values")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|f| {
                        let name = f.get("name")?.as_str()?.to_owned();
                        let kind = f
                            .get("type")
                            .and_then(Value::as_str)
                            .unwrap_or("any")
                            .to_owned();
                        Some((name, kind))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let zone: chrono_tz::Tz = run.env.timezone.parse().unwrap_or(chrono_tz::UTC);
        let mut out = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let mut json = Map::new();
            for (name, kind) in &declared {
                let value = item.json.get(name).cloned().unwrap_or(Value::Null);
                let converted = match super::types::FieldType::parse(kind) {
                    Some(field_type) => {
                        super::types::validate(name, &value, field_type, false, zone)
                            .map_err(|message| NodeError::operation(message).at_item(index))?
                    }
                    None => value,
                };
                json.insert(name.clone(), converted);
            }
            out.push(Item {
                json,
                binary: item.binary,
                paired_item: Some(PairedItems::One(PairedItem::new(index))),
                error: None,
            });
        }
        Ok(Outcome::single(out))
    }
}

pub fn register(registry: &mut Registry) {
    registry.add(
        "n8n-nodes-base.executeWorkflow",
        &[1.0, 1.1, 1.2, 1.3],
        Arc::new(ExecuteWorkflow),
    );
    registry.add(
        super::EXECUTE_WORKFLOW_TRIGGER,
        &[1.0, 1.1],
        Arc::new(ExecuteWorkflowTrigger),
    );
}
