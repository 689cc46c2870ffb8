//! Setting a record's creation and change times to given values: what an import from another
//! server needs to keep the times the records had there.

use super::sql::Sql;
use super::Conn;

/// The tables whose records an import brings with their own times.
#[derive(Clone, Copy, Debug)]
pub enum Table {
    Workflows,
    Credentials,
    Tags,
}

impl Table {
    fn sql(self) -> &'static str {
        match self {
            Table::Workflows => {
                "update workflows set created_at = $2, updated_at = $3 where id = $1"
            }
            Table::Credentials => {
                "update credentials set created_at = $2, updated_at = $3 where id = $1"
            }
            Table::Tags => "update tags set created_at = $2, updated_at = $3 where id = $1",
        }
    }
}

/// Sets `created_at` and `updated_at` of record `id` (ISO-8601 UTC text, as stored).
pub async fn keep(
    conn: Conn<'_>,
    table: Table,
    id: &str,
    created_at: &str,
    updated_at: &str,
) -> sqlx::Result<()> {
    Sql::query(table.sql())
        .bind(id)
        .bind(created_at)
        .bind(updated_at)
        .execute(conn)
        .await?;
    Ok(())
}
