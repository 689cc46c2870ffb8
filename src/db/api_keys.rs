//! Public API keys, stored by the keyed hash of the raw key.

use crate::db::sql::{contains_pattern, Sql};
use crate::db::{Conn, Reader, Unique};
use crate::direct_row;

pub const USER_LABEL_UNIQUE: Unique = Unique {
    name: "api_keys_user_label_key",
    columns: "api_keys.user_id, api_keys.label",
};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub user_id: String,
    pub label: String,
    pub scopes: String,
    pub key_hint: String,
    pub audience: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

const COLUMNS: &str = "id, user_id, label, scopes, key_hint, audience, expires_at, last_used_at, created_at, updated_at";

/// A key row listed with its owner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiKeyWithOwnerRow {
    #[sqlx(flatten)]
    pub key: ApiKeyRow,
    pub owner_email: String,
    pub owner_first_name: Option<String>,
    pub owner_last_name: Option<String>,
}

/// What authentication needs of a key: its scopes and expiry, and its owner's standing now.
#[derive(Debug, sqlx::FromRow)]
pub struct KeyAuthRow {
    pub id: String,
    pub user_id: String,
    pub scopes: String,
    pub key_hash: String,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<String>,
    pub role: String,
    pub disabled: bool,
}

direct_row!(KeyAuthRow {
    id,
    user_id,
    scopes,
    key_hash,
    expires_at,
    last_used_at,
    role,
    disabled
});

pub struct NewApiKey<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub label: &'a str,
    pub scopes_json: &'a str,
    pub scope_count: i64,
    pub key_hash: &'a str,
    pub key_hint: &'a str,
    pub expires_at: Option<i64>,
    pub now: &'a str,
}

pub async fn insert(conn: Conn<'_>, key: &NewApiKey<'_>) -> sqlx::Result<ApiKeyRow> {
    let sql = format!(
        "insert into api_keys (id, user_id, label, scopes, scope_count, key_hash, key_hint, audience, expires_at, \
         last_used_at, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7, 'public-api', $8, null, $9, $9) \
         returning {COLUMNS}"
    );
    Sql::query(&sql)
        .bind(key.id)
        .bind(key.user_id)
        .bind(key.label)
        .bind(key.scopes_json)
        .bind(key.scope_count)
        .bind(key.key_hash)
        .bind(key.key_hint)
        .bind(key.expires_at)
        .bind(key.now)
        .fetch_one(conn)
        .await
}

/// The key and its owner's current role, by the hash of the raw key: everything the guard
/// needs, in one row.
pub async fn find_for_auth(
    reader: &mut Reader<'_>,
    key_hash: &str,
) -> sqlx::Result<Option<KeyAuthRow>> {
    const SQL: &str = "select k.id, k.user_id, k.scopes, k.key_hash, k.expires_at, k.last_used_at, u.role, u.disabled \
                       from api_keys k join users u on u.id = k.user_id \
                       where k.key_hash = $1 and k.audience = 'public-api'";
    reader.fetch_optional(&Sql::query(SQL).bind(key_hash)).await
}

pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<ApiKeyRow>> {
    let sql = format!("select {COLUMNS} from api_keys where id = $1");
    Sql::query(&sql).bind(id).fetch_optional(conn).await
}

/// Sort orders of the key list, as n8n names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SortBy {
    Label,
    CreatedAt,
    LastUsedAt,
    Scopes,
}

/// Filters of the key list.
#[derive(Clone, Copy)]
pub struct ListFilter<'a> {
    /// Only these owners' keys (`None`: every owner).
    pub owner_ids: Option<&'a [String]>,
    /// Case-insensitive substring of the label.
    pub label: Option<&'a str>,
    pub sort: SortBy,
    pub descending: bool,
    pub skip: i64,
    pub take: i64,
}

/// Appends the `where` clause shared by the list and its count.
fn push_filter<'q>(sql: &mut Sql<'q>, filter: &ListFilter<'q>) {
    sql.push(" where k.audience = 'public-api'");
    if let Some(owners) = filter.owner_ids {
        if owners.is_empty() {
            sql.push(" and 1 = 0");
        } else {
            sql.push(" and k.user_id in (").push_list(owners).push(")");
        }
    }
    if let Some(label) = filter.label {
        sql.push(" and lower(k.label) like ")
            .push_bind(contains_pattern(&label.to_lowercase()))
            .push(" escape '\\'");
    }
}

