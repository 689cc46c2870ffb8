//! Data-table rows: pages, inserts, updates, upserts, deletes and their dry runs.

use serde_json::{json, Map, Value};

use super::{table_id, visible_table, writable_table};
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::data_tables::{
    self as repo, Cell, ColumnRow, Returning, RowFilter, RowOrder, RowPage, RowStart,
};
use crate::db::Tx;
use crate::domain::data_table::{self as rules, number_value};
use crate::domain::ids::{DataTableId, Named};
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result};
use crate::pagination::PageRequest;

/// A row as the API shows it: system columns, then one property per column.
pub type Row = Map<String, Value>;

/// What a page of rows asks for, as the query string has it.
pub struct RowsQuery<'a> {
    pub filter: Option<&'a str>,
    pub sort_by: Option<&'a str>,
    pub search: Option<&'a str>,
}

/// The order a `sortBy` names: a column of the table (or a system one) and a direction.
fn row_order(text: &str, columns: &[ColumnRow]) -> Result<RowOrder> {
    let (column, direction) = text.split_once(':').unwrap_or((text, "asc"));
    let descending = match direction.to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(ApiError::bad_request(
                "request/query/sortBy must be <column>:asc or <column>:desc",
            ))
        }
    };
    if rules::filter_column_type(column, columns).is_none() {
        return Err(ApiError::bad_request(format!(
            "unknown column name '{column}'"
        )));
    }
    Ok(RowOrder {
        column: column.to_owned(),
        descending,
    })
}

/// One page of a table's rows.
#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn rows(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    query: RowsQuery<'_>,
    page: &PageRequest,
) -> Result<(Vec<Row>, Option<String>)> {
    let mut tx = state.db.begin_read().await?;
    let id = table_id(id)?;
    visible_table(tx.conn(), principal, id).await?;
    let columns = repo::columns(tx.conn(), id).await?;
    let filter = match query.filter.filter(|t| !t.trim().is_empty()) {
        Some(text) => {
            // An empty list of conditions filters nothing, as an absent filter.
            let raw = rules::filter_json(text)?;
            if raw["filters"].as_array().is_some_and(Vec::is_empty) {
                RowFilter::default()
            } else {
                rules::row_filter(raw, "query/filter", &columns, "Filter must not be empty")?
            }
        }
        None => RowFilter::default(),
    };
    let order = match query.sort_by.filter(|s| !s.is_empty()) {
        None => None,
        Some(text) => Some(row_order(text, &columns)?),
    };
    if let Some(search) = query.search {
        rules::no_nul(search, "request/query/search")?;
    }
    let search = query.search.filter(|s| !s.trim().is_empty());
    // In id order a page starts after the last id it saw, through the primary key: page
    // 1000 costs what page 1 does. Other orders page by offset.
    let keyset = order
        .as_ref()
        .is_none_or(|o| o.column == "id" && !o.descending);
    let start = match (&page.after, keyset) {
        (Some(after), true) => match after.parse::<i64>() {
            Ok(id) => RowStart::AfterId(id),
            Err(_) => return Err(ApiError::bad_request("An invalid cursor was provided")),
        },
        _ => RowStart::Offset(page.offset),
    };
    let row_page = RowPage {
        filter: &filter,
        search,
        order: order.as_ref(),
        start,
        limit: page.fetch_limit(),
    };
    let found = repo::select(tx.conn(), id, &columns, &row_page).await?;
    drop(tx);
    Ok(if keyset {
        page.finish(found, |row| {
            row.get("id")
                .and_then(Value::as_i64)
                .unwrap_or_default()
                .to_string()
        })
    } else {
        page.finish_by_offset(found)
    })
}

/// Inserts rows (each checked before anything is written: one bad row and nothing is).
#[tracing::instrument(skip_all, fields(data_table.id = %id, rows = data.len()))]
pub async fn insert(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    data: &[Value],
    returning: Returning,
) -> Result<Value> {
    if data.is_empty() {
        return Err(ApiError::bad_request(
            "request/body/data must NOT have fewer than 1 items",
        ));
    }
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    writable_table(tx.conn(), principal, id).await?;
    state
        .data_table_sizes
        .check(tx.conn(), &state.config, id)
        .await?;
    let columns = repo::columns(tx.conn(), id).await?;
    let rows: Vec<Vec<Cell>> = data
        .iter()
        .enumerate()
        .map(|(i, row)| rules::row_cells(row, i, &columns))
        .collect::<Result<_>>()?;
    let bytes: i64 = rows.iter().map(|r| rules::estimated_bytes(r)).sum();
    let count = rows.len();
    let now = now_iso();
    let inserted = repo::insert(tx.conn(), id, &columns, rows, &now, returning).await?;
    repo::touch(tx.conn(), id, &now).await?;
    tx.commit().await?;
    state.data_table_sizes.grew(id, bytes);
    Ok(match returning {
        Returning::Count => json!({ "count": count }),
        Returning::Ids => Value::Array(
            inserted
                .iter()
                .map(|r| r.get("id").cloned().unwrap_or(Value::Null))
                .collect(),
        ),
        Returning::Rows => Value::Array(inserted.into_iter().map(Value::Object).collect()),
    })
}

