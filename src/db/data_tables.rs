//! Data tables: the catalogue (tables, columns) and the rows.
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

use serde_json::{Map, Number, Value};

use crate::db::{Conn, Unique};
use crate::on_conn;

pub const NAME_UNIQUE: Unique = Unique {
    name: "data_tables_project_name_key",
    columns: "data_tables.project_id, data_tables.name",
};

/// The system columns every data table has, in the order rows show them.
pub const SYSTEM_COLUMNS: [&str; 3] = ["id", "createdAt", "updatedAt"];

/// Rows per `insert` statement stay under this many bound values (SQLite's default limit is
/// 32766, PostgreSQL's 65535).
const MAX_BINDS_PER_STATEMENT: usize = 30_000;

/// The type of a data-table column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    String,
    Number,
    Boolean,
    Date,
}

impl ColumnType {
    pub fn parse(text: &str) -> Option<ColumnType> {
        match text {
            "string" => Some(ColumnType::String),
            "number" => Some(ColumnType::Number),
            "boolean" => Some(ColumnType::Boolean),
            "date" => Some(ColumnType::Date),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ColumnType::String => "string",
            ColumnType::Number => "number",
            ColumnType::Boolean => "boolean",
            ColumnType::Date => "date",
        }
    }

    fn sql_type(self, postgres: bool) -> &'static str {
        match (self, postgres) {
            (ColumnType::String | ColumnType::Date, _) => "text",
            (ColumnType::Number, true) => "double precision",
            (ColumnType::Number, false) => "real",
            (ColumnType::Boolean, true) => "boolean",
            (ColumnType::Boolean, false) => "integer",
        }
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

/// A value ready to bind: typed, so that a `null` binds with its column's SQL type.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null(ColumnType),
    Text(String),
    Number(f64),
    Boolean(bool),
    /// The integer `id` system column.
    Integer(i64),
}

/// Binds `$cells` to `sqlx::query($sql)`, in order, on whichever backend `on_conn!` chose.
macro_rules! bound_query {
    ($sql:expr, $cells:expr) => {{
        let mut query = sqlx::query($sql);
        for cell in $cells {
            query = match cell {
                Cell::Null(ColumnType::Number) => query.bind(None::<f64>),
                Cell::Null(ColumnType::Boolean) => query.bind(None::<bool>),
                Cell::Null(_) => query.bind(None::<String>),
                Cell::Text(text) => query.bind(text.as_str()),
                Cell::Number(n) => query.bind(*n),
                Cell::Boolean(b) => query.bind(*b),
                Cell::Integer(i) => query.bind(*i),
            };
        }
        query
    }};
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

/// A whole number as an integer (`5`, not `5.0`), as n8n's JavaScript shows it.
pub fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        Value::from(n as i64)
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
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
    on_conn!(conn, c => sqlx::query_as(SQL).bind(id).fetch_optional(c).await)
}

/// Locks a table's catalogue row for the rest of the transaction, so that writes to one
/// table run one after another (PostgreSQL; SQLite's writes are serial anyway). Every write
/// takes it, before anything else: a shared lock would not do, since each write also stamps
/// the row's `updated_at`, and two shared holders upgrading at once deadlock. Answers
/// whether the table still exists.
pub async fn lock(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "select id from data_tables where id = $1 for update";
    let found: Option<(String,)> = match conn {
        Conn::Postgres(c) => sqlx::query_as(SQL).bind(id).fetch_optional(c).await?,
        Conn::Sqlite(c) => {
            sqlx::query_as("select id from data_tables where id = $1")
                .bind(id)
                .fetch_optional(c)
                .await?
        }
    };
    Ok(found.is_some())
}

/// Whether a table of this name exists in the project.
pub async fn name_taken(conn: Conn<'_>, project_id: &str, name: &str) -> sqlx::Result<bool> {
    const SQL: &str = "select id from data_tables where project_id = $1 and name = $2";
    let found: Option<(String,)> = on_conn!(conn, c => sqlx::query_as(SQL).bind(project_id).bind(name).fetch_optional(c).await)?;
    Ok(found.is_some())
}

