//! Creating, changing and rotating API keys: the rules shared by `/rest/api-keys` and the CLI.

use serde::Serialize;

use crate::app::AppState;
use crate::auth::{Role, ScopeSet, API_KEY_HASH_DOMAIN};
use crate::db::api_keys::{
    self as repo, ApiKeyRow, ApiKeyWithOwnerRow, ListFilter, NewApiKey, OwnerCountRow, SortBy,
    USER_LABEL_UNIQUE,
};
use crate::domain::api_key::{redact, RawApiKey};
use crate::domain::ids::new_id;
use crate::domain::time::{now_iso, now_unix};
use crate::error::{ApiError, Result, ResultExt};

/// n8n's label rule: 1 to 50 characters, and nothing that reads as markup.
pub fn validate_label(raw: &str) -> Result<String> {
    let label = raw.trim();
    let length = label.chars().count();
    if length == 0 || length > 50 {
        return Err(ApiError::bad_request(
            "Label must be 1 to 50 characters long",
        ));
    }
    if label
        .chars()
        .any(|c| c.is_control() || matches!(c, '<' | '>'))
    {
        return Err(ApiError::bad_request(
            "Label can only contain letters, numbers, spaces and punctuation",
        ));
    }
    Ok(label.to_owned())
}

/// The requested scopes, which must be known, non-empty, and all grantable by `role`.
pub fn validate_scopes(role: Role, names: &[String]) -> Result<ScopeSet> {
    if names.is_empty() {
        return Err(ApiError::bad_request("At least one scope is required"));
    }
    let allowed = role.allowed_scopes();
    let mut set = ScopeSet::EMPTY;
    for name in names {
        match crate::auth::Scope::parse(name) {
            Some(scope) if allowed.contains(scope) => set.insert(scope),
            _ => return Err(ApiError::bad_request("Invalid scopes for user role")),
        }
    }
    Ok(set)
}

/// `expiresAt` in Unix seconds, which must lie in the future (or be absent: never expires).
pub fn validate_expiry(expires_at: Option<i64>) -> Result<Option<i64>> {
    match expires_at {
        Some(t) if t <= now_unix() => Err(ApiError::bad_request(
            "Expiration date must be in the future or null",
        )),
        other => Ok(other),
    }
}

fn duplicate_label() -> ApiError {
    ApiError::conflict("An API key with this label already exists")
}

/// A key as `/rest/api-keys` shows it; `rawApiKey` only right after create and rotate.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyView {
    pub id: String,
    pub label: String,
    pub user_id: String,
    pub scopes: Vec<&'static str>,
    pub audience: String,
    pub last_used_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub api_key: String,
    pub expires_at: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_api_key: Option<String>,
}

impl ApiKeyRow {
    pub fn into_view(self, raw: Option<&RawApiKey>) -> ApiKeyView {
        ApiKeyView {
            api_key: redact(&self.key_hint),
            scopes: ScopeSet::from_json(&self.scopes).names(),
            raw_api_key: raw.map(|r| r.expose().to_owned()),
            id: self.id,
            label: self.label,
            user_id: self.user_id,
            audience: self.audience,
            last_used_at: self.last_used_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            expires_at: self.expires_at,
        }
    }
}

/// Creates a key for `user_id` (whose role is `role`) and returns it with its raw secret.
pub async fn create(
    state: &AppState,
    user_id: &str,
    role: Role,
    label: &str,
    scopes: &[String],
    expires_at: Option<i64>,
) -> Result<ApiKeyView> {
    let label = validate_label(label)?;
    let scopes = validate_scopes(role, scopes)?;
    let expires_at = validate_expiry(expires_at)?;
    let raw = RawApiKey::generate();
    let mut tx = state.db.begin().await?;
    let row = repo::insert(
        tx.conn(),
        &NewApiKey {
            id: &new_id(),
            user_id,
            label: &label,
            scopes_json: &scopes.to_json(),
            scope_count: scopes.len() as i64,
            key_hash: &state.lookup.hash(API_KEY_HASH_DOMAIN, raw.expose()),
            key_hint: &raw.hint(),
            expires_at,
            now: &now_iso(),
        },
    )
    .await
    .on_unique(USER_LABEL_UNIQUE, duplicate_label)?;
    tx.commit().await?;
    Ok(row.into_view(Some(&raw)))
}

