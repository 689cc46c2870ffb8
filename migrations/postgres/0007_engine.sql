-- The workflow engine: production webhooks of published workflows, what the run loop needs on
-- executions, and leases for work that exactly one instance may do at a time.

-- One row per (method, path) a published workflow answers. Written in the transaction that
-- publishes the workflow and removed in the one that unpublishes it, so every instance sharing
-- the database answers a webhook from the moment the publish commits.
create table webhooks (
    method      text not null,
    -- n8n's key: a static path as written, without leading or trailing '/'; a path with
    -- ':param' segments as '<webhookId>/<path>'.
    path        text not null,
    workflow_id text not null references workflows (id) on delete cascade,
    node        text not null,
    -- Parameterised paths only: the node's webhookId and the number of segments after it.
    webhook_id  text,
    path_length bigint,
    constraint webhooks_pkey primary key (method, path)
);
create index webhooks_workflow_idx on webhooks (workflow_id);
create index webhooks_dynamic_idx on webhooks (webhook_id, method, path_length);

-- Which instance runs an execution, and until when its claim holds without a heartbeat.
alter table executions add column lease_owner text;
alter table executions add column lease_until text;
-- Waiting executions are found by the time they are due.
create index executions_wait_idx on executions (status, wait_till);

-- Work only one instance may do at a time (firing schedules, pruning): the holder renews its
-- lease; when it stops renewing, another instance takes over after the lease runs out.
create table leases (
    name       text primary key,
    owner      text not null,
    expires_at text not null
);
