//! API-key scopes and global roles: the scope catalog of this server (67 scopes, in n8n's
//! documented order) and which scopes each global role may put on a key.
//!
//! A key's effective scopes are its own scopes intersected with what its owner's *current*
//! role allows, computed on every request, so a demotion takes effect on the next request.

use std::fmt;

use dashmap::DashMap;
use serde::{Deserialize, Serialize};

macro_rules! scope_catalog {
    ($( $(#[doc = $doc:literal])* $variant:ident = $name:literal, $grant:ident; )*) => {
        /// One API-key scope, `resource:operation`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Scope {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Scope {
            /// Every scope, in catalog order.
            pub const ALL: &'static [Scope] = &[$(Scope::$variant),*];

            /// The wire name, e.g. `workflow:read`.
            pub const fn as_str(self) -> &'static str {
                match self { $(Scope::$variant => $name,)* }
            }

            /// What the scope allows, as the catalog describes it.
            pub const fn description(self) -> &'static str {
                match self { $(Scope::$variant => concat!($($doc),*),)* }
            }

            /// Whether a `global:member` may put this scope on a key.
            pub const fn member_may_grant(self) -> bool {
                match self { $(Scope::$variant => scope_catalog!(@member $grant),)* }
            }

            /// Parses a wire name; `None` for anything outside the catalog.
            pub fn parse(name: &str) -> Option<Scope> {
                match name { $($name => Some(Scope::$variant),)* _ => None }
            }
        }
    };
    (@member member) => { true };
    (@member admin) => { false };
}

