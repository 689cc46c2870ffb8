//! What the engine reads and writes about published workflows outside the workflow API:
//! which versions are published (for schedules) and the static data triggers keep.

use crate::db::sql::Sql;
use crate::db::Conn;

/// Every published workflow with its published version id.
pub async fn published(conn: Conn<'_>) -> sqlx::Result<Vec<(String, String)>> {
    const SQL: &str = "select id, active_version_id from workflows \
                       where active = true and active_version_id is not null order by id";
    Sql::query(SQL).fetch_all(conn).await
}

pub async fn static_data(
    conn: Conn<'_>,
    workflow_id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    const SQL: &str = "select static_data from workflows where id = $1";
    Sql::query(SQL)
        .bind(workflow_id)
        .fetch_scalar_optional(conn)
        .await
}

/// Replaces a workflow's static data (not a new version: n8n keeps it beside the versions).
pub async fn set_static_data(conn: Conn<'_>, workflow_id: &str, data: &str) -> sqlx::Result<()> {
    const SQL: &str = "update workflows set static_data = $2 where id = $1";
    Sql::query(SQL)
        .bind(workflow_id)
        .bind(data)
        .execute(conn)
        .await
        .map(|_| ())
}