/// Changes the label and scopes of one of `user_id`'s own keys. Like n8n, a key that is not
/// the caller's (or does not exist) is left alone and the call still succeeds.
pub async fn update(
    state: &AppState,
    user_id: &str,
    role: Role,
    key_id: &str,
    label: &str,
    scopes: &[String],
) -> Result<()> {
    let label = validate_label(label)?;
    let scopes = validate_scopes(role, scopes)?;
    let mut tx = state.db.begin().await?;
    repo::update(
        tx.conn(),
        key_id,
        user_id,
        &label,
        &scopes.to_json(),
        scopes.len() as i64,
        &now_iso(),
    )
    .await
    .on_unique(USER_LABEL_UNIQUE, duplicate_label)?;
    tx.commit().await?;
    Ok(())
}

fn key_not_found() -> ApiError {
    ApiError::not_found("API key not found")
}

/// Gives one of `user_id`'s keys a new secret; the old one stops working at once.
pub async fn rotate(state: &AppState, user_id: &str, key_id: &str) -> Result<ApiKeyView> {
    let mut tx = state.db.begin().await?;
    let key = repo::find(tx.conn(), key_id)
        .await?
        .filter(|k| k.user_id == user_id)
        .ok_or_else(key_not_found)?;
    if key.expires_at.is_some_and(|t| t <= now_unix()) {
        return Err(ApiError::bad_request("Cannot rotate an expired API key"));
    }
    let raw = RawApiKey::generate();
    let row = repo::rotate(
        tx.conn(),
        key_id,
        &state.lookup.hash(API_KEY_HASH_DOMAIN, raw.expose()),
        &raw.hint(),
        &now_iso(),
    )
    .await?
    .ok_or_else(key_not_found)?;
    tx.commit().await?;
    Ok(row.into_view(Some(&raw)))
}

/// Deletes a key: the caller's own, or anyone's for owners and admins.
pub async fn delete(state: &AppState, user_id: &str, role: Role, key_id: &str) -> Result<()> {
    let mut tx = state.db.begin().await?;
    let key = repo::find(tx.conn(), key_id)
        .await?
        .ok_or_else(key_not_found)?;
    if key.user_id != user_id && !role.is_instance_admin() {
        return Err(key_not_found());
    }
    repo::delete(tx.conn(), key_id).await?;
    tx.commit().await?;
    if key.user_id != user_id {
        tracing::info!(key.id = %key_id, key.owner = %key.user_id, by = %user_id, "API key of another user deleted");
    }
    Ok(())
}

/// The key list's query as the request wrote it.
pub struct ListQuery<'a> {
    pub skip: Option<&'a str>,
    pub take: Option<&'a str>,
    pub ownership: Option<&'a str>,
    pub label: Option<&'a str>,
    pub owner_ids: Option<&'a str>,
    pub sort_by: Option<&'a str>,
}

/// The key list's query, checked.
pub struct ListRequest {
    skip: i64,
    take: i64,
    /// `ownership=all`: every user's keys (owners and admins only).
    all: bool,
    label: Option<String>,
    owner_ids: Option<Vec<String>>,
    sort: SortBy,
    descending: bool,
}

const SORT_BY: &str = "sortBy must be label, createdAt, lastUsedAt or scopes with :asc or :desc";

fn number(value: Option<&str>, name: &str, default: i64, max: i64) -> Result<i64> {
    match value {
        None => Ok(default),
        Some(v) => match v.parse::<i64>() {
            Ok(n) if (0..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "{name} must be a whole number from 0 to {max}"
            ))),
        },
    }
}

