//! Credentials: the rules of n8n's credential routes (a name, a known type and data that fits
//! it; the client-chosen id; the project a credential goes into; who sees, changes, deletes and
//! moves which); secrets at rest, sealed under the instance key and bound to the credential's
//! id; and the connection test of a credential type that has one.
//!
//! Secrets leave this module in clear only for the connection test (and the engine, through
//! [`open`]): spans carry the credential's id, never its data. The connection test is in the
//! `connection` module.

mod connection;

pub use connection::TestOutcome;

use serde_json::{Map, Value};

use crate::access::{self, ProjectAccess};
use crate::app::AppState;
use crate::auth::Principal;
use crate::crypto::KeyRing;
use crate::db::credentials::{self as repo, Changes, CredentialRow, NewCredential};
use crate::db::projects::{self, ProjectRow};
use crate::db::Conn;
use crate::domain::credential_types::{self, CredentialType};
use crate::domain::ids::{new_id, CredentialId, Named};
use crate::domain::names;
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result};
use crate::pagination::{join_key, split_key, PageRequest};
use connection::test_connection;

/// The context a credential's data is sealed under: its id, so a copy on another row fails.
fn context(id: &str) -> String {
    format!("credential:{id}")
}

/// Seals a credential's data for storage.
pub fn seal(keys: &KeyRing, id: &str, data: &Map<String, Value>) -> String {
    keys.seal(&serde_json::to_vec(data).unwrap_or_default(), &context(id))
}

/// Opens a stored credential's data.
pub fn open(keys: &KeyRing, row: &CredentialRow) -> Result<Map<String, Value>, ApiError> {
    let bytes = keys.open(&row.data, &context(&row.id)).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "credential {} cannot be opened: {e}",
            row.id
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "credential {} holds no JSON object: {e}",
            row.id
        ))
    })
}

/// What owners and admins are told of a missing credential on most routes.
const NOT_FOUND: &str = "Credential not found";
/// What owners and admins are told of a missing credential on delete.
const DELETE_NOT_FOUND: &str = "Not Found";

/// A missing credential (or one the caller cannot see, or a malformed id: answered alike).
/// Owners and admins get the route's `admin_message`; members get a message naming the id.
fn not_found(is_admin: bool, id: &str, admin_message: &str) -> ApiError {
    if is_admin {
        ApiError::not_found(admin_message)
    } else {
        ApiError::not_found(format!("Credential with ID \"{id}\" not found."))
    }
}

/// Loads a credential the caller can see, with the caller's access to its project.
async fn visible(
    mut conn: Conn<'_>,
    principal: &Principal,
    id: &Named<CredentialId>,
    admin_message: &str,
) -> Result<(CredentialRow, ProjectAccess)> {
    let missing = || {
        not_found(
            principal.role.is_instance_admin(),
            id.as_str(),
            admin_message,
        )
    };
    let id = id.or_missing(|_| missing())?;
    let found = repo::find(conn.reborrow(), id).await?;
    access::visible(conn, principal, found, |r| &r.project_id, missing).await
}

/// As [`visible`], also requiring the right to change the credential.
async fn writable(
    conn: Conn<'_>,
    principal: &Principal,
    id: &Named<CredentialId>,
    admin_message: &str,
) -> Result<CredentialRow> {
    access::writable(visible(conn, principal, id, admin_message).await?)
}

fn known_type(name: &str) -> Result<&'static CredentialType> {
    credential_types::find(name)
        .ok_or_else(|| ApiError::bad_request("req.body.type is not a known type"))
}

fn valid_name(name: &str) -> Result<&str> {
    names::credential(name).map_err(ApiError::bad_request)
}

