//! Data-table rows: filters, pages, inserts, updates and deletes, as statements built on
//! [`Sql`] over a table's physical storage (see the module above for why rows live there).

use serde_json::{Map, Value};

use super::{quoted, select_list, table_name, ColumnRow};
use crate::db::sql::{Kind, Param, Rows, Sql, MAX_BINDS};
use crate::db::Conn;
use crate::domain::data_table::SYSTEM_COLUMNS;
use crate::domain::data_table::{number_value, Cell, ColumnType, Condition, Predicate, RowFilter};

impl From<Cell> for Param<'_> {
    fn from(cell: Cell) -> Self {
        match cell {
            Cell::Null(ColumnType::Number) => Param::Null(Kind::Float),
            Cell::Null(ColumnType::Boolean) => Param::Null(Kind::Bool),
            Cell::Null(_) => Param::Null(Kind::Text),
            Cell::Text(text) => Param::from(text),
            Cell::Number(n) => Param::Float(n),
            Cell::Boolean(b) => Param::Bool(b),
            Cell::Integer(i) => Param::Int(i),
        }
    }
}

/// Turns database rows into JSON objects: `id`, `createdAt`, `updatedAt`, then the columns
/// in table order.
macro_rules! decode_rows {
    ($rows:expr, $columns:expr) => {{
        use sqlx::Row as _;
        let mut out = Vec::with_capacity($rows.len());
        for row in &$rows {
            let mut object = Map::with_capacity($columns.len() + 3);
            object.insert("id".into(), Value::from(row.try_get::<i64, _>(0)?));
            object.insert(
                "createdAt".into(),
                Value::from(row.try_get::<String, _>(1)?),
            );
            object.insert(
                "updatedAt".into(),
                Value::from(row.try_get::<String, _>(2)?),
            );
            for (i, column) in $columns.iter().enumerate() {
                let at = i + 3;
                let value = match column.column_type() {
                    ColumnType::String | ColumnType::Date => {
                        row.try_get::<Option<String>, _>(at)?.map(Value::from)
                    }
                    ColumnType::Number => row.try_get::<Option<f64>, _>(at)?.map(number_value),
                    ColumnType::Boolean => row.try_get::<Option<bool>, _>(at)?.map(Value::from),
                };
                object.insert(column.name.clone(), value.unwrap_or(Value::Null));
            }
            out.push(object);
        }
        out
    }};
}

/// Decodes a statement's rows (system columns, then `columns`) as JSON objects.
fn decode(rows: Rows, columns: &[ColumnRow]) -> sqlx::Result<Vec<Map<String, Value>>> {
    Ok(match rows {
        Rows::Sqlite(rows) => decode_rows!(rows, columns),
        Rows::Postgres(rows) => decode_rows!(rows, columns),
    })
}

/// Escapes `\` and `_` for a `like ... escape '\'` pattern; `%` stays a wildcard.
pub(super) fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    for ch in text.chars() {
        if matches!(ch, '\\' | '_') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// n8n's like value: only `%` is a wildcard, and a value without one matches anywhere.
fn like_pattern(text: &str) -> String {
    if text.contains('%') {
        text.to_owned()
    } else {
        format!("%{text}%")
    }
}

/// The same pattern for SQLite's case-sensitive `glob`: `%` becomes `*`, and the characters
/// glob treats specially are bracketed to stand for themselves.
fn glob_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 4);
    for ch in pattern.chars() {
        match ch {
            '%' => out.push('*'),
            '*' => out.push_str("[*]"),
            '?' => out.push_str("[?]"),
            '[' => out.push_str("[[]"),
            other => out.push(other),
        }
    }
    out
}

/// `select <system columns, columns> from <the table's storage>`.
fn select_rows(table_id: &str, columns: &[ColumnRow]) -> sqlx::Result<Sql<'static>> {
    Ok(Sql::build(format!(
        "select {} from {}",
        select_list(columns)?,
        table_name(table_id)?
    )))
}

/// Appends ` where ...` for a filter and a search (nothing when both are empty); with
/// `after_id`, only rows after that id (the keyset start of a page).
fn push_filter(
    sql: &mut Sql<'_>,
    postgres: bool,
    filter: &RowFilter,
    search: Option<(&str, &[ColumnRow])>,
    after_id: Option<i64>,
) -> sqlx::Result<()> {
    let mut started = false;
    if let Some(id) = after_id {
        sql.push(" where \"id\" > ").push_bind(id);
        started = true;
    }
    if !filter.predicates.is_empty() {
        sql.push(if started { " and (" } else { " where (" });
        started = true;
        for (i, p) in filter.predicates.iter().enumerate() {
            if i > 0 {
                sql.push(if filter.any { " or " } else { " and " });
            }
            push_predicate(sql, postgres, p)?;
        }
        sql.push(")");
    }
    if let Some((term, columns)) = search {
        let searchable: Vec<&ColumnRow> = columns
            .iter()
            .filter(|c| c.column_type() == ColumnType::String)
            .collect();
        sql.push(if started { " and (" } else { " where (" });
        if searchable.is_empty() {
            sql.push("1 = 0");
        }
        let pattern = escape_like(&like_pattern(term));
        for (i, column) in searchable.iter().enumerate() {
            if i > 0 {
                sql.push(" or ");
            }
            sql.push(&quoted(&column.name)?)
                .push(if postgres { " ilike " } else { " like " })
                .push_bind(pattern.clone())
                .push(" escape '\\'");
        }
        sql.push(")");
    }
    Ok(())
}

