//! Data tables: each operation of the data-table routes in one transaction, with access,
//! locking, size limits, upserts and dry runs. The value and filter rules are in
//! [`crate::domain::data_table`]; the SQL in [`crate::db::data_tables`].
//!
//! Tables and columns here, rows in [`rows`].
//!
//! Every write checks the caller's access first, then locks the table's catalogue row (so
//! writes to one table run one after another), then checks the size limits: a caller who
//! cannot see a table learns nothing of it, not even how big it is.

mod rows;

pub use rows::*;

use serde_json::Value;

use crate::access;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::data_tables::{self as repo, ColumnRow, TableRow};
use crate::db::Conn;
use crate::domain::data_table::{self as rules, ColumnType, MAX_COLUMNS};
use crate::domain::ids::{new_id, DataTableId, Named};
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result, ResultExt};
use crate::pagination::PageRequest;

pub fn table_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Data table with ID \"{id}\" not found."))
}

fn name_conflict(name: &str) -> ApiError {
    ApiError::conflict(format!(
        "Data table with name '{name}' already exists in this project"
    ))
}

fn column_not_found(table_id: &str, column_id: &str) -> ApiError {
    ApiError::not_found(format!(
        "Could not find the column '{column_id}' in the data table: {table_id}"
    ))
}

/// The table id of a path, which must be a nanoid (16 alphanumerics), as n8n's validator
/// demands; that is also what makes it safe to name the table's storage after it.
pub fn table_id(id: &Named<DataTableId>) -> Result<&DataTableId> {
    id.or_missing(|_| {
        ApiError::bad_request("request/params/dataTableId must match format \"nanoid\"")
    })
}

/// The table `id` if the caller can see it, with the caller's access to its project.
pub(super) async fn visible_table(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &DataTableId,
) -> Result<(TableRow, access::ProjectAccess)> {
    let found = repo::find(conn.reborrow(), id).await?;
    access::visible(
        conn,
        principal,
        found,
        |t| &t.project_id,
        || table_not_found(id),
    )
    .await
}

/// The table `id` if the caller may change it, locked for the rest of the transaction (see
/// `repo::lock`). Access is checked before the lock is taken.
pub(super) async fn writable_table(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &DataTableId,
) -> Result<TableRow> {
    let table = access::writable(visible_table(conn.reborrow(), principal, id).await?)?;
    let locked = repo::lock(conn.reborrow(), id)
        .await?
        .ok_or_else(|| table_not_found(id))?;
    if locked.project_id == table.project_id {
        return Ok(locked);
    }
    // Moved to another project between the check and the lock: check again there.
    let found = access::visible(
        conn,
        principal,
        Some(locked),
        |t| &t.project_id,
        || table_not_found(id),
    )
    .await?;
    access::writable(found)
}

/// A table with its columns and size, as the table routes show it.
pub struct TableView {
    pub table: TableRow,
    pub columns: Vec<ColumnRow>,
    pub size_bytes: i64,
}

async fn size_of(state: &AppState, table_id: &str) -> Result<i64> {
    let sizes = state
        .data_table_sizes
        .sizes(&state.db, &state.config)
        .await?;
    Ok(sizes.of(table_id))
}

/// What a new table is: a name and its columns (names and types as the request gave them).
pub struct NewTable {
    pub name: String,
    pub columns: Vec<(String, String)>,
    pub project_id: Option<String>,
}

#[tracing::instrument(skip_all)]
pub async fn create(state: &AppState, principal: &Principal, new: NewTable) -> Result<TableView> {
    let name = rules::valid_table_name(&new.name)?;
    if new.columns.len() > MAX_COLUMNS {
        return Err(ApiError::bad_request(format!(
            "request/body/columns must NOT have more than {MAX_COLUMNS} items"
        )));
    }
    let mut specs: Vec<(String, String, ColumnType)> = Vec::with_capacity(new.columns.len());
    for (i, (column, type_name)) in new.columns.iter().enumerate() {
        rules::valid_column_name(column, &format!("columns/{i}/name"))?;
        let column_type = rules::valid_column_type(type_name, &format!("columns/{i}/type"))?;
        let taken: Vec<&str> = specs.iter().map(|(_, n, _)| n.as_str()).collect();
        rules::check_column_free(column, &taken, &name)?;
        specs.push((new_id(), column.clone(), column_type));
    }
    let mut tx = state.db.begin().await?;
    let requested = new.project_id.as_deref();
    let project_id = access::target_project(tx.conn(), principal, requested, || {
        let id = requested.unwrap_or_default();
        ApiError::bad_request(format!("Project with ID \"{id}\" not found"))
    })
    .await?;
    let conflict = || name_conflict(&name);
    if repo::name_taken(tx.conn(), &project_id, &name).await? {
        return Err(conflict());
    }
    let now = now_iso();
    let table = TableRow {
        id: new_id(),
        name: name.clone(),
        project_id,
        created_at: now.clone(),
        updated_at: now,
    };
    repo::create(tx.conn(), &table, &specs)
        .await
        .on_unique(repo::NAME_UNIQUE, conflict)?;
    let columns = repo::columns(tx.conn(), &table.id).await?;
    tx.commit().await?;
    Ok(TableView {
        table,
        columns,
        size_bytes: 0,
    })
}