/// Whether a client-supplied id is acceptable: 1 to 16 characters of `[a-zA-Z0-9_-]`.
fn is_valid_client_id(id: &str) -> bool {
    (1..=16).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The id of a new credential: the client's, when it is valid (else 400), or a new one.
fn chosen_id(given: Option<String>) -> Result<String> {
    match given {
        Some(id) if is_valid_client_id(&id) => Ok(id),
        Some(_) => Err(ApiError::bad_request(
            "request/body/id must match pattern \"^[a-zA-Z0-9_-]+$\" and be 1 to 16 characters long",
        )),
        None => Ok(new_id()),
    }
}

/// Whether the caller may set `isGlobal` as requested: leaving it as it is is always allowed;
/// changing it only for instance owners and admins.
fn may_set_global(requested: Option<bool>, current: bool, is_admin: bool) -> bool {
    is_admin || requested.is_none_or(|g| g == current)
}

/// The data an update stores: the stored data kept (no `data` given: a change of name or flags
/// alone keeps the secrets), merged with the given fields (`isPartialData`), or replaced. The
/// stored data is opened only when it is needed, so data that no longer opens can be replaced.
fn updated_data(
    given: Option<Map<String, Value>>,
    partial: bool,
    stored: impl FnOnce() -> Result<Map<String, Value>>,
) -> Result<Map<String, Value>> {
    match given {
        None => stored(),
        Some(given) if partial => {
            let mut merged = stored()?;
            merged.extend(given);
            Ok(merged)
        }
        Some(given) => Ok(given),
    }
}

/// A credential listed with the project that owns it (when that project is found).
pub type Listed = (CredentialRow, Option<ProjectRow>);

/// One page of the credentials the caller can see, newest first, with each one's project read
/// once per page.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn list(
    state: &AppState,
    principal: &Principal,
    page: &PageRequest,
) -> Result<(Vec<Listed>, Option<String>)> {
    let mut conn = state.db.acquire().await?;
    let rows = repo::list(
        conn.conn(),
        access::visible_to(principal),
        page.after.as_deref().and_then(split_key),
        page.offset,
        page.fetch_limit(),
    )
    .await?;
    let (rows, next_cursor) = page.finish(rows, |c| join_key(&c.created_at, &c.id));
    let mut project_ids: Vec<&str> = rows.iter().map(|c| c.project_id.as_str()).collect();
    project_ids.sort_unstable();
    project_ids.dedup();
    let found = projects::find_many(conn.conn(), &project_ids).await?;
    let listed = rows
        .into_iter()
        .map(|c| {
            let project = found.iter().find(|p| p.id == c.project_id).cloned();
            (c, project)
        })
        .collect();
    Ok((listed, next_cursor))
}

/// A credential to create, as the request gives it.
pub struct Create {
    /// The id the client chose, if any.
    pub id: Option<String>,
    pub name: String,
    pub kind: String,
    pub data: Map<String, Value>,
    pub is_resolvable: bool,
    /// The project to create it in (default: the caller's personal project).
    pub project_id: Option<String>,
}

/// Creates a credential: checked, sealed and stored in one transaction, then read back.
#[tracing::instrument(level = "debug", skip_all, fields(credential = tracing::field::Empty))]
pub async fn create(state: &AppState, principal: &Principal, new: Create) -> Result<CredentialRow> {
    let name = valid_name(&new.name)?;
    let kind = known_type(&new.kind)?;
    kind.validate(&new.data).map_err(ApiError::BadRequest)?;
    let id = chosen_id(new.id)?;
    tracing::Span::current().record("credential", id.as_str());
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    let requested = new.project_id.as_deref();
    let project_id = access::target_project(tx.conn(), principal, requested, || {
        let id = requested.unwrap_or_default();
        ApiError::not_found(format!("Project with ID \"{id}\" not found"))
    })
    .await?;
    if repo::find(tx.conn(), &id).await?.is_some() {
        return Err(ApiError::conflict(format!(
            "Credential with ID \"{id}\" already exists."
        )));
    }
    let sealed = seal(&state.keys, &id, &new.data);
    repo::insert(
        tx.conn(),
        &NewCredential {
            id: &id,
            name,
            kind: &kind.name,
            data: &sealed,
            key_id: state.keys.primary_id(),
            project_id: &project_id,
            is_resolvable: new.is_resolvable,
            now: &now,
        },
    )
    .await?;
    let row = repo::find(tx.conn(), &id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("created credential vanished")))?;
    tx.commit().await?;
    Ok(row)
}

