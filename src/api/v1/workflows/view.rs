//! How the workflow routes show a workflow, a version and a publish event: the response types
//! and their construction from what the service loaded.

use serde::Serialize;
use serde_json::value::RawValue;

use super::super::projects::ProjectView;
use super::super::tags::Tag;
use crate::db::folders::FolderRow;
use crate::db::workflows::{PublishEventRow, VersionRow};
use crate::service::workflows::Details;

/// JSON stored as text, sent as it is (checked, not parsed into values, and not copied).
fn raw(text: String) -> Box<RawValue> {
    RawValue::from_string(text)
        .unwrap_or_else(|_| RawValue::from_string("null".to_owned()).expect("null is JSON"))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Shared {
    role: &'static str,
    workflow_id: String,
    project_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    project: Option<ProjectView>,
    created_at: String,
    updated_at: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublishEvent {
    id: String,
    workflow_id: String,
    version_id: Option<String>,
    event: String,
    user_id: Option<String>,
    created_at: String,
}

impl From<PublishEventRow> for PublishEvent {
    fn from(e: PublishEventRow) -> PublishEvent {
        PublishEvent {
            id: e.id,
            workflow_id: e.workflow_id,
            version_id: e.version_id,
            event: e.event,
            user_id: e.user_id,
            created_at: e.created_at,
        }
    }
}

/// A saved version as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Version {
    version_id: String,
    workflow_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    nodes: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    connections: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    node_groups: Option<Box<RawValue>>,
    authors: String,
    name: Option<String>,
    description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    autosaved: Option<bool>,
    created_at: String,
    updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    workflow_publish_history: Option<Vec<PublishEvent>>,
}

/// Which parts of a version an answer shows.
#[derive(Clone, Copy)]
pub enum VersionView {
    /// Without its content (history pages).
    Summary,
    /// With its content (a version's own route).
    Content,
    /// With its content and `autosaved` (a workflow's published version).
    Published,
}

impl Version {
    pub fn new(row: VersionRow, view: VersionView) -> Version {
        let content = !matches!(view, VersionView::Summary);
        Version {
            nodes: content.then(|| raw(row.nodes)),
            connections: content.then(|| raw(row.connections)),
            node_groups: content.then(|| raw(row.node_groups)),
            autosaved: matches!(view, VersionView::Published).then_some(row.autosaved),
            version_id: row.version_id,
            workflow_id: row.workflow_id,
            authors: row.authors,
            name: row.name,
            description: row.description,
            created_at: row.created_at,
            updated_at: row.updated_at,
            workflow_publish_history: None,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FolderRef {
    id: String,
    name: String,
    parent_folder_id: Option<String>,
}

impl From<FolderRow> for FolderRef {
    fn from(f: FolderRow) -> FolderRef {
        FolderRef {
            id: f.id,
            name: f.name,
            parent_folder_id: f.parent_folder_id,
        }
    }
}

/// A workflow as the API shows it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Workflow {
    id: String,
    name: String,
    description: Option<String>,
    active: bool,
    active_version_id: Option<String>,
    created_at: String,
    updated_at: String,
    is_archived: bool,
    version_id: String,
    version_counter: i64,
    source_workflow_id: Option<String>,
    trigger_count: i64,
    nodes: Box<RawValue>,
    connections: Box<RawValue>,
    node_groups: Box<RawValue>,
    settings: Box<RawValue>,
    static_data: Option<Box<RawValue>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pin_data: Option<Option<Box<RawValue>>>,
    meta: Option<Box<RawValue>>,
    tags: Vec<Tag>,
    shared: Vec<Shared>,
    active_version: Option<Version>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_folder: Option<Option<FolderRef>>,
}

impl Workflow {
    /// The answer for `details`; pinned data left out when `exclude_pinned_data`.
    pub fn new(details: Details, exclude_pinned_data: bool) -> Workflow {
        let Details {
            row,
            tags,
            project,
            active_version,
            publish_history,
            parent_folder,
        } = details;
        let active_version = active_version.map(|v| {
            let mut version = Version::new(v, VersionView::Published);
            version.workflow_publish_history =
                publish_history.map(|events| events.into_iter().map(PublishEvent::from).collect());
            version
        });
        Workflow {
            shared: vec![Shared {
                role: "workflow:owner",
                workflow_id: row.id.clone(),
                project_id: row.project_id.clone(),
                project: project.map(|p| p.into_api()),
                created_at: row.shared_at.clone(),
                updated_at: row.shared_at,
            }],
            id: row.id,
            name: row.name,
            description: row.description,
            active: row.active,
            active_version_id: row.active_version_id,
            created_at: row.created_at,
            updated_at: row.updated_at,
            is_archived: row.is_archived,
            version_id: row.version_id,
            version_counter: row.version_counter,
            source_workflow_id: None,
            trigger_count: row.trigger_count,
            nodes: raw(row.nodes),
            connections: raw(row.connections),
            node_groups: raw(row.node_groups),
            settings: raw(row.settings),
            static_data: row.static_data.map(raw),
            pin_data: (!exclude_pinned_data).then(|| row.pin_data.map(raw)),
            meta: row.meta.map(raw),
            tags: tags.into_iter().map(|t| t.into_api()).collect(),
            active_version,
            parent_folder: parent_folder.map(|f| f.map(FolderRef::from)),
        }
    }
}