fn push_predicate(sql: &mut Sql<'_>, postgres: bool, p: &Predicate) -> sqlx::Result<()> {
    let column = quoted(&p.column)?;
    let null = matches!(p.value, Cell::Null(_));
    match (p.condition, null) {
        (Condition::Eq, true) => {
            sql.push(&format!("{column} is null"));
        }
        (Condition::Neq, true) => {
            sql.push(&format!("{column} is not null"));
        }
        (Condition::Neq, false) => {
            sql.push(&format!("({column} <> "))
                .push_bind(p.value.clone())
                .push(&format!(" or {column} is null)"));
        }
        (Condition::Like | Condition::Ilike, _) => {
            let Cell::Text(text) = &p.value else {
                return Err(sqlx::Error::Protocol("like needs text".into()));
            };
            let pattern = like_pattern(text);
            match (p.condition, postgres) {
                (Condition::Like, false) => {
                    sql.push(&format!("{column} glob "))
                        .push_bind(glob_pattern(&pattern));
                }
                (Condition::Like, true) => {
                    sql.push(&format!("{column} like "))
                        .push_bind(escape_like(&pattern))
                        .push(" escape '\\'");
                }
                (_, false) => {
                    sql.push(&format!("upper({column}) like upper("))
                        .push_bind(escape_like(&pattern))
                        .push(") escape '\\'");
                }
                (_, true) => {
                    sql.push(&format!("{column} ilike "))
                        .push_bind(escape_like(&pattern))
                        .push(" escape '\\'");
                }
            }
        }
        (condition, _) => {
            let op = match condition {
                Condition::Eq => "=",
                Condition::Gt => ">",
                Condition::Gte => ">=",
                Condition::Lt => "<",
                _ => "<=",
            };
            sql.push(&format!("{column} {op} "))
                .push_bind(p.value.clone());
        }
    }
    Ok(())
}

/// The order of a row list: a column (catalogue or system) and a direction.
#[derive(Clone, Debug)]
pub struct RowOrder {
    pub column: String,
    pub descending: bool,
}

/// Where a page of rows starts.
#[derive(Clone, Copy, Debug)]
pub enum RowStart {
    /// Right after this row id (the default id order only): served by the primary key.
    AfterId(i64),
    Offset(u64),
}

/// What a page of rows is: which rows, in which order, from where, how many.
pub struct RowPage<'a> {
    pub filter: &'a RowFilter,
    /// Text the row's string columns must contain (any case).
    pub search: Option<&'a str>,
    pub order: Option<&'a RowOrder>,
    pub start: RowStart,
    pub limit: u64,
}

/// A page of rows.
pub async fn select(
    conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    page: &RowPage<'_>,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    let mut sql = select_rows(table_id, columns)?;
    let (after, offset) = match page.start {
        RowStart::AfterId(id) => (Some(id), 0),
        RowStart::Offset(o) => (None, o),
    };
    let search = page.search.map(|s| (s, columns));
    push_filter(&mut sql, conn.is_postgres(), page.filter, search, after)?;
    match page.order {
        Some(o) if o.column != "id" => {
            sql.push(&format!(
                " order by {} {}, \"id\"",
                quoted(&o.column)?,
                if o.descending { "desc" } else { "asc" }
            ));
        }
        Some(o) if o.descending => {
            sql.push(" order by \"id\" desc");
        }
        _ => {
            sql.push(" order by \"id\"");
        }
    }
    sql.push(" limit ")
        .push_bind(page.limit as i64)
        .push(" offset ")
        .push_bind(offset as i64);
    decode(sql.fetch_rows(conn).await?, columns)
}

/// All rows matching `filter`, in id order (for dry runs and affected-row answers).
pub async fn matching(
    conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    filter: &RowFilter,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    let mut sql = select_rows(table_id, columns)?;
    push_filter(&mut sql, conn.is_postgres(), filter, None, None)?;
    sql.push(" order by \"id\"");
    decode(sql.fetch_rows(conn).await?, columns)
}

/// What an insert answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Returning {
    Count,
    Ids,
    Rows,
}

/// Inserts rows (each holding one cell per column, in column order), in as few statements as
/// the bind limit allows. Answers the inserted rows (ids only for `Ids`, nothing for `Count`)
/// in insertion order.
pub async fn insert(
    conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    rows: Vec<Vec<Cell>>,
    now: &str,
    returning: Returning,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    let stamped = rows.into_iter().map(|row| {
        let mut cells = Vec::with_capacity(row.len() + 2);
        cells.push(Cell::Text(now.to_owned()));
        cells.push(Cell::Text(now.to_owned()));
        cells.extend(row);
        cells
    });
    write_rows(
        conn,
        table_id,
        columns,
        &["createdAt", "updatedAt"],
        stamped,
        returning,
    )
    .await
}