/// A credential the caller can see.
#[tracing::instrument(level = "debug", skip_all, fields(credential = %id))]
pub async fn read(
    state: &AppState,
    principal: &Principal,
    id: &Named<CredentialId>,
) -> Result<CredentialRow> {
    let mut conn = state.db.acquire().await?;
    let (row, _) = visible(conn.conn(), principal, id, NOT_FOUND).await?;
    Ok(row)
}

/// The changes of an update, as the request gives them (`None`: unchanged).
pub struct Update {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub data: Option<Map<String, Value>>,
    pub is_global: Option<bool>,
    pub is_resolvable: Option<bool>,
    /// Merge `data` into the stored data rather than replace it.
    pub is_partial_data: bool,
}

/// Changes a credential the caller may change (managed credentials never), in one transaction;
/// the data is checked against the (new) type and sealed again.
#[tracing::instrument(level = "debug", skip_all, fields(credential = %id))]
pub async fn update(
    state: &AppState,
    principal: &Principal,
    id: &Named<CredentialId>,
    changes: Update,
) -> Result<CredentialRow> {
    let name = changes.name.as_deref().map(valid_name).transpose()?;
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), principal, id, NOT_FOUND).await?;
    if row.is_managed {
        return Err(ApiError::bad_request(
            "Managed credentials cannot be updated.",
        ));
    }
    let is_admin = principal.role.is_instance_admin();
    if !may_set_global(changes.is_global, row.is_global, is_admin) {
        return Err(ApiError::ForbiddenWith(
            "You do not have permission to change global sharing for credentials".into(),
        ));
    }
    let kind = known_type(changes.kind.as_deref().unwrap_or(&row.kind))?;
    let data = updated_data(changes.data, changes.is_partial_data, || {
        open(&state.keys, &row)
    })?;
    kind.validate(&data).map_err(ApiError::BadRequest)?;
    let now = now_iso();
    repo::update(
        tx.conn(),
        &row.id,
        &Changes {
            name: name.unwrap_or(&row.name),
            kind: &kind.name,
            data: &seal(&state.keys, &row.id, &data),
            key_id: state.keys.primary_id(),
            is_global: changes.is_global.unwrap_or(row.is_global),
            is_resolvable: changes.is_resolvable.unwrap_or(row.is_resolvable),
            now: &now,
        },
    )
    .await?;
    let row = repo::find(tx.conn(), &row.id)
        .await?
        .ok_or_else(|| not_found(is_admin, id.as_str(), NOT_FOUND))?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes a credential the caller may change; answers it as it was.
#[tracing::instrument(level = "debug", skip_all, fields(credential = %id))]
pub async fn delete(
    state: &AppState,
    principal: &Principal,
    id: &Named<CredentialId>,
) -> Result<CredentialRow> {
    let mut tx = state.db.begin().await?;
    let row = writable(tx.conn(), principal, id, DELETE_NOT_FOUND).await?;
    repo::delete(tx.conn(), &row.id).await?;
    tx.commit().await?;
    Ok(row)
}

/// Moves a credential out of a project the caller manages into one they may create in.
#[tracing::instrument(level = "debug", skip_all, fields(credential = %id, project = %destination))]
pub async fn transfer(
    state: &AppState,
    principal: &Principal,
    id: &Named<CredentialId>,
    destination: &str,
) -> Result<()> {
    let mut tx = state.db.begin().await?;
    // n8n answers one 400 naming the id whether the credential is missing, hidden or only
    // shared with the caller (it looks the credential up with the move scope).
    let missing = || {
        ApiError::bad_request(format!(
            "Could not find the credential with the id \"{id}\". Make sure you have the permission to move it."
        ))
    };
    let (row, source) = match visible(tx.conn(), principal, id, NOT_FOUND).await {
        Ok(found) => found,
        Err(ApiError::NotFound(_)) => return Err(missing()),
        Err(other) => return Err(other),
    };
    if !source.can_manage() {
        return Err(missing());
    }
    access::transfer_target(tx.conn(), principal, destination, || {
        ApiError::bad_request(format!(
            "Could not find project with the id \"{destination}\". Make sure you have the permission to create credentials in it."
        ))
    })
    .await?;
    if row.project_id == destination {
        return Err(ApiError::bad_request(
            "You can't transfer a credential into the project that's already owning it.",
        ));
    }
    repo::transfer(tx.conn(), &row.id, destination, &now_iso()).await?;
    tx.commit().await?;
    Ok(())
}