scope_catalog! {
    /// Install a community node package on the instance.
    CommunityPackageInstall = "communityPackage:install", admin;
    /// List installed community node packages.
    CommunityPackageList = "communityPackage:list", admin;
    /// Uninstall a community node package.
    CommunityPackageUninstall = "communityPackage:uninstall", admin;
    /// Update an installed community node package.
    CommunityPackageUpdate = "communityPackage:update", admin;
    /// Create credentials.
    CredentialCreate = "credential:create", member;
    /// Retrieve a credential and its data schema.
    CredentialRead = "credential:read", admin;
    /// List credentials.
    CredentialList = "credential:list", admin;
    /// Update a credential.
    CredentialUpdate = "credential:update", member;
    /// Delete a credential.
    CredentialDelete = "credential:delete", member;
    /// Transfer a credential to another project.
    CredentialMove = "credential:move", member;
    /// Create a data table.
    DataTableCreate = "dataTable:create", member;
    /// Retrieve a data table.
    DataTableRead = "dataTable:read", member;
    /// List data tables.
    DataTableList = "dataTable:list", member;
    /// Update a data table's metadata.
    DataTableUpdate = "dataTable:update", member;
    /// Delete a data table.
    DataTableDelete = "dataTable:delete", member;
    /// Add a column to a data table.
    DataTableColumnCreate = "dataTableColumn:create", member;
    /// Retrieve a data table column.
    DataTableColumnRead = "dataTableColumn:read", member;
    /// Update a data table column.
    DataTableColumnUpdate = "dataTableColumn:update", member;
    /// Delete a data table column.
    DataTableColumnDelete = "dataTableColumn:delete", member;
    /// Insert rows into a data table.
    DataTableRowCreate = "dataTableRow:create", member;
    /// Read rows from a data table.
    DataTableRowRead = "dataTableRow:read", member;
    /// Update existing rows in a data table.
    DataTableRowUpdate = "dataTableRow:update", member;
    /// Delete rows from a data table.
    DataTableRowDelete = "dataTableRow:delete", member;
    /// Update an existing row in a data table, or insert a new one if no row matches the filter conditions.
    DataTableRowUpsert = "dataTableRow:upsert", member;
    /// Retrieve an execution and its details.
    ExecutionRead = "execution:read", member;
    /// List executions.
    ExecutionList = "execution:list", member;
    /// Retry a failed execution.
    ExecutionRetry = "execution:retry", member;
    /// Stop a running execution.
    ExecutionStop = "execution:stop", member;
    /// Delete an execution.
    ExecutionDelete = "execution:delete", member;
    /// Read the annotation tags assigned to an execution.
    ExecutionTagsList = "executionTags:list", member;
    /// Update the annotation tags assigned to an execution.
    ExecutionTagsUpdate = "executionTags:update", member;
    /// Create a folder in a project.
    FolderCreate = "folder:create", member;
    /// Retrieve a folder.
    FolderRead = "folder:read", member;
    /// List folders in a project.
    FolderList = "folder:list", member;
    /// Update a folder.
    FolderUpdate = "folder:update", member;
    /// Delete a folder.
    FolderDelete = "folder:delete", member;
    /// Read instance insights data, including execution counts, failure rates, time saved, and average run time.
    InsightsRead = "insights:read", admin;
    /// Create a project.
    ProjectCreate = "project:create", admin;
    /// List projects.
    ProjectList = "project:list", admin;
    /// Update a project.
    ProjectUpdate = "project:update", admin;
    /// Delete a project.
    ProjectDelete = "project:delete", admin;
    /// Generate a security audit report for the instance.
    SecurityAuditGenerate = "securityAudit:generate", admin;
    /// Pull changes from the connected source control repository into the instance.
    SourceControlPull = "sourceControl:pull", admin;
    /// Create a tag in the global tag registry.
    TagCreate = "tag:create", member;
    /// Retrieve a tag.
    TagRead = "tag:read", member;
    /// List tags.
    TagList = "tag:list", member;
    /// Update a tag.
    TagUpdate = "tag:update", member;
    /// Delete a tag.
    TagDelete = "tag:delete", admin;
    /// Invite or create users on the instance.
    UserCreate = "user:create", admin;
    /// Retrieve a user.
    UserRead = "user:read", admin;
    /// List users.
    UserList = "user:list", member;
    /// Change a user's global (instance-level) role.
    UserChangeRole = "user:changeRole", admin;
    /// Reserved scope. No /api/v1/ endpoint consumes it, so selecting this scope on a Public API key has no public-facing effect.
    UserEnforceMfa = "user:enforceMfa", admin;
    /// Delete a user from the instance.
    UserDelete = "user:delete", admin;
    /// Create an instance variable.
    VariableCreate = "variable:create", admin;
    /// List instance variables.
    VariableList = "variable:list", member;
    /// Update an instance variable.
    VariableUpdate = "variable:update", admin;
    /// Delete an instance variable.
    VariableDelete = "variable:delete", admin;
    /// Create a workflow.
    WorkflowCreate = "workflow:create", member;
    /// Retrieve a workflow and its details.
    WorkflowRead = "workflow:read", member;
    /// List workflows.
    WorkflowList = "workflow:list", member;
    /// Update a workflow.
    WorkflowUpdate = "workflow:update", member;
    /// Delete, archive, or unarchive a workflow.
    WorkflowDelete = "workflow:delete", member;
    /// Transfer a workflow to another project.
    WorkflowMove = "workflow:move", member;
    /// Activate or deactivate a workflow. Also referred to as "publish/unpublish" in the public API (/workflows/{id}/activate and /workflows/{id}/deactivate).
    WorkflowActivate = "workflow:activate", member;
    /// Read the tags assigned to a workflow.
    WorkflowTagsList = "workflowTags:list", member;
    /// Update the tags assigned to a workflow.
    WorkflowTagsUpdate = "workflowTags:update", member;
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Scope {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A set of scopes as a bit set: membership tests on the request path cost one AND.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScopeSet(u128);

impl ScopeSet {
    pub const EMPTY: ScopeSet = ScopeSet(0);

    /// Every scope of the catalog (its variants are numbered from 0 without gaps).
    pub const fn all() -> ScopeSet {
        ScopeSet(u128::MAX >> (128 - Scope::ALL.len()))
    }

    /// The scopes a `global:member` may put on a key, computed once at compile time.
    const MEMBER_GRANTABLE: ScopeSet = {
        let mut bits = 0u128;
        let mut i = 0;
        while i < Scope::ALL.len() {
            if Scope::ALL[i].member_may_grant() {
                bits |= 1u128 << Scope::ALL[i] as u8;
            }
            i += 1;
        }
        ScopeSet(bits)
    };

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & (1u128 << scope as u8) != 0
    }

    pub fn insert(&mut self, scope: Scope) {
        self.0 |= 1u128 << scope as u8;
    }

    pub fn intersect(self, other: ScopeSet) -> ScopeSet {
        ScopeSet(self.0 & other.0)
    }

    pub fn is_subset_of(self, other: ScopeSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The scopes in catalog order.
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL
            .iter()
            .copied()
            .filter(move |s| self.contains(*s))
    }

    /// Parses stored scope names, ignoring any the catalog no longer has (a scope removed from
    /// the catalog must not keep granting anything).
    pub fn from_names<'a>(names: impl IntoIterator<Item = &'a str>) -> ScopeSet {
        names.into_iter().filter_map(Scope::parse).collect()
    }

    /// Reads the JSON array stored in the `scopes` column.
    pub fn from_json(json: &str) -> ScopeSet {
        let names: Vec<&str> = serde_json::from_str(json).unwrap_or_default();
        ScopeSet::from_names(names)
    }

    /// The JSON array stored in the `scopes` column.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self.names()).unwrap_or_else(|_| "[]".to_owned())
    }

    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Scope::as_str).collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut set = ScopeSet::EMPTY;
        for scope in iter {
            set.insert(scope);
        }
        set
    }
}

/// The scope lists of the keys in use, each parsed once.
///
/// Parsing a key's stored list (a JSON array of up to 67 names) was a sixth of the
/// instructions of an authenticated read. Each entry keeps the text it was parsed from and is
/// used only while the key's row still holds exactly that text, so a changed list is parsed
/// again on the next request: nothing here can answer for a list the database no longer has.
#[derive(Default)]
pub struct ParsedScopeLists {
    by_key: DashMap<String, (Box<str>, ScopeSet)>,
}

