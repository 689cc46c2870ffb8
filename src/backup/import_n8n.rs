//! `flowgate import n8n`: workflows and credentials from n8n's own export files, into one
//! project of this instance, in one transaction.
//!
//! Input, as n8n's commands write it (a file holding an array or one object, or a folder of
//! such files, as `--separate` writes):
//!
//! - `n8n export:workflow --all --output=workflows.json`: workflow objects (id, name, nodes,
//!   connections, settings, active, tags, pinData, versionId, ...);
//! - `n8n export:credentials --all --decrypted --output=credentials.json`: objects of id, name,
//!   type and the plain `data`.
//!
//! What happens to them:
//!
//! - Workflows are checked by the rules of the workflow routes, keep n8n's id (and version id)
//!   when it is free here and get a new one otherwise, and arrive unpublished, as n8n's own
//!   `import:workflow` leaves them (archived ones stay archived). Their tags are found by name
//!   or created (with n8n's tag id when free).
//! - Credentials of a type in this server's catalog are checked against it, as the credential
//!   routes check them; types the catalog lacks are stored unchecked (listing, transfer and
//!   deletion work; an update is refused until the catalog knows the type). Their data is
//!   sealed with `N8N_ENCRYPTION_KEY` by the credential routes' own sealing. A credential that
//!   gets a new id is renamed in every imported workflow node that uses it.
//! - Everything goes into the owner's personal project, or the project given.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use super::{counted, Error, Result};
use crate::app::AppState;
use crate::db::workflows as workflows_repo;
use crate::db::{credentials, projects, source_control, tags, users, Tx};
use crate::domain::ids::{is_plausible_id, new_id};
use crate::domain::time::now_iso;
use crate::domain::workflow::{self, BodyKind};
use crate::domain::{credential_types, names};
use crate::service::credentials::seal;
use crate::service::source_control::layout::workflow_content;
use crate::service::workflows::steps::{self, Actor, Save, SaveTo};
use crate::service::workflows::Hooks;

/// Largest input file read (n8n's `--all` export of a big instance, pinned data included).
const FILE_MAX: u64 = 256 * 1024 * 1024;

/// What to import, and where to.
pub struct Options<'a> {
    pub workflows: Option<&'a Path>,
    pub credentials: Option<&'a Path>,
    /// The receiving project; `None`: the owner's personal project.
    pub project_id: Option<&'a str>,
}

/// What an import wrote.
#[derive(Debug, Default)]
pub struct Summary {
    pub project_id: String,
    pub project_name: String,
    pub workflows: usize,
    /// Workflows whose n8n id was taken here (or not an id), with the id they got.
    pub workflows_renamed: Vec<(String, String)>,
    /// Workflows that were active in n8n (imported unpublished).
    pub workflows_active: usize,
    pub credentials: usize,
    pub credentials_renamed: Vec<(String, String)>,
    /// Credential types this server's catalog does not know (stored unchecked).
    pub unknown_types: Vec<String>,
    pub tags_created: usize,
    pub tags_existing: usize,
}

impl Summary {
    /// The line the command prints: counts only.
    pub fn line(&self) -> String {
        format!(
            "imported {}, {} and {} ({} existing) into project \"{}\" ({})",
            counted(self.workflows, "workflow", "workflows"),
            counted(self.credentials, "credential", "credentials"),
            counted(self.tags_created, "new tag", "new tags"),
            self.tags_existing,
            self.project_name,
            self.project_id
        )
    }

    /// Lines worth a look: ids that changed, types stored unchecked, workflows to publish.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for (from, to) in &self.workflows_renamed {
            notes.push(format!(
                "workflow {from} was imported as {to} (its id is taken here)"
            ));
        }
        for (from, to) in &self.credentials_renamed {
            notes.push(format!(
                "credential {from} was imported as {to} (its id is taken here); the imported workflows use the new id"
            ));
        }
        if !self.unknown_types.is_empty() {
            notes.push(format!(
                "credential types this server does not know, stored unchecked: {}",
                self.unknown_types.join(", ")
            ));
        }
        if self.workflows_active > 0 {
            notes.push(format!(
                "{} active in n8n {} imported unpublished; publish {} when ready",
                counted(self.workflows_active, "workflow", "workflows"),
                if self.workflows_active == 1 {
                    "was"
                } else {
                    "were"
                },
                if self.workflows_active == 1 {
                    "it"
                } else {
                    "them"
                },
            ));
        }
        notes
    }
}