/// Tests a credential the caller can see against the service it is for. The database is
/// released before the call goes out.
#[tracing::instrument(level = "debug", skip_all, fields(credential = %id))]
pub async fn test(
    state: &AppState,
    principal: &Principal,
    id: &Named<CredentialId>,
) -> Result<TestOutcome> {
    let row = {
        let mut conn = state.db.acquire().await?;
        visible(conn.conn(), principal, id, NOT_FOUND).await?.0
    };
    let data = open(&state.keys, &row)?;
    let kind = known_type(&row.kind)?;
    Ok(test_connection(state, kind, &data).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap()
    }

    fn message(e: ApiError) -> String {
        match e {
            ApiError::BadRequest(m) | ApiError::NotFound(m) => m,
            other => panic!("unexpected error: {other:?}"),
        }
    }

    #[test]
    fn a_client_id_is_kept_when_it_matches_the_pattern_and_length() {
        assert_eq!(chosen_id(Some("my-cred_01".into())).unwrap(), "my-cred_01");
        assert_eq!(chosen_id(Some("a".into())).unwrap(), "a");
        assert_eq!(
            chosen_id(Some("abcdefghijklmnop".into())).unwrap(),
            "abcdefghijklmnop"
        );
    }

    #[test]
    fn a_client_id_out_of_pattern_or_length_is_a_400() {
        for bad in ["", "abcdefghijklmnopq", "has space", "dot.ted", "é", "../x"] {
            assert!(!is_valid_client_id(bad), "{bad:?}");
            let e = chosen_id(Some(bad.into())).unwrap_err();
            assert_eq!(
                message(e),
                "request/body/id must match pattern \"^[a-zA-Z0-9_-]+$\" and be 1 to 16 characters long"
            );
        }
    }

    #[test]
    fn without_a_client_id_a_new_one_is_made() {
        let id = chosen_id(None).unwrap();
        assert_eq!(id.len(), 16);
        assert!(is_valid_client_id(&id));
    }

    #[test]
    fn owners_and_admins_get_the_routes_wording_members_get_the_id() {
        assert_eq!(
            message(not_found(true, "abc", NOT_FOUND)),
            "Credential not found"
        );
        assert_eq!(
            message(not_found(true, "abc", DELETE_NOT_FOUND)),
            "Not Found"
        );
        assert_eq!(
            message(not_found(false, "abc", DELETE_NOT_FOUND)),
            "Credential with ID \"abc\" not found."
        );
    }

    #[test]
    fn only_owners_and_admins_change_global_sharing() {
        assert!(may_set_global(None, false, false));
        assert!(may_set_global(Some(false), false, false));
        assert!(may_set_global(Some(true), true, false));
        assert!(!may_set_global(Some(true), false, false));
        assert!(!may_set_global(Some(false), true, false));
        assert!(may_set_global(Some(true), false, true));
    }

    #[test]
    fn update_data_is_kept_merged_or_replaced() {
        let stored = || Ok(map(serde_json::json!({"user": "u", "password": "p"})));
        let given = map(serde_json::json!({"password": "q"}));
        assert_eq!(
            updated_data(None, false, stored).unwrap(),
            map(serde_json::json!({"user": "u", "password": "p"}))
        );
        assert_eq!(
            updated_data(Some(given.clone()), true, stored).unwrap(),
            map(serde_json::json!({"user": "u", "password": "q"}))
        );
        assert_eq!(
            updated_data(Some(given.clone()), false, stored).unwrap(),
            given
        );
    }

    #[test]
    fn replacing_the_data_does_not_open_the_stored_data() {
        let unopenable = || Err(ApiError::Internal(anyhow::anyhow!("cannot be opened")));
        let given = map(serde_json::json!({"password": "q"}));
        assert_eq!(
            updated_data(Some(given.clone()), false, unopenable).unwrap(),
            given
        );
        assert!(updated_data(Some(given), true, unopenable).is_err());
        assert!(updated_data(None, false, unopenable).is_err());
    }
}
