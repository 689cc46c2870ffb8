//! Tags: the instance's one registry of names (n8n's tag routes). The rules: a name is valid by
//! n8n's limits and unique; a missing tag is "Not Found" for every route.

use crate::app::AppState;
use crate::db::tags::{self as repo, TagRow, NAME_UNIQUE};
use crate::domain::ids::{new_id, TagId};
use crate::domain::names;
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result, ResultExt};
use crate::pagination::{join_key, split_key, PageRequest};

fn valid_name(raw: &str) -> Result<&str> {
    names::tag(raw).map_err(ApiError::bad_request)
}

/// A missing tag, or a malformed id (answered the same).
pub fn not_found() -> ApiError {
    ApiError::not_found("Not Found")
}

fn conflict() -> ApiError {
    ApiError::conflict("Tag already exists")
}

/// One page of tags, oldest first, and the cursor of the next.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(state: &AppState, page: &PageRequest) -> Result<(Vec<TagRow>, Option<String>)> {
    let mut conn = state.db.acquire().await?;
    let rows = repo::list(
        conn.conn(),
        page.after.as_deref().and_then(split_key),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    Ok(page.finish(rows, |t| join_key(&t.created_at, &t.id)))
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn create(state: &AppState, name: &str) -> Result<TagRow> {
    let name = valid_name(name)?;
    let mut tx = state.db.begin().await?;
    let row = repo::insert(tx.conn(), &new_id(), name, &now_iso())
        .await
        .on_unique(NAME_UNIQUE, conflict)?;
    tx.commit().await?;
    Ok(row)
}

/// A tag by id, outside any transaction (the hot read).
#[tracing::instrument(level = "debug", skip_all, fields(tag = %id))]
pub async fn read(state: &AppState, id: &TagId) -> Result<TagRow> {
    repo::read(&mut state.db.reader().await?, id)
        .await?
        .ok_or_else(not_found)
}

#[tracing::instrument(level = "debug", skip_all, fields(tag = %id))]
pub async fn rename(state: &AppState, id: &TagId, name: &str) -> Result<TagRow> {
    let name = valid_name(name)?;
    let mut tx = state.db.begin().await?;
    let row = repo::rename(tx.conn(), id, name, &now_iso())
        .await
        .on_unique(NAME_UNIQUE, conflict)?
        .ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(row)
}

#[tracing::instrument(level = "debug", skip_all, fields(tag = %id))]
pub async fn delete(state: &AppState, id: &TagId) -> Result<TagRow> {
    let mut tx = state.db.begin().await?;
    let row = repo::delete(tx.conn(), id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    Ok(row)
}
