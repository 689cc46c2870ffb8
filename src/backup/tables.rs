//! The tables an export holds, column by column, and the two statements that move their rows:
//! a `select` of every row into JSON objects and a multi-row `insert` back.
//!
//! Past 600 lines on purpose: most of it is the table list itself, which reads best whole.
//!
//! The list is written out rather than read from the database's catalogue: the two databases
//! describe their columns differently (SQLite has no `boolean` type, PostgreSQL has `integer`
//! and `bigint`), and a column's kind decides how its value is decoded and bound on each.
//! A test compares the list with the migrated schema, so a migration that adds a table or a
//! column fails it until the export learns about it.
//!
//! Only names from this list reach SQL text; every value is a bound parameter.

use serde_json::{Map, Value};

use crate::db::sql::{Kind as ParamKind, Param, Rows, Sql, MAX_BINDS};
use crate::db::Conn;

/// How a column's values are decoded and bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    Bool,
    /// A 32-bit integer (PostgreSQL `integer`).
    Int,
    /// A 64-bit integer (`bigint`).
    BigInt,
}

#[derive(Debug)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub nullable: bool,
}

/// One table of the export.
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The `order by` of the export: the primary key, so files of equal data are equal.
    pub order_by: &'static str,
    /// A column that refers to another row of the same table (a folder's parent): rows are
    /// inserted parents first.
    pub parent: Option<&'static str>,
    /// An auto-numbered integer key whose PostgreSQL sequence must follow restored ids.
    pub identity: Option<&'static str>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
        nullable: false,
    }
}

const fn text_or_null(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Text,
        nullable: true,
    }
}

const fn boolean(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Bool,
        nullable: false,
    }
}

const fn bigint(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::BigInt,
        nullable: false,
    }
}

const fn bigint_or_null(name: &'static str) -> Column {
    Column {
        name,
        kind: Kind::BigInt,
        nullable: true,
    }
}

const fn table(name: &'static str, columns: &'static [Column], order_by: &'static str) -> Table {
    Table {
        name,
        columns,
        order_by,
        parent: None,
        identity: None,
    }
}