impl ListRequest {
    /// The checks in n8n's order; `ownership=all` needs an owner or admin (`role`).
    pub fn parse(query: ListQuery<'_>, role: Role) -> Result<ListRequest> {
        let skip = number(query.skip, "skip", 0, i64::MAX)?;
        let take = number(query.take, "take", 10, 250)?;
        let all = match query.ownership {
            None | Some("mine") => false,
            Some("all") => true,
            Some(_) => return Err(ApiError::bad_request("ownership must be mine or all")),
        };
        if all && !role.is_instance_admin() {
            return Err(ApiError::Forbidden);
        }
        let label = query.label.map(str::trim).filter(|l| !l.is_empty());
        if label.is_some_and(|l| l.chars().count() > 100) {
            return Err(ApiError::bad_request(
                "label must be at most 100 characters",
            ));
        }
        let owner_ids: Option<Vec<String>> = query.owner_ids.map(|ids| {
            ids.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        if owner_ids.as_ref().is_some_and(|ids| ids.len() > 100) {
            return Err(ApiError::bad_request("ownerIds may list at most 100 users"));
        }
        let (sort, descending) = match query.sort_by.unwrap_or("createdAt:desc").split_once(':') {
            Some((field, dir @ ("asc" | "desc"))) => {
                let sort = match field {
                    "label" => SortBy::Label,
                    "createdAt" => SortBy::CreatedAt,
                    "lastUsedAt" => SortBy::LastUsedAt,
                    "scopes" => SortBy::Scopes,
                    _ => return Err(ApiError::bad_request(SORT_BY)),
                };
                (sort, dir == "desc")
            }
            _ => return Err(ApiError::bad_request(SORT_BY)),
        };
        Ok(ListRequest {
            skip,
            take,
            all,
            label: label.map(str::to_owned),
            owner_ids,
            sort,
            descending,
        })
    }
}

/// One page of keys with n8n's counts: `(mine, all)` matching the filter and in total.
pub struct KeyList {
    pub rows: Vec<ApiKeyWithOwnerRow>,
    pub counts: (i64, i64),
    pub totals: (i64, i64),
    /// Every key owner with their key count (owners and admins only).
    pub owners: Vec<OwnerCountRow>,
}

/// `filter` without its label filter (the totals n8n shows beside the counts).
fn unlabelled(filter: ListFilter<'_>) -> ListFilter<'_> {
    ListFilter {
        label: None,
        ..filter
    }
}

/// The key list of `user_id` (whose role is `role`).
pub async fn list(
    state: &AppState,
    user_id: &str,
    role: Role,
    request: &ListRequest,
) -> Result<KeyList> {
    let can_manage = role.is_instance_admin();
    let mine = [user_id.to_owned()];
    let everyone = ListFilter {
        owner_ids: request.owner_ids.as_deref(),
        label: request.label.as_deref(),
        sort: request.sort,
        descending: request.descending,
        skip: request.skip,
        take: request.take,
    };
    let mine_filter = ListFilter {
        owner_ids: Some(&mine),
        ..everyone
    };
    // Without ownership=all the list is the caller's own keys, whatever ownerIds says.
    let page_filter = if request.all { everyone } else { mine_filter };
    let mut conn = state.db.acquire().await?;
    let rows = repo::list(conn.conn(), &page_filter).await?;
    let count_mine = repo::count(conn.conn(), &mine_filter).await?;
    let total_mine = repo::count(conn.conn(), &unlabelled(mine_filter)).await?;
    if !can_manage {
        return Ok(KeyList {
            rows,
            counts: (count_mine, count_mine),
            totals: (total_mine, total_mine),
            owners: Vec::new(),
        });
    }
    let count_all = repo::count(conn.conn(), &everyone).await?;
    let every_key = ListFilter {
        owner_ids: None,
        ..unlabelled(everyone)
    };
    let total_all = repo::count(conn.conn(), &every_key).await?;
    let owners = repo::owners(conn.conn()).await?;
    Ok(KeyList {
        rows,
        counts: (count_mine, count_all),
        totals: (total_mine, total_all),
        owners,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_follow_n8ns_rules() {
        assert_eq!(validate_label("  CI key ").expect("ok"), "CI key");
        assert!(validate_label("").is_err());
        assert!(validate_label(&"x".repeat(51)).is_err());
        assert!(validate_label("<script>alert(1)</script>").is_err());
        assert!(validate_label("deploy: prod (v2), #1!").is_ok());
    }

    #[test]
    fn scopes_must_be_known_non_empty_and_within_the_role() {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(validate_scopes(Role::Member, &[]).is_err());
        assert!(validate_scopes(Role::Member, &names(&["tag:read", "workflow:list"])).is_ok());
        assert!(validate_scopes(Role::Member, &names(&["tag:delete"])).is_err());
        assert!(validate_scopes(Role::Owner, &names(&["tag:delete"])).is_ok());
        assert!(validate_scopes(Role::Owner, &names(&["workflow:export"])).is_err());
    }

    #[test]
    fn expiry_must_be_in_the_future() {
        assert!(validate_expiry(None).expect("ok").is_none());
        assert!(validate_expiry(Some(now_unix() - 1)).is_err());
        assert!(validate_expiry(Some(now_unix() + 60)).is_ok());
    }
}
