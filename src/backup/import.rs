//! `flowgate import`: restores an export into an empty database, of either kind, in one
//! transaction: the database holds the whole export afterwards, or (on any error) nothing of it.
//!
//! The file is read and checked completely before the database is touched: a file cut short,
//! another format, a newer version, an unknown table or column, or a value of the wrong type
//! is refused with a message naming the place. Then the key: every sealed value must have been
//! sealed by a key of the configured ring, and the instance secret must open, or the import is
//! refused (credentials and API keys would not work afterwards).
//!
//! Only an empty database is accepted (one that has no user, project, workflow, ... yet; the
//! settings a first start writes do not count): merging two instances' rows would need rules
//! for every clash, and replacing data in place is what a fresh database plus this command
//! already does, without the risk of wiping the wrong one.
//!
//! Settings rows replace the target's: the instance secret behind API-key hashes moves with
//! the data, so existing API keys keep working. Servers already running on the target database
//! keep the secret they loaded, so import before starting them (or restart them after).

use std::collections::HashSet;
use std::path::Path;

use serde_json::{Map, Value};

use super::tables::{self, Datum, Table, TABLES};
use super::{Counts, Error, Result, FORMAT, VERSION};
use crate::config::Config;
use crate::crypto::KeyRing;
use crate::db::data_tables::{self, Cell, ColumnRow, ColumnType, TableRow};
use crate::db::{settings, Db, Tx};
use crate::instance::LOOKUP_SECRET;

/// A data table of the file, checked: its catalogue row, columns and rows.
#[derive(Debug)]
struct DataTable {
    table: TableRow,
    columns: Vec<ColumnRow>,
    /// (created_at, updated_at) of each column, in column order.
    column_times: Vec<(String, String)>,
    /// `id`, `createdAt`, `updatedAt`, then one cell per column.
    rows: Vec<Vec<Cell>>,
}

/// An export file, read and checked, ready to write.
#[derive(Debug)]
pub struct Document {
    /// Rows of each table, in [`TABLES`] order (data tables apart).
    tables: Vec<(&'static Table, Vec<Vec<Datum>>)>,
    data_tables: Vec<DataTable>,
}

/// Reads and checks an export file.
pub fn read(path: &Path) -> Result<Document> {
    let bytes = std::fs::read(path).map_err(|e| Error::file(path, e))?;
    parse(&path.display().to_string(), &bytes)
}

/// Checks the bytes of an export file (`name` is what messages call it).
pub fn parse(name: &str, bytes: &[u8]) -> Result<Document> {
    let bad = |message: String| Error::Input(format!("{name}: {message}"));
    let document: Value = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_eof() {
            bad(format!(
                "the file ends too early (line {}, column {}): it was cut short; use a complete export",
                e.line(),
                e.column()
            ))
        } else {
            bad(format!("not a flowgate export: not valid JSON ({e})"))
        }
    })?;
    let Value::Object(mut document) = document else {
        let hint = if document.is_array() {
            " (n8n's export files are imported with `flowgate import n8n`)"
        } else {
            ""
        };
        return Err(bad(format!(
            "not a flowgate export: the file holds no JSON object{hint}"
        )));
    };
    if document.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(format!(
            "not a flowgate export (it has no \"format\": \"{FORMAT}\")"
        )));
    }
    match document.get("version").and_then(Value::as_u64) {
        Some(VERSION) => {}
        other => {
            let written_by = document
                .get("flowgateVersion")
                .and_then(Value::as_str)
                .map(|v| format!(" by flowgate {v}"))
                .unwrap_or_default();
            let version = other.map_or_else(|| "unknown".to_owned(), |v| v.to_string());
            return Err(bad(format!(
                "export version {version} (written{written_by}); flowgate {} reads version {VERSION}",
                crate::VERSION
            )));
        }
    }
    let Some(Value::Object(mut file_tables)) = document.remove("tables") else {
        return Err(bad("\"tables\" is missing or not an object".to_owned()));
    };
    if let Some(unknown) = file_tables.keys().find(|k| tables::find(k).is_none()) {
        return Err(bad(format!(
            "tables.{unknown} is a table this flowgate does not know"
        )));
    }

    let mut checked = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        let Some(rows) = file_tables.remove(table.name) else {
            return Err(bad(format!("tables.{} is missing", table.name)));
        };
        let Value::Array(rows) = rows else {
            return Err(bad(format!("tables.{} must be an array", table.name)));
        };
        let mut out = Vec::with_capacity(rows.len());
        for (i, row) in rows.into_iter().enumerate() {
            let at = format!("tables.{}[{i}]", table.name);
            let Value::Object(row) = row else {
                return Err(bad(format!("{at} must be an object")));
            };
            if let Some(unknown) = row.keys().find(|k| table.column(k).is_none()) {
                return Err(bad(format!(
                    "{at} has a column \"{unknown}\" this flowgate does not know"
                )));
            }
            let mut data = Vec::with_capacity(table.columns.len());
            for column in table.columns {
                let datum = Datum::from_json(column, row.get(column.name))
                    .map_err(|m| bad(format!("{at}.{} {m}", column.name)))?;
                data.push(datum);
            }
            out.push(data);
        }
        checked.push((table, out));
    }

    let rows = match document.remove("dataTableRows") {
        Some(Value::Object(rows)) => rows,
        None => Map::new(),
        Some(_) => return Err(bad("\"dataTableRows\" must be an object".to_owned())),
    };
    let data_tables = check_data_tables(&checked, rows).map_err(bad)?;
    Ok(Document {
        tables: checked,
        data_tables,
    })
}

