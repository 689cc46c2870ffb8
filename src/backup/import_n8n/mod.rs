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
//! - Records keep n8n's ids, and their creation and change times. As n8n's own import does,
//!   a record whose id exists here in the receiving project is replaced (upsert by id), so
//!   running the same import twice changes nothing the second time; an id taken by a record of
//!   another project gets a new id, and every imported reference to it (credentials of nodes,
//!   called workflows, error workflows) is rewritten.
//! - Workflows are checked by the rules of the workflow routes and arrive unpublished, as
//!   n8n's own `import:workflow` leaves them (archived ones stay archived); a replaced workflow
//!   that is published here keeps its published version until someone publishes the new one.
//!   Their tags are found by name or created (with n8n's tag id when free).
//! - Credentials of a type in this server's catalog are checked against it, as the credential
//!   routes check them; types the catalog lacks are stored unchecked (listing, transfer and
//!   deletion work; an update is refused until the catalog knows the type). Their data is
//!   sealed with `N8N_ENCRYPTION_KEY` by the credential routes' own sealing.
//! - Everything goes into the owner's personal project, or the project given.

mod files;
mod references;
mod summary;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde_json::{Map, Value};

use super::{Error, Result};
use crate::app::AppState;
use crate::db::timestamps::{self, Table};
use crate::db::workflows::{self as workflows_repo, WorkflowRow};
use crate::db::{credentials, projects, source_control, tags, users, Tx};
use crate::domain::ids::{is_plausible_id, new_id};
use crate::domain::time::now_iso;
use crate::domain::workflow::{self, BodyKind};
use crate::domain::{credential_types, names};
use crate::service::credentials::seal;
use crate::service::source_control::layout::workflow_content;
use crate::service::workflows::steps::{self, Actor, Save, SaveTo};
use crate::service::workflows::Hooks;
use files::{id_of, read_items, times_of, Item};
use references::Renamed;
pub use summary::{Named, Summary};

/// What to import, and where to.
pub struct Options<'a> {
    pub workflows: Option<&'a Path>,
    pub credentials: Option<&'a Path>,
    /// The receiving project; `None`: the owner's personal project.
    pub project_id: Option<&'a str>,
}

