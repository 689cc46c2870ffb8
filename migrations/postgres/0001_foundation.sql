-- Foundation: users, projects, tags, API keys, sessions and instance settings.
-- Both migration sets (sqlite/ and postgres/) carry the same versions, tables, columns and
-- constraint names; the code maps unique violations by those names.
-- Timestamps are ISO-8601 UTC text with milliseconds ("2026-11-26T10:00:00.000Z"): the form
-- the API answers with, fixed-width so it sorts and compares correctly as text.
-- JSON values are stored as text.

-- People who sign in. Ids are UUIDs, as in n8n. Emails are stored lower-case.
create table users (
    id            text primary key,
    email         text not null,
    first_name    text,
    last_name     text,
    -- argon2id PHC string; null while an invitation is pending.
    password_hash text,
    -- global:owner | global:admin | global:member
    role          text not null,
    disabled      boolean not null default false,
    created_at    text not null,
    updated_at    text not null,
    constraint users_email_key unique (email)
);
-- At most one owner: two concurrent owner set-ups cannot both succeed.
create unique index users_single_owner_key on users (role) where role = 'global:owner';

-- Projects own resources. Every user has one personal project; team projects are shared.
create table projects (
    id          text primary key,
    name        text not null,
    -- personal | team
    type        text not null,
    -- JSON {type, value, color?} or null
    icon        text,
    description text,
    creator_id  text references users (id) on delete set null,
    created_at  text not null,
    updated_at  text not null
);

-- Who belongs to which project, with which project role
-- (project:personalOwner | project:admin | project:editor | project:viewer).
create table project_relations (
    project_id text not null references projects (id) on delete cascade,
    user_id    text not null references users (id) on delete cascade,
    role       text not null,
    created_at text not null,
    updated_at text not null,
    constraint project_relations_pkey primary key (project_id, user_id)
);
create index project_relations_user_idx on project_relations (user_id);

-- The global tag registry.
create table tags (
    id         text primary key,
    name       text not null,
    created_at text not null,
    updated_at text not null,
    constraint tags_name_key unique (name)
);
-- Lists page in creation order; the index makes page 1000 cost what page 1 costs.
create index tags_created_idx on tags (created_at, id);

-- Public API keys. The raw key is shown once and never stored: key_hash is an HMAC-SHA256
-- of it under an instance secret, looked up by its unique index.
create table api_keys (
    id           text primary key,
    user_id      text not null references users (id) on delete cascade,
    label        text not null,
    -- JSON array of scope strings, never empty.
    scopes       text not null,
    -- Number of scopes, kept beside the array so lists can sort by it in SQL.
    scope_count  integer not null,
    key_hash     text not null,
    -- The last four characters of the raw key, for the redacted display.
    key_hint     text not null,
    audience     text not null default 'public-api',
    -- Unix seconds; null means the key never expires.
    expires_at   bigint,
    last_used_at text,
    created_at   text not null,
    updated_at   text not null,
    constraint api_keys_key_hash_key unique (key_hash),
    constraint api_keys_user_label_key unique (user_id, label)
);
create index api_keys_user_idx on api_keys (user_id, created_at);

-- Browser sessions (cookie n8n-auth). The cookie carries a random token; only its HMAC is
-- stored, so sign-out and user deletion revoke at once.
create table sessions (
    token_hash text primary key,
    user_id    text not null references users (id) on delete cascade,
    -- Unix seconds.
    expires_at bigint not null,
    created_at text not null
);
create index sessions_user_idx on sessions (user_id);

-- Instance-wide values (sealed secrets, flags), keyed by name.
create table settings (
    key        text primary key,
    value      text not null,
    updated_at text not null
);