/// The tables of an export, in an order that satisfies every foreign key on insert.
pub const TABLES: &[Table] = &[
    table(
        "users",
        &[
            text("id"),
            text("email"),
            text_or_null("first_name"),
            text_or_null("last_name"),
            text_or_null("password_hash"),
            text("role"),
            boolean("disabled"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        "projects",
        &[
            text("id"),
            text("name"),
            text("type"),
            text_or_null("icon"),
            text_or_null("description"),
            text_or_null("creator_id"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        "project_relations",
        &[
            text("project_id"),
            text("user_id"),
            text("role"),
            text("created_at"),
            text("updated_at"),
        ],
        "project_id, user_id",
    ),
    table(
        "tags",
        &[
            text("id"),
            text("name"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    Table {
        parent: Some("parent_folder_id"),
        ..table(
            "folders",
            &[
                text("id"),
                text("name"),
                text_or_null("parent_folder_id"),
                text("project_id"),
                text("created_at"),
                text("updated_at"),
            ],
            "id",
        )
    },
    table(
        "workflows",
        &[
            text("id"),
            text("name"),
            text_or_null("description"),
            boolean("active"),
            text_or_null("active_version_id"),
            boolean("is_archived"),
            text("version_id"),
            bigint("version_counter"),
            bigint("trigger_count"),
            text("nodes"),
            text("connections"),
            text("node_groups"),
            text("settings"),
            text_or_null("static_data"),
            text_or_null("pin_data"),
            text_or_null("meta"),
            text("project_id"),
            text_or_null("parent_folder_id"),
            text("shared_at"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        "workflow_history",
        &[
            text("version_id"),
            text("workflow_id"),
            text("nodes"),
            text("connections"),
            text("node_groups"),
            text("authors"),
            text_or_null("name"),
            text_or_null("description"),
            boolean("autosaved"),
            text("created_at"),
            text("updated_at"),
        ],
        "version_id",
    ),
    table(
        "workflow_publish_history",
        &[
            text("id"),
            text("workflow_id"),
            text_or_null("version_id"),
            text("event"),
            text_or_null("user_id"),
            text("created_at"),
        ],
        "id",
    ),
    table(
        "workflow_tags",
        &[text("workflow_id"), text("tag_id")],
        "workflow_id, tag_id",
    ),
    table(
        "webhooks",
        &[
            text("method"),
            text("path"),
            text("workflow_id"),
            text("node"),
            text_or_null("webhook_id"),
            bigint_or_null("path_length"),
        ],
        "method, path",
    ),
    table(
        "invitations",
        &[
            text("user_id"),
            text_or_null("inviter_id"),
            text("nonce"),
            bigint("expires_at"),
            text("created_at"),
        ],
        "user_id",
    ),
    table(
        "api_keys",
        &[
            text("id"),
            text("user_id"),
            text("label"),
            text("scopes"),
            Column {
                name: "scope_count",
                kind: Kind::Int,
                nullable: false,
            },
            text("key_hash"),
            text("key_hint"),
            text("audience"),
            Column {
                name: "expires_at",
                kind: Kind::BigInt,
                nullable: true,
            },
            text_or_null("last_used_at"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        "credentials",
        &[
            text("id"),
            text("name"),
            text("type"),
            text("data"),
            text("key_id"),
            text("project_id"),
            boolean("is_managed"),
            boolean("is_global"),
            boolean("is_resolvable"),
            boolean("resolvable_allow_fallback"),
            text_or_null("resolver_id"),
            text("shared_at"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        "variables",
        &[
            text("id"),
            text("key"),
            text("value"),
            text("type"),
            text_or_null("project_id"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        DATA_TABLES,
        &[
            text("id"),
            text("name"),
            text("project_id"),
            text("created_at"),
            text("updated_at"),
        ],
        "id",
    ),
    table(
        DATA_TABLE_COLUMNS,
        &[
            text("id"),
            text("data_table_id"),
            text("name"),
            text("type"),
            bigint("position"),
            text("created_at"),
            text("updated_at"),
        ],
        "data_table_id, position, id",
    ),
    table(
        "source_control_imports",
        &[
            text("resource_type"),
            text("resource_id"),
            text("remote_hash"),
            text("local_version"),
            text("imported_at"),
        ],
        "resource_type, resource_id",
    ),
    table(
        "community_packages",
        &[
            text("package_name"),
            text("installed_version"),
            text_or_null("author_name"),
            text_or_null("author_email"),
            text("integrity"),
            text("created_at"),
            text("updated_at"),
        ],
        "package_name",
    ),
    table(
        "community_package_nodes",
        &[
            text("package_name"),
            text("type"),
            text("name"),
            bigint("latest_version"),
            text("created_at"),
            text("updated_at"),
        ],
        "type",
    ),
    Table {
        identity: Some("id"),
        ..table(
            "executions",
            &[
                bigint("id"),
                text("workflow_id"),
                text("mode"),
                text("status"),
                boolean("finished"),
                text_or_null("retry_of"),
                text_or_null("retry_success_id"),
                text("created_at"),
                text_or_null("started_at"),
                text_or_null("stopped_at"),
                text_or_null("wait_till"),
                text_or_null("workflow_version_id"),
                text_or_null("data"),
                text_or_null("workflow_data"),
                text_or_null("custom_data"),
                bigint("json_size_bytes"),
                text_or_null("lease_owner"),
                text_or_null("lease_until"),
            ],
            "id",
        )
    },
    table(
        "execution_tags",
        &[bigint("execution_id"), text("tag_id")],
        "execution_id, tag_id",
    ),
    table(
        SETTINGS,
        &[text("key"), text("value"), text("updated_at")],
        "key",
    ),
];

pub const DATA_TABLES: &str = "data_tables";
pub const DATA_TABLE_COLUMNS: &str = "data_table_columns";
pub const SETTINGS: &str = "settings";

/// Tables of the schema an export leaves out on purpose: browser sessions (users sign in
/// again; their tokens are worth nothing without the cookie anyway), the migrator's own
/// records (the importing instance migrates its database itself), the leases of running
/// instances (held by processes of the old database, not of the new one), the schedule ticks
/// already fired (only needed while a tick could fire twice, seconds) and webhook answers not
/// yet read (their callers are connected to the old instances), and the files of executions in
/// `database` mode (binary data, as in `filesystem` mode, stays with the instance: an export
/// of JSON is no place for it; imported executions show the references without the files).
pub const SKIPPED: &[&str] = &[
    "sessions",
    "_sqlx_migrations",
    "leases",
    "schedule_ticks",
    "execution_answers",
    "binary_data",
];

/// The export's table of this name.
pub fn find(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// One value, decoded from the database or checked from a file, ready to bind.
#[derive(Clone, Debug, PartialEq)]
pub enum Datum {
    Text(Option<String>),
    Bool(Option<bool>),
    Int(Option<i32>),
    BigInt(Option<i64>),
}

impl Datum {
    pub fn to_json(&self) -> Value {
        match self {
            Datum::Text(v) => v.clone().map_or(Value::Null, Value::String),
            Datum::Bool(v) => v.map_or(Value::Null, Value::Bool),
            Datum::Int(v) => v.map_or(Value::Null, Value::from),
            Datum::BigInt(v) => v.map_or(Value::Null, Value::from),
        }
    }

    /// The value of `column` in a file, or why it does not fit the column.
    pub fn from_json(column: &Column, value: Option<&Value>) -> Result<Datum, String> {
        let value = match value {
            None | Some(Value::Null) if column.nullable => {
                return Ok(match column.kind {
                    Kind::Text => Datum::Text(None),
                    Kind::Bool => Datum::Bool(None),
                    Kind::Int => Datum::Int(None),
                    Kind::BigInt => Datum::BigInt(None),
                })
            }
            None => return Err("is missing".to_owned()),
            Some(Value::Null) => return Err("must not be null".to_owned()),
            Some(value) => value,
        };
        match column.kind {
            Kind::Text => value
                .as_str()
                .map(|s| Datum::Text(Some(s.to_owned())))
                .ok_or_else(|| "must be a string".to_owned()),
            Kind::Bool => value
                .as_bool()
                .map(|b| Datum::Bool(Some(b)))
                .ok_or_else(|| "must be true or false".to_owned()),
            Kind::Int => value
                .as_i64()
                .and_then(|i| i32::try_from(i).ok())
                .map(|i| Datum::Int(Some(i)))
                .ok_or_else(|| "must be a 32-bit integer".to_owned()),
            Kind::BigInt => value
                .as_i64()
                .map(|i| Datum::BigInt(Some(i)))
                .ok_or_else(|| "must be an integer".to_owned()),
        }
    }
}

/// Decodes `rows` as JSON objects of `table`'s columns.
macro_rules! decode_rows {
    ($rows:expr, $table:expr) => {{
        use sqlx::Row as _;
        let mut out = Vec::with_capacity($rows.len());
        for row in &$rows {
            let mut object = Map::with_capacity($table.columns.len());
            for (i, column) in $table.columns.iter().enumerate() {
                let datum = match column.kind {
                    Kind::Text => Datum::Text(row.try_get(i)?),
                    Kind::Bool => Datum::Bool(row.try_get(i)?),
                    Kind::Int => Datum::Int(row.try_get(i)?),
                    Kind::BigInt => Datum::BigInt(row.try_get(i)?),
                };
                object.insert(column.name.to_owned(), datum.to_json());
            }
            out.push(object);
        }
        out
    }};
}

/// Every row of `table`, as JSON objects of its columns, in primary-key order. With `after`,
/// only rows whose (integer) `identity` key is greater, at most `limit` of them: a table that
/// may be large (executions) is read a page at a time.
pub async fn select(
    conn: Conn<'_>,
    table: &Table,
    page: Option<(i64, i64)>,
) -> sqlx::Result<Vec<Map<String, Value>>> {
    let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let mut sql = Sql::build(format!("select {} from {}", names.join(", "), table.name));
    match (table.identity, page) {
        (Some(key), Some((after, limit))) => {
            sql.push(&format!(" where {key} > "))
                .push_bind(after)
                .push(&format!(" order by {key} limit "))
                .push_bind(limit);
        }
        _ => {
            sql.push(&format!(" order by {}", table.order_by));
        }
    }
    Ok(match sql.fetch_rows(conn).await? {
        Rows::Sqlite(rows) => decode_rows!(rows, table),
        Rows::Postgres(rows) => decode_rows!(rows, table),
    })
}

/// How many rows `table` holds.
pub async fn count(conn: Conn<'_>, table: &str) -> sqlx::Result<i64> {
    Sql::build(format!("select count(*) from {table}"))
        .fetch_scalar(conn)
        .await
}

impl From<&Datum> for Param<'_> {
    fn from(datum: &Datum) -> Self {
        match datum {
            Datum::Text(v) => Param::from(v.clone()),
            Datum::Bool(v) => v.map_or(Param::Null(ParamKind::Bool), Param::Bool),
            Datum::Int(v) => v.map_or(Param::Null(ParamKind::Int32), Param::Int32),
            Datum::BigInt(v) => v.map_or(Param::Null(ParamKind::Int), Param::Int),
        }
    }
}

/// Inserts rows (one datum per column of `table`, in column order), many per statement.
pub async fn insert(mut conn: Conn<'_>, table: &Table, rows: &[Vec<Datum>]) -> sqlx::Result<()> {
    let names: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
    let per_row = names.len().max(1);
    let chunk = (MAX_BINDS / per_row).clamp(1, 500);
    for batch in rows.chunks(chunk) {
        let mut sql = Sql::build(format!(
            "insert into {} ({}) values ",
            table.name,
            names.join(", ")
        ));
        for (i, row) in batch.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" })
                .push_list(row)
                .push(")");
        }
        sql.execute(conn.reborrow()).await?;
    }
    Ok(())
}

/// Moves the PostgreSQL sequence of `table`'s identity column past its largest value, so
/// that rows the server numbers later do not collide with restored ones. SQLite's
/// `autoincrement` follows explicit ids by itself.
pub async fn follow_identity(conn: Conn<'_>, table: &Table) -> sqlx::Result<()> {
    let Some(key) = table.identity.filter(|_| conn.is_postgres()) else {
        return Ok(());
    };
    let sql = format!(
        "select setval(pg_get_serial_sequence($1, $2), coalesce((select max({key}) from {}), 0) + 1, false)",
        table.name
    );
    Sql::query(&sql)
        .bind(table.name)
        .bind(key)
        .fetch_rows(conn)
        .await?;
    Ok(())
}

/// Sets a data-table column's times as exported ([`crate::db::data_tables::create`] stamps
/// every column with the table's creation time).
pub async fn stamp_data_table_column(
    conn: Conn<'_>,
    column_id: &str,
    created_at: &str,
    updated_at: &str,
) -> sqlx::Result<()> {
    const SQL: &str =
        "update data_table_columns set created_at = $2, updated_at = $3 where id = $1";
    Sql::query(SQL)
        .bind(column_id)
        .bind(created_at)
        .bind(updated_at)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn table_and_column_names_are_unique_and_plain() {
        let mut names: Vec<&str> = TABLES.iter().map(|t| t.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TABLES.len());
        let plain = |s: &str| s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
        for table in TABLES {
            assert!(plain(table.name), "{}", table.name);
            let mut columns: Vec<&str> = table.columns.iter().map(|c| c.name).collect();
            assert!(columns.iter().all(|c| plain(c)), "{}", table.name);
            columns.sort_unstable();
            columns.dedup();
            assert_eq!(columns.len(), table.columns.len(), "{}", table.name);
        }
    }

    #[test]
    fn values_from_a_file_must_fit_their_column() {
        let flag = boolean("disabled");
        assert_eq!(
            Datum::from_json(&flag, Some(&json!(true))),
            Ok(Datum::Bool(Some(true)))
        );
        assert!(Datum::from_json(&flag, Some(&json!(1))).is_err());
        assert!(Datum::from_json(&flag, None).is_err());
        let note = text_or_null("description");
        assert_eq!(Datum::from_json(&note, None), Ok(Datum::Text(None)));
        let count = Column {
            name: "scope_count",
            kind: Kind::Int,
            nullable: false,
        };
        assert!(Datum::from_json(&count, Some(&json!(5_000_000_000_i64))).is_err());
        assert_eq!(
            Datum::from_json(&bigint("id"), Some(&json!(5_000_000_000_i64))),
            Ok(Datum::BigInt(Some(5_000_000_000)))
        );
        assert!(Datum::from_json(&bigint("id"), Some(&json!(1.5))).is_err());
    }
}
