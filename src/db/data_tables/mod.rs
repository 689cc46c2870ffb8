//! Data tables: the catalogue (tables, columns) here, the rows in [`rows`].
//!
//! # Storage design
//!
//! Each data table's rows live in a physical table of their own, `data_table_user_<id>`, with
//! one typed SQL column per data-table column plus the system columns `id` (an integer key
//! the database assigns), `createdAt` and `updatedAt`. This is n8n's design, and it is kept
//! because it is the one that scales: a filter or a sort is a plain `where` / `order by` on a
//! real column, run by the database (an index can serve it), instead of a scan over JSON
//! documents; a batch insert is one multi-row `insert` per chunk. The price is DDL at run time
//! (`create table`, `alter table ... add/rename/drop column`), which both databases run inside
//! the caller's transaction, so a failed request leaves no half-made table behind.
//!
//! Types, on both databases: `string` is text, `number` a double, `boolean` a boolean
//! (SQLite: an integer 0/1), `date` ISO-8601 UTC text with milliseconds, fixed width, so text
//! order is time order and one representation serves both backends.
//!
//! Every string, number and date column has an index (named after the column's id, so a
//! rename keeps it): `eq`, `gt`/`lt` ranges and sorts on a column stay index look-ups on a
//! million rows. The price is paid on writes, about one index update per column per row;
//! `like`/`ilike` and `search` with a leading wildcard still read every row.
//!
//! # Why SQL injection cannot happen here
//!
//! The only names that reach SQL text are the physical table name, built from a table id
//! that [`physical_table`] checks to be exactly 16 ASCII alphanumerics, and column names,
//! which come from the table's catalogue (never from the request: the request's names are
//! looked up there first) and were checked against `^[a-zA-Z][a-zA-Z0-9_]*$` when created.
//! Every value is a bound parameter.
//!
//! # Concurrency
//!
//! Every write takes a lock on the table's catalogue row first (PostgreSQL: `select ... for
//! update`; SQLite needs none: its writes go through one connection), so the writes to one
//! table run one after another: 50 parallel upserts with one filter leave exactly one row,
//! and a column cannot change under a batch being written. Writes to different tables, and
//! all reads, run in parallel.

mod rows;

pub use rows::*;

use crate::db::sql::Sql;
use crate::db::{Conn, Unique};
pub use crate::domain::data_table::{
    number_value, Cell, ColumnType, Condition, Predicate, RowFilter, SYSTEM_COLUMNS,
};

pub const NAME_UNIQUE: Unique = Unique {
    name: "data_tables_project_name_key",
    columns: "data_tables.project_id, data_tables.name",
};

