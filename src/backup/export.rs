//! `flowgate export`: every row of the instance, read in one read transaction (one consistent
//! snapshot, while the server keeps running), written to a file that appears complete or not
//! at all.
//!
//! Nothing is decrypted: credentials and the instance secret go out sealed, as stored, so the
//! export needs no key, and the file is only as useful as `N8N_ENCRYPTION_KEY` to whoever
//! holds it. It still holds password and API-key hashes, so it is created readable by its
//! owner only (mode 0600), like n8n's key file.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::tables::{self, TABLES};
use super::{Counts, Error, Result, FORMAT, VERSION};
use crate::crypto::KeyRing;
use crate::db::data_tables::{self, RowFilter, RowPage, RowStart};
use crate::db::{Conn, Db};
use crate::domain::ids::random_alphanumeric;
use crate::domain::time::now_iso;

/// Rows read per statement from tables that may be large (executions, data tables).
const PAGE: i64 = 1000;

/// Writes the export of `db` to `output`, replacing the file if it exists (only once the new
/// one is complete).
pub async fn export(db: &Db, output: &Path) -> Result<Counts> {
    let mut file = TempFile::create(output)?;
    let mut tx = db.begin_read().await?;
    if let Conn::Postgres(c) = tx.conn() {
        // PostgreSQL's default isolation gives every statement a snapshot of its own; this
        // makes the whole export one.
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(c)
            .await?;
    }
    let summary = write_document(tx.conn(), &mut file).await?;
    drop(tx);
    file.persist()?;
    Ok(summary)
}

async fn write_document(mut conn: Conn<'_>, file: &mut TempFile) -> Result<Counts> {
    let mut key_ids: BTreeSet<String> = crate::db::credentials::key_ids(conn.reborrow())
        .await?
        .into_iter()
        .collect();
    if let Some(settings) = tables::find(tables::SETTINGS) {
        for row in tables::select(conn.reborrow(), settings, None).await? {
            if let Some(id) = row
                .get("value")
                .and_then(Value::as_str)
                .and_then(KeyRing::key_id_of)
            {
                key_ids.insert(id.to_owned());
            }
        }
    }
    let header = json!({
        "format": FORMAT,
        "version": VERSION,
        "exportedAt": now_iso(),
        "flowgateVersion": crate::VERSION,
        "database": if conn.is_postgres() { "postgres" } else { "sqlite" },
        "keyIds": key_ids,
    });
    // The header object without its closing brace: the tables follow inside it, one row a
    // line.
    let mut head = header.to_string();
    head.pop();
    file.write(head.as_bytes())?;
    file.write(b",\"tables\":{")?;

    let mut summary = Counts::default();
    let mut data_table_ids = Vec::new();
    for (t, table) in TABLES.iter().enumerate() {
        file.write(format!("{}\n{}:[", comma(t), json!(table.name)).as_bytes())?;
        let mut written = 0;
        let mut after = i64::MIN;
        loop {
            let page = table.identity.map(|_| (after, PAGE));
            let rows = tables::select(conn.reborrow(), table, page).await?;
            let fetched = rows.len();
            for row in rows {
                if table.name == tables::DATA_TABLES {
                    if let Some(id) = row.get("id").and_then(Value::as_str) {
                        data_table_ids.push(id.to_owned());
                    }
                }
                if let Some(id) = table
                    .identity
                    .and_then(|key| row.get(key))
                    .and_then(Value::as_i64)
                {
                    after = id;
                }
                file.write_row(written, &row)?;
                written += 1;
            }
            if page.is_none() || fetched < PAGE as usize {
                break;
            }
        }
        file.write(b"\n]")?;
        summary.tables.push((table.name, written));
    }

    file.write(b"},\"dataTableRows\":{")?;
    let filter = RowFilter::default();
    for (t, id) in data_table_ids.iter().enumerate() {
        file.write(format!("{}\n{}:[", comma(t), json!(id)).as_bytes())?;
        let columns = data_tables::columns(conn.reborrow(), id).await?;
        let mut written = 0;
        let mut after = i64::MIN;
        loop {
            let page = RowPage {
                filter: &filter,
                search: None,
                order: None,
                start: RowStart::AfterId(after),
                limit: PAGE as u64,
            };
            let rows = data_tables::select(conn.reborrow(), id, &columns, &page).await?;
            let fetched = rows.len();
            for row in rows {
                after = row.get("id").and_then(Value::as_i64).unwrap_or(after);
                file.write_row(written, &row)?;
                written += 1;
            }
            if fetched < PAGE as usize {
                break;
            }
        }
        file.write(b"\n]")?;
        summary.data_table_rows += written;
    }
    file.write(b"\n}}\n")?;
    Ok(summary)
}

fn comma(index: usize) -> &'static str {
    if index == 0 {
        ""
    } else {
        ","
    }
}

/// The file being written: beside the target (so the final rename stays on one file system),
/// created with mode 0600, removed if the export fails, renamed over the target once complete
/// and on disk.
struct TempFile {
    path: PathBuf,
    target: PathBuf,
    writer: Option<BufWriter<File>>,
}

impl TempFile {
    fn create(target: &Path) -> Result<TempFile> {
        let name = target
            .file_name()
            .ok_or_else(|| Error::Input(format!("{} is not a file name", target.display())))?;
        let folder = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let path = folder.join(format!(
            ".{}.{}.tmp",
            name.to_string_lossy(),
            random_alphanumeric(8)
        ));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(|e| Error::file(target, e))?;
        Ok(TempFile {
            path,
            target: target.to_path_buf(),
            writer: Some(BufWriter::with_capacity(1 << 20, file)),
        })
    }

    fn write(&mut self, bytes: &[u8]) -> Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Ok(());
        };
        writer
            .write_all(bytes)
            .map_err(|e| Error::file(&self.path, e))
    }

    fn write_row(&mut self, index: usize, row: &Map<String, Value>) -> Result<()> {
        self.write(if index == 0 { b"\n" } else { b",\n" })?;
        // A map of JSON values always serialises.
        let text = serde_json::to_vec(row).unwrap_or_default();
        self.write(&text)
    }

    /// Flushes, syncs and renames the file over the target, then syncs the folder so the
    /// rename itself survives a crash.
    fn persist(mut self) -> Result<()> {
        let Some(writer) = self.writer.take() else {
            return Ok(());
        };
        let done = (|| {
            let file = writer
                .into_inner()
                .map_err(|e| Error::file(&self.path, e.into_error()))?;
            file.sync_all().map_err(|e| Error::file(&self.path, e))?;
            drop(file);
            std::fs::rename(&self.path, &self.target).map_err(|e| Error::file(&self.target, e))
        })();
        if done.is_err() {
            let _ = std::fs::remove_file(&self.path);
        }
        done?;
        if let Some(folder) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(dir) = File::open(folder) {
                let _ = dir.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        // Still here: the export failed half-way; leave nothing behind.
        if self.writer.take().is_some() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
