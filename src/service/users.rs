//! Users: invitations and their links, sign-up, role changes and deletion, shared by the
//! public API (`/api/v1/users`) and the internal `/rest` routes.
//!
//! An invitation link carries `<user id>.<expiry>.<MAC>`, the MAC keyed by the instance's
//! look-up secret over the user id, the expiry and the invitation's nonce. Nothing secret is
//! stored, the link can be shown again while it is valid, and replacing or removing the
//! invitation row (a new invitation, an acceptance, a deletion) voids every earlier link.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::app::AppState;
use crate::auth::Role;
use crate::crypto::{constant_time_eq, random_token};
use crate::db::invitations::{self, InvitationRow};
use crate::db::users::{self, UserRow};
use crate::db::{projects, Conn};
use crate::domain::email::Email;
use crate::domain::ids::new_user_id;
use crate::domain::password;
use crate::domain::time::{now_iso, now_unix};
use crate::error::{ApiError, Result};
use crate::service::owner::{create_personal_project, personal_project_name};
use crate::service::workflows::{steps, Hooks};

/// Invitation links stay valid for 90 days, as n8n's.
const INVITE_LIFETIME_SECS: i64 = 90 * 24 * 3600;
const INVITE_DOMAIN: &str = "invite";

/// One entry of an invitation request.
pub struct Invitee {
    pub email: String,
    pub role: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitedUser {
    pub id: String,
    pub email: String,
    pub email_sent: bool,
    pub role: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invite_accept_url: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct InviteResult {
    pub user: InvitedUser,
    pub error: String,
}

/// The global roles an invitation (or a role change) may give.
pub fn assignable_role(role: &str) -> Option<Role> {
    Role::parse(role).filter(|r| *r != Role::Owner)
}

fn token_for(state: &AppState, invitation: &InvitationRow) -> String {
    let mac = state.lookup.hash(
        INVITE_DOMAIN,
        &format!(
            "{}\0{}\0{}",
            invitation.user_id, invitation.nonce, invitation.expires_at
        ),
    );
    format!("{}.{}.{}", invitation.user_id, invitation.expires_at, mac)
}

/// The sign-up link of an invitation.
pub fn invite_url(state: &AppState, invitation: &InvitationRow) -> String {
    format!(
        "{}/signup?token={}",
        state.config.editor_base_url(),
        token_for(state, invitation)
    )
}

/// Invites users. Existing pending users are invited again (older links stop working);
/// users who already have an account are left out of the answer, as n8n does.
pub async fn invite(
    state: &AppState,
    inviter_id: &str,
    invitees: Vec<Invitee>,
) -> Result<Vec<InviteResult>> {
    let mut parsed = Vec::with_capacity(invitees.len());
    let mut seen = HashSet::with_capacity(invitees.len());
    for (i, invitee) in invitees.into_iter().enumerate() {
        let email = Email::parse(&invitee.email).ok_or_else(|| {
            ApiError::bad_request(format!(
                "request/body/{i}/email must match format \"email\""
            ))
        })?;
        let role = match invitee.role.as_deref() {
            None => Role::Member,
            Some(r) => assignable_role(r).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "request/body/{i}/role must be equal to one of the allowed values"
                ))
            })?,
        };
        if seen.insert(email.as_str().to_owned()) {
            parsed.push((email, role));
        }
    }
    let now = now_iso();
    let expires_at = now_unix() + INVITE_LIFETIME_SECS;
    let mut tx = state.db.begin().await?;
    let emails: Vec<&str> = parsed.iter().map(|(e, _)| e.as_str()).collect();
    // By e-mail, so that a long list is matched in one pass, not one scan per invitee.
    let existing: HashMap<String, UserRow> = users::find_many_by_email(tx.conn(), &emails)
        .await?
        .into_iter()
        .map(|u| (u.email.clone(), u))
        .collect();
    let mut results = Vec::new();
    for (email, role) in &parsed {
        let user = match existing.get(email.as_str()) {
            Some(user) if user.password_hash.is_some() => continue,
            Some(user) => user.clone(),
            None => {
                let id = new_user_id();
                users::insert(
                    tx.conn(),
                    &users::NewUser {
                        id: &id,
                        email: email.as_str(),
                        first_name: None,
                        last_name: None,
                        password_hash: None,
                        role: role.as_str(),
                        now: &now,
                    },
                )
                .await?;
                create_personal_project(&mut tx, &id, &format!("<{}>", email.as_str()), &now)
                    .await?;
                users::find_by_id(tx.conn(), &id)
                    .await?
                    .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("invited user vanished")))?
            }
        };
        let invitation = InvitationRow {
            user_id: user.id.clone(),
            inviter_id: Some(inviter_id.to_owned()),
            nonce: random_token(16),
            expires_at,
        };
        invitations::replace(tx.conn(), &invitation, &now).await?;
        results.push(InviteResult {
            user: InvitedUser {
                id: user.id,
                email: user.email,
                email_sent: false,
                role: user.role,
                invite_accept_url: Some(invite_url(state, &invitation)),
            },
            error: String::new(),
        });
    }
    tx.commit().await?;
    Ok(results)
}