fn text_of(table: &Table, row: &[Datum], column: &str) -> Option<String> {
    let index = table.columns.iter().position(|c| c.name == column)?;
    match &row[index] {
        Datum::Text(text) => text.clone(),
        _ => None,
    }
}

fn int_of(table: &Table, row: &[Datum], column: &str) -> Option<i64> {
    let index = table.columns.iter().position(|c| c.name == column)?;
    match &row[index] {
        Datum::BigInt(value) => *value,
        Datum::Int(value) => value.map(i64::from),
        _ => None,
    }
}

/// The data tables of the file: catalogue rows joined with their columns and rows, every
/// name and value checked as the data-table routes would.
fn check_data_tables(
    checked: &[(&'static Table, Vec<Vec<Datum>>)],
    mut rows: Map<String, Value>,
) -> Result<Vec<DataTable>, String> {
    let rows_of = |name: &str| {
        checked
            .iter()
            .find(|(t, _)| t.name == name)
            .map(|(t, r)| (*t, r.as_slice()))
    };
    let (Some((catalogue, tables)), Some((column_table, column_rows))) = (
        rows_of(tables::DATA_TABLES),
        rows_of(tables::DATA_TABLE_COLUMNS),
    ) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for row in tables {
        let text = |column: &str| text_of(catalogue, row, column).unwrap_or_default();
        let table = TableRow {
            id: text("id"),
            name: text("name"),
            project_id: text("project_id"),
            created_at: text("created_at"),
            updated_at: text("updated_at"),
        };
        if data_tables::physical_table(&table.id).is_none() {
            return Err(format!(
                "tables.data_tables: \"{}\" is not a data table id (16 letters and digits)",
                table.id
            ));
        }
        let mut columns: Vec<(i64, ColumnRow, (String, String))> = Vec::new();
        for column in column_rows {
            let text = |name: &str| text_of(column_table, column, name).unwrap_or_default();
            if text("data_table_id") != table.id {
                continue;
            }
            let name = text("name");
            if data_tables::quoted(&name).is_err()
                || data_tables::SYSTEM_COLUMNS.contains(&name.as_str())
            {
                return Err(format!(
                    "tables.data_table_columns: \"{name}\" is not a valid column name"
                ));
            }
            let type_name = text("type");
            if ColumnType::parse(&type_name).is_none() {
                return Err(format!(
                    "tables.data_table_columns: the column \"{name}\" has the unknown type \"{type_name}\""
                ));
            }
            let position = int_of(column_table, column, "position").unwrap_or_default();
            columns.push((
                position,
                ColumnRow {
                    id: text("id"),
                    data_table_id: table.id.clone(),
                    name,
                    type_name,
                    position,
                },
                (text("created_at"), text("updated_at")),
            ));
        }
        columns.sort_by_key(|(position, column, _)| (*position, column.id.clone()));
        let (columns, column_times): (Vec<ColumnRow>, Vec<(String, String)>) = columns
            .into_iter()
            .enumerate()
            .map(|(i, (_, mut column, times))| {
                column.position = i as i64;
                (column, times)
            })
            .unzip();
        let at = format!("dataTableRows.{}", table.id);
        let given = match rows.remove(&table.id) {
            Some(Value::Array(given)) => given,
            None => Vec::new(),
            Some(_) => return Err(format!("{at} must be an array")),
        };
        let mut cells = Vec::with_capacity(given.len());
        for (i, row) in given.into_iter().enumerate() {
            cells.push(data_table_row(&format!("{at}[{i}]"), &columns, row)?);
        }
        out.push(DataTable {
            table,
            columns,
            column_times,
            rows: cells,
        });
    }
    if let Some(stray) = rows.keys().next() {
        return Err(format!(
            "dataTableRows.{stray} belongs to no data table of the file"
        ));
    }
    Ok(out)
}

/// One row of a data table: the system columns, then each column's value by its type.
fn data_table_row(at: &str, columns: &[ColumnRow], row: Value) -> Result<Vec<Cell>, String> {
    let Value::Object(row) = row else {
        return Err(format!("{at} must be an object"));
    };
    if let Some(unknown) = row.keys().find(|k| {
        !data_tables::SYSTEM_COLUMNS.contains(&k.as_str()) && !columns.iter().any(|c| &c.name == *k)
    }) {
        return Err(format!(
            "{at} has a value for \"{unknown}\", which is no column of its table"
        ));
    }
    let mut cells = Vec::with_capacity(columns.len() + 3);
    let id = row
        .get("id")
        .and_then(Value::as_i64)
        .ok_or_else(|| format!("{at}.id must be an integer"))?;
    cells.push(Cell::Integer(id));
    for system in ["createdAt", "updatedAt"] {
        let time = row
            .get(system)
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{at}.{system} must be a string"))?;
        cells.push(Cell::Text(time.to_owned()));
    }
    for column in columns {
        let column_type = column.column_type();
        let value = row.get(&column.name).unwrap_or(&Value::Null);
        let cell = match (column_type, value) {
            (_, Value::Null) => Some(Cell::Null(column_type)),
            (ColumnType::String | ColumnType::Date, Value::String(s)) => {
                Some(Cell::Text(s.clone()))
            }
            (ColumnType::Number, Value::Number(n)) => n.as_f64().map(Cell::Number),
            (ColumnType::Boolean, Value::Bool(b)) => Some(Cell::Boolean(*b)),
            _ => None,
        };
        cells.push(cell.ok_or_else(|| {
            format!(
                "{at}.{} must be a {} or null",
                column.name,
                column_type.as_str()
            )
        })?);
    }
    Ok(cells)
}

/// The keys an import checks the file against: `N8N_ENCRYPTION_KEY` (or the data folder's key
/// file) and the previous keys. Never a generated key: without a configured one, start-up would
/// write a new key file, which the file's secrets cannot open and which would then stand in the
/// way of the right key.
pub fn key_ring(config: &Config) -> Result<KeyRing> {
    if config.encryption_key.is_none() && !config.data_folder().join("config").exists() {
        return Err(Error::Refused(
            "set N8N_ENCRYPTION_KEY to the key of the instance that made the export".to_owned(),
        ));
    }
    let key =
        crate::crypto::load_encryption_key(config).map_err(|e| Error::Refused(format!("{e:#}")))?;
    Ok(KeyRing::new(&key, &config.encryption_keys_previous))
}

impl Document {
    fn rows(&self, name: &str) -> &[Vec<Datum>] {
        self.tables
            .iter()
            .find(|(t, _)| t.name == name)
            .map_or(&[], |(_, rows)| rows.as_slice())
    }

    /// Checks that `keys` can open what the file holds sealed: every credential's key must be
    /// in the ring, and the instance secret (behind API-key hashes) must open.
    pub fn check_keys(&self, keys: &KeyRing) -> Result<()> {
        let (Some(credentials), Some(settings)) =
            (tables::find("credentials"), tables::find(tables::SETTINGS))
        else {
            return Ok(());
        };
        let mut missing: Vec<String> = self
            .rows(credentials.name)
            .iter()
            .filter_map(|row| text_of(credentials, row, "key_id"))
            .filter(|id| !keys.has_key(id))
            .collect();
        let secret = self
            .rows(settings.name)
            .iter()
            .find(|row| text_of(settings, row, "key").as_deref() == Some(LOOKUP_SECRET))
            .and_then(|row| text_of(settings, row, "value"));
        if let Some(secret) = &secret {
            if let Some(id) = KeyRing::key_id_of(secret).filter(|id| !keys.has_key(id)) {
                missing.push(id.to_owned());
            }
        }
        missing.sort();
        missing.dedup();
        if !missing.is_empty() {
            return Err(Error::Refused(format!(
                "the file's secrets were encrypted with key {}, but N8N_ENCRYPTION_KEY is key {}: import with the N8N_ENCRYPTION_KEY of the instance that made the export",
                missing.join(", "),
                keys.primary_id()
            )));
        }
        if let Some(secret) = secret {
            if keys.open(&secret, LOOKUP_SECRET).is_err() {
                return Err(Error::Refused(
                    "the file's instance secret does not open with N8N_ENCRYPTION_KEY (the file is damaged)".to_owned(),
                ));
            }
        }
        Ok(())
    }
}

/// Writes `document` into `db`, which must be empty, in one transaction.
pub async fn import(db: &Db, document: Document) -> Result<Counts> {
    // A database in use is refused from a read, without queueing for the write lock behind
    // the server that uses it; the check is made again inside the writing transaction.
    let mut read = db.begin_read().await?;
    refuse_unless_empty(&mut read).await?;
    // Ends the read (dropping a transaction rolls it back).
    drop(read);
    let mut tx = db.begin().await?;
    refuse_unless_empty(&mut tx).await?;
    let mut summary = Counts::default();
    let data_tables = document.data_tables;
    for (table, rows) in &document.tables {
        let failed = |e: sqlx::Error| Error::Input(format!("tables.{}: {e}", table.name));
        match table.name {
            tables::DATA_TABLES => {
                for data_table in &data_tables {
                    summary.data_table_rows += data_table.rows.len();
                    restore_data_table(&mut tx, data_table).await.map_err(|e| {
                        Error::Input(format!("data table {}: {e}", data_table.table.id))
                    })?;
                }
            }
            // Written with their tables, above.
            tables::DATA_TABLE_COLUMNS => {}
            tables::SETTINGS => {
                // The target's first start wrote its own instance secret: the file's replaces it.
                for row in rows {
                    let text = |c: &str| text_of(table, row, c).unwrap_or_default();
                    settings::put(tx.conn(), &text("key"), &text("value"), &text("updated_at"))
                        .await
                        .map_err(failed)?;
                }
            }
            _ if table.parent.is_some() => {
                let ordered = parents_first(table, rows)?;
                tables::insert(tx.conn(), table, &ordered)
                    .await
                    .map_err(failed)?;
            }
            _ => {
                tables::insert(tx.conn(), table, rows)
                    .await
                    .map_err(failed)?;
                tables::follow_identity(tx.conn(), table)
                    .await
                    .map_err(failed)?;
            }
        }
        summary.tables.push((table.name, rows.len()));
    }
    tx.commit().await?;
    Ok(summary)
}

/// Refuses a database that already holds anything an export would bring.
async fn refuse_unless_empty(tx: &mut Tx) -> Result<()> {
    let mut found = Vec::new();
    for table in TABLES.iter().filter(|t| t.name != tables::SETTINGS) {
        let count = tables::count(tx.conn(), table.name).await?;
        if count > 0 {
            found.push(format!("{} {count}", table.name));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::Refused(format!(
        "the database is not empty ({}): `flowgate import` restores into a new, empty database only",
        found.join(", ")
    )))
}

/// Creates a data table (catalogue and SQL table, through the data-table repository), then
/// puts back its column times and its rows as exported.
async fn restore_data_table(tx: &mut Tx, data_table: &DataTable) -> sqlx::Result<()> {
    let columns: Vec<(String, String, ColumnType)> = data_table
        .columns
        .iter()
        .map(|c| (c.id.clone(), c.name.clone(), c.column_type()))
        .collect();
    data_tables::create(tx.conn(), &data_table.table, &columns).await?;
    for (column, (created_at, updated_at)) in
        data_table.columns.iter().zip(&data_table.column_times)
    {
        tables::stamp_data_table_column(tx.conn(), &column.id, created_at, updated_at).await?;
    }
    data_tables::restore(
        tx.conn(),
        &data_table.table.id,
        &data_table.columns,
        data_table.rows.clone(),
    )
    .await
}

/// The rows of a table whose rows refer to each other (folders and their parents), parents
/// before children, so every foreign key holds the moment its row is inserted.
fn parents_first(table: &Table, rows: &[Vec<Datum>]) -> Result<Vec<Vec<Datum>>> {
    let Some(parent) = table.parent else {
        return Ok(rows.to_vec());
    };
    let key = table.columns.first().map_or("id", |c| c.name);
    let in_file: HashSet<String> = rows.iter().filter_map(|r| text_of(table, r, key)).collect();
    let mut placed: HashSet<String> = HashSet::new();
    let mut waiting: Vec<&Vec<Datum>> = rows.iter().collect();
    let mut ordered = Vec::with_capacity(rows.len());
    while !waiting.is_empty() {
        let before = waiting.len();
        let mut later = Vec::new();
        for row in waiting {
            let ready = match text_of(table, row, parent) {
                None => true,
                // A parent the file lacks: the foreign key refuses it, with the database's words.
                Some(p) => placed.contains(&p) || !in_file.contains(&p),
            };
            if ready {
                if let Some(id) = text_of(table, row, key) {
                    placed.insert(id);
                }
                ordered.push(row.clone());
            } else {
                later.push(row);
            }
        }
        if later.len() == before {
            return Err(Error::Input(format!(
                "tables.{}: the {parent} references form a cycle",
                table.name
            )));
        }
        waiting = later;
    }
    Ok(ordered)
}