/// One object of an input file, with where it came from (for messages).
struct Item {
    at: String,
    object: Map<String, Value>,
}

/// The objects of an n8n export: a file of an array or one object, or a folder of such files.
fn read_items(path: &Path) -> Result<Vec<Item>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::file(path, e))?;
    let mut files = Vec::new();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(|e| Error::file(path, e))? {
            let entry = entry.map_err(|e| Error::file(path, e))?;
            let file = entry.path();
            if file.extension().is_some_and(|e| e == "json") && file.is_file() {
                files.push(file);
            }
        }
        files.sort();
    } else {
        files.push(path.to_path_buf());
    }
    let mut items = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let size = std::fs::metadata(&file)
            .map_err(|e| Error::file(&file, e))?
            .len();
        if size > FILE_MAX {
            return Err(Error::Input(format!(
                "{name} is larger than {} MiB",
                FILE_MAX / 1024 / 1024
            )));
        }
        let bytes = std::fs::read(&file).map_err(|e| Error::file(&file, e))?;
        let value: Value = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Input(if e.is_eof() {
                format!(
                    "{name}: the file ends too early (line {}): it was cut short",
                    e.line()
                )
            } else {
                format!("{name} is not valid JSON: {e}")
            })
        })?;
        match value {
            Value::Array(values) => {
                for (i, value) in values.into_iter().enumerate() {
                    let Value::Object(object) = value else {
                        return Err(Error::Input(format!("{name}[{i}] must be an object")));
                    };
                    items.push(Item {
                        at: format!("{name}[{i}]"),
                        object,
                    });
                }
            }
            Value::Object(object) => items.push(Item { at: name, object }),
            _ => {
                return Err(Error::Input(format!(
                    "{name} must hold an array of objects or one object"
                )))
            }
        }
    }
    Ok(items)
}

