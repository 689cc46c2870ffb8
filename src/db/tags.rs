//! The global tag registry.

use crate::db::sql::Sql;
use crate::db::{Conn, Reader, Unique};
use crate::direct_row;

pub const NAME_UNIQUE: Unique = Unique {
    name: "tags_name_key",
    columns: "tags.name",
};

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct TagRow {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub updated_at: String,
}

direct_row!(TagRow {
    id,
    name,
    created_at,
    updated_at
});

/// One page in creation order, `limit` rows (the caller asks for one more than it shows, to
/// learn whether a next page exists). With `after` (the last row's `created_at` and `id`),
/// the page starts right after that row through the index, so a deep page costs what the
/// first does; otherwise it skips `offset` rows.
pub async fn list(
    conn: Conn<'_>,
    after: Option<(&str, &str)>,
    offset: u64,
    limit: u64,
) -> sqlx::Result<Vec<TagRow>> {
    match after {
        Some((created_at, id)) => {
            const SQL: &str = "select id, name, created_at, updated_at from tags \
                               where created_at > $1 or (created_at = $1 and id > $2) \
                               order by created_at, id limit $3";
            Sql::query(SQL)
                .bind(created_at)
                .bind(id)
                .bind(limit as i64)
                .fetch_all(conn)
                .await
        }
        None => {
            const SQL: &str = "select id, name, created_at, updated_at from tags order by created_at, id limit $1 offset $2";
            Sql::query(SQL)
                .bind(limit as i64)
                .bind(offset as i64)
                .fetch_all(conn)
                .await
        }
    }
}

fn find_sql(id: &str) -> Sql<'_> {
    Sql::query("select id, name, created_at, updated_at from tags where id = $1").bind(id)
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<TagRow>> {
    find_sql(id).fetch_optional(conn).await
}

/// [`find`] outside a transaction.
pub async fn read(reader: &mut Reader<'_>, id: &str) -> sqlx::Result<Option<TagRow>> {
    reader.fetch_optional(&find_sql(id)).await
}

pub async fn insert(conn: Conn<'_>, id: &str, name: &str, now: &str) -> sqlx::Result<TagRow> {
    const SQL: &str =
        "insert into tags (id, name, created_at, updated_at) values ($1, $2, $3, $3) \
                       returning id, name, created_at, updated_at";
    Sql::query(SQL)
        .bind(id)
        .bind(name)
        .bind(now)
        .fetch_one(conn)
        .await
}

pub async fn rename(
    conn: Conn<'_>,
    id: &str,
    name: &str,
    now: &str,
) -> sqlx::Result<Option<TagRow>> {
    const SQL: &str = "update tags set name = $2, updated_at = $3 where id = $1 \
                       returning id, name, created_at, updated_at";
    Sql::query(SQL)
        .bind(id)
        .bind(name)
        .bind(now)
        .fetch_optional(conn)
        .await
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<TagRow>> {
    const SQL: &str = "delete from tags where id = $1 returning id, name, created_at, updated_at";
    Sql::query(SQL).bind(id).fetch_optional(conn).await
}
