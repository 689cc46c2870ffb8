-- Credentials (secrets sealed at rest) and variables.

-- The secret fields of a credential live in `data`, sealed with AES-256-GCM under a key of
-- the instance key ring and bound to the credential's id (see src/crypto.rs). `key_id` names
-- the sealing key, so start-up can tell whether every credential can still be opened, and a
-- rotation knows what is left to re-seal.
create table credentials (
    id                        text primary key,
    name                      text not null,
    type                      text not null,
    data                      text not null,
    key_id                    text not null,
    project_id                text not null references projects (id) on delete cascade,
    is_managed                boolean not null default false,
    is_global                 boolean not null default false,
    is_resolvable             boolean not null default false,
    resolvable_allow_fallback boolean not null default false,
    resolver_id               text,
    -- When the credential came to its project (shared[].createdAt in the API).
    shared_at                 text not null,
    created_at                text not null,
    updated_at                text not null
);
-- Lists are newest first, as n8n's.
create index credentials_created_idx on credentials (created_at, id);
create index credentials_project_idx on credentials (project_id);
create index credentials_key_idx on credentials (key_id);

-- Variables: global (no project) or of one project. A key is unique within its scope.
create table variables (
    id         text primary key,
    key        text not null,
    value      text not null,
    type       text not null default 'string',
    project_id text references projects (id) on delete cascade,
    created_at text not null,
    updated_at text not null
);
create unique index variables_key_scope_key on variables (key, coalesce(project_id, ''));