/// Creates a table: its catalogue rows and its physical table.
pub async fn create(
    mut conn: Conn<'_>,
    table: &TableRow,
    columns: &[(String, String, ColumnType)],
) -> sqlx::Result<()> {
    const INSERT_TABLE: &str = "insert into data_tables (id, name, project_id, created_at, updated_at) values ($1, $2, $3, $4, $5)";
    on_conn!(conn.reborrow(), c => sqlx::query(INSERT_TABLE).bind(&table.id).bind(&table.name).bind(&table.project_id)
        .bind(&table.created_at).bind(&table.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
    const INSERT_COLUMN: &str = "insert into data_table_columns (id, data_table_id, name, type, position, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)";
    for (position, (id, name, column_type)) in columns.iter().enumerate() {
        on_conn!(conn.reborrow(), c => sqlx::query(INSERT_COLUMN).bind(id).bind(&table.id).bind(name)
            .bind(column_type.as_str()).bind(position as i64).bind(&table.created_at).execute(c).await.map(|r| r.rows_affected()))?;
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
            column_type.sql_type(postgres)
        ));
    }
    ddl.push(')');
    on_conn!(conn.reborrow(), c => sqlx::query(&ddl).execute(c).await.map(|r| r.rows_affected()))?;
    for (column_id, name, column_type) in columns {
        if let Some(index) = index_ddl(&table.id, column_id, name, *column_type)? {
            on_conn!(conn.reborrow(), c => sqlx::query(&index).execute(c).await.map(|r| r.rows_affected()))?;
        }
    }
    Ok(())
}

