-- Ownership: folders and workflows inside projects, workflow versions and publish history,
-- workflow tags, and invitations.

-- Folders nest inside one project.
create table folders (
    id               text primary key,
    name             text not null,
    parent_folder_id text references folders (id) on delete cascade,
    project_id       text not null references projects (id) on delete cascade,
    created_at       text not null,
    updated_at       text not null
);
create index folders_project_parent_idx on folders (project_id, parent_folder_id);
create index folders_parent_idx on folders (parent_folder_id);

-- Workflows. The owning ("home") project is a column rather than a sharing table: the public
-- API has no sharing, only transfers, so every workflow has exactly one project, and access
-- checks and list filters become one indexed comparison.
create table workflows (
    id                text primary key,
    name              text not null,
    description       text,
    active            boolean not null default false,
    active_version_id text,
    is_archived       boolean not null default false,
    -- The current draft: a row of workflow_history with this id exists for every version.
    version_id        text not null,
    version_counter   bigint not null,
    trigger_count     bigint not null default 0,
    -- JSON documents, stored as given (numbers keep their exact text).
    nodes             text not null,
    connections       text not null,
    node_groups       text not null,
    settings          text not null,
    static_data       text,
    pin_data          text,
    meta              text,
    project_id        text not null references projects (id) on delete cascade,
    parent_folder_id  text references folders (id) on delete set null,
    -- When the workflow came to its project (shared[].createdAt in the API).
    shared_at         text not null,
    created_at        text not null,
    updated_at        text not null
);
-- Lists are ordered by id, as n8n's are; the primary key serves the keyset pages.
create index workflows_project_idx on workflows (project_id, id);
create index workflows_folder_idx on workflows (parent_folder_id);

-- Every saved version of a workflow.
create table workflow_history (
    version_id  text primary key,
    workflow_id text not null references workflows (id) on delete cascade,
    nodes       text not null,
    connections text not null,
    node_groups text not null,
    -- Display names of who saved this version.
    authors     text not null,
    name        text,
    description text,
    autosaved   boolean not null default false,
    created_at  text not null,
    updated_at  text not null
);
create index workflow_history_workflow_idx on workflow_history (workflow_id, created_at, version_id);

-- Publish and unpublish events.
create table workflow_publish_history (
    id          text primary key,
    workflow_id text not null references workflows (id) on delete cascade,
    version_id  text,
    -- activated | deactivated
    event       text not null,
    user_id     text references users (id) on delete set null,
    created_at  text not null
);
create index workflow_publish_history_workflow_idx on workflow_publish_history (workflow_id, created_at);

create table workflow_tags (
    workflow_id text not null references workflows (id) on delete cascade,
    tag_id      text not null references tags (id) on delete cascade,
    constraint workflow_tags_pkey primary key (workflow_id, tag_id)
);
create index workflow_tags_tag_idx on workflow_tags (tag_id);

-- Pending invitations, one per invited user. The link's token is a MAC over the user id,
-- the expiry and this row's nonce (see src/service/users.rs), so the link can be shown again
-- while it is valid, and a new invitation or an acceptance (which replace or remove the row)
-- voids every older link.
create table invitations (
    user_id    text primary key references users (id) on delete cascade,
    inviter_id text references users (id) on delete set null,
    nonce      text not null,
    -- Unix seconds.
    expires_at bigint not null,
    created_at text not null
);