/// A column type's SQL type on each database.
fn sql_type(column_type: ColumnType, postgres: bool) -> &'static str {
    match (column_type, postgres) {
        (ColumnType::String | ColumnType::Date, _) => "text",
        (ColumnType::Number, true) => "double precision",
        (ColumnType::Number, false) => "real",
        (ColumnType::Boolean, true) => "boolean",
        (ColumnType::Boolean, false) => "integer",
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TableRow {
    pub id: String,
    pub name: String,
    pub project_id: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ColumnRow {
    pub id: String,
    pub data_table_id: String,
    pub name: String,
    #[sqlx(rename = "type")]
    pub type_name: String,
    pub position: i64,
}

impl ColumnRow {
    pub fn column_type(&self) -> ColumnType {
        // The catalogue only ever holds the four names `ColumnType::as_str` writes.
        ColumnType::parse(&self.type_name).unwrap_or(ColumnType::String)
    }
}

/// The physical table of a data table. Ids are checked here, at the one place a name is
/// made, so that nothing else can reach SQL text.
pub fn physical_table(table_id: &str) -> Option<String> {
    (table_id.len() == 16 && table_id.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| format!("\"data_table_user_{table_id}\""))
}

fn table_name(table_id: &str) -> sqlx::Result<String> {
    physical_table(table_id).ok_or_else(|| sqlx::Error::Protocol("invalid data table id".into()))
}

/// A column name quoted for SQL. Names were validated when the column was created; this
/// re-checks, so a bad catalogue entry fails instead of reaching SQL.
pub fn quoted(name: &str) -> sqlx::Result<String> {
    let valid = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && name.len() <= 63;
    if valid || SYSTEM_COLUMNS.contains(&name) {
        Ok(format!("\"{name}\""))
    } else {
        Err(sqlx::Error::Protocol("invalid column name".into()))
    }
}

/// The index of a column: named after the column's id (16 alphanumerics, checked), so a
/// rename keeps it. Boolean columns get none (two values select too little to pay for one).
fn index_ddl(
    table_id: &str,
    column_id: &str,
    name: &str,
    column_type: ColumnType,
) -> sqlx::Result<Option<String>> {
    if column_type == ColumnType::Boolean {
        return Ok(None);
    }
    Ok(Some(format!(
        "create index {} on {} ({})",
        index_name(column_id)?,
        table_name(table_id)?,
        quoted(name)?
    )))
}

fn index_name(column_id: &str) -> sqlx::Result<String> {
    if column_id.len() == 16 && column_id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(format!("\"data_table_index_{column_id}\""))
    } else {
        Err(sqlx::Error::Protocol("invalid column id".into()))
    }
}

/// The `select` list of a table's rows.
fn select_list(columns: &[ColumnRow]) -> sqlx::Result<String> {
    let mut list = String::from("\"id\", \"createdAt\", \"updatedAt\"");
    for column in columns {
        list.push_str(", ");
        list.push_str(&quoted(&column.name)?);
    }
    Ok(list)
}

// ---- The catalogue ----------------------------------------------------------------------

const TABLE_FIELDS: &str = "id, name, project_id, created_at, updated_at";
const COLUMN_FIELDS: &str = "id, data_table_id, name, type, position";

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<TableRow>> {
    const SQL: &str =
        "select id, name, project_id, created_at, updated_at from data_tables where id = $1";
    Sql::query(SQL).bind(id).fetch_optional(conn).await
}

/// Locks a table's catalogue row for the rest of the transaction, so that writes to one
/// table run one after another (PostgreSQL; SQLite's writes are serial anyway), and answers
/// the row as it is now. Every write takes it before it changes anything: a shared lock would
/// not do, since each write also stamps the row's `updated_at`, and two shared holders
/// upgrading at once deadlock. `None` when the table is gone.
pub async fn lock(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<TableRow>> {
    const LOCK: &str = "select id, name, project_id, created_at, updated_at from data_tables \
                        where id = $1 for update";
    const READ: &str =
        "select id, name, project_id, created_at, updated_at from data_tables where id = $1";
    let sql = if conn.is_postgres() { LOCK } else { READ };
    Sql::query(sql).bind(id).fetch_optional(conn).await
}

/// Whether a table of this name exists in the project.
pub async fn name_taken(conn: Conn<'_>, project_id: &str, name: &str) -> sqlx::Result<bool> {
    const SQL: &str = "select id from data_tables where project_id = $1 and name = $2";
    let found: Option<(String,)> = Sql::query(SQL)
        .bind(project_id)
        .bind(name)
        .fetch_optional(conn)
        .await?;
    Ok(found.is_some())
}

/// Creates a table: its catalogue rows and its physical table.
pub async fn create(
    mut conn: Conn<'_>,
    table: &TableRow,
    columns: &[(String, String, ColumnType)],
) -> sqlx::Result<()> {
    const INSERT_TABLE: &str = "insert into data_tables (id, name, project_id, created_at, updated_at) values ($1, $2, $3, $4, $5)";
    Sql::query(INSERT_TABLE)
        .bind(&table.id)
        .bind(&table.name)
        .bind(&table.project_id)
        .bind(&table.created_at)
        .bind(&table.updated_at)
        .execute(conn.reborrow())
        .await?;
    const INSERT_COLUMN: &str = "insert into data_table_columns (id, data_table_id, name, type, position, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)";
    for (position, (id, name, column_type)) in columns.iter().enumerate() {
        Sql::query(INSERT_COLUMN)
            .bind(id)
            .bind(&table.id)
            .bind(name)
            .bind(column_type.as_str())
            .bind(position as i64)
            .bind(&table.created_at)
            .execute(conn.reborrow())
            .await?;
    }
    let postgres = conn.is_postgres();
    let key = if postgres {
        "\"id\" bigint generated by default as identity primary key"
    } else {
        "\"id\" integer primary key autoincrement"
    };
    let mut ddl = format!(
        "create table {} ({key}, \"createdAt\" text not null, \"updatedAt\" text not null",
        table_name(&table.id)?
    );
    for (_, name, column_type) in columns {
        ddl.push_str(&format!(
            ", {} {}",
            quoted(name)?,
            sql_type(*column_type, postgres)
        ));
    }
    ddl.push(')');
    Sql::query(&ddl).execute(conn.reborrow()).await?;
    for (column_id, name, column_type) in columns {
        if let Some(index) = index_ddl(&table.id, column_id, name, *column_type)? {
            Sql::query(&index).execute(conn.reborrow()).await?;
        }
    }
    Ok(())
}

pub async fn rename(conn: Conn<'_>, id: &str, name: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update data_tables set name = $2, updated_at = $3 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(name)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// Marks a table as changed (its rows or columns).
pub async fn touch(conn: Conn<'_>, id: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update data_tables set updated_at = $2 where id = $1";
    Sql::query(SQL).bind(id).bind(now).execute(conn).await?;
    Ok(())
}

/// Deletes a table: its physical table and its catalogue rows.
pub async fn delete(mut conn: Conn<'_>, id: &str) -> sqlx::Result<()> {
    let ddl = format!("drop table if exists {}", table_name(id)?);
    Sql::query(&ddl).execute(conn.reborrow()).await?;
    const SQL: &str = "delete from data_tables where id = $1";
    Sql::query(SQL).bind(id).execute(conn).await?;
    Ok(())
}

/// Drops the physical tables of a project's data tables; the catalogue rows go with the
/// project (foreign keys cascade). Called before a project is deleted.
pub async fn drop_all_in_project(mut conn: Conn<'_>, project_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "select id from data_tables where project_id = $1";
    let ids: Vec<(String,)> = Sql::query(SQL)
        .bind(project_id)
        .fetch_all(conn.reborrow())
        .await?;
    for (id,) in ids {
        delete(conn.reborrow(), &id).await?;
    }
    Ok(())
}

/// Moves a project's data tables to another project. A table whose name the destination
/// already uses gets its id appended, so the move never fails on a name.
pub async fn move_all(conn: Conn<'_>, from: &str, to: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update data_tables set project_id = $2, updated_at = $3, \
        name = case when exists (select 1 from data_tables other where other.project_id = $2 and other.name = data_tables.name) \
                    then name || ' (' || id || ')' else name end \
        where project_id = $1";
    Sql::query(SQL)
        .bind(from)
        .bind(to)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

/// What a table list may be narrowed to.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub ids: Option<Vec<String>>,
    pub project_ids: Option<Vec<String>>,
    /// A part of the name, compared without case.
    pub name: Option<String>,
}

/// The tables the caller may see (`member`: only their projects'), narrowed by `filter`, in
/// `order` (a fixed SQL fragment chosen by the caller from a closed list).
pub async fn list(
    conn: Conn<'_>,
    member: Option<&str>,
    filter: &ListFilter,
    order: &'static str,
    offset: u64,
    limit: Option<u64>,
) -> sqlx::Result<Vec<TableRow>> {
    let mut sql = Sql::build(format!(
        "select {TABLE_FIELDS} from data_tables where 1 = 1"
    ));
    if let Some(user) = member {
        sql.push(" and project_id in (select project_id from project_relations where user_id = ")
            .push_bind(user)
            .push(")");
    }
    for (field, values) in [("id", &filter.ids), ("project_id", &filter.project_ids)] {
        if let Some(values) = values {
            if values.is_empty() {
                return Ok(Vec::new());
            }
            sql.push(" and ")
                .push(field)
                .push(" in (")
                .push_list(values)
                .push(")");
        }
    }
    if let Some(name) = &filter.name {
        // As the rows' `like`: `%` stays a wildcard, `_` and `\` stand for themselves.
        let pattern = format!("%{}%", escape_like(&name.to_lowercase()));
        sql.push(" and lower(name) like ")
            .push_bind(pattern)
            .push(" escape '\\'");
    }
    sql.push(" order by ").push(order);
    if let Some(limit) = limit {
        sql.push(" limit ")
            .push_bind(limit as i64)
            .push(" offset ")
            .push_bind(offset as i64);
    }
    sql.fetch_all(conn).await
}

/// A table's columns in order.
pub async fn columns(conn: Conn<'_>, table_id: &str) -> sqlx::Result<Vec<ColumnRow>> {
    const SQL: &str = "select id, data_table_id, name, type, position from data_table_columns where data_table_id = $1 order by position, created_at";
    Sql::query(SQL).bind(table_id).fetch_all(conn).await
}

/// The columns of many tables at once, grouped by table in order.
pub async fn columns_of(conn: Conn<'_>, table_ids: &[String]) -> sqlx::Result<Vec<ColumnRow>> {
    if table_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(format!(
        "select {COLUMN_FIELDS} from data_table_columns where data_table_id in ("
    ));
    sql.push_list(table_ids)
        .push(") order by data_table_id, position");
    sql.fetch_all(conn).await
}

/// Adds a column at `position` (the columns from there on move one place right).
pub async fn add_column(
    mut conn: Conn<'_>,
    column: &ColumnRow,
    column_type: ColumnType,
    now: &str,
) -> sqlx::Result<()> {
    const SHIFT: &str = "update data_table_columns set position = position + 1 where data_table_id = $1 and position >= $2";
    Sql::query(SHIFT)
        .bind(&column.data_table_id)
        .bind(column.position)
        .execute(conn.reborrow())
        .await?;
    const INSERT: &str = "insert into data_table_columns (id, data_table_id, name, type, position, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)";
    Sql::query(INSERT)
        .bind(&column.id)
        .bind(&column.data_table_id)
        .bind(&column.name)
        .bind(column_type.as_str())
        .bind(column.position)
        .bind(now)
        .execute(conn.reborrow())
        .await?;
    let ddl = format!(
        "alter table {} add column {} {}",
        table_name(&column.data_table_id)?,
        quoted(&column.name)?,
        sql_type(column_type, conn.is_postgres())
    );
    Sql::query(&ddl).execute(conn.reborrow()).await?;
    if let Some(index) = index_ddl(&column.data_table_id, &column.id, &column.name, column_type)? {
        Sql::query(&index).execute(conn).await?;
    }
    Ok(())
}

pub async fn rename_column(
    mut conn: Conn<'_>,
    column: &ColumnRow,
    new_name: &str,
    now: &str,
) -> sqlx::Result<()> {
    const SQL: &str = "update data_table_columns set name = $2, updated_at = $3 where id = $1";
    Sql::query(SQL)
        .bind(&column.id)
        .bind(new_name)
        .bind(now)
        .execute(conn.reborrow())
        .await?;
    let ddl = format!(
        "alter table {} rename column {} to {}",
        table_name(&column.data_table_id)?,
        quoted(&column.name)?,
        quoted(new_name)?
    );
    Sql::query(&ddl).execute(conn).await?;
    Ok(())
}

/// Moves a column to `target` (0-based, clamped to the last place); the others close up.
pub async fn move_column(
    mut conn: Conn<'_>,
    column: &ColumnRow,
    target: i64,
    count: i64,
    now: &str,
) -> sqlx::Result<()> {
    let target = target.clamp(0, (count - 1).max(0));
    let from = column.position;
    if target == from {
        return Ok(());
    }
    let shift = if target < from {
        "update data_table_columns set position = position + 1 where data_table_id = $1 and position >= $2 and position < $3"
    } else {
        "update data_table_columns set position = position - 1 where data_table_id = $1 and position > $3 and position <= $2"
    };
    Sql::query(shift)
        .bind(&column.data_table_id)
        .bind(target)
        .bind(from)
        .execute(conn.reborrow())
        .await?;
    const SET: &str = "update data_table_columns set position = $2, updated_at = $3 where id = $1";
    Sql::query(SET)
        .bind(&column.id)
        .bind(target)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn drop_column(mut conn: Conn<'_>, column: &ColumnRow) -> sqlx::Result<()> {
    const DELETE: &str = "delete from data_table_columns where id = $1";
    Sql::query(DELETE)
        .bind(&column.id)
        .execute(conn.reborrow())
        .await?;
    const CLOSE_UP: &str = "update data_table_columns set position = position - 1 where data_table_id = $1 and position > $2";
    Sql::query(CLOSE_UP)
        .bind(&column.data_table_id)
        .bind(column.position)
        .execute(conn.reborrow())
        .await?;
    // SQLite cannot drop an indexed column; the index goes first on both databases.
    let drop_index = format!("drop index if exists {}", index_name(&column.id)?);
    Sql::query(&drop_index).execute(conn.reborrow()).await?;
    let ddl = format!(
        "alter table {} drop column {}",
        table_name(&column.data_table_id)?,
        quoted(&column.name)?
    );
    Sql::query(&ddl).execute(conn).await?;
    Ok(())
}

/// The storage each data table takes, in bytes, keyed by table id: PostgreSQL's relation
/// sizes (table, indexes and TOAST) or SQLite's page counts per table.
pub async fn sizes(conn: Conn<'_>) -> sqlx::Result<Vec<(String, i64)>> {
    let rows: Vec<(String, i64)> = match conn {
        Conn::Postgres(c) => {
            sqlx::query_as(
                "select substr(c.relname, 17), pg_total_relation_size(c.oid)::bigint from pg_class c \
                 join pg_namespace n on n.oid = c.relnamespace \
                 where n.nspname = current_schema() and c.relkind = 'r' and c.relname like 'data\\_table\\_user\\_%'",
            )
            .fetch_all(c)
            .await?
        }
        Conn::Sqlite(c) => {
            sqlx::query_as(
                "select substr(name, 17), cast(sum(pgsize) as integer) from dbstat \
                 where name like 'data\\_table\\_user\\_%' escape '\\' group by name",
            )
            .fetch_all(c)
            .await?
        }
    };
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sixteen_alphanumerics_make_a_table_name() {
        assert_eq!(
            physical_table("AbCdEf0123456789").as_deref(),
            Some("\"data_table_user_AbCdEf0123456789\"")
        );
        for bad in [
            "short",
            "AbCdEf012345678\"",
            "AbCdEf01234567890",
            "AbCdEf0123456-89",
        ] {
            assert_eq!(physical_table(bad), None, "{bad}");
        }
    }

    #[test]
    fn column_names_outside_the_pattern_never_reach_sql() {
        assert!(quoted("price_1").is_ok());
        assert!(quoted("createdAt").is_ok());
        for bad in ["1a", "a-b", "a\"b", "a b", "", "_a"] {
            assert!(quoted(bad).is_err(), "{bad}");
        }
    }
}