/// The list's sort orders: the query value and its SQL (a closed list, never user text).
pub const SORT_TABLES: &[(&str, &str)] = &[
    ("updatedAt:desc", "updated_at desc, id"),
    ("updatedAt:asc", "updated_at asc, id"),
    ("createdAt:desc", "created_at desc, id"),
    ("createdAt:asc", "created_at asc, id"),
    ("name:asc", "name asc, id"),
    ("name:desc", "name desc, id"),
    ("sizeBytes:asc", "id"),
    ("sizeBytes:desc", "id"),
];

/// `"x"` or `["x", "y"]` as a list of strings.
fn string_or_list(value: &Value, field: &str) -> Result<Vec<String>> {
    let bad = || {
        ApiError::bad_request(format!(
            "request/query/filter/{field} must be string or array of strings"
        ))
    };
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(bad))
            .collect(),
        _ => Err(bad()),
    }
}

/// The list's `filter`: JSON `{"id"?, "name"?, "projectId"?}`.
fn list_filter(text: Option<&str>) -> Result<repo::ListFilter> {
    let mut filter = repo::ListFilter::default();
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(filter);
    };
    let raw = rules::filter_json(text)?;
    let Some(object) = raw.as_object() else {
        return Err(ApiError::bad_request("request/query/filter must be object"));
    };
    for (key, value) in object {
        match key.as_str() {
            "id" => filter.ids = Some(string_or_list(value, "id")?),
            "projectId" => filter.project_ids = Some(string_or_list(value, "projectId")?),
            "name" => {
                let name = value.as_str().ok_or_else(|| {
                    ApiError::bad_request("request/query/filter/name must be string")
                })?;
                rules::no_nul(name, "request/query/filter/name")?;
                filter.name = Some(name.to_owned());
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "request/query/filter must NOT have additional properties: {other}"
                )))
            }
        }
    }
    Ok(filter)
}

/// One page of the tables the caller can see, with their columns and sizes.
#[tracing::instrument(skip_all)]
pub async fn list(
    state: &AppState,
    principal: &Principal,
    filter: Option<&str>,
    sort_by: Option<&str>,
    page: &PageRequest,
) -> Result<(Vec<TableView>, Option<String>)> {
    let sort = sort_by.unwrap_or("updatedAt:desc");
    let (sort, order) = SORT_TABLES
        .iter()
        .find(|(k, _)| *k == sort)
        .copied()
        .ok_or_else(|| {
            let allowed: Vec<&str> = SORT_TABLES.iter().map(|(k, _)| *k).collect();
            ApiError::bad_request(format!(
                "request/query/sortBy must be equal to one of the allowed values: {}",
                allowed.join(", ")
            ))
        })?;
    let filter = list_filter(filter)?;
    let by_size = sort.starts_with("sizeBytes");
    let mut tx = state.db.begin_read().await?;
    let member = access::visible_to(principal);
    // Sizes are not a column, so a size order sorts the visible tables here; other orders
    // page in the database.
    let limit = (!by_size).then(|| page.fetch_limit());
    let offset = if by_size { 0 } else { page.offset };
    let mut tables = repo::list(tx.conn(), member, &filter, order, offset, limit).await?;
    let sizes = state
        .data_table_sizes
        .sizes(&state.db, &state.config)
        .await?;
    if by_size {
        tables.sort_by_key(|t| sizes.of(&t.id));
        if sort.ends_with("desc") {
            tables.reverse();
        }
        tables = tables
            .into_iter()
            .skip(page.offset as usize)
            .take(page.fetch_limit() as usize)
            .collect();
    }
    let (tables, next_cursor) = page.finish_by_offset(tables);
    let ids: Vec<String> = tables.iter().map(|t| t.id.clone()).collect();
    let mut all_columns = repo::columns_of(tx.conn(), &ids).await?;
    drop(tx);
    let views = tables
        .into_iter()
        .map(|table| {
            let (columns, rest) = std::mem::take(&mut all_columns)
                .into_iter()
                .partition(|c| c.data_table_id == table.id);
            all_columns = rest;
            TableView {
                size_bytes: sizes.of(&table.id),
                table,
                columns,
            }
        })
        .collect();
    Ok((views, next_cursor))
}

#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn read(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
) -> Result<TableView> {
    let mut tx = state.db.begin_read().await?;
    let id = table_id(id)?;
    let (table, _) = visible_table(tx.conn(), principal, id).await?;
    let columns = repo::columns(tx.conn(), id).await?;
    drop(tx);
    Ok(TableView {
        table,
        columns,
        size_bytes: size_of(state, id).await?,
    })
}

