//! Installed community packages and the nodes each declares.

use crate::db::sql::Sql;
use crate::db::Conn;

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
    Sql::query(&sql)
        .bind(package_name)
        .fetch_optional(conn)
        .await
}

/// Every package, by name.
pub async fn all(conn: Conn<'_>) -> sqlx::Result<Vec<PackageRow>> {
    let sql = format!("select {COLUMNS} from community_packages order by package_name");
    Sql::query(&sql).fetch_all(conn).await
}

/// The nodes of the given packages, by type.
pub async fn nodes_of(conn: Conn<'_>, package_names: &[&str]) -> sqlx::Result<Vec<NodeRow>> {
    if package_names.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(format!(
        "select {NODE_COLUMNS} from community_package_nodes where package_name in ("
    ));
    sql.push_list(package_names.iter().copied())
        .push(") order by type");
    sql.fetch_all(conn).await
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
    Sql::query(UPSERT)
        .bind(&package.package_name)
        .bind(&package.installed_version)
        .bind(&package.author_name)
        .bind(&package.author_email)
        .bind(&package.integrity)
        .bind(&package.created_at)
        .bind(&package.updated_at)
        .execute(conn.reborrow())
        .await?;
    Sql::query(CLEAR)
        .bind(&package.package_name)
        .execute(conn.reborrow())
        .await?;
    for node in nodes {
        Sql::query(NODE)
            .bind(&package.package_name)
            .bind(node.kind)
            .bind(node.name)
            .bind(node.latest_version)
            .bind(&package.updated_at)
            .execute(conn.reborrow())
            .await?;
    }
    Ok(())
}

pub async fn delete(conn: Conn<'_>, package_name: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from community_packages where package_name = $1";
    let n = Sql::query(SQL).bind(package_name).execute(conn).await?;
    Ok(n == 1)
}