pub async fn list(
    conn: Conn<'_>,
    filter: &ListFilter<'_>,
) -> sqlx::Result<Vec<ApiKeyWithOwnerRow>> {
    let column = match filter.sort {
        SortBy::Label => "lower(k.label)",
        SortBy::CreatedAt => "k.created_at",
        // Never-used keys sort as the oldest use.
        SortBy::LastUsedAt => "coalesce(k.last_used_at, '')",
        SortBy::Scopes => "k.scope_count",
    };
    let direction = if filter.descending { "desc" } else { "asc" };
    let mut sql = Sql::build(
        "select k.id, k.user_id, k.label, k.scopes, k.key_hint, k.audience, k.expires_at, k.last_used_at, \
         k.created_at, k.updated_at, u.email as owner_email, u.first_name as owner_first_name, \
         u.last_name as owner_last_name from api_keys k join users u on u.id = k.user_id",
    );
    push_filter(&mut sql, filter);
    sql.push(&format!(
        " order by {column} {direction}, k.id {direction} limit "
    ))
    .push_bind(filter.take)
    .push(" offset ")
    .push_bind(filter.skip);
    sql.fetch_all(conn).await
}

pub async fn count(conn: Conn<'_>, filter: &ListFilter<'_>) -> sqlx::Result<i64> {
    let mut sql = Sql::build("select count(*) from api_keys k");
    push_filter(&mut sql, filter);
    sql.fetch_scalar(conn).await
}

/// Key counts per owner, for the owners panel of the key list.
#[derive(Debug, sqlx::FromRow)]
pub struct OwnerCountRow {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub key_count: i64,
}

pub async fn owners(conn: Conn<'_>) -> sqlx::Result<Vec<OwnerCountRow>> {
    const SQL: &str = "select u.id, u.email, u.first_name, u.last_name, count(k.id) as key_count \
                       from users u join api_keys k on k.user_id = u.id and k.audience = 'public-api' \
                       group by u.id, u.email, u.first_name, u.last_name order by u.email";
    Sql::query(SQL).fetch_all(conn).await
}

/// Changes label and scopes of one of `user_id`'s keys; answers whether a key changed.
pub async fn update(
    conn: Conn<'_>,
    id: &str,
    user_id: &str,
    label: &str,
    scopes_json: &str,
    scope_count: i64,
    now: &str,
) -> sqlx::Result<bool> {
    const SQL: &str =
        "update api_keys set label = $3, scopes = $4, scope_count = $5, updated_at = $6 \
                       where id = $1 and user_id = $2";
    let n = Sql::query(SQL)
        .bind(id)
        .bind(user_id)
        .bind(label)
        .bind(scopes_json)
        .bind(scope_count)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(n == 1)
}

/// Gives a key a new secret (same id, label, scopes and expiry); the old secret stops working.
pub async fn rotate(
    conn: Conn<'_>,
    id: &str,
    key_hash: &str,
    key_hint: &str,
    now: &str,
) -> sqlx::Result<Option<ApiKeyRow>> {
    let sql = format!(
        "update api_keys set key_hash = $2, key_hint = $3, last_used_at = null, updated_at = $4 where id = $1 \
         returning {COLUMNS}"
    );
    Sql::query(&sql)
        .bind(id)
        .bind(key_hash)
        .bind(key_hint)
        .bind(now)
        .fetch_optional(conn)
        .await
}

pub async fn delete(conn: Conn<'_>, id: &str) -> sqlx::Result<bool> {
    const SQL: &str = "delete from api_keys where id = $1";
    Ok(Sql::query(SQL).bind(id).execute(conn).await? == 1)
}

/// Records a use of the key. Called at most once a minute per key, off the request path.
pub async fn touch_last_used(conn: Conn<'_>, id: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str = "update api_keys set last_used_at = $2 where id = $1";
    Sql::query(SQL).bind(id).bind(now).execute(conn).await?;
    Ok(())
}

/// Whether any public API key never expires (for the security audit).
pub async fn any_without_expiry(conn: Conn<'_>) -> sqlx::Result<bool> {
    const SQL: &str =
        "select count(*) from api_keys where expires_at is null and audience = 'public-api'";
    let n: i64 = Sql::query(SQL).fetch_scalar(conn).await?;
    Ok(n > 0)
}