/// An update's or upsert's request: a filter and the values to set.
pub struct ChangeRequest<'a> {
    pub filter: Value,
    pub data: &'a Map<String, Value>,
    pub return_data: bool,
    pub dry_run: bool,
}

/// n8n's answer to an update or delete: the rows with `returnData`, else `true`.
fn rows_or_true(return_data: bool, rows: Vec<Map<String, Value>>) -> Value {
    if return_data {
        Value::Array(rows.into_iter().map(Value::Object).collect())
    } else {
        Value::Bool(true)
    }
}

/// A row with its dry-run state.
fn with_state(mut row: Map<String, Value>, state: &str) -> Value {
    row.insert("dryRunState".into(), Value::from(state));
    Value::Object(row)
}

/// The row a dry run shows for "no row": every key of `template` set to null.
fn null_row(template: &Map<String, Value>) -> Map<String, Value> {
    template.keys().map(|k| (k.clone(), Value::Null)).collect()
}

fn cell_json(cell: &Cell) -> Value {
    match cell {
        Cell::Null(_) => Value::Null,
        Cell::Text(t) => Value::from(t.as_str()),
        Cell::Number(n) => number_value(*n),
        Cell::Boolean(b) => Value::from(*b),
        Cell::Integer(i) => Value::from(*i),
    }
}

/// What an update would make of `before`.
fn applied(
    before: &Map<String, Value>,
    values: &[(String, Cell)],
    now: &str,
) -> Map<String, Value> {
    let mut after = before.clone();
    for (name, cell) in values {
        after.insert(name.clone(), cell_json(cell));
    }
    after.insert("updatedAt".into(), Value::from(now));
    after
}

/// Dry-run pairs: each row before and after.
fn dry_run_pairs(
    before: Vec<Map<String, Value>>,
    after: impl Fn(&Map<String, Value>) -> Option<Map<String, Value>>,
) -> Vec<Value> {
    let mut out = Vec::with_capacity(before.len() * 2);
    for row in before {
        let next = after(&row).unwrap_or_else(|| null_row(&row));
        out.push(with_state(row, "before"));
        out.push(with_state(next, "after"));
    }
    out
}

/// What an update and an upsert share: the table locked for the transaction, the size
/// check (none for a dry run), and the body checked against the table's columns.
struct Change {
    tx: Tx,
    columns: Vec<ColumnRow>,
    filter: RowFilter,
    values: Vec<(String, Cell)>,
    now: String,
}

async fn begin_change(
    state: &AppState,
    principal: &Principal,
    id: &DataTableId,
    request: &ChangeRequest<'_>,
) -> Result<Change> {
    let mut tx = state.db.begin().await?;
    // The lock also makes two upserts with one filter run in turn: never both find nothing
    // and both insert.
    writable_table(tx.conn(), principal, id).await?;
    if !request.dry_run {
        state
            .data_table_sizes
            .check(tx.conn(), &state.config, id)
            .await?;
    }
    let columns = repo::columns(tx.conn(), id).await?;
    let filter = rules::row_filter(
        request.filter.clone(),
        "body/filter",
        &columns,
        "Filter must not be empty",
    )?;
    let values = rules::update_values(request.data, &columns)?;
    Ok(Change {
        tx,
        columns,
        filter,
        values,
        now: now_iso(),
    })
}

impl Change {
    /// The rows the filter matches now, each with what the change would make of it.
    async fn dry_run_updates(&mut self, id: &str) -> Result<Vec<Value>> {
        let before = repo::matching(self.tx.conn(), id, &self.columns, &self.filter).await?;
        Ok(dry_run_pairs(before, |row| {
            Some(applied(row, &self.values, &self.now))
        }))
    }