#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn rename(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    name: &str,
) -> Result<TableView> {
    let name = rules::valid_table_name(name)?;
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    let mut table = writable_table(tx.conn(), principal, id).await?;
    let conflict = || name_conflict(&name);
    if table.name != name {
        if repo::name_taken(tx.conn(), &table.project_id, &name).await? {
            return Err(conflict());
        }
        let now = now_iso();
        repo::rename(tx.conn(), id, &name, &now)
            .await
            .on_unique(repo::NAME_UNIQUE, conflict)?;
        table.name = name.clone();
        table.updated_at = now;
    }
    let columns = repo::columns(tx.conn(), id).await?;
    tx.commit().await?;
    Ok(TableView {
        table,
        columns,
        size_bytes: size_of(state, id).await?,
    })
}

#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    writable_table(tx.conn(), principal, id).await?;
    repo::delete(tx.conn(), id).await?;
    tx.commit().await?;
    state.data_table_sizes.forget();
    Ok(())
}

#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn columns(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
) -> Result<Vec<ColumnRow>> {
    let mut tx = state.db.begin_read().await?;
    let id = table_id(id)?;
    visible_table(tx.conn(), principal, id).await?;
    Ok(repo::columns(tx.conn(), id).await?)
}

#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn add_column(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    name: &str,
    type_name: &str,
    index: Option<i64>,
) -> Result<ColumnRow> {
    rules::valid_column_name(name, "name")?;
    let column_type = rules::valid_column_type(type_name, "type")?;
    if index.is_some_and(|i| i < 0) {
        return Err(ApiError::bad_request("request/body/index must be >= 0"));
    }
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    let table = writable_table(tx.conn(), principal, id).await?;
    let existing = repo::columns(tx.conn(), id).await?;
    if existing.len() >= MAX_COLUMNS {
        return Err(ApiError::bad_request(format!(
            "A data table can have at most {MAX_COLUMNS} columns"
        )));
    }
    let taken: Vec<&str> = existing.iter().map(|c| c.name.as_str()).collect();
    rules::check_column_free(name, &taken, &table.name)?;
    let count = existing.len() as i64;
    let column = ColumnRow {
        id: new_id(),
        data_table_id: id.to_string(),
        name: name.to_owned(),
        type_name: column_type.as_str().to_owned(),
        position: index.map_or(count, |i| i.min(count)),
    };
    let now = now_iso();
    repo::add_column(tx.conn(), &column, column_type, &now).await?;
    repo::touch(tx.conn(), id, &now).await?;
    tx.commit().await?;
    Ok(column)
}

/// A column of the table, by id.
fn find_column<'a>(
    columns: &'a [ColumnRow],
    table_id: &str,
    column_id: &str,
) -> Result<&'a ColumnRow> {
    columns
        .iter()
        .find(|c| c.id == column_id)
        .ok_or_else(|| column_not_found(table_id, column_id))
}

/// Renames and/or moves a column (already validated); answers it as it is afterwards.
#[tracing::instrument(skip_all, fields(data_table.id = %id, column.id = %column_id))]
pub async fn change_column(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    column_id: &str,
    name: Option<String>,
    index: Option<i64>,
) -> Result<ColumnRow> {
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    let table = writable_table(tx.conn(), principal, id).await?;
    let existing = repo::columns(tx.conn(), id).await?;
    let mut column = find_column(&existing, id, column_id)?.clone();
    let now = now_iso();
    if let Some(new_name) = name.filter(|n| *n != column.name) {
        let taken: Vec<&str> = existing
            .iter()
            .filter(|c| c.id != column.id)
            .map(|c| c.name.as_str())
            .collect();
        rules::check_column_free(&new_name, &taken, &table.name)?;
        repo::rename_column(tx.conn(), &column, &new_name, &now).await?;
        column.name = new_name;
    }
    if let Some(target) = index {
        repo::move_column(tx.conn(), &column, target, existing.len() as i64, &now).await?;
    }
    repo::touch(tx.conn(), id, &now).await?;
    let after = repo::columns(tx.conn(), id).await?;
    let changed = find_column(&after, id, column_id)?.clone();
    tx.commit().await?;
    Ok(changed)
}

#[tracing::instrument(skip_all, fields(data_table.id = %id, column.id = %column_id))]
pub async fn drop_column(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    column_id: &str,
) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    writable_table(tx.conn(), principal, id).await?;
    let existing = repo::columns(tx.conn(), id).await?;
    let column = find_column(&existing, id, column_id)?;
    repo::drop_column(tx.conn(), column).await?;
    repo::touch(tx.conn(), id, &now_iso()).await?;
    tx.commit().await?;
    Ok(())
}