/// Inserts rows exactly as an export holds them: each row is its `id`, `createdAt` and
/// `updatedAt`, then one cell per column. [`insert`] cannot serve a restore, since the
/// database would number the rows and stamp them anew, and the restored table would answer
/// other ids and times than the exported one. On PostgreSQL the id sequence is then moved
/// past the largest id (SQLite's `autoincrement` follows explicit ids by itself), so rows
/// inserted later never collide with restored ones.
pub async fn restore(
    mut conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    rows: Vec<Vec<Cell>>,
) -> sqlx::Result<()> {
    write_rows(
        conn.reborrow(),
        table_id,
        columns,
        &SYSTEM_COLUMNS,
        rows.into_iter(),
        Returning::Count,
    )
    .await?;
    if conn.is_postgres() {
        let table = table_name(table_id)?;
        let sql = format!(
            "select setval(pg_get_serial_sequence($1, 'id'), coalesce((select max(\"id\") from {table}), 0) + 1, false)"
        );
        Sql::query(&sql).bind(&table).fetch_rows(conn).await?;
    }
    Ok(())
}

/// The multi-row `insert` behind [`insert`] and [`restore`]: `system` names the system
/// columns each row starts with, the table's columns follow.
async fn write_rows(
    mut conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    system: &[&str],
    rows: impl Iterator<Item = Vec<Cell>>,
    returning: Returning,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    let table = table_name(table_id)?;
    let mut names = Vec::with_capacity(system.len() + columns.len());
    for name in system {
        names.push(quoted(name)?);
    }
    for column in columns {
        names.push(quoted(&column.name)?);
    }
    let names = names.join(", ");
    let per_row = columns.len() + system.len();
    // As many rows per statement as the bind limit allows.
    let chunk = (MAX_BINDS / per_row).max(1);
    let returned_columns: &[ColumnRow] = if returning == Returning::Rows {
        columns
    } else {
        &[]
    };
    let mut out = Vec::new();
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::build(format!("insert into {table} ({names}) values "));
        for (i, row) in rows.by_ref().take(chunk).enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .push_list(row)
                .push(")");
        }
        if returning == Returning::Count {
            sql.execute(conn.reborrow()).await?;
            continue;
        }
        sql.push(" returning ")
            .push(&select_list(returned_columns)?);
        let mut decoded = decode(sql.fetch_rows(conn.reborrow()).await?, returned_columns)?;
        // `returning` gives no order guarantee; ids grow with insertion order.
        decoded.sort_by_key(|r| r.get("id").and_then(Value::as_i64).unwrap_or_default());
        out.extend(decoded);
    }
    Ok(out)
}

/// Sets `values` on the rows matching `filter`; answers the changed rows when `returning`.
pub async fn update(
    conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    filter: &RowFilter,
    values: &[(String, Cell)],
    now: &str,
    returning: bool,
) -> sqlx::Result<(u64, Vec<Map<String, Value>>)> {
    let mut sql = Sql::build(format!(
        "update {} set \"updatedAt\" = ",
        table_name(table_id)?
    ));
    sql.push_bind(now.to_owned());
    for (name, cell) in values {
        sql.push(&format!(", {} = ", quoted(name)?))
            .push_bind(cell.clone());
    }
    push_filter(&mut sql, conn.is_postgres(), filter, None, None)?;
    run_changing(conn, sql, columns, returning).await
}

/// Deletes the rows matching `filter` (all rows for an empty filter); answers the deleted
/// rows when `returning`, and how many went.
pub async fn delete_rows(
    conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    filter: &RowFilter,
    returning: bool,
) -> sqlx::Result<(u64, Vec<Map<String, Value>>)> {
    let mut sql = Sql::build(format!("delete from {}", table_name(table_id)?));
    push_filter(&mut sql, conn.is_postgres(), filter, None, None)?;
    run_changing(conn, sql, columns, returning).await
}

/// Runs an `update` or `delete`: answers how many rows it touched, and with `returning`
/// those rows as they are afterwards (updates) or were (deletes), in id order.
async fn run_changing(
    conn: Conn<'_>,
    mut sql: Sql<'_>,
    columns: &[ColumnRow],
    returning: bool,
) -> sqlx::Result<(u64, Vec<Map<String, Value>>)> {
    if !returning {
        return Ok((sql.execute(conn).await?, Vec::new()));
    }
    sql.push(" returning ").push(&select_list(columns)?);
    let mut decoded = decode(sql.fetch_rows(conn).await?, columns)?;
    decoded.sort_by_key(|r| r.get("id").and_then(Value::as_i64).unwrap_or_default());
    Ok((decoded.len() as u64, decoded))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_treat_only_percent_as_a_wildcard() {
        assert_eq!(like_pattern("ab"), "%ab%");
        assert_eq!(like_pattern("a%"), "a%");
        assert_eq!(escape_like("a_b\\c%"), "a\\_b\\\\c%");
        assert_eq!(glob_pattern("%a*b?[c]%"), "*a[*]b[?][[]c]*");
    }
}
