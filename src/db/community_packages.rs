//! Installed community packages and the nodes each declares.

use crate::db::Conn;
use crate::on_conn;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PackageRow {
    pub package_name: String,
    pub installed_version: String,
    pub author_name: Option<String>,
    pub author_email: Option<String>,
    pub integrity: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NodeRow {
    pub package_name: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub name: String,
    pub latest_version: i64,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str =
    "package_name, installed_version, author_name, author_email, integrity, created_at, updated_at";
const NODE_COLUMNS: &str = "package_name, type, name, latest_version, created_at, updated_at";

pub async fn find(conn: Conn<'_>, package_name: &str) -> sqlx::Result<Option<PackageRow>> {
    let sql = format!("select {COLUMNS} from community_packages where package_name = $1");
    on_conn!(conn, c => sqlx::query_as(&sql).bind(package_name).fetch_optional(c).await)
}

/// Every package, by name.
pub async fn all(conn: Conn<'_>) -> sqlx::Result<Vec<PackageRow>> {
    let sql = format!("select {COLUMNS} from community_packages order by package_name");
    on_conn!(conn, c => sqlx::query_as(&sql).fetch_all(c).await)
}

/// The nodes of the given packages, by type.
pub async fn nodes_of(conn: Conn<'_>, package_names: &[&str]) -> sqlx::Result<Vec<NodeRow>> {
    if package_names.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (1..=package_names.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "select {NODE_COLUMNS} from community_package_nodes where package_name in ({}) order by type",
        placeholders.join(", ")
    );
    on_conn!(conn, c => {
        let mut query = sqlx::query_as(&sql);
        for name in package_names {
            query = query.bind(*name);
        }
        query.fetch_all(c).await
    })
}

pub struct NewNode<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub latest_version: i64,
}

/// Inserts or replaces a package and its node list (an update replaces every node).
pub async fn save(
    mut conn: Conn<'_>,
    package: &PackageRow,
    nodes: &[NewNode<'_>],
) -> sqlx::Result<()> {
    const UPSERT: &str = "insert into community_packages (package_name, installed_version, author_name, author_email, integrity, created_at, updated_at) \
        values ($1, $2, $3, $4, $5, $6, $7) on conflict (package_name) do update set installed_version = excluded.installed_version, \
        author_name = excluded.author_name, author_email = excluded.author_email, integrity = excluded.integrity, updated_at = excluded.updated_at";
    const CLEAR: &str = "delete from community_package_nodes where package_name = $1";
    const NODE: &str = "insert into community_package_nodes (package_name, type, name, latest_version, created_at, updated_at) \
                        values ($1, $2, $3, $4, $5, $5)";
    on_conn!(conn.reborrow(), c => sqlx::query(UPSERT).bind(&package.package_name).bind(&package.installed_version)
        .bind(&package.author_name).bind(&package.author_email).bind(&package.integrity)
        .bind(&package.created_at).bind(&package.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
    on_conn!(conn.reborrow(), c => sqlx::query(CLEAR).bind(&package.package_name).execute(c).await.map(|r| r.rows_affected()))?;
    for node in nodes {
        on_conn!(conn.reborrow(), c => sqlx::query(NODE).bind(&package.package_name).bind(node.kind).bind(node.name)
            .bind(node.latest_version).bind(&package.updated_at).execute(c).await.map(|r| r.rows_affected()))?;
    }
    Ok(())
}

pub async fn delete(conn: Conn<'_>, package_name: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from community_packages where package_name = $1";
    let n =
        on_conn!(conn, c => sqlx::query(SQL).bind(package_name).execute(c).await?.rows_affected());
    Ok(n == 1)
}
