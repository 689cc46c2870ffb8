//! Binary data of executions (n8n's binary data service): the files a run receives (webhook
//! uploads) or makes (HTTP Request downloads, Code nodes) are kept outside the execution's
//! JSON, and items carry a reference to them, as n8n 2.x does.
//!
//! Modes (`N8N_DEFAULT_BINARY_DATA_MODE`):
//! - `filesystem`: one file per entry under `<storage>/workflows/<workflow>/executions/<id>/
//!   binary_data/<uuid>`; the item says `"data": "filesystem-v2"` and `"id":
//!   "filesystem-v2:workflows/..."` (n8n's shape).
//! - `database`: one row of `binary_data` per entry, deleted with its execution by a foreign
//!   key; `"data": "database"`, `"id": "database:<uuid>"`.
//! - `default`: the bytes stay in the item as base64 (n8n 1.x's in-memory mode).
//!
//! A node makes binary data inline (base64 in `data`); the run loop hands every node's output
//! to [`BinaryStore::externalize`] before it is kept, so stored execution data never holds the
//! bytes; nodes that need the bytes read them through [`BinaryStore::read`].

mod entry;

pub use entry::{entry, file_extension, file_type, human_size, FileMeta};

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::db::{binary_data as repo, Db};
use crate::engine::config::BinaryDataMode;
use crate::engine::data::Item;

const FILESYSTEM: &str = "filesystem-v2";
const DATABASE: &str = "database";

/// Why binary data could not be kept or read.
#[derive(Debug, thiserror::Error)]
pub enum BinaryError {
    #[error("The file \"{name}\" is {size_mib:.2} MiB, more than the {max_mib} MiB binary data may have in database mode (N8N_BINARY_DATA_DATABASE_MAX_FILE_SIZE)")]
    TooLarge {
        name: String,
        size_mib: f64,
        max_mib: u64,
    },
    #[error("The binary data \"{0}\" is no longer stored (was its execution deleted?)")]
    Missing(String),
    #[error("The binary data \"{0}\" is kept in a mode this server does not read")]
    UnknownMode(String),
    #[error("The binary data is not valid base64")]
    NotBase64,
    #[error("The binary data could not be stored: {0}")]
    Io(String),
}

/// Where the files of one execution go.
#[derive(Clone, Copy, Debug)]
pub struct Location<'a> {
    pub workflow_id: &'a str,
    pub execution_id: i64,
}

/// The instance's binary data store.
pub struct BinaryStore {
    mode: BinaryDataMode,
    root: PathBuf,
    db: Db,
    db_max_bytes: u64,
    db_max_mib: u64,
}

impl BinaryStore {
    pub fn new(mode: BinaryDataMode, root: PathBuf, db: Db, db_max_mib: u64) -> BinaryStore {
        BinaryStore {
            mode,
            root,
            db,
            db_max_bytes: db_max_mib.saturating_mul(1024 * 1024),
            db_max_mib,
        }
    }

    pub fn mode(&self) -> BinaryDataMode {
        self.mode
    }

    /// Refuses a file too large for the store before anything runs (a webhook upload).
    pub fn check_size(&self, name: &str, size: usize) -> Result<(), BinaryError> {
        if self.mode == BinaryDataMode::Database && size as u64 > self.db_max_bytes {
            return Err(BinaryError::TooLarge {
                name: name.to_owned(),
                size_mib: size as f64 / (1024.0 * 1024.0),
                max_mib: self.db_max_mib,
            });
        }
        Ok(())
    }