/// An id as n8n writes it: a string, or a number in exports of old versions.
fn id_of(object: &Map<String, Value>, key: &str) -> Option<String> {
    match object.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

/// The credential routes' rule for a client-chosen id.
fn valid_credential_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Reads the files, then imports them in one transaction.
pub async fn import(state: &AppState, options: &Options<'_>) -> Result<Summary> {
    let workflow_items = match options.workflows {
        Some(path) => read_items(path)?,
        None => Vec::new(),
    };
    let credential_items = match options.credentials {
        Some(path) => read_items(path)?,
        None => Vec::new(),
    };
    let mut tx = state.db.begin().await?;
    let mut import = Import::new(state, &mut tx, options.project_id).await?;
    for item in credential_items {
        import.credential(item).await?;
    }
    for item in workflow_items {
        import.workflow(item).await?;
    }
    let Import { summary, hooks, .. } = import;
    tx.commit().await?;
    hooks.committed();
    Ok(summary)
}

struct Import<'a, 't> {
    state: &'a AppState,
    tx: &'t mut Tx,
    /// Told of the archived workflows once the import commits.
    hooks: Hooks<'a>,
    now: String,
    /// The owner, who imports: the versions' author.
    owner_id: String,
    author: String,
    /// n8n credential id -> the id here.
    credential_ids: HashMap<String, String>,
    tag_ids: HashMap<String, String>,
    summary: Summary,
}

impl<'a, 't> Import<'a, 't> {
    async fn new(
        state: &'a AppState,
        tx: &'t mut Tx,
        project_id: Option<&str>,
    ) -> Result<Import<'a, 't>> {
        let owner = users::find_owner(tx.conn()).await?.ok_or_else(|| {
            Error::Refused(
                "the owner is not set up yet (run `flowgate owner setup` first)".to_owned(),
            )
        })?;
        let project_id = match project_id {
            Some(id) => id.to_owned(),
            None => projects::personal_project_id(tx.conn(), &owner.id)
                .await?
                .ok_or_else(|| Error::Refused("the owner has no personal project".to_owned()))?,
        };
        let project = if is_plausible_id(&project_id) {
            projects::find(tx.conn(), &project_id).await?
        } else {
            None
        }
        .ok_or_else(|| Error::Refused(format!("no project with id {project_id}")))?;
        let author = steps::author(owner.first_name.as_deref(), owner.last_name.as_deref());
        Ok(Import {
            state,
            tx,
            hooks: Hooks::new(&*state.lifecycle),
            now: now_iso(),
            owner_id: owner.id,
            author,
            credential_ids: HashMap::new(),
            tag_ids: HashMap::new(),
            summary: Summary {
                project_id: project.id,
                project_name: project.name,
                ..Summary::default()
            },
        })
    }

    async fn credential(&mut self, item: Item) -> Result<()> {
        let Item { at, mut object } = item;
        let given_id = id_of(&object, "id");
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let at = format!("{at} (credential \"{name}\")");
        let name = names::credential(name)
            .map_err(|m| Error::Input(format!("{at}: {m}")))?
            .to_owned();
        let kind = object
            .get("type")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| Error::Input(format!("{at}: the credential has no type")))?
            .to_owned();
        let data = match object.remove("data") {
            Some(Value::Object(data)) => data,
            Some(Value::String(_)) => {
                return Err(Error::Input(format!(
                    "{at}: the data is encrypted with n8n's key; export with `n8n export:credentials --all --decrypted`"
                )))
            }
            None | Some(Value::Null) => Map::new(),
            Some(_) => return Err(Error::Input(format!("{at}: data must be an object"))),
        };
        match credential_types::find(&kind) {
            Some(known) => known
                .validate(&data)
                .map_err(|m| Error::Input(format!("{at}: {m}")))?,
            None => {
                if !self.summary.unknown_types.contains(&kind) {
                    self.summary.unknown_types.push(kind.clone());
                }
            }
        }
        let keep = match &given_id {
            Some(id) if valid_credential_id(id) => {
                credentials::find(self.tx.conn(), id).await?.is_none()
            }
            _ => false,
        };
        let id = match (&given_id, keep) {
            (Some(id), true) => id.clone(),
            _ => new_id(),
        };
        if let Some(given) = given_id {
            if given != id {
                self.summary
                    .credentials_renamed
                    .push((given.clone(), id.clone()));
            }
            self.credential_ids.insert(given, id.clone());
        }
        let sealed = seal(&self.state.keys, &id, &data);
        credentials::insert(
            self.tx.conn(),
            &credentials::NewCredential {
                id: &id,
                name: &name,
                kind: &kind,
                data: &sealed,
                key_id: self.state.keys.primary_id(),
                project_id: &self.summary.project_id,
                is_resolvable: false,
                now: &self.now,
            },
        )
        .await?;
        self.summary.credentials += 1;
        Ok(())
    }

    /// Points the nodes' credential references at the ids the credentials got here.
    fn rename_credentials(&self, nodes: Option<&mut Value>) {
        let Some(Value::Array(nodes)) = nodes else {
            return;
        };
        for node in nodes {
            let Some(Value::Object(used)) = node.get_mut("credentials") else {
                continue;
            };
            for reference in used.values_mut() {
                let Some(reference) = reference.as_object_mut() else {
                    continue;
                };
                let renamed = id_of(reference, "id").and_then(|id| self.credential_ids.get(&id));
                if let Some(new) = renamed {
                    reference.insert("id".to_owned(), Value::String(new.clone()));
                }
            }
        }
    }

    async fn workflow(&mut self, item: Item) -> Result<()> {
        let Item { at, mut object } = item;
        let given_id = id_of(&object, "id");
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let at = format!("{at} (workflow \"{name}\")");
        self.rename_credentials(object.get_mut("nodes"));
        let active = object.get("active").and_then(Value::as_bool) == Some(true);
        let archived = object.get("isArchived").and_then(Value::as_bool) == Some(true);
        let given_version = id_of(&object, "versionId");
        let tag_list = object.remove("tags");
        let input = workflow::parse(workflow_content(&mut object), BodyKind::Update)
            .map_err(|m| Error::Input(format!("{at}: {m}")))?;

        let keep = match &given_id {
            Some(id) if is_plausible_id(id) => {
                workflows_repo::find(self.tx.conn(), id).await?.is_none()
            }
            _ => false,
        };
        let id = match (&given_id, keep) {
            (Some(id), true) => id.clone(),
            _ => new_id(),
        };
        if let Some(given) = given_id.filter(|given| *given != id) {
            self.summary.workflows_renamed.push((given, id.clone()));
        }
        let keep_version = match &given_version {
            Some(v) if is_plausible_id(v) => {
                workflows_repo::find_versions(self.tx.conn(), &[v.as_str()])
                    .await?
                    .is_empty()
            }
            _ => false,
        };
        let version_id = match (given_version, keep_version) {
            (Some(v), true) => v,
            _ => uuid::Uuid::new_v4().to_string(),
        };

        let description = input.description.clone().flatten();
        let to = SaveTo::New {
            id: &id,
            project_id: &self.summary.project_id,
        };
        let save = Save {
            input: &input,
            description: description.as_deref(),
            parent_folder_id: None,
            version_id: &version_id,
            author: &self.author,
            now: &self.now,
        };
        let (row, _) = steps::save_version(self.tx.conn(), to, &save)
            .await?
            .ok_or_else(|| Error::Refused(format!("{at}: the new workflow vanished")))?;
        if archived {
            let actor = Actor {
                user_id: &self.owner_id,
                now: &self.now,
            };
            steps::archive(self.tx.conn(), &mut self.hooks, row, actor).await?;
        }
        let tag_ids = self.tags(&at, tag_list).await?;
        if !tag_ids.is_empty() {
            workflows_repo::set_tags(self.tx.conn(), &id, &tag_ids).await?;
        }
        if active {
            self.summary.workflows_active += 1;
        }
        self.summary.workflows += 1;
        Ok(())
    }

    /// The ids of a workflow's tags (objects with a name, or names), created when missing.
    async fn tags(&mut self, at: &str, list: Option<Value>) -> Result<Vec<String>> {
        let items = match list {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(Error::Input(format!("{at}: tags must be an array"))),
        };
        let mut ids = Vec::new();
        for item in items {
            let (given_id, raw_name) = match &item {
                Value::String(name) => (None, name.clone()),
                Value::Object(tag) => (
                    id_of(tag, "id"),
                    tag.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                ),
                _ => {
                    return Err(Error::Input(format!(
                        "{at}: a tag must be an object with a name"
                    )))
                }
            };
            let name = names::tag(&raw_name)
                .map_err(|m| Error::Input(format!("{at}: tag \"{raw_name}\": {m}")))?
                .to_owned();
            let id = match self.tag_ids.get(&name) {
                Some(id) => id.clone(),
                None => {
                    let id = match source_control::tag_id_by_name(self.tx.conn(), &name).await? {
                        Some(existing) => {
                            self.summary.tags_existing += 1;
                            existing
                        }
                        None => {
                            let free = match &given_id {
                                Some(id) if is_plausible_id(id) => {
                                    tags::find(self.tx.conn(), id).await?.is_none()
                                }
                                _ => false,
                            };
                            let id = match given_id {
                                Some(id) if free => id,
                                _ => new_id(),
                            };
                            tags::insert(self.tx.conn(), &id, &name, &self.now).await?;
                            self.summary.tags_created += 1;
                            id
                        }
                    };
                    self.tag_ids.insert(name, id.clone());
                    id
                }
            };
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}