pub async fn rename(conn: Conn<'_>, id: &str, name: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update data_tables set name = $2, updated_at = $3 where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(name).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Marks a table as changed (its rows or columns).
pub async fn touch(conn: Conn<'_>, id: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update data_tables set updated_at = $2 where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(id).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Deletes a table: its physical table and its catalogue rows.
pub async fn delete(mut conn: Conn<'_>, id: &str) -> sqlx::Result<()> {
    let ddl = format!("drop table if exists {}", table_name(id)?);
    on_conn!(conn.reborrow(), c => sqlx::query(&ddl).execute(c).await.map(|r| r.rows_affected()))?;
    const SQL: &str = "delete from data_tables where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Drops the physical tables of a project's data tables; the catalogue rows go with the
/// project (foreign keys cascade). Called before a project is deleted.
pub async fn drop_all_in_project(mut conn: Conn<'_>, project_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "select id from data_tables where project_id = $1";
    let ids: Vec<(String,)> =
        on_conn!(conn.reborrow(), c => sqlx::query_as(SQL).bind(project_id).fetch_all(c).await)?;
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
    on_conn!(conn, c => sqlx::query(SQL).bind(from).bind(to).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
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
    let mut sql = format!("select {TABLE_FIELDS} from data_tables where 1 = 1");
    let mut binds: Vec<Cell> = Vec::new();
    fn next(binds: &mut Vec<Cell>, value: String) -> String {
        binds.push(Cell::Text(value));
        format!("${}", binds.len())
    }
    if let Some(user) = member {
        let p = next(&mut binds, user.to_owned());
        sql.push_str(&format!(
            " and project_id in (select project_id from project_relations where user_id = {p})"
        ));
    }
    for (field, values) in [("id", &filter.ids), ("project_id", &filter.project_ids)] {
        if let Some(values) = values {
            if values.is_empty() {
                return Ok(Vec::new());
            }
            let placeholders: Vec<String> =
                values.iter().map(|v| next(&mut binds, v.clone())).collect();
            sql.push_str(&format!(" and {field} in ({})", placeholders.join(", ")));
        }
    }
    if let Some(name) = &filter.name {
        let p = next(
            &mut binds,
            format!("%{}%", escape_like(&name.to_lowercase())),
        );
        sql.push_str(&format!(" and lower(name) like {p} escape '\\'"));
    }
    sql.push_str(" order by ");
    sql.push_str(order);
    if let Some(limit) = limit {
        binds.push(Cell::Integer(limit as i64));
        binds.push(Cell::Integer(offset as i64));
        sql.push_str(&format!(
            " limit ${} offset ${}",
            binds.len() - 1,
            binds.len()
        ));
    }
    on_conn!(conn, c => {
        let rows = bound_query!(&sql, &binds).fetch_all(&mut *c).await?;
        use sqlx::FromRow as _;
        rows.iter().map(TableRow::from_row).collect::<sqlx::Result<Vec<_>>>()
    })
}

/// A table's columns in order.
pub async fn columns(conn: Conn<'_>, table_id: &str) -> sqlx::Result<Vec<ColumnRow>> {
    const SQL: &str = "select id, data_table_id, name, type, position from data_table_columns where data_table_id = $1 order by position, created_at";
    on_conn!(conn, c => sqlx::query_as(SQL).bind(table_id).fetch_all(c).await)
}

/// The columns of many tables at once, grouped by table in order.
pub async fn columns_of(conn: Conn<'_>, table_ids: &[String]) -> sqlx::Result<Vec<ColumnRow>> {
    if table_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=table_ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select {COLUMN_FIELDS} from data_table_columns where data_table_id in ({}) order by data_table_id, position",
        placeholders.join(", ")
    );
    let binds: Vec<Cell> = table_ids.iter().map(|id| Cell::Text(id.clone())).collect();
    on_conn!(conn, c => {
        let rows = bound_query!(&sql, &binds).fetch_all(&mut *c).await?;
        use sqlx::FromRow as _;
        rows.iter().map(ColumnRow::from_row).collect::<sqlx::Result<Vec<_>>>()
    })
}

/// Adds a column at `position` (the columns from there on move one place right).
pub async fn add_column(
    mut conn: Conn<'_>,
    column: &ColumnRow,
    column_type: ColumnType,
    now: &str,
) -> sqlx::Result<()> {
    const SHIFT: &str = "update data_table_columns set position = position + 1 where data_table_id = $1 and position >= $2";
    on_conn!(conn.reborrow(), c => sqlx::query(SHIFT).bind(&column.data_table_id).bind(column.position).execute(c).await.map(|r| r.rows_affected()))?;
    const INSERT: &str = "insert into data_table_columns (id, data_table_id, name, type, position, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $6)";
    on_conn!(conn.reborrow(), c => sqlx::query(INSERT).bind(&column.id).bind(&column.data_table_id).bind(&column.name)
        .bind(column_type.as_str()).bind(column.position).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    let ddl = format!(
        "alter table {} add column {} {}",
        table_name(&column.data_table_id)?,
        quoted(&column.name)?,
        column_type.sql_type(conn.is_postgres())
    );
    on_conn!(conn.reborrow(), c => sqlx::query(&ddl).execute(c).await.map(|r| r.rows_affected()))?;
    if let Some(index) = index_ddl(&column.data_table_id, &column.id, &column.name, column_type)? {
        on_conn!(conn, c => sqlx::query(&index).execute(c).await.map(|r| r.rows_affected()))?;
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
    on_conn!(conn.reborrow(), c => sqlx::query(SQL).bind(&column.id).bind(new_name).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    let ddl = format!(
        "alter table {} rename column {} to {}",
        table_name(&column.data_table_id)?,
        quoted(&column.name)?,
        quoted(new_name)?
    );
    on_conn!(conn, c => sqlx::query(&ddl).execute(c).await.map(|r| r.rows_affected()))?;
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
    on_conn!(conn.reborrow(), c => sqlx::query(shift).bind(&column.data_table_id).bind(target).bind(from).execute(c).await.map(|r| r.rows_affected()))?;
    const SET: &str = "update data_table_columns set position = $2, updated_at = $3 where id = $1";
    on_conn!(conn, c => sqlx::query(SET).bind(&column.id).bind(target).bind(now).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn drop_column(mut conn: Conn<'_>, column: &ColumnRow) -> sqlx::Result<()> {
    const DELETE: &str = "delete from data_table_columns where id = $1";
    on_conn!(conn.reborrow(), c => sqlx::query(DELETE).bind(&column.id).execute(c).await.map(|r| r.rows_affected()))?;
    const CLOSE_UP: &str = "update data_table_columns set position = position - 1 where data_table_id = $1 and position > $2";
    on_conn!(conn.reborrow(), c => sqlx::query(CLOSE_UP).bind(&column.data_table_id).bind(column.position).execute(c).await.map(|r| r.rows_affected()))?;
    // SQLite cannot drop an indexed column; the index goes first on both databases.
    let drop_index = format!("drop index if exists {}", index_name(&column.id)?);
    on_conn!(conn.reborrow(), c => sqlx::query(&drop_index).execute(c).await.map(|r| r.rows_affected()))?;
    let ddl = format!(
        "alter table {} drop column {}",
        table_name(&column.data_table_id)?,
        quoted(&column.name)?
    );
    on_conn!(conn, c => sqlx::query(&ddl).execute(c).await.map(|r| r.rows_affected()))?;
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

// ---- Rows -------------------------------------------------------------------------------

/// A comparison of one column with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Condition {
    Eq,
    Neq,
    Like,
    Ilike,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Condition {
    pub fn parse(text: &str) -> Option<Condition> {
        Some(match text {
            "eq" => Condition::Eq,
            "neq" => Condition::Neq,
            "like" => Condition::Like,
            "ilike" => Condition::Ilike,
            "gt" => Condition::Gt,
            "gte" => Condition::Gte,
            "lt" => Condition::Lt,
            "lte" => Condition::Lte,
            _ => return None,
        })
    }
}

/// One condition of a row filter. `column` is a name from the table's catalogue (or a
/// system column); the value is already typed for it.
#[derive(Clone, Debug)]
pub struct Predicate {
    pub column: String,
    pub condition: Condition,
    pub value: Cell,
}

/// A row filter: all predicates (`and`) or any of them (`or`).
#[derive(Clone, Debug, Default)]
pub struct RowFilter {
    pub any: bool,
    pub predicates: Vec<Predicate>,
}

/// Escapes `\` and `_` for a `like ... escape '\'` pattern; `%` stays a wildcard.
fn escape_like(text: &str) -> String {
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

/// SQL text with its bound values, built up piece by piece.
struct Sql {
    text: String,
    binds: Vec<Cell>,
    postgres: bool,
}

impl Sql {
    fn new(text: impl Into<String>, postgres: bool) -> Sql {
        Sql {
            text: text.into(),
            binds: Vec::new(),
            postgres,
        }
    }

    /// `select <system columns, columns> from <the table's storage>`.
    fn select_rows(table_id: &str, columns: &[ColumnRow], postgres: bool) -> sqlx::Result<Sql> {
        Ok(Sql::new(
            format!(
                "select {} from {}",
                select_list(columns)?,
                table_name(table_id)?
            ),
            postgres,
        ))
    }

    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    /// Appends a placeholder for `cell`. Values are always bound in the order their
    /// placeholders appear, so SQLite gets anonymous `?`s: for a numbered `$n`, sqlx asks
    /// SQLite for each parameter's name, a linear search, which made a 1,000-row insert
    /// (7,000 parameters) quadratic. PostgreSQL needs the numbers.
    fn bind(&mut self, cell: Cell) {
        self.binds.push(cell);
        if self.postgres {
            self.text.push('$');
            self.text.push_str(&self.binds.len().to_string());
        } else {
            self.text.push('?');
        }
    }

    /// ` where ...` for a filter and a search (nothing when both are empty).
    /// With `after_id`, only rows after that id (the keyset start of a page).
    fn filter(
        &mut self,
        filter: &RowFilter,
        search: Option<(&str, &[ColumnRow])>,
        after_id: Option<i64>,
    ) -> sqlx::Result<()> {
        let mut started = false;
        if let Some(id) = after_id {
            self.push(" where \"id\" > ");
            self.bind(Cell::Integer(id));
            started = true;
        }
        if !filter.predicates.is_empty() {
            self.push(if started { " and (" } else { " where (" });
            started = true;
            for (i, p) in filter.predicates.iter().enumerate() {
                if i > 0 {
                    self.push(if filter.any { " or " } else { " and " });
                }
                self.predicate(p)?;
            }
            self.push(")");
        }
        if let Some((term, columns)) = search {
            let searchable: Vec<&ColumnRow> = columns
                .iter()
                .filter(|c| c.column_type() == ColumnType::String)
                .collect();
            self.push(if started { " and (" } else { " where (" });
            if searchable.is_empty() {
                self.push("1 = 0");
            }
            let pattern = escape_like(&like_pattern(term));
            for (i, column) in searchable.iter().enumerate() {
                if i > 0 {
                    self.push(" or ");
                }
                self.push(&quoted(&column.name)?);
                self.push(if self.postgres { " ilike " } else { " like " });
                self.bind(Cell::Text(pattern.clone()));
                self.push(" escape '\\'");
            }
            self.push(")");
        }
        Ok(())
    }

    fn predicate(&mut self, p: &Predicate) -> sqlx::Result<()> {
        let column = quoted(&p.column)?;
        let null = matches!(p.value, Cell::Null(_));
        match (p.condition, null) {
            (Condition::Eq, true) => self.push(&format!("{column} is null")),
            (Condition::Neq, true) => self.push(&format!("{column} is not null")),
            (Condition::Neq, false) => {
                self.push(&format!("({column} <> "));
                self.bind(p.value.clone());
                self.push(&format!(" or {column} is null)"));
            }
            (Condition::Like | Condition::Ilike, _) => {
                let Cell::Text(text) = &p.value else {
                    return Err(sqlx::Error::Protocol("like needs text".into()));
                };
                let pattern = like_pattern(text);
                match (p.condition, self.postgres) {
                    (Condition::Like, false) => {
                        self.push(&format!("{column} glob "));
                        self.bind(Cell::Text(glob_pattern(&pattern)));
                    }
                    (Condition::Like, true) => {
                        self.push(&format!("{column} like "));
                        self.bind(Cell::Text(escape_like(&pattern)));
                        self.push(" escape '\\'");
                    }
                    (_, false) => {
                        self.push(&format!("upper({column}) like upper("));
                        self.bind(Cell::Text(escape_like(&pattern)));
                        self.push(") escape '\\'");
                    }
                    (_, true) => {
                        self.push(&format!("{column} ilike "));
                        self.bind(Cell::Text(escape_like(&pattern)));
                        self.push(" escape '\\'");
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
                self.push(&format!("{column} {op} "));
                self.bind(p.value.clone());
            }
        }
        Ok(())
    }
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
    let mut sql = Sql::select_rows(table_id, columns, conn.is_postgres())?;
    let (after, offset) = match page.start {
        RowStart::AfterId(id) => (Some(id), 0),
        RowStart::Offset(o) => (None, o),
    };
    sql.filter(page.filter, page.search.map(|s| (s, columns)), after)?;
    finish_select(conn, sql, columns, page.order, offset, page.limit).await
}

async fn finish_select(
    conn: Conn<'_>,
    mut sql: Sql,
    columns: &[ColumnRow],
    order: Option<&RowOrder>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    match order {
        Some(o) if o.column != "id" => {
            sql.push(&format!(
                " order by {} {}, \"id\"",
                quoted(&o.column)?,
                if o.descending { "desc" } else { "asc" }
            ));
        }
        Some(o) if o.descending => sql.push(" order by \"id\" desc"),
        _ => sql.push(" order by \"id\""),
    }
    sql.push(" limit ");
    sql.bind(Cell::Integer(limit as i64));
    sql.push(" offset ");
    sql.bind(Cell::Integer(offset as i64));
    on_conn!(conn, c => {
        let rows = bound_query!(&sql.text, &sql.binds).fetch_all(&mut *c).await?;
        Ok(decode_rows!(rows, columns))
    })
}

/// All rows matching `filter`, in id order (for dry runs and affected-row answers).
pub async fn matching(
    conn: Conn<'_>,
    table_id: &str,
    columns: &[ColumnRow],
    filter: &RowFilter,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    let mut sql = Sql::select_rows(table_id, columns, conn.is_postgres())?;
    sql.filter(filter, None, None)?;
    sql.push(" order by \"id\"");
    on_conn!(conn, c => {
        let rows = bound_query!(&sql.text, &sql.binds).fetch_all(&mut *c).await?;
        Ok(decode_rows!(rows, columns))
    })
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
    if let Conn::Postgres(c) = conn {
        let table = table_name(table_id)?;
        let sql = format!(
            "select setval(pg_get_serial_sequence($1, 'id'), coalesce((select max(\"id\") from {table}), 0) + 1, false)"
        );
        sqlx::query(&sql).bind(&table).execute(c).await?;
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
    let postgres = conn.is_postgres();
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
    let chunk = (MAX_BINDS_PER_STATEMENT / per_row).max(1);
    let returned_columns: &[ColumnRow] = if returning == Returning::Rows {
        columns
    } else {
        &[]
    };
    let mut out = Vec::new();
    let mut rows = rows.peekable();
    while rows.peek().is_some() {
        let mut sql = Sql::new(format!("insert into {table} ({names}) values "), postgres);
        for (i, row) in rows.by_ref().take(chunk).enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, cell) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                sql.bind(cell);
            }
            sql.push(")");
        }
        if returning == Returning::Count {
            on_conn!(conn.reborrow(), c => bound_query!(&sql.text, &sql.binds).execute(&mut *c).await.map(|r| r.rows_affected()))?;
            continue;
        }
        sql.push(" returning ");
        sql.push(&select_list(returned_columns)?);
        let mut decoded = on_conn!(conn.reborrow(), c => {
            let rows = bound_query!(&sql.text, &sql.binds).fetch_all(&mut *c).await?;
            decode_rows!(rows, returned_columns)
        });
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
    let mut sql = Sql::new(
        format!("update {} set \"updatedAt\" = ", table_name(table_id)?),
        conn.is_postgres(),
    );
    sql.bind(Cell::Text(now.to_owned()));
    for (name, cell) in values {
        sql.push(&format!(", {} = ", quoted(name)?));
        sql.bind(cell.clone());
    }
    sql.filter(filter, None, None)?;
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
    let mut sql = Sql::new(
        format!("delete from {}", table_name(table_id)?),
        conn.is_postgres(),
    );
    sql.filter(filter, None, None)?;
    run_changing(conn, sql, columns, returning).await
}

/// Runs an `update` or `delete`: answers how many rows it touched, and with `returning`
/// those rows as they are afterwards (updates) or were (deletes), in id order.
async fn run_changing(
    conn: Conn<'_>,
    mut sql: Sql,
    columns: &[ColumnRow],
    returning: bool,
) -> sqlx::Result<(u64, Vec<Map<String, Value>>)> {
    if !returning {
        let done = on_conn!(conn, c => bound_query!(&sql.text, &sql.binds).execute(&mut *c).await.map(|r| r.rows_affected()))?;
        return Ok((done, Vec::new()));
    }
    sql.push(" returning ");
    sql.push(&select_list(columns)?);
    on_conn!(conn, c => {
        let rows = bound_query!(&sql.text, &sql.binds).fetch_all(&mut *c).await?;
        let mut decoded = decode_rows!(rows, columns);
        decoded.sort_by_key(|r| r.get("id").and_then(Value::as_i64).unwrap_or_default());
        Ok((decoded.len() as u64, decoded))
    })
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

    #[test]
    fn like_patterns_treat_only_percent_as_a_wildcard() {
        assert_eq!(like_pattern("ab"), "%ab%");
        assert_eq!(like_pattern("a%"), "a%");
        assert_eq!(escape_like("a_b\\c%"), "a\\_b\\\\c%");
        assert_eq!(glob_pattern("%a*b?[c]%"), "*a[*]b[?][[]c]*");
    }

    #[test]
    fn whole_numbers_show_as_integers() {
        assert_eq!(number_value(5.0).to_string(), "5");
        assert_eq!(number_value(2.5).to_string(), "2.5");
        assert_eq!(number_value(-0.0).to_string(), "0");
    }
}