const INVALID_URL: &str = "Invalid invite URL";

/// Checks a link token and answers the invitation and its (pending) user.
async fn check_token(
    state: &AppState,
    mut conn: Conn<'_>,
    token: &str,
) -> Result<(InvitationRow, UserRow)> {
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::bad_request("Token is required"));
    }
    let mut parts = token.splitn(3, '.');
    let (Some(user_id), Some(expiry), Some(mac)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(ApiError::bad_request(INVALID_URL));
    };
    if uuid::Uuid::parse_str(user_id).is_err() || expiry.parse::<i64>().is_err() {
        return Err(ApiError::bad_request(INVALID_URL));
    }
    let user = users::find_by_id(conn.reborrow(), user_id)
        .await?
        .ok_or_else(|| ApiError::bad_request(INVALID_URL))?;
    let Some(invitation) = invitations::find(conn, user_id).await? else {
        return Err(ApiError::bad_request(if user.password_hash.is_some() {
            "The invitation was likely either deleted or already claimed"
        } else {
            INVALID_URL
        }));
    };
    let expected = token_for(state, &invitation);
    if !constant_time_eq(&expected, &format!("{user_id}.{expiry}.{mac}"))
        || invitation.expires_at <= now_unix()
    {
        return Err(ApiError::bad_request(INVALID_URL));
    }
    Ok((invitation, user))
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inviter {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
}

/// Who invited the holder of `token`.
pub async fn resolve(state: &AppState, token: &str) -> Result<Inviter> {
    let mut conn = state.db.acquire().await?;
    let (invitation, _) = check_token(state, conn.conn(), token).await?;
    let inviter = match invitation.inviter_id {
        Some(id) => users::find_by_id(conn.conn(), &id).await?,
        None => None,
    };
    Ok(Inviter {
        first_name: inviter.as_ref().and_then(|u| u.first_name.clone()),
        last_name: inviter.and_then(|u| u.last_name),
    })
}

pub struct Signup {
    pub token: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
}