    /// Keeps `bytes` for the execution at `at` and answers the item's entry for them.
    pub async fn store(
        &self,
        at: Location<'_>,
        bytes: &[u8],
        meta: &FileMeta,
    ) -> Result<Map<String, Value>, BinaryError> {
        let (data, id) = match self.mode {
            BinaryDataMode::Default => (
                base64::engine::general_purpose::STANDARD.encode(bytes),
                None,
            ),
            BinaryDataMode::Filesystem => {
                let relative = format!(
                    "workflows/{}/executions/{}/binary_data/{}",
                    safe_segment(at.workflow_id),
                    at.execution_id,
                    uuid::Uuid::new_v4()
                );
                let path = self.root.join(&relative);
                if let Some(parent) = path.parent() {
                    tokio::fs::create_dir_all(parent).await.map_err(io)?;
                }
                tokio::fs::write(&path, bytes).await.map_err(io)?;
                (
                    FILESYSTEM.to_owned(),
                    Some(format!("{FILESYSTEM}:{relative}")),
                )
            }
            BinaryDataMode::Database => {
                self.check_size(meta.file_name.as_deref().unwrap_or("data"), bytes.len())?;
                let file_id = uuid::Uuid::new_v4().to_string();
                let mut tx = self.db.begin().await.map_err(io)?;
                repo::insert(
                    tx.conn(),
                    &repo::NewFile {
                        file_id: &file_id,
                        execution_id: at.execution_id,
                        mime_type: Some(&meta.mime_type),
                        file_name: meta.file_name.as_deref(),
                        data: bytes,
                        created_at: &crate::domain::time::now_iso(),
                    },
                )
                .await
                .map_err(io)?;
                tx.commit().await.map_err(io)?;
                (DATABASE.to_owned(), Some(format!("{DATABASE}:{file_id}")))
            }
        };
        let out = entry(meta, bytes.len(), Value::String(data), id);
        Ok(out)
    }

    /// The bytes of an item's binary entry: from the store when it holds a reference, else
    /// decoded from its inline base64.
    pub async fn read(&self, entry: &Value) -> Result<Vec<u8>, BinaryError> {
        match entry.get("id").and_then(Value::as_str) {
            Some(id) => self.read_id(id).await,
            None => decode_inline(entry),
        }
    }

    async fn read_id(&self, id: &str) -> Result<Vec<u8>, BinaryError> {
        let missing = || BinaryError::Missing(id.to_owned());
        if let Some(relative) = id.strip_prefix(&format!("{FILESYSTEM}:")) {
            let path = self.path_of(relative).ok_or_else(missing)?;
            return tokio::fs::read(&path).await.map_err(|_| missing());
        }
        if let Some(file_id) = id.strip_prefix(&format!("{DATABASE}:")) {
            let mut conn = self.db.acquire().await.map_err(io)?;
            return repo::data(conn.conn(), file_id)
                .await
                .map_err(io)?
                .ok_or_else(missing);
        }
        Err(BinaryError::UnknownMode(id.to_owned()))
    }

    /// A stored relative path inside the root, refusing one that would leave it (ids come
    /// from execution data, which an import or a Code node may have written).
    fn path_of(&self, relative: &str) -> Option<PathBuf> {
        let path = Path::new(relative);
        path.components()
            .all(|c| matches!(c, Component::Normal(_)))
            .then(|| self.root.join(path))
    }

    /// Writes every inline entry of `items` to the store, leaving references in the items.
    /// Entries that are references already, and every entry in `default` mode, stay as they
    /// are.
    pub async fn externalize(
        &self,
        at: Location<'_>,
        items: &mut [Item],
    ) -> Result<(), BinaryError> {
        if self.mode == BinaryDataMode::Default {
            return Ok(());
        }
        for item in items.iter_mut() {
            let Some(binary) = item.binary.as_mut() else {
                continue;
            };
            for value in binary.values_mut() {
                if value.get("id").is_some() || !value.is_object() {
                    continue;
                }
                let bytes = decode_inline(value)?;
                let meta = FileMeta::of_entry(value);
                let mut stored = self.store(at, &bytes, &meta).await?;
                // Keep what the node wrote beyond what the store sets (e.g. `directory`).
                if let Value::Object(old) = value {
                    for (key, v) in old.iter() {
                        if key != "data" && !stored.contains_key(key) {
                            stored.insert(key.clone(), v.clone());
                        }
                    }
                }
                *value = Value::Object(stored);
            }
        }
        Ok(())
    }

    /// A copy of `item` whose stored entries hold their bytes inline again, for the nodes
    /// that build requests or answers from base64.
    pub async fn inline(&self, item: &Item) -> Result<Item, BinaryError> {
        let mut copy = item.clone();
        if let Some(binary) = copy.binary.as_mut() {
            for value in binary.values_mut() {
                if let Some(id) = value.get("id").and_then(Value::as_str) {
                    let bytes = self.read_id(id).await?;
                    value["data"] =
                        Value::String(base64::engine::general_purpose::STANDARD.encode(bytes));
                }
            }
        }
        Ok(copy)
    }

