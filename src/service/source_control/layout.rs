//! n8n's source-control layout, read from a checked-out working copy:
//!
//! ```text
//! workflows/<id>.json          a workflow export (id, name, nodes, connections, settings,
//!                              versionId, owner, parentFolderId, isArchived, ...)
//! credential_stubs/<id>.json   {id, name, type, data: {placeholders}, ownedBy}
//! variable_stubs.json          [{id, key, value, type, projectId?}]
//! tags.json                    {tags: [{id, name}], mappings: [{workflowId, tagId}]}
//! folders.json                 {folders: [{id, name, parentFolderId, homeProjectId, createdAt, updatedAt}]}
//! ```
//!
//! Files are read as plain files only (anything else under those names is refused), each up to
//! a size limit, and parsed into typed items; a malformed file fails the whole pull with a
//! message naming it.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::domain::ids::is_plausible_id;

pub const WORKFLOWS: &str = "workflows";
pub const CREDENTIALS: &str = "credential_stubs";
pub const VARIABLES: &str = "variable_stubs.json";
pub const TAGS: &str = "tags.json";
pub const FOLDERS: &str = "folders.json";

/// Largest file the import reads (a workflow with large pinned data stays well below).
const FILE_MAX: u64 = 16 * 1024 * 1024;

/// A workflow file of the repository.
#[derive(Debug, Clone)]
pub struct RemoteWorkflow {
    /// The file, relative to the repository root.
    pub file: String,
    pub id: String,
    pub name: String,
    /// The document, as the workflow routes' validation takes it.
    pub body: Value,
    pub owner: Option<Value>,
    pub parent_folder_id: Option<String>,
    pub is_archived: bool,
    pub updated_at: Option<String>,
    /// SHA-256 of the file's bytes: what "the remote changed" is measured by.
    pub hash: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteCredential {
    #[serde(skip)]
    pub file: String,
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub data: Map<String, Value>,
    #[serde(default)]
    pub owned_by: Option<Value>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteVariable {
    pub id: String,
    pub key: String,
    #[serde(default)]
    pub project_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RemoteTag {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TagMapping {
    #[serde(deserialize_with = "id_text")]
    pub workflow_id: String,
    #[serde(deserialize_with = "id_text")]
    pub tag_id: String,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct TagsFile {
    #[serde(default)]
    pub tags: Vec<RemoteTag>,
    #[serde(default)]
    pub mappings: Vec<TagMapping>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteFolder {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent_folder_id: Option<String>,
    #[serde(default)]
    pub home_project_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct FoldersFile {
    #[serde(default)]
    pub folders: Vec<RemoteFolder>,
}

/// Everything a pull may import.
#[derive(Debug, Default)]
pub struct Repository {
    pub workflows: Vec<RemoteWorkflow>,
    pub credentials: Vec<RemoteCredential>,
    pub variables: Option<Vec<RemoteVariable>>,
    pub tags: Option<TagsFile>,
    pub folders: Option<FoldersFile>,
}

/// Older exports write mapping ids as numbers.
fn id_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(serde::de::Error::custom("must be string")),
    }
}

fn read(root: &Path, relative: &str) -> Result<Option<Vec<u8>>, String> {
    let path = root.join(relative);
    let meta = match std::fs::symlink_metadata(&path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{relative}: {e}")),
    };
    if !meta.is_file() {
        return Err(format!("{relative} is not a regular file"));
    }
    if meta.len() > FILE_MAX {
        return Err(format!(
            "{relative} is larger than {} MiB",
            FILE_MAX / 1024 / 1024
        ));
    }
    std::fs::read(&path)
        .map(Some)
        .map_err(|e| format!("{relative}: {e}"))
}

fn parse<T: serde::de::DeserializeOwned>(relative: &str, bytes: &[u8]) -> Result<T, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{relative} is not valid JSON: {e}"))?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            format!("{relative}: {}", e.inner())
        } else {
            format!("{relative}: {path}: {}", e.inner())
        }
    })
}

/// The `*.json` files of a folder of the repository, by name.
fn json_files(root: &Path, folder: &str) -> Result<Vec<String>, String> {
    let dir = root.join(folder);
    match std::fs::symlink_metadata(&dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(format!("{folder} is not a folder")),
        Err(_) => return Ok(Vec::new()),
    }
    let mut names = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(|e| format!("{folder}: {e}"))? {
        let entry = entry.map_err(|e| format!("{folder}: {e}"))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") {
            names.push(format!("{folder}/{name}"));
        }
    }
    names.sort();
    Ok(names)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn workflow(relative: String, bytes: &[u8]) -> Result<RemoteWorkflow, String> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("{relative} is not valid JSON: {e}"))?;
    let Value::Object(mut doc) = value else {
        return Err(format!("{relative}: a workflow file must hold an object"));
    };
    let text = |doc: &Map<String, Value>, key: &str| {
        doc.get(key).and_then(Value::as_str).map(str::to_owned)
    };
    let id = text(&doc, "id").ok_or_else(|| format!("{relative}: the workflow has no id"))?;
    if !is_plausible_id(&id) {
        return Err(format!("{relative}: \"{id}\" is not a valid workflow id"));
    }
    for required in ["name", "nodes", "connections"] {
        if !doc.contains_key(required) {
            return Err(format!("{relative}: the workflow has no {required}"));
        }
    }
    let name = text(&doc, "name").ok_or_else(|| format!("{relative}: name must be string"))?;
    let owner = doc.get("owner").cloned().filter(|o| !o.is_null());
    let parent_folder_id = text(&doc, "parentFolderId");
    let is_archived = doc
        .get("isArchived")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let updated_at = text(&doc, "updatedAt");
    Ok(RemoteWorkflow {
        file: relative,
        id,
        name,
        body: workflow_content(&mut doc),
        owner,
        parent_folder_id,
        is_archived,
        updated_at,
        hash: hex(&Sha256::digest(bytes)),
    })
}