/// Completes an invited user's account; answers the user.
pub async fn accept(state: &AppState, signup: Signup) -> Result<UserRow> {
    let (first_name, last_name) = (
        signup.first_name.trim().to_owned(),
        signup.last_name.trim().to_owned(),
    );
    if first_name.is_empty() {
        return Err(ApiError::bad_request("First name is required"));
    }
    if last_name.is_empty() {
        return Err(ApiError::bad_request("Last name is required"));
    }
    if first_name.chars().count() > 32 || last_name.chars().count() > 32 {
        return Err(ApiError::bad_request(
            "Names must be at most 32 characters long",
        ));
    }
    password::validate(&signup.password, state.config.password_min_length as usize)
        .map_err(ApiError::bad_request)?;
    {
        let mut conn = state.db.acquire().await?;
        check_token(state, conn.conn(), &signup.token).await?;
    }
    let hash = password::hash(signup.password).await?;
    let now = now_iso();
    let mut tx = state.db.begin().await?;
    // Checked again inside the transaction: two acceptances of one link cannot both win.
    let (_, user) = check_token(state, tx.conn(), &signup.token).await?;
    if !users::complete_signup(tx.conn(), &user.id, &first_name, &last_name, &hash, &now).await? {
        return Err(ApiError::bad_request(
            "This invite has been accepted already",
        ));
    }
    invitations::delete(tx.conn(), &user.id).await?;
    projects::rename_personal(
        tx.conn(),
        &user.id,
        &personal_project_name(&first_name, &last_name, &user.email),
        &now,
    )
    .await?;
    let user = users::find_by_id(tx.conn(), &user.id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user vanished")))?;
    tx.commit().await?;
    Ok(user)
}

/// Changes a user's global role, with n8n's rules and messages.
pub async fn change_role(
    state: &AppState,
    caller_id: &str,
    caller_role: Role,
    target_id: &str,
    new_role: &str,
) -> Result<()> {
    let role = assignable_role(new_role).ok_or_else(|| {
        ApiError::bad_request("request/body/newRoleName must be equal to one of the allowed values")
    })?;
    let mut tx = state.db.begin().await?;
    let target = users::find_by_id(tx.conn(), target_id)
        .await?
        .ok_or_else(|| ApiError::not_found("Target user not found"))?;
    if Role::parse(&target.role) == Some(Role::Owner) {
        return Err(ApiError::ForbiddenWith(
            if caller_role == Role::Owner {
                "Owner cannot change role on global owner"
            } else {
                "Admin cannot change role on global owner"
            }
            .into(),
        ));
    }
    if target.id == caller_id {
        return Err(ApiError::ForbiddenWith(
            "Cannot change your own global role".into(),
        ));
    }
    users::set_role(tx.conn(), target_id, role.as_str(), &now_iso()).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a user. Their personal project's workflows, folders, data tables, credentials and
/// variables move to `transfer_to` when given, and are deleted otherwise; their keys and sessions end at once.
pub async fn delete(
    state: &AppState,
    caller_id: &str,
    target_id: &str,
    transfer_to: Option<&str>,
) -> Result<()> {
    let not_found = || {
        ApiError::not_found(
            "Request to delete a user failed because the user to delete was not found in DB",
        )
    };
    if target_id == caller_id {
        return Err(ApiError::bad_request("Cannot delete your own user"));
    }
    let mut tx = state.db.begin().await?;
    let target = users::find_by_id(tx.conn(), target_id)
        .await?
        .ok_or_else(not_found)?;
    if Role::parse(&target.role) == Some(Role::Owner) {
        return Err(ApiError::bad_request("Instance owner cannot be deleted."));
    }
    let personal = projects::personal_project_id(tx.conn(), target_id).await?;
    if let Some(destination) = transfer_to {
        let missing =
            || ApiError::not_found(format!("Could not find project with ID \"{destination}\""));
        if !crate::domain::ids::is_plausible_id(destination)
            || !projects::exists(tx.conn(), destination).await?
        {
            return Err(missing());
        }
        if personal.as_deref() == Some(destination) {
            return Err(ApiError::bad_request("Request to delete a user failed because the ownership cannot be transferred to the user being deleted"));
        }
        if let Some(from) = &personal {
            // A variable key is unique within a project: refuse the whole deletion rather
            // than drop or rename one of the two variables.
            if let Some(key) = projects::clashing_variable_key(tx.conn(), from, destination).await?
            {
                return Err(ApiError::bad_request(format!(
                    "Cannot transfer the variable \"{key}\": project \"{destination}\" already has a variable with that key"
                )));
            }
            projects::move_contents(tx.conn(), from, destination, &now_iso()).await?;
        }
    }
    let mut hooks = Hooks::new(&*state.lifecycle);
    if let Some(project) = &personal {
        // What was not moved goes with the project; its workflows through the workflow
        // service, so whoever runs them hears of it.
        steps::delete_in_project(tx.conn(), &mut hooks, project).await?;
        projects::delete(tx.conn(), project).await?;
    }
    users::delete(tx.conn(), target_id).await?;
    tx.commit().await?;
    hooks.committed();
    Ok(())
}
