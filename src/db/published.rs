//! What the engine reads and writes about published workflows outside the workflow API:
//! which versions are published (for schedules) and the static data triggers keep.

use crate::db::Conn;
use crate::on_conn;

/// Every published workflow with its published version id.
pub async fn published(conn: Conn<'_>) -> sqlx::Result<Vec<(String, String)>> {
    const SQL: &str = "select id, active_version_id from workflows \
                       where active = true and active_version_id is not null order by id";
    on_conn!(conn, c => sqlx::query_as(SQL).fetch_all(c).await)
}

pub async fn static_data(
    conn: Conn<'_>,
    workflow_id: &str,
) -> sqlx::Result<Option<Option<String>>> {
    const SQL: &str = "select static_data from workflows where id = $1";
    on_conn!(conn, c => sqlx::query_scalar(SQL).bind(workflow_id).fetch_optional(c).await)
}

/// Replaces a workflow's static data (not a new version: n8n keeps it beside the versions).
pub async fn set_static_data(conn: Conn<'_>, workflow_id: &str, data: &str) -> sqlx::Result<()> {
    const SQL: &str = "update workflows set static_data = $2 where id = $1";
    on_conn!(conn, c => sqlx::query(SQL).bind(workflow_id).bind(data).execute(c).await.map(|_| ()))
}
