//! The OpenAPI component schemas of the workflow routes.

use serde_json::{json, Value};

use super::super::openapi::schema_ref;
use crate::domain::workflow;

pub fn schemas() -> Vec<(&'static str, Value)> {
    let node = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "webhookId": {"type": "string"}, "disabled": {"type": "boolean"},
            "notesInFlow": {"type": "boolean"}, "notes": {"type": "string"}, "type": {"type": "string"}, "typeVersion": {"type": "number"},
            "executeOnce": {"type": "boolean"}, "alwaysOutputData": {"type": "boolean"}, "retryOnFail": {"type": "boolean"},
            "maxTries": {"type": "number"}, "waitBetweenTries": {"type": "number"}, "continueOnFail": {"type": "boolean"},
            "onError": {"type": "string"}, "position": {"type": "array", "items": {"type": "number"}},
            "parameters": {"type": "object"}, "credentials": {"type": "object"}, "customTelemetryTags": {"type": "object"},
            "createdAt": {"type": "string"}, "updatedAt": {"type": "string"}
        }
    });
    let save = json!({"type": "string", "enum": ["DEFAULT", "all", "none"]});
    let settings = json!({
        "type": "object", "additionalProperties": false,
        "properties": {
            "saveExecutionProgress": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["DEFAULT"]}]},
            "saveManualExecutions": {"oneOf": [{"type": "boolean"}, {"type": "string", "enum": ["DEFAULT"]}]},
            "saveDataErrorExecution": save, "saveDataSuccessExecution": save,
            "executionTimeout": {"type": "number"}, "errorWorkflow": {"type": "string"}, "timezone": {"type": "string"},
            "executionOrder": {"type": "string"}, "binaryMode": {"type": "string", "enum": ["separate", "combined"]},
            "callerPolicy": {"type": "string", "enum": ["any", "none", "workflowsFromAList", "workflowsFromSameOwner"]},
            "callerIds": {"type": "string"}, "timeSavedMode": {"type": "string", "enum": ["fixed", "dynamic"]},
            "timeSavedPerExecution": {"type": "number"},
            "redactionPolicy": {"type": "string", "enum": ["none", "non-manual", "manual-only", "all"]},
            "availableInMCP": {"type": "boolean"},
            "customTelemetryTags": {"type": "array", "items": {"type": "object", "required": ["key", "value"], "properties": {"key": {"type": "string"}, "value": {"type": "string"}}}},
            "credentialResolverId": {"type": "string"}
        }
    });
    let node_groups = json!({"type": "array", "items": {"type": "object", "required": ["id", "name", "nodeIds"], "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string", "maxLength": 155},
        "nodeIds": {"type": "array", "items": {"type": "string"}}}}});
    let version_fields = json!({
        "versionId": {"type": "string"}, "workflowId": {"type": "string"}, "authors": {"type": "string"},
        "name": {"type": "string", "nullable": true}, "description": {"type": "string", "nullable": true},
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}
    });
    let mut version = version_fields.clone();
    version["nodes"] = json!({"type": "array", "items": node});
    version["connections"] = json!({"type": "object"});
    version["nodeGroups"] = node_groups.clone();
    let mut active_version = version.clone();
    active_version["autosaved"] = json!({"type": "boolean"});
    active_version["workflowPublishHistory"] = json!({"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "string"}, "workflowId": {"type": "string"}, "versionId": {"type": "string", "nullable": true},
        "event": {"type": "string"}, "userId": {"type": "string", "nullable": true}, "createdAt": {"type": "string", "format": "date-time"}}}});
    let shared = json!({"type": "array", "items": {"type": "object", "properties": {
        "role": {"type": "string"}, "workflowId": {"type": "string"}, "projectId": {"type": "string"},
        "project": schema_ref("project"),
        "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"}}}});
    let workflow_properties = |list: bool| {
        let mut p = json!({
            "id": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string", "nullable": true},
            "active": {"type": "boolean"}, "activeVersionId": {"type": "string", "nullable": true},
            "createdAt": {"type": "string", "format": "date-time"}, "updatedAt": {"type": "string", "format": "date-time"},
            "isArchived": {"type": "boolean"}, "versionId": {"type": "string"}, "versionCounter": {"type": "integer"},
            "sourceWorkflowId": {"type": "string", "nullable": true}, "triggerCount": {"type": "integer"},
            "nodes": {"type": "array", "items": node}, "connections": {"type": "object"}, "nodeGroups": node_groups,
            "settings": settings, "staticData": {"type": "object", "nullable": true}, "pinData": {"type": "object", "nullable": true},
            "meta": {"type": "object", "nullable": true}, "tags": {"type": "array", "items": schema_ref("tag")},
            "shared": shared, "activeVersion": {"type": "object", "nullable": true, "properties": active_version},
            "parentFolder": {"type": "object", "nullable": true, "properties": {"id": {"type": "string"}, "name": {"type": "string"}, "parentFolderId": {"type": "string", "nullable": true}}}
        });
        if list {
            if let Some(fields) = p.as_object_mut() {
                fields.remove("parentFolder");
            }
        }
        p
    };
    vec![
        (
            "workflow",
            json!({"type": "object", "required": ["id", "name", "active", "nodes", "connections", "settings"], "properties": workflow_properties(false)}),
        ),
        (
            "workflowListItem",
            json!({"type": "object", "required": ["id", "name", "active", "nodes", "connections", "settings"], "properties": workflow_properties(true)}),
        ),
        (
            "workflowInput",
            json!({
                "type": "object", "required": ["name", "nodes", "connections", "settings"],
                "description": "Read-only fields of a workflow (id, active, tags, versionId, ...) may be sent and are ignored.",
                "properties": {
                    "name": {"type": "string", "maxLength": workflow::NAME_MAX}, "description": {"type": "string", "nullable": true},
                    "nodes": {"type": "array", "items": node}, "connections": {"type": "object"}, "settings": settings,
                    "nodeGroups": node_groups, "staticData": {"nullable": true, "oneOf": [{"type": "object"}, {"type": "string"}]},
                    "pinData": {"type": "object", "nullable": true}, "meta": {"type": "object", "nullable": true},
                    "projectId": {"type": "string", "description": "Create only: the project to create the workflow in (default: your personal project)."},
                    "parentFolderId": {"type": "string", "nullable": true}
                }
            }),
        ),
        (
            "workflowVersion",
            json!({"type": "object", "properties": version}),
        ),
        (
            "workflowVersionSummary",
            json!({"type": "object", "properties": version_fields}),
        ),
        (
            "transferRequest",
            json!({"type": "object", "required": ["destinationProjectId"], "properties": {"destinationProjectId": {"type": "string"}}}),
        ),
        (
            "publishRequest",
            json!({"type": "object", "additionalProperties": false, "properties": {
            "versionId": {"type": "string"}, "name": {"type": "string"}, "description": {"type": "string"}}}),
        ),
    ]
}