/// Past this many keys the memo starts over rather than grow without bound.
const PARSED_SCOPE_LISTS_MAX: usize = 10_000;

impl ParsedScopeLists {
    /// The scopes of `stored`, the scope list the row of key `key_id` holds now.
    pub fn of(&self, key_id: &str, stored: &str) -> ScopeSet {
        if let Some(entry) = self.by_key.get(key_id) {
            let (text, set) = entry.value();
            if **text == *stored {
                return *set;
            }
        }
        let set = ScopeSet::from_json(stored);
        if self.by_key.len() >= PARSED_SCOPE_LISTS_MAX {
            self.by_key.clear();
        }
        self.by_key.insert(key_id.to_owned(), (stored.into(), set));
        set
    }
}

/// The global (instance-level) role of a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    #[serde(rename = "global:owner")]
    Owner,
    #[serde(rename = "global:admin")]
    Admin,
    #[serde(rename = "global:member")]
    Member,
}

impl Role {
    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "global:owner",
            Role::Admin => "global:admin",
            Role::Member => "global:member",
        }
    }

    pub fn parse(slug: &str) -> Option<Role> {
        match slug {
            "global:owner" => Some(Role::Owner),
            "global:admin" => Some(Role::Admin),
            "global:member" => Some(Role::Member),
            _ => None,
        }
    }

    /// The scopes a user with this role may put on a key, and the scopes a session of this
    /// user holds on the public API.
    pub fn allowed_scopes(self) -> ScopeSet {
        match self {
            Role::Owner | Role::Admin => ScopeSet::all(),
            Role::Member => ScopeSet::MEMBER_GRANTABLE,
        }
    }

    /// Owners and admins see and manage every project's resources and every user's keys.
    pub fn is_instance_admin(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_has_67_scopes_of_which_members_may_grant_45() {
        assert_eq!(Scope::ALL.len(), 67);
        assert_eq!(Role::Member.allowed_scopes().len(), 45);
        assert_eq!(Role::Owner.allowed_scopes().len(), 67);
        assert_eq!(Role::Admin.allowed_scopes().len(), 67);
    }

    #[test]
    fn every_scope_name_round_trips_and_has_the_resource_operation_form() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(*scope));
            let (resource, operation) = scope.as_str().split_once(':').expect("colon");
            assert!(resource.chars().all(|c| c.is_ascii_alphabetic()));
            assert!(operation.chars().all(|c| c.is_ascii_alphabetic()));
            assert!(!scope.description().is_empty());
        }
        assert_eq!(Scope::parse("workflow:export"), None);
        assert_eq!(Scope::parse(""), None);
    }

    #[test]
    fn members_cannot_grant_owner_only_scopes() {
        let member = Role::Member.allowed_scopes();
        for scope in [
            Scope::CredentialRead,
            Scope::CredentialList,
            Scope::TagDelete,
            Scope::UserCreate,
            Scope::ProjectCreate,
        ] {
            assert!(!member.contains(scope), "{scope}");
        }
        for scope in [
            Scope::WorkflowRead,
            Scope::TagList,
            Scope::UserList,
            Scope::VariableList,
            Scope::CredentialCreate,
        ] {
            assert!(member.contains(scope), "{scope}");
        }
    }

    #[test]
    fn scope_sets_serialise_in_catalog_order_and_drop_unknown_names() {
        let set = ScopeSet::from_json(r#"["tag:read","bogus:thing","workflow:list"]"#);
        assert_eq!(set.names(), vec!["tag:read", "workflow:list"]);
        assert_eq!(ScopeSet::from_json(&set.to_json()), set);
        assert_eq!(ScopeSet::from_json("not json"), ScopeSet::EMPTY);
    }

    #[test]
    fn the_constant_role_sets_equal_the_catalog_filtered() {
        let every: ScopeSet = Scope::ALL.iter().copied().collect();
        assert_eq!(ScopeSet::all(), every);
        let grantable: ScopeSet = Scope::ALL
            .iter()
            .copied()
            .filter(|s| s.member_may_grant())
            .collect();
        assert_eq!(Role::Member.allowed_scopes(), grantable);
    }

    #[test]
    fn a_parsed_list_is_reused_only_while_the_stored_text_is_the_same() {
        let lists = ParsedScopeLists::default();
        let read = r#"["tag:read"]"#;
        let list = r#"["tag:list"]"#;
        assert_eq!(lists.of("k1", read).names(), vec!["tag:read"]);
        assert_eq!(lists.of("k1", read).names(), vec!["tag:read"]);
        // The key's row now holds another list: the memo must not answer the old one.
        assert_eq!(lists.of("k1", list).names(), vec!["tag:list"]);
        assert_eq!(lists.of("k2", read).names(), vec!["tag:read"]);
        assert_eq!(lists.of("k1", "[]"), ScopeSet::EMPTY);
    }
}