    /// The row an upsert inserts: the given values, null elsewhere.
    fn new_row(&self) -> Vec<Cell> {
        self.columns
            .iter()
            .map(|c| {
                self.values
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map_or(Cell::Null(c.column_type()), |(_, v)| v.clone())
            })
            .collect()
    }
}

/// Sets values on the rows a filter matches.
#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    request: ChangeRequest<'_>,
) -> Result<Value> {
    let id = table_id(id)?;
    let mut change = begin_change(state, principal, id, &request).await?;
    if request.dry_run {
        return Ok(Value::Array(change.dry_run_updates(id).await?));
    }
    let Change {
        mut tx,
        columns,
        filter,
        values,
        now,
    } = change;
    let (changed, rows) = repo::update(
        tx.conn(),
        id,
        &columns,
        &filter,
        &values,
        &now,
        request.return_data,
    )
    .await?;
    if changed > 0 {
        repo::touch(tx.conn(), id, &now).await?;
    }
    tx.commit().await?;
    Ok(rows_or_true(request.return_data, rows))
}

/// Sets values on the rows a filter matches, or inserts one row when none does.
#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn upsert(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    request: ChangeRequest<'_>,
) -> Result<Value> {
    let id = table_id(id)?;
    let mut change = begin_change(state, principal, id, &request).await?;
    if request.dry_run {
        let pairs = change.dry_run_updates(id).await?;
        if !pairs.is_empty() {
            return Ok(Value::Array(pairs));
        }
        // Nothing matches: the insert it would make, with a placeholder id of 0.
        let mut inserted = Map::new();
        inserted.insert("id".into(), Value::from(0));
        inserted.insert("createdAt".into(), Value::from(change.now.as_str()));
        inserted.insert("updatedAt".into(), Value::from(change.now.as_str()));
        for (column, cell) in change.columns.iter().zip(change.new_row()) {
            inserted.insert(column.name.clone(), cell_json(&cell));
        }
        let empty = null_row(&inserted);
        return Ok(json!([
            with_state(empty, "before"),
            with_state(inserted, "after")
        ]));
    }
    let cells = change.new_row();
    let Change {
        mut tx,
        columns,
        filter,
        values,
        now,
    } = change;
    let (changed, rows) =
        repo::update(tx.conn(), id, &columns, &filter, &values, &now, true).await?;
    let answer = if changed > 0 {
        rows.into_iter().next()
    } else {
        let bytes = rules::estimated_bytes(&cells);
        let inserted =
            repo::insert(tx.conn(), id, &columns, vec![cells], &now, Returning::Rows).await?;
        state.data_table_sizes.grew(id, bytes);
        inserted.into_iter().next()
    };
    repo::touch(tx.conn(), id, &now).await?;
    tx.commit().await?;
    Ok(match answer {
        Some(row) if request.return_data => Value::Object(row),
        _ => Value::Bool(true),
    })
}

/// Deletes the rows a query-string filter matches (a dry run deletes nothing).
#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn delete_rows(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
    filter: &str,
    return_data: bool,
    dry_run: bool,
) -> Result<Value> {
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    writable_table(tx.conn(), principal, id).await?;
    let columns = repo::columns(tx.conn(), id).await?;
    let empty =
        "Filter is required for delete operations to prevent accidental deletion of all data";
    let filter = rules::query_filter(filter, &columns, empty)?;
    if dry_run {
        let before = repo::matching(tx.conn(), id, &columns, &filter).await?;
        return Ok(Value::Array(dry_run_pairs(before, |_| None)));
    }
    let (deleted, rows) = repo::delete_rows(tx.conn(), id, &columns, &filter, return_data).await?;
    if deleted > 0 {
        repo::touch(tx.conn(), id, &now_iso()).await?;
    }
    tx.commit().await?;
    Ok(rows_or_true(return_data, rows))
}

/// Deletes every row; answers how many went.
#[tracing::instrument(skip_all, fields(data_table.id = %id))]
pub async fn clear(
    state: &AppState,
    principal: &Principal,
    id: &Named<DataTableId>,
) -> Result<u64> {
    let mut tx = state.db.begin().await?;
    let id = table_id(id)?;
    writable_table(tx.conn(), principal, id).await?;
    let (deleted, _) = repo::delete_rows(tx.conn(), id, &[], &RowFilter::default(), false).await?;
    if deleted > 0 {
        repo::touch(tx.conn(), id, &now_iso()).await?;
    }
    tx.commit().await?;
    Ok(deleted)
}
