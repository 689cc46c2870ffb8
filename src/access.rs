//! Who may do what with which project's resources.
//!
//! A key's scopes say which *kind* of action a request may take; the caller's role in the
//! resource's project says on *which objects*. Instance owners and admins reach every project.
//! Everyone else reaches the projects they belong to, with the rights of their project role:
//!
//! | project role            | read, list | create, change, delete, publish | move out, manage members |
//! |-------------------------|------------|---------------------------------|--------------------------|
//! | `project:viewer`        | yes        | no                              | no                       |
//! | `project:editor`        | yes        | yes                             | no                       |
//! | `project:admin`         | yes        | yes                             | yes                      |
//! | `project:personalOwner` | yes        | yes                             | yes                      |
//!
//! A project the caller does not belong to is answered exactly like a project that does not
//! exist (404), so ids cannot be probed.

use crate::auth::Principal;
use crate::db::{projects, Conn, Reader};
use crate::error::ApiError;

/// A user's role inside one project.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectRole {
    PersonalOwner,
    Admin,
    Editor,
    Viewer,
}

impl ProjectRole {
    pub fn parse(slug: &str) -> Option<ProjectRole> {
        match slug {
            "project:personalOwner" => Some(ProjectRole::PersonalOwner),
            "project:admin" => Some(ProjectRole::Admin),
            "project:editor" => Some(ProjectRole::Editor),
            "project:viewer" => Some(ProjectRole::Viewer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ProjectRole::PersonalOwner => "project:personalOwner",
            ProjectRole::Admin => "project:admin",
            ProjectRole::Editor => "project:editor",
            ProjectRole::Viewer => "project:viewer",
        }
    }

    /// The roles a member of a team project may be given.
    pub fn parse_assignable(slug: &str) -> Option<ProjectRole> {
        Self::parse(slug).filter(|r| *r != ProjectRole::PersonalOwner)
    }
}

/// What the caller may do in one project they can see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectAccess {
    /// An instance owner or admin: everything, everywhere.
    Instance,
    Member(ProjectRole),
}

impl ProjectAccess {
    /// Create, change, delete and publish the project's resources.
    pub fn can_write(self) -> bool {
        !matches!(self, ProjectAccess::Member(ProjectRole::Viewer))
    }

    /// Move resources out of the project and manage its members.
    pub fn can_manage(self) -> bool {
        matches!(
            self,
            ProjectAccess::Instance
                | ProjectAccess::Member(ProjectRole::PersonalOwner | ProjectRole::Admin)
        )
    }

    /// The scopes n8n lists for this access on a project object.
    pub fn project_scopes(self) -> Vec<&'static str> {
        let mut scopes = vec![
            "project:read",
            "workflow:read",
            "workflow:list",
            "folder:read",
            "folder:list",
        ];
        if self.can_write() {
            scopes.extend([
                "workflow:create",
                "workflow:update",
                "workflow:delete",
                "workflow:publish",
                "workflow:execute",
                "folder:create",
                "folder:update",
                "folder:delete",
            ]);
        }
        if self.can_manage() {
            scopes.extend(["project:update", "workflow:move"]);
        }
        if self == ProjectAccess::Instance {
            scopes.push("project:delete");
        }
        scopes
    }
}

/// The caller's access to `project_id`, or `None` when the project does not exist or the
/// caller does not belong to it.
pub async fn project_access(
    conn: Conn<'_>,
    principal: &Principal,
    project_id: &str,
) -> sqlx::Result<Option<ProjectAccess>> {
    if principal.role.is_instance_admin() {
        return Ok(projects::exists(conn, project_id)
            .await?
            .then_some(ProjectAccess::Instance));
    }
    let role = projects::member_role(conn, project_id, &principal.user_id).await?;
    Ok(role
        .as_deref()
        .and_then(ProjectRole::parse)
        .map(ProjectAccess::Member))
}

/// [`project_access`] outside a transaction.
pub async fn read_project_access(
    reader: &mut Reader<'_>,
    principal: &Principal,
    project_id: &str,
) -> sqlx::Result<Option<ProjectAccess>> {
    if principal.role.is_instance_admin() {
        return Ok(projects::read_exists(reader, project_id)
            .await?
            .then_some(ProjectAccess::Instance));
    }
    let role = projects::read_member_role(reader, project_id, &principal.user_id).await?;
    Ok(role
        .as_deref()
        .and_then(ProjectRole::parse)
        .map(ProjectAccess::Member))
}