/// The content of an n8n workflow export, as the workflow routes' validation takes it: only
/// the fields a workflow body carries (taken out of `doc`); the rest of the export (ids,
/// versions, owner, counters, publish state) is the instance's business, not the content's.
/// Also used by `flowgate import n8n`.
pub fn workflow_content(doc: &mut Map<String, Value>) -> Value {
    let mut body = Map::new();
    for key in [
        "name",
        "nodes",
        "connections",
        "settings",
        "staticData",
        "pinData",
        "meta",
        "nodeGroups",
        "description",
    ] {
        if let Some(v) = doc.remove(key) {
            body.insert(key.to_owned(), v);
        }
    }
    if !body.get("settings").is_some_and(Value::is_object) {
        body.insert("settings".to_owned(), Value::Object(Map::new()));
    }
    Value::Object(body)
}

/// Reads the layout from the working copy at `root`.
pub fn read_repository(root: &Path) -> Result<Repository, String> {
    let mut repository = Repository::default();

    let mut seen = HashSet::new();
    for relative in json_files(root, WORKFLOWS)? {
        let Some(bytes) = read(root, &relative)? else {
            continue;
        };
        let workflow = workflow(relative, &bytes)?;
        if !seen.insert(workflow.id.clone()) {
            return Err(format!(
                "{}: the workflow id {} appears in more than one file",
                workflow.file, workflow.id
            ));
        }
        repository.workflows.push(workflow);
    }

    let mut seen = HashSet::new();
    for relative in json_files(root, CREDENTIALS)? {
        let Some(bytes) = read(root, &relative)? else {
            continue;
        };
        let mut credential: RemoteCredential = parse(&relative, &bytes)?;
        if !is_plausible_id(&credential.id) {
            return Err(format!(
                "{relative}: \"{}\" is not a valid credential id",
                credential.id
            ));
        }
        if !seen.insert(credential.id.clone()) {
            return Err(format!(
                "{relative}: the credential id {} appears in more than one file",
                credential.id
            ));
        }
        credential.file = relative;
        repository.credentials.push(credential);
    }

    if let Some(bytes) = read(root, VARIABLES)? {
        repository.variables = Some(parse(VARIABLES, &bytes)?);
    }
    if let Some(bytes) = read(root, TAGS)? {
        repository.tags = Some(parse(TAGS, &bytes)?);
    }
    if let Some(bytes) = read(root, FOLDERS)? {
        repository.folders = Some(parse(FOLDERS, &bytes)?);
    }
    Ok(repository)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workflow_file_keeps_its_content_and_drops_instance_fields() {
        let bytes = br#"{"id":"wf1","name":"A","nodes":[],"connections":{},"versionId":"v","owner":{"type":"team","teamId":"p"},"parentFolderId":"f","isArchived":true,"triggerCount":3}"#;
        let wf = workflow("workflows/wf1.json".into(), bytes).expect("parses");
        assert_eq!(wf.id, "wf1");
        assert!(wf.is_archived);
        assert_eq!(wf.parent_folder_id.as_deref(), Some("f"));
        assert_eq!(
            wf.owner.as_ref().and_then(|o| o["teamId"].as_str()),
            Some("p")
        );
        let keys: Vec<&String> = wf.body.as_object().expect("object").keys().collect();
        assert_eq!(keys, ["name", "nodes", "connections", "settings"]);
        assert_eq!(wf.hash.len(), 64);
    }

    #[test]
    fn a_workflow_file_without_an_id_or_with_a_path_like_id_is_refused() {
        assert!(workflow(
            "w.json".into(),
            br#"{"name":"A","nodes":[],"connections":{}}"#
        )
        .is_err());
        assert!(workflow(
            "w.json".into(),
            br#"{"id":"../x","name":"A","nodes":[],"connections":{}}"#
        )
        .is_err());
        assert!(workflow("w.json".into(), b"[1]").is_err());
    }

    #[test]
    fn tag_mappings_accept_numeric_ids() {
        let tags: TagsFile = parse(
            TAGS,
            br#"{"tags":[{"id":"t1","name":"x"}],"mappings":[{"workflowId":7,"tagId":"t1"}]}"#,
        )
        .expect("parses");
        assert_eq!(tags.mappings[0].workflow_id, "7");
    }
}
