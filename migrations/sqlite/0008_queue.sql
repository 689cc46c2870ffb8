-- Executions across several instances: a queue of executions in the executions table, the
-- ticks of schedules fired once, and webhook answers handed between instances.

-- A queued execution is a row with status 'new' and no lease owner (its trigger data is in
-- `data`); any instance claims the oldest one. Rows 'new' with an owner wait for a free slot
-- of that instance (regular mode) and are not claimable by others.
create index executions_queued_idx on executions (id) where status = 'new' and lease_owner is null;
-- Claimed and running executions whose lease ran out are found by their lease end.
create index executions_lease_idx on executions (status, lease_until);

-- One row per schedule tick that started an execution, written in the transaction that
-- creates the execution: a second instance firing the same tick (a leader that has not yet
-- noticed it lost its lease) hits the primary key and starts nothing.
create table schedule_ticks (
    workflow_id text not null,
    -- '<node name>#<rule index>'
    trigger     text not null,
    tick_at     text not null,
    constraint schedule_ticks_pkey primary key (workflow_id, trigger, tick_at)
);

-- The answer to a webhook call whose execution runs on another instance (queue mode): the
-- instance running it writes the HTTP answer here, the instance holding the caller reads
-- and deletes it.
create table execution_answers (
    execution_id bigint primary key,
    answer       text not null,
    created_at   text not null
);
