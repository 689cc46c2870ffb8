//! Production webhooks of published workflows (see migration 0007).

use crate::db::sql::Sql;
use crate::db::{Conn, Reader, Unique};

/// Two published workflows cannot answer the same method and path.
pub const PATH_UNIQUE: Unique = Unique {
    name: "webhooks_pkey",
    columns: "webhooks.method, webhooks.path",
};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct WebhookRow {
    pub method: String,
    pub path: String,
    pub workflow_id: String,
    pub node: String,
    pub webhook_id: Option<String>,
    pub path_length: Option<i64>,
}

const COLUMNS: &str = "method, path, workflow_id, node, webhook_id, path_length";

pub async fn insert(conn: Conn<'_>, row: &WebhookRow) -> sqlx::Result<()> {
    const SQL: &str =
        "insert into webhooks (method, path, workflow_id, node, webhook_id, path_length) \
                       values ($1, $2, $3, $4, $5, $6)";
    Sql::query(SQL)
        .bind(&row.method)
        .bind(&row.path)
        .bind(&row.workflow_id)
        .bind(&row.node)
        .bind(&row.webhook_id)
        .bind(row.path_length)
        .execute(conn)
        .await
        .map(|_| ())
}

pub async fn delete_for_workflow(conn: Conn<'_>, workflow_id: &str) -> sqlx::Result<()> {
    const SQL: &str = "delete from webhooks where workflow_id = $1";
    Sql::query(SQL)
        .bind(workflow_id)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The registrations of one workflow (its published version's webhooks), by path.
pub async fn of_workflow(conn: Conn<'_>, workflow_id: &str) -> sqlx::Result<Vec<WebhookRow>> {
    let sql =
        format!("select {COLUMNS} from webhooks where workflow_id = $1 order by path, method");
    Sql::query(&sql).bind(workflow_id).fetch_all(conn).await
}

/// A registration with the published version that answers it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PublishedWebhook {
    #[sqlx(flatten)]
    pub row: WebhookRow,
    pub version_id: String,
}

const PUBLISHED: &str =
    "select h.method, h.path, h.workflow_id, h.node, h.webhook_id, h.path_length, \
                         w.active_version_id as version_id \
                         from webhooks h join workflows w on w.id = h.workflow_id \
                         where w.active = true and w.active_version_id is not null";

impl crate::db::direct::DirectRow for PublishedWebhook {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        use crate::db::direct::column;
        Ok(PublishedWebhook {
            row: WebhookRow {
                method: column(row, 0, "method")?,
                path: column(row, 1, "path")?,
                workflow_id: column(row, 2, "workflow_id")?,
                node: column(row, 3, "node")?,
                webhook_id: column(row, 4, "webhook_id")?,
                path_length: column(row, 5, "path_length")?,
            },
            version_id: column(row, 6, "version_id")?,
        })
    }
}

/// Every registration of a path, whatever the method (to tell a wrong method from a missing
/// path), with its published version: one read answers a webhook's look-up. It runs on every
/// webhook call, so through a [`Reader`] (on SQLite, on the caller's thread).
pub async fn find_path(reader: &mut Reader<'_>, path: &str) -> sqlx::Result<Vec<PublishedWebhook>> {
    let sql = format!("{PUBLISHED} and h.path = $1 order by h.method");
    reader.fetch_all(&Sql::query(&sql).bind(path)).await
}

/// The parameterised webhooks under a node's webhookId with `length` segments after it.
pub async fn find_dynamic(
    conn: Conn<'_>,
    webhook_id: &str,
    length: i64,
) -> sqlx::Result<Vec<PublishedWebhook>> {
    let sql = format!(
        "{PUBLISHED} and h.webhook_id = $1 and h.path_length = $2 order by h.method, h.path"
    );
    Sql::query(&sql)
        .bind(webhook_id)
        .bind(length)
        .fetch_all(conn)
        .await
}

/// The registrations that would clash with `row` (same method and path) from another workflow.
pub async fn find_conflict(
    conn: Conn<'_>,
    method: &str,
    path: &str,
) -> sqlx::Result<Option<WebhookRow>> {
    let sql = format!("select {COLUMNS} from webhooks where method = $1 and path = $2");
    Sql::query(&sql)
        .bind(method)
        .bind(path)
        .fetch_optional(conn)
        .await
}