    /// Deletes the files of execution `id` of workflow `workflow_id`.
    pub async fn delete_execution(&self, workflow_id: &str, id: i64) {
        // Rows of `database` mode go with the execution row (foreign key); the folder is
        // removed in every mode, for files kept before a change of mode.
        let folder = self
            .root
            .join("workflows")
            .join(safe_segment(workflow_id))
            .join("executions")
            .join(id.to_string());
        if let Err(e) = tokio::fs::remove_dir_all(&folder).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, execution = id, "binary data files could not be deleted");
            }
        }
    }

    /// Deletes the files of every execution of a deleted workflow.
    pub async fn delete_workflow(&self, workflow_id: &str) {
        let folder = self.root.join("workflows").join(safe_segment(workflow_id));
        if let Err(e) = tokio::fs::remove_dir_all(&folder).await {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(error = %e, "binary data files could not be deleted");
            }
        }
    }

    /// Deletes the folders of executions that no longer exist (pruned, deleted, or dropped by
    /// the saving rules on any instance sharing the folder). Answers how many went.
    pub async fn sweep(&self) -> Result<usize, BinaryError> {
        let workflows = self.root.join("workflows");
        let mut found: Vec<(PathBuf, i64)> = Vec::new();
        let Ok(mut list) = tokio::fs::read_dir(&workflows).await else {
            return Ok(0);
        };
        while let Some(workflow) = list.next_entry().await.map_err(io)? {
            let Ok(mut runs) = tokio::fs::read_dir(workflow.path().join("executions")).await else {
                continue;
            };
            while let Some(run) = runs.next_entry().await.map_err(io)? {
                if let Some(id) = run.file_name().to_str().and_then(|n| n.parse().ok()) {
                    found.push((run.path(), id));
                }
            }
        }
        let mut removed = 0;
        for chunk in found.chunks(500) {
            let ids: Vec<i64> = chunk.iter().map(|(_, id)| *id).collect();
            let existing = {
                let mut conn = self.db.acquire().await.map_err(io)?;
                repo::existing_executions(conn.conn(), &ids)
                    .await
                    .map_err(io)?
            };
            for (path, id) in chunk {
                if !existing.contains(id) && tokio::fs::remove_dir_all(path).await.is_ok() {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }
}

/// The bytes of an inline entry (`data` in base64).
pub fn decode_inline(entry: &Value) -> Result<Vec<u8>, BinaryError> {
    let data = entry
        .get("data")
        .and_then(Value::as_str)
        .unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| BinaryError::NotBase64)
}

/// A workflow id as a folder name (ids are nanoid-like; anything else is replaced).
fn safe_segment(id: &str) -> String {
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if cleaned.is_empty() {
        "_".to_owned()
    } else {
        cleaned
    }
}

fn io(e: impl std::fmt::Display) -> BinaryError {
    BinaryError::Io(e.to_string())
}

/// The store of the run of `run`, when it has one.
fn run_store<'a>(run: &'a crate::engine::node::NodeRun<'_>) -> Option<&'a BinaryStore> {
    run.env.services.as_deref()?.binary()
}

/// `item` with its stored binary entries inline again, for a node that needs the bytes; the
/// item as it is in runs without a store.
pub async fn inline_item(
    run: &crate::engine::node::NodeRun<'_>,
    item: &Item,
) -> Result<Item, crate::engine::node::NodeError> {
    let has_reference = item
        .binary
        .iter()
        .flat_map(|b| b.values())
        .any(|v| v.get("id").is_some());
    if !has_reference {
        return Ok(item.clone());
    }
    let Some(store) = run_store(run) else {
        return Ok(item.clone());
    };
    store
        .inline(item)
        .await
        .map_err(|e| crate::engine::node::NodeError::operation(e.to_string()))
}

/// Moves the bytes of inline binary entries of a node's output into the run's store, leaving
/// references (n8n keeps binary data outside the execution's JSON).
pub async fn keep_outputs(
    env: &crate::engine::run::RunEnv,
    workflow_id: &str,
    outputs: &mut [Vec<Item>],
) -> Result<(), crate::engine::node::NodeError> {
    let Some(store) = env.services.as_deref().and_then(|s| s.binary()) else {
        return Ok(());
    };
    let Ok(execution_id) = env.execution.id.parse::<i64>() else {
        return Ok(());
    };
    let at = Location {
        workflow_id,
        execution_id,
    };
    for items in outputs.iter_mut() {
        if items.iter().any(|i| i.binary.is_some()) {
            store
                .externalize(at, items)
                .await
                .map_err(|e| crate::engine::node::NodeError::operation(e.to_string()))?;
        }
    }
    Ok(())
}