/// A resource of a project, as the caller may see it: `found` (what the caller loaded by id)
/// with the caller's access to its project, or `missing()` when it does not exist or the
/// caller does not belong to its project (answered alike, so ids cannot be probed).
pub async fn visible<T>(
    conn: Conn<'_>,
    principal: &Principal,
    found: Option<T>,
    project_of: impl FnOnce(&T) -> &str,
    missing: impl Fn() -> ApiError,
) -> Result<(T, ProjectAccess), ApiError> {
    let resource = found.ok_or_else(&missing)?;
    let access = project_access(conn, principal, project_of(&resource))
        .await?
        .ok_or_else(missing)?;
    Ok((resource, access))
}

/// [`visible`] outside a transaction.
pub async fn read_visible<T>(
    reader: &mut Reader<'_>,
    principal: &Principal,
    found: Option<T>,
    project_of: impl FnOnce(&T) -> &str,
    missing: impl Fn() -> ApiError,
) -> Result<(T, ProjectAccess), ApiError> {
    let resource = found.ok_or_else(&missing)?;
    let access = read_project_access(reader, principal, project_of(&resource))
        .await?
        .ok_or_else(missing)?;
    Ok((resource, access))
}

/// The resource of [`visible`], when the caller may also change it (viewers get 403).
pub fn writable<T>((resource, access): (T, ProjectAccess)) -> Result<T, ApiError> {
    if access.can_write() {
        Ok(resource)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// The project a new resource goes into: `requested`, when the caller may create there (a
/// project the caller cannot see is `missing()`, one they only view is 403), else the caller's
/// personal project.
pub async fn target_project(
    mut conn: Conn<'_>,
    principal: &Principal,
    requested: Option<&str>,
    missing: impl Fn() -> ApiError,
) -> Result<String, ApiError> {
    let Some(project_id) = requested else {
        return projects::personal_project_id(conn, &principal.user_id)
            .await?
            .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("user has no personal project")));
    };
    if !crate::domain::ids::is_plausible_id(project_id) {
        return Err(missing());
    }
    let access = project_access(conn.reborrow(), principal, project_id)
        .await?
        .ok_or_else(missing)?;
    if !access.can_write() {
        return Err(ApiError::Forbidden);
    }
    Ok(project_id.to_owned())
}

/// The destination of a transfer: a project the caller may create in, else `unreachable()`.
pub async fn transfer_target(
    conn: Conn<'_>,
    principal: &Principal,
    destination: &str,
    unreachable: impl Fn() -> ApiError,
) -> Result<(), ApiError> {
    if !crate::domain::ids::is_plausible_id(destination) {
        return Err(unreachable());
    }
    match project_access(conn, principal, destination).await? {
        Some(access) if access.can_write() => Ok(()),
        _ => Err(unreachable()),
    }
}

/// For list queries: `None` when the caller sees every project, else the user whose projects
/// bound the list.
pub fn visible_to(principal: &Principal) -> Option<&str> {
    (!principal.role.is_instance_admin()).then_some(principal.user_id.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_roles_grant_what_the_table_says() {
        let viewer = ProjectAccess::Member(ProjectRole::Viewer);
        let editor = ProjectAccess::Member(ProjectRole::Editor);
        let admin = ProjectAccess::Member(ProjectRole::Admin);
        let personal = ProjectAccess::Member(ProjectRole::PersonalOwner);
        assert!(!viewer.can_write() && !viewer.can_manage());
        assert!(editor.can_write() && !editor.can_manage());
        assert!(admin.can_write() && admin.can_manage());
        assert!(personal.can_write() && personal.can_manage());
        assert!(ProjectAccess::Instance.can_manage());
        assert_eq!(ProjectRole::parse_assignable("project:personalOwner"), None);
        assert_eq!(
            ProjectRole::parse_assignable("project:editor"),
            Some(ProjectRole::Editor)
        );
    }
}
