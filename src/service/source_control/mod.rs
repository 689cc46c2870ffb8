//! Source-control pull: fetch the configured branch ([`git`]), read n8n's layout
//! ([`layout`]), and import it into the instance in one transaction.
//!
//! Long because planning and applying a pull share one `Import` over one
//! transaction; split across files they would pass its state around for no gain in clarity.
//!
//! What counts as a conflict: a workflow that was changed here since the last pull imported
//! it, while the repository's copy changed too. Every import records, per workflow, a hash of
//! the file it imported and the local version it produced; the next pull compares both. A
//! workflow whose file did not change is left alone, even when it was edited here. Without
//! `force` a conflict answers 409 and nothing is written.
//!
//! Deliberate differences from n8n: nothing is deleted here because the repository lacks it
//! (n8n deletes local workflows, credentials, tags, variables and folders the repository does
//! not have); credential secrets and variable values are never overwritten; a team project
//! named by a file is used when it exists but not created.

pub mod git;
pub mod layout;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::app::AppState;
use crate::db::workflows as workflows_repo;
use crate::db::{
    credentials, folders, projects, source_control as records, tags, users, variables, Conn, Tx,
};
use crate::domain::ids::{is_plausible_id, new_id};
use crate::domain::time::now_iso;
use crate::domain::workflow::{self, BodyKind};
use crate::error::ApiError;
use crate::service::workflows::steps::{self, Actor, Save, SaveTo};
use crate::service::workflows::Hooks;
use layout::{RemoteCredential, RemoteFolder, RemoteWorkflow, Repository};

/// n8n's answer when no repository is configured.
pub const NOT_CONNECTED: &str = "Source Control is not connected to a repository";

/// Pulls run one at a time: they share the working copy.
static PULL_LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Which imported workflows get published.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoPublish {
    #[default]
    None,
    All,
    Published,
}

/// The resolved home of an imported item, as n8n's status shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    #[serde(rename = "type")]
    pub kind: String,
    pub project_id: String,
    pub project_name: String,
}

/// One imported item (n8n's `SourceControlledFile`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStatus {
    /// The file, relative to the repository root.
    pub file: String,
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub status: &'static str,
    pub location: &'static str,
    pub conflict: bool,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_local_published: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_remote_archived: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_folder_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publishing_error: Option<String>,
}

impl FileStatus {
    fn new(file: &str, id: &str, name: &str, kind: &'static str, status: &'static str) -> Self {
        FileStatus {
            file: file.to_owned(),
            id: id.to_owned(),
            name: name.to_owned(),
            kind,
            status,
            location: "remote",
            conflict: false,
            updated_at: now_iso(),
            is_local_published: None,
            is_remote_archived: None,
            parent_folder_id: None,
            owner: None,
            publishing_error: None,
        }
    }
}

