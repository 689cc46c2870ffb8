-- Executions: the record of workflow runs. Ids are integers, as n8n's.
-- (The id column is the one line that differs between the SQLite and PostgreSQL files: the two
-- spell auto-numbered columns differently.)
create table executions (
    id                  integer primary key autoincrement,
    workflow_id         text not null references workflows (id) on delete cascade,
    -- cli | error | integrated | internal | manual | retry | trigger | webhook | evaluation | chat | agent
    mode                text not null,
    -- canceled | crashed | error | new | running | success | unknown | waiting
    status              text not null,
    finished            boolean not null default false,
    retry_of            text,
    retry_success_id    text,
    created_at          text not null,
    started_at          text,
    stopped_at          text,
    wait_till           text,
    workflow_version_id text,
    -- JSON: the run data, the workflow as it ran, and custom data.
    data                text,
    workflow_data       text,
    custom_data         text,
    json_size_bytes     bigint not null default 0
);
create index executions_workflow_idx on executions (workflow_id, id);
create index executions_status_idx on executions (status, id);

-- Annotation tags of executions (from the same tag registry as workflows).
create table execution_tags (
    execution_id bigint not null references executions (id) on delete cascade,
    tag_id       text not null references tags (id) on delete cascade,
    constraint execution_tags_pkey primary key (execution_id, tag_id)
);