/// The credential routes' rule for a client-chosen id.
fn valid_credential_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Where an imported record goes: a new record (with n8n's id or a new one), or over the
/// record of the receiving project that has its id.
enum Target<R> {
    New(String),
    Replace(R),
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
    // Every workflow's id is settled before any is written, so that a workflow calling one
    // that comes later in the files already points at the id it will have.
    let mut targets = Vec::with_capacity(workflow_items.len());
    for item in &workflow_items {
        targets.push(import.workflow_target(&item.object).await?);
    }
    for (item, target) in workflow_items.into_iter().zip(targets) {
        import.workflow(item, target).await?;
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
    /// n8n ids that changed on the way in.
    renamed: Renamed,
    /// Workflow ids this import has given out (a file naming one id twice gets two workflows).
    workflow_ids: HashSet<String>,
    credential_ids: HashSet<String>,
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
            renamed: Renamed::default(),
            workflow_ids: HashSet::new(),
            credential_ids: HashSet::new(),
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
        let times = times_of(&object);
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
        let target = match &given_id {
            Some(id) if valid_credential_id(id) && !self.credential_ids.contains(id) => {
                match credentials::find(self.tx.conn(), id).await? {
                    None => Target::New(id.clone()),
                    Some(existing) if existing.project_id == self.summary.project_id => {
                        Target::Replace(existing)
                    }
                    Some(_) => Target::New(new_id()),
                }
            }
            _ => Target::New(new_id()),
        };
        let id = match &target {
            Target::New(id) => id.clone(),
            Target::Replace(existing) => existing.id.clone(),
        };
        self.credential_ids.insert(id.clone());
        if let Some(given) = given_id.filter(|given| *given != id) {
            self.summary
                .credentials_renamed
                .push((given.clone(), id.clone()));
            self.renamed.credentials.insert(given, id.clone());
        }
        let sealed = seal(&self.state.keys, &id, &data);
        match target {
            Target::New(_) => {
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
                .await?
            }
            Target::Replace(existing) => {
                credentials::update(
                    self.tx.conn(),
                    &id,
                    &credentials::Changes {
                        name: &name,
                        kind: &kind,
                        data: &sealed,
                        key_id: self.state.keys.primary_id(),
                        is_global: existing.is_global,
                        is_resolvable: existing.is_resolvable,
                        now: &self.now,
                    },
                )
                .await?;
                self.summary.credentials_replaced += 1;
            }
        }
        if let Some((created, updated)) = times {
            timestamps::keep(self.tx.conn(), Table::Credentials, &id, &created, &updated).await?;
        }
        self.summary.credentials += 1;
        Ok(())
    }

    /// Where an exported workflow goes: its n8n id when free here, over the workflow of the
    /// receiving project with that id, or a new id (recorded, for the references to it).
    async fn workflow_target(
        &mut self,
        object: &Map<String, Value>,
    ) -> Result<Target<WorkflowRow>> {
        let given_id = id_of(object, "id");
        let target = match &given_id {
            Some(id) if is_plausible_id(id) && !self.workflow_ids.contains(id) => {
                match workflows_repo::find(self.tx.conn(), id).await? {
                    None => Target::New(id.clone()),
                    Some(existing) if existing.project_id == self.summary.project_id => {
                        Target::Replace(existing)
                    }
                    Some(_) => Target::New(new_id()),
                }
            }
            _ => Target::New(new_id()),
        };
        let id = match &target {
            Target::New(id) => id,
            Target::Replace(existing) => &existing.id,
        };
        self.workflow_ids.insert(id.clone());
        if let Some(given) = given_id.filter(|given| given != id) {
            self.summary
                .workflows_renamed
                .push((given.clone(), id.clone()));
            self.renamed.workflows.insert(given, id.clone());
        }
        Ok(target)
    }

    async fn workflow(&mut self, item: Item, target: Target<WorkflowRow>) -> Result<()> {
        let Item { at, mut object } = item;
        let name = object
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let at = format!("{at} (workflow \"{name}\")");
        self.renamed.rewrite(&mut object);
        let times = times_of(&object);
        let active = object.get("active").and_then(Value::as_bool) == Some(true);
        let archived = object.get("isArchived").and_then(Value::as_bool) == Some(true);
        let given_version = id_of(&object, "versionId");
        let tag_list = object.remove("tags");
        let input = workflow::parse(workflow_content(&mut object), BodyKind::Update)
            .map_err(|m| Error::Input(format!("{at}: {m}")))?;

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
        // A replaced workflow stays in its folder; a new one goes to the project's root.
        let (to, folder) = match &target {
            Target::New(id) => (
                SaveTo::New {
                    id,
                    project_id: &self.summary.project_id,
                },
                None,
            ),
            Target::Replace(existing) => (
                SaveTo::Existing { id: &existing.id },
                existing.parent_folder_id.clone(),
            ),
        };
        let save = Save {
            input: &input,
            description: description.as_deref(),
            parent_folder_id: folder.as_deref(),
            version_id: &version_id,
            author: &self.author,
            now: &self.now,
        };
        let (mut row, _) = steps::save_version(self.tx.conn(), to, &save)
            .await?
            .ok_or_else(|| Error::Refused(format!("{at}: the workflow vanished")))?;
        let actor = Actor {
            user_id: &self.owner_id,
            now: &self.now,
        };
        if archived && !row.is_archived {
            row = steps::archive(self.tx.conn(), &mut self.hooks, row, actor).await?;
        } else if !archived && row.is_archived {
            row = steps::set_archived(self.tx.conn(), &row.id, false, &self.now).await?;
        }
        let tag_ids = self.tags(&at, tag_list).await?;
        if matches!(target, Target::Replace(_)) || !tag_ids.is_empty() {
            workflows_repo::set_tags(self.tx.conn(), &row.id, &tag_ids).await?;
        }
        if let Some((created, updated)) = times {
            timestamps::keep(
                self.tx.conn(),
                Table::Workflows,
                &row.id,
                &created,
                &updated,
            )
            .await?;
        }
        let named = || Named {
            id: row.id.clone(),
            name: row.name.clone(),
        };
        if active {
            self.summary.workflows_active.push(named());
        }
        if let Target::Replace(_) = target {
            self.summary.workflows_replaced += 1;
            if row.active {
                self.summary.workflows_still_published.push(named());
            }
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
            let (given_id, raw_name, times) = match &item {
                Value::String(name) => (None, name.clone(), None),
                Value::Object(tag) => (
                    id_of(tag, "id"),
                    tag.get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    times_of(tag),
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
                            if let Some((created, updated)) = &times {
                                timestamps::keep(
                                    self.tx.conn(),
                                    Table::Tags,
                                    &id,
                                    created,
                                    updated,
                                )
                                .await?;
                            }
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