#[derive(Debug)]
pub enum Outcome {
    /// Imported; the items that changed.
    Pulled(Vec<FileStatus>),
    /// Conflicts and no `force`: nothing was written.
    Conflicts(Vec<FileStatus>),
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{NOT_CONNECTED}")]
    NotConnected,
    /// The repository could not be fetched or holds something that cannot be imported.
    #[error("{0}")]
    Repository(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A rule of a resource refused (or a step failed) with an answer of the API's.
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Who pulls: the user whose personal project receives items without a known home.
pub struct Puller<'a> {
    pub user_id: &'a str,
}

/// Fetches the configured branch and imports it.
pub async fn pull(
    state: &AppState,
    puller: &Puller<'_>,
    force: bool,
    auto_publish: AutoPublish,
) -> Result<Outcome, PullError> {
    let config = &state.config;
    let Some(url) = config
        .source_control_repository_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
    else {
        return Err(PullError::NotConnected);
    };
    let _guard = PULL_LOCK.lock().await;
    let data_folder = config.data_folder();
    let work_dir = git::work_dir(&data_folder);
    let known_hosts = git::state_dir(&data_folder).join("known_hosts");
    std::fs::create_dir_all(git::state_dir(&data_folder))
        .map_err(|e| anyhow::anyhow!("source-control folder: {e}"))?;
    let remote = git::Remote {
        url: url.trim(),
        branch: &config.source_control_branch,
        ssh_key_file: config.source_control_ssh_key_file.as_deref(),
        known_hosts: &known_hosts,
    };
    let commit = git::fetch(&work_dir, &remote).await.map_err(|e| match e {
        git::GitError::Failed(reason) => PullError::Repository(format!(
            "Unable to fetch branch \"{}\" from the repository: {reason}",
            remote.branch
        )),
        other => PullError::Repository(format!("Unable to fetch from the repository: {other}")),
    })?;
    tracing::info!(commit = %commit, "source control: fetched");
    let root: PathBuf = work_dir.clone();
    let repository = tokio::task::spawn_blocking(move || layout::read_repository(&root))
        .await
        .map_err(|e| anyhow::anyhow!("reading the repository panicked: {e}"))?
        .map_err(PullError::Repository)?;

    let mut tx = state.db.begin().await?;
    let mut import = Import::new(state, &mut tx, puller, auto_publish).await?;
    let plan = import.plan(&repository).await?;
    if !force && plan.statuses.iter().any(|s| s.conflict) {
        return Ok(Outcome::Conflicts(plan.statuses));
    }
    let statuses = import.apply(&repository, plan).await?;
    let hooks = import.hooks;
    tx.commit().await?;
    hooks.committed();
    Ok(Outcome::Pulled(statuses))
}

/// What a pull will do, decided before anything is written.
struct Plan {
    statuses: Vec<FileStatus>,
    /// Workflows to write, by index into `repository.workflows`, with the status to fill in.
    workflows: Vec<(usize, usize)>,
    folders: Vec<(usize, bool)>,
    credentials: Vec<(usize, Option<String>)>,
    tags: Vec<(usize, bool)>,
    variables: Vec<usize>,
}

struct Import<'a, 't> {
    state: &'a AppState,
    tx: &'t mut Tx,
    /// Told of the pull's publishes and archives once it commits.
    hooks: Hooks<'a>,
    puller: &'a Puller<'a>,
    auto_publish: AutoPublish,
    personal_project: String,
    author: String,
    now: String,
}

/// The id of the local project a file's owner names, if it exists here: the personal project
/// of the user with that e-mail, or the team project with that id.
async fn owner_project(mut conn: Conn<'_>, owner: Option<&Value>) -> sqlx::Result<Option<String>> {
    let Some(owner) = owner else {
        return Ok(None);
    };
    let email = match owner {
        Value::String(email) => Some(email.as_str()),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("personal") => {
            o.get("personalEmail").and_then(Value::as_str)
        }
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("team") => {
            let Some(team) = o.get("teamId").and_then(Value::as_str) else {
                return Ok(None);
            };
            if !is_plausible_id(team) {
                return Ok(None);
            }
            return Ok(projects::find(conn, team)
                .await?
                .filter(|p| p.kind == "team")
                .map(|p| p.id));
        }
        _ => None,
    };
    let Some(email) = email else {
        return Ok(None);
    };
    match users::find_by_email(conn.reborrow(), &email.trim().to_lowercase()).await? {
        Some(user) => projects::personal_project_id(conn, &user.id).await,
        None => Ok(None),
    }
}

/// Blanks every string of a credential stub except expressions (`={{ ... }}`), as n8n's export
/// does, so a stub never carries a secret into the database; drops OAuth token data.
fn placeholder_data(data: &Map<String, Value>) -> Map<String, Value> {
    fn blank(value: &Value) -> Value {
        match value {
            Value::String(s) if s.starts_with('=') => value.clone(),
            Value::String(_) => Value::String(String::new()),
            Value::Object(o) => {
                Value::Object(o.iter().map(|(k, v)| (k.clone(), blank(v))).collect())
            }
            Value::Array(items) => Value::Array(items.iter().map(blank).collect()),
            other => other.clone(),
        }
    }
    data.iter()
        .filter(|(k, _)| k.as_str() != "oauthTokenData")
        .map(|(k, v)| (k.clone(), blank(v)))
        .collect()
}

/// n8n's rule for variable keys.
fn valid_variable_key(key: &str) -> bool {
    let mut chars = key.chars();
    (1..=50).contains(&key.chars().count())
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl<'a, 't> Import<'a, 't> {
    async fn new(
        state: &'a AppState,
        tx: &'t mut Tx,
        puller: &'a Puller<'a>,
        auto_publish: AutoPublish,
    ) -> Result<Import<'a, 't>, PullError> {
        let personal_project = projects::personal_project_id(tx.conn(), puller.user_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the pulling user has no personal project"))?;
        let author = users::find_by_id(tx.conn(), puller.user_id)
            .await?
            .map(|u| steps::author(u.first_name.as_deref(), u.last_name.as_deref()))
            .unwrap_or_default();
        Ok(Import {
            state,
            tx,
            hooks: Hooks::new(&*state.lifecycle),
            puller,
            auto_publish,
            personal_project,
            author,
            now: now_iso(),
        })
    }

    async fn owner(&mut self, project_id: &str) -> sqlx::Result<Option<Owner>> {
        Ok(projects::find(self.tx.conn(), project_id)
            .await?
            .map(|p| Owner {
                kind: p.kind,
                project_id: p.id,
                project_name: p.name,
            }))
    }

    async fn plan(&mut self, repository: &Repository) -> Result<Plan, PullError> {
        let mut plan = Plan {
            statuses: Vec::new(),
            workflows: Vec::new(),
            folders: Vec::new(),
            credentials: Vec::new(),
            tags: Vec::new(),
            variables: Vec::new(),
        };

        if let Some(file) = &repository.folders {
            for (i, folder) in file.folders.iter().enumerate() {
                if !is_plausible_id(&folder.id) {
                    return Err(PullError::Repository(format!(
                        "{}: \"{}\" is not a valid folder id",
                        layout::FOLDERS,
                        folder.id
                    )));
                }
                let local = folders::find(self.tx.conn(), &folder.id).await?;
                let status = match &local {
                    None => "created",
                    Some(l)
                        if l.name != folder.name
                            || l.parent_folder_id != folder.parent_folder_id =>
                    {
                        "modified"
                    }
                    Some(_) => continue,
                };
                let mut entry =
                    FileStatus::new(layout::FOLDERS, &folder.id, &folder.name, "folders", status);
                entry.parent_folder_id = folder.parent_folder_id.clone();
                plan.statuses.push(entry);
                plan.folders.push((i, local.is_some()));
            }
        }

        let imported: HashMap<String, records::ImportRow> =
            records::all_of(self.tx.conn(), "workflow")
                .await?
                .into_iter()
                .map(|r| (r.resource_id.clone(), r))
                .collect();
        for (i, remote) in repository.workflows.iter().enumerate() {
            let local = workflows_repo::find(self.tx.conn(), &remote.id).await?;
            let record = imported.get(&remote.id);
            let (status, conflict, name) = match &local {
                None => ("created", false, remote.name.clone()),
                Some(local) => {
                    let remote_changed = record.is_none_or(|r| r.remote_hash != remote.hash);
                    if !remote_changed {
                        continue;
                    }
                    let local_changed = record.is_none_or(|r| r.local_version != local.version_id);
                    let name = if local.name != remote.name {
                        format!("{} (Local: {})", remote.name, local.name)
                    } else {
                        remote.name.clone()
                    };
                    ("modified", local_changed, name)
                }
            };
            let mut entry = FileStatus::new(&remote.file, &remote.id, &name, "workflow", status);
            entry.conflict = conflict;
            entry.is_local_published = Some(
                local
                    .as_ref()
                    .is_some_and(|l| l.active_version_id.is_some()),
            );
            entry.is_remote_archived = Some(remote.is_archived);
            entry.parent_folder_id = remote.parent_folder_id.clone();
            if let Some(updated_at) = &remote.updated_at {
                entry.updated_at = updated_at.clone();
            }
            let project = match &local {
                Some(l) => Some(l.project_id.clone()),
                None => owner_project(self.tx.conn(), remote.owner.as_ref()).await?,
            }
            .unwrap_or_else(|| self.personal_project.clone());
            entry.owner = self.owner(&project).await?;
            plan.workflows.push((i, plan.statuses.len()));
            plan.statuses.push(entry);
        }

        for (i, remote) in repository.credentials.iter().enumerate() {
            let local = credentials::find(self.tx.conn(), &remote.id).await?;
            let status = match &local {
                None => "created",
                Some(l) if l.kind != remote.kind => {
                    return Err(PullError::Repository(format!(
                        "{}: the credential {} exists here with type \"{}\"; the repository has type \"{}\"",
                        remote.file, remote.id, l.kind, remote.kind
                    )));
                }
                Some(l) if l.name != remote.name => "modified",
                Some(_) => continue,
            };
            let mut entry =
                FileStatus::new(&remote.file, &remote.id, &remote.name, "credential", status);
            let project = match &local {
                Some(l) => Some(l.project_id.clone()),
                None => owner_project(self.tx.conn(), remote.owned_by.as_ref()).await?,
            }
            .unwrap_or_else(|| self.personal_project.clone());
            entry.owner = self.owner(&project).await?;
            plan.statuses.push(entry);
            plan.credentials.push((i, local.map(|_| project)));
        }

        if let Some(file) = &repository.tags {
            for (i, tag) in file.tags.iter().enumerate() {
                let name = tag.name.trim();
                if !is_plausible_id(&tag.id) || !(1..=24).contains(&name.chars().count()) {
                    return Err(PullError::Repository(format!(
                        "{}: the tag {} must have a valid id and a name of 1 to 24 characters",
                        layout::TAGS,
                        tag.id
                    )));
                }
                if let Some(other) = records::tag_id_by_name(self.tx.conn(), name).await? {
                    if other != tag.id {
                        // n8n's message, word for word (its UI renders the markup).
                        return Err(PullError::Repository(format!(
                            "A tag with the name <strong>{name}</strong> already exists locally.<br />Please either rename the local tag, or the remote one with the id <strong>{}</strong> in the tags.json file.",
                            tag.id
                        )));
                    }
                }
                let local = tags::find(self.tx.conn(), &tag.id).await?;
                let status = match &local {
                    None => "created",
                    Some(l) if l.name != name => "modified",
                    Some(_) => continue,
                };
                plan.statuses
                    .push(FileStatus::new(layout::TAGS, &tag.id, name, "tags", status));
                plan.tags.push((i, local.is_some()));
            }
        }

        if let Some(stubs) = &repository.variables {
            for (i, variable) in stubs.iter().enumerate() {
                if !valid_variable_key(&variable.key) {
                    return Err(PullError::Repository(format!(
                        "{}: \"{}\" is not a valid variable key",
                        layout::VARIABLES,
                        variable.key
                    )));
                }
                let project = variable.project_id.as_deref().filter(|p| !p.is_empty());
                if let Some(p) = project {
                    // A project variable whose project is not here has nowhere to go.
                    if !is_plausible_id(p) || !projects::exists(self.tx.conn(), p).await? {
                        continue;
                    }
                }
                let by_id = is_plausible_id(&variable.id)
                    && variables::find(self.tx.conn(), &variable.id)
                        .await?
                        .is_some();
                if by_id
                    || records::variable_key_exists(self.tx.conn(), &variable.key, project).await?
                {
                    continue;
                }
                plan.statuses.push(FileStatus::new(
                    layout::VARIABLES,
                    &variable.id,
                    &variable.key,
                    "variables",
                    "created",
                ));
                plan.variables.push(i);
            }
        }
        Ok(plan)
    }

    async fn apply(
        &mut self,
        repository: &Repository,
        plan: Plan,
    ) -> Result<Vec<FileStatus>, PullError> {
        let mut statuses = plan.statuses;
        if let Some(file) = &repository.folders {
            self.apply_folders(&file.folders, &plan.folders).await?;
        }
        for (index, status) in plan.workflows {
            let remote = &repository.workflows[index];
            self.apply_workflow(remote, &mut statuses[status]).await?;
        }
        for (index, existing_project) in plan.credentials {
            self.apply_credential(&repository.credentials[index], existing_project.is_some())
                .await?;
        }
        if let Some(file) = &repository.tags {
            for (index, exists) in &plan.tags {
                let tag = &file.tags[*index];
                let name = tag.name.trim();
                if *exists {
                    tags::rename(self.tx.conn(), &tag.id, name, &self.now).await?;
                } else {
                    tags::insert(self.tx.conn(), &tag.id, name, &self.now).await?;
                }
            }
            self.apply_mappings(repository, file).await?;
        }
        if let Some(stubs) = &repository.variables {
            for index in plan.variables {
                let variable = &stubs[index];
                let id = if is_plausible_id(&variable.id) {
                    variable.id.clone()
                } else {
                    new_id()
                };
                let project = variable.project_id.as_deref().filter(|p| !p.is_empty());
                // A stub's value is a placeholder: new variables start empty.
                variables::insert(self.tx.conn(), &id, &variable.key, "", project, &self.now)
                    .await?;
            }
        }
        Ok(statuses)
    }

    async fn apply_folders(
        &mut self,
        remote: &[RemoteFolder],
        planned: &[(usize, bool)],
    ) -> Result<(), PullError> {
        // Create first (at the root), then place: a folder's parent may come later in the file.
        for (index, exists) in planned {
            let folder = &remote[*index];
            if !exists {
                let project = match folder
                    .home_project_id
                    .as_deref()
                    .filter(|p| is_plausible_id(p))
                {
                    Some(p) if projects::exists(self.tx.conn(), p).await? => p.to_owned(),
                    _ => self.personal_project.clone(),
                };
                folders::insert(
                    self.tx.conn(),
                    &folder.id,
                    &folder.name,
                    None,
                    &project,
                    &self.now,
                )
                .await?;
            }
        }
        for (index, _) in planned {
            let folder = &remote[*index];
            let Some(local) = folders::find(self.tx.conn(), &folder.id).await? else {
                continue;
            };
            let parent = match folder
                .parent_folder_id
                .as_deref()
                .filter(|p| is_plausible_id(p))
            {
                Some(parent) => {
                    self.placeable_parent(&local.id, &local.project_id, parent)
                        .await?
                }
                None => None,
            };
            folders::update(
                self.tx.conn(),
                &folder.id,
                &folder.name,
                parent.as_deref(),
                &self.now,
            )
            .await?;
        }
        Ok(())
    }

    /// `parent` when it is a folder of the same project and not the folder itself or one of
    /// its descendants (which would make a cycle); else `None` (the project root).
    async fn placeable_parent(
        &mut self,
        folder_id: &str,
        project_id: &str,
        parent: &str,
    ) -> sqlx::Result<Option<String>> {
        let mut cursor = Some(parent.to_owned());
        let mut depth = 0;
        while let Some(id) = cursor {
            if id == folder_id || depth > 256 {
                return Ok(None);
            }
            match folders::find(self.tx.conn(), &id).await? {
                Some(f) if f.project_id == project_id => cursor = f.parent_folder_id,
                _ => return Ok(None),
            }
            depth += 1;
        }
        Ok(Some(parent.to_owned()))
    }

    async fn apply_workflow(
        &mut self,
        remote: &RemoteWorkflow,
        status: &mut FileStatus,
    ) -> Result<(), PullError> {
        let input = workflow::parse(remote.body.clone(), BodyKind::Update)
            .map_err(|m| PullError::Repository(format!("{}: {m}", remote.file)))?;
        let existing = workflows_repo::find(self.tx.conn(), &remote.id).await?;
        let project = status
            .owner
            .as_ref()
            .map(|o| o.project_id.clone())
            .unwrap_or_else(|| self.personal_project.clone());
        let folder = match remote
            .parent_folder_id
            .as_deref()
            .filter(|f| is_plausible_id(f))
        {
            Some(f) => folders::find(self.tx.conn(), f)
                .await?
                .filter(|found| found.project_id == project)
                .map(|found| found.id),
            None => None,
        };
        let to = match &existing {
            None => SaveTo::New {
                id: &remote.id,
                project_id: &project,
            },
            Some(_) => SaveTo::Existing { id: &remote.id },
        };
        let version_id = uuid::Uuid::new_v4().to_string();
        let description = input.description.clone().flatten();
        let save = Save {
            input: &input,
            description: description.as_deref(),
            parent_folder_id: folder.as_deref(),
            version_id: &version_id,
            author: &self.author,
            now: &self.now,
        };
        let (mut row, version) = steps::save_version(self.tx.conn(), to, &save)
            .await?
            .ok_or_else(|| anyhow::anyhow!("workflow {} vanished during the pull", remote.id))?;

        // n8n's rules: archived workflows are never published; `all` publishes everything,
        // `published` what was published here; a published workflow that gets the new version
        // published (or is archived remotely) is unpublished first.
        let actor = Actor {
            user_id: self.puller.user_id,
            now: &self.now,
        };
        let locally_published = existing
            .as_ref()
            .is_some_and(|w| w.active_version_id.is_some());
        let publish = !remote.is_archived
            && match self.auto_publish {
                AutoPublish::All => true,
                AutoPublish::Published => locally_published,
                AutoPublish::None => false,
            };
        if locally_published && (remote.is_archived || publish) {
            row = steps::unpublish(self.tx.conn(), &mut self.hooks, row, actor).await?;
        }
        let archived_here = existing.as_ref().is_some_and(|w| w.is_archived);
        if archived_here != remote.is_archived {
            row = if remote.is_archived {
                steps::archive(self.tx.conn(), &mut self.hooks, row, actor).await?
            } else {
                steps::set_archived(self.tx.conn(), &remote.id, false, &self.now).await?
            };
        }
        if publish {
            match steps::publish(self.tx.conn(), &mut self.hooks, &row, &version, actor).await {
                Ok(_) => {}
                // A refusal (no trigger, or the engine's) is the file's, not the pull's.
                Err(refused) if refused.status().is_client_error() => {
                    status.publishing_error = Some(refused.client_message());
                }
                Err(error) => return Err(error.into()),
            }
        }
        records::record(
            self.tx.conn(),
            &records::ImportRow {
                resource_type: "workflow".to_owned(),
                resource_id: remote.id.clone(),
                remote_hash: remote.hash.clone(),
                local_version: version_id,
                imported_at: self.now.clone(),
            },
        )
        .await?;
        Ok(())
    }

    async fn apply_credential(
        &mut self,
        remote: &RemoteCredential,
        exists: bool,
    ) -> Result<(), PullError> {
        if exists {
            // Only the name travels; the secrets stay as they are here.
            records::rename_credential(self.tx.conn(), &remote.id, &remote.name, &self.now).await?;
            return Ok(());
        }
        let project = match owner_project(self.tx.conn(), remote.owned_by.as_ref()).await? {
            Some(p) => p,
            None => self.personal_project.clone(),
        };
        let data = placeholder_data(&remote.data);
        // The same sealing as the credential routes: the context binds it to the id.
        let sealed = crate::service::credentials::seal(&self.state.keys, &remote.id, &data);
        credentials::insert(
            self.tx.conn(),
            &credentials::NewCredential {
                id: &remote.id,
                name: &remote.name,
                kind: &remote.kind,
                data: &sealed,
                key_id: self.state.keys.primary_id(),
                project_id: &project,
                is_resolvable: false,
                now: &self.now,
            },
        )
        .await?;
        Ok(())
    }

    /// Gives every workflow of the repository (that exists here) exactly the tags `tags.json`
    /// maps to it, as n8n does.
    async fn apply_mappings(
        &mut self,
        repository: &Repository,
        file: &layout::TagsFile,
    ) -> Result<(), PullError> {
        let mut wanted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for workflow in &repository.workflows {
            wanted.entry(workflow.id.as_str()).or_default();
        }
        for mapping in &file.mappings {
            wanted
                .entry(mapping.workflow_id.as_str())
                .or_default()
                .insert(mapping.tag_id.as_str());
        }
        for (workflow_id, tag_ids) in wanted {
            if !is_plausible_id(workflow_id)
                || workflows_repo::find(self.tx.conn(), workflow_id)
                    .await?
                    .is_none()
            {
                continue;
            }
            let mut present = Vec::new();
            for tag_id in tag_ids {
                if is_plausible_id(tag_id) && tags::find(self.tx.conn(), tag_id).await?.is_some() {
                    present.push(tag_id.to_owned());
                }
            }
            let current: Vec<String> = workflows_repo::tags_of(self.tx.conn(), &[workflow_id])
                .await?
                .into_iter()
                .map(|(_, t)| t.id)
                .collect();
            let mut sorted_current = current.clone();
            sorted_current.sort();
            if sorted_current != present {
                workflows_repo::set_tags(self.tx.conn(), workflow_id, &present).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn credential_stubs_keep_expressions_and_blank_everything_else() {
        let data = json!({"user": "bob", "password": "hunter2", "port": 5432, "url": "={{ $vars.url }}",
            "nested": {"token": "x"}, "oauthTokenData": {"access_token": "t"}});
        let out = placeholder_data(data.as_object().expect("object"));
        assert_eq!(
            Value::Object(out),
            json!({"user": "", "password": "", "port": 5432, "url": "={{ $vars.url }}", "nested": {"token": ""}})
        );
    }

    #[test]
    fn variable_keys_follow_n8ns_rule() {
        assert!(valid_variable_key("API_URL"));
        assert!(valid_variable_key("_x1"));
        for bad in ["", "1a", "a-b", "a b", &"a".repeat(51)] {
            assert!(!valid_variable_key(bad), "{bad}");
        }
    }
}
