//! Owner set-up and the public shape of a user, shared by `POST /rest/owner/setup` and the
//! CLI's `owner setup`.

use serde::Serialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::db::users::{UserRow, EMAIL_UNIQUE, SINGLE_OWNER};
use crate::db::{projects, users, Tx};
use crate::domain::email::Email;
use crate::domain::ids::{new_id, new_user_id};
use crate::domain::password;
use crate::domain::time::now_iso;
use crate::error::{ApiError, Result, ResultExt};

/// What owner set-up takes.
pub struct OwnerSetup {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
}

const ALREADY_SET_UP: &str = "Instance owner already setup";

/// Validates the input with n8n's rules and messages.
pub fn validate(state: &AppState, input: &OwnerSetup) -> Result<Email> {
    let email =
        Email::parse(&input.email).ok_or_else(|| ApiError::bad_request("Invalid email address"))?;
    if input.first_name.trim().is_empty() {
        return Err(ApiError::bad_request("First name is required"));
    }
    if input.last_name.trim().is_empty() {
        return Err(ApiError::bad_request("Last name is required"));
    }
    if input.first_name.trim().chars().count() > 32 || input.last_name.trim().chars().count() > 32 {
        return Err(ApiError::bad_request(
            "Names must be at most 32 characters long",
        ));
    }
    password::validate(&input.password, state.config.password_min_length as usize)
        .map_err(ApiError::bad_request)?;
    Ok(email)
}

/// Creates the instance owner and their personal project in one transaction. Answers 400
/// `Instance owner already setup` when an owner exists (also when two set-ups race: the
/// database allows one owner only). The password is hashed before the transaction opens, so
/// the costly hash never holds the write lock.
pub async fn setup(state: &AppState, input: OwnerSetup) -> Result<UserRow> {
    let email = validate(state, &input)?;
    {
        let mut conn = state.db.acquire().await?;
        if users::find_owner(conn.conn()).await?.is_some() {
            return Err(ApiError::bad_request(ALREADY_SET_UP));
        }
    }
    let password_hash = password::hash(input.password).await?;
    let now = now_iso();
    let user_id = new_user_id();
    let (first_name, last_name) = (input.first_name.trim(), input.last_name.trim());
    let mut tx = state.db.begin().await?;
    users::insert(
        tx.conn(),
        &users::NewUser {
            id: &user_id,
            email: email.as_str(),
            first_name: Some(first_name),
            last_name: Some(last_name),
            password_hash: Some(&password_hash),
            role: Role::Owner.as_str(),
            now: &now,
        },
    )
    .await
    .on_unique(SINGLE_OWNER, || ApiError::bad_request(ALREADY_SET_UP))
    .on_unique(EMAIL_UNIQUE, || {
        ApiError::bad_request("There is already a user with this email address")
    })?;
    create_personal_project(
        &mut tx,
        &user_id,
        &personal_project_name(first_name, last_name, email.as_str()),
        &now,
    )
    .await?;
    let owner = users::find_by_id(tx.conn(), &user_id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("owner vanished")))?;
    tx.commit().await?;
    Ok(owner)
}

/// n8n names a personal project after its owner: `First Last <email>`.
pub fn personal_project_name(first_name: &str, last_name: &str, email: &str) -> String {
    format!("{first_name} {last_name} <{email}>")
}

pub async fn create_personal_project(
    tx: &mut Tx,
    user_id: &str,
    name: &str,
    now: &str,
) -> Result<String> {
    let project_id = new_id();
    projects::insert(
        tx.conn(),
        &projects::NewProject {
            id: &project_id,
            name,
            kind: "personal",
            creator_id: Some(user_id),
            now,
        },
    )
    .await?;
    projects::insert_relation(
        tx.conn(),
        &project_id,
        user_id,
        "project:personalOwner",
        now,
    )
    .await?;
    Ok(project_id)
}

/// A user as `/rest` answers it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PublicUser {
    pub id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub role: String,
    pub is_owner: bool,
    pub is_pending: bool,
    pub mfa_enabled: bool,
    pub sign_in_type: &'static str,
    pub settings: Option<serde_json::Value>,
    pub personalization_answers: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    /// The instance-level permissions the web page needs to know about.
    pub global_scopes: Vec<&'static str>,
}

impl UserRow {
    pub fn into_public(self) -> PublicUser {
        let role = Role::parse(&self.role);
        let global_scopes = match role {
            Some(r) if r.is_instance_admin() => vec![
                "apiKey:create",
                "apiKey:update",
                "apiKey:manage",
                "user:create",
                "user:list",
                "user:changeRole",
                "user:delete",
            ],
            Some(_) => vec!["apiKey:create", "apiKey:update"],
            None => vec![],
        };
        PublicUser {
            is_owner: role == Some(Role::Owner),
            is_pending: self.password_hash.is_none(),
            id: self.id,
            email: self.email,
            first_name: self.first_name,
            last_name: self.last_name,
            role: self.role,
            mfa_enabled: false,
            sign_in_type: "email",
            settings: None,
            personalization_answers: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
            global_scopes,
        }
    }
}
