-- Binary data of executions in `database` mode (N8N_DEFAULT_BINARY_DATA_MODE=database): the
-- bytes of each file an execution received or produced, referred to from its items as
-- `database:<file_id>`. Kept in the database so that every instance sharing it can read the
-- files of any execution (queue mode, several main instances).

create table binary_data (
    file_id      text primary key,
    -- Deleting or pruning an execution deletes its files with it.
    execution_id bigint not null references executions (id) on delete cascade,
    mime_type    text,
    file_name    text,
    file_size    bigint not null,
    data         blob not null,
    created_at   text not null
);
create index binary_data_execution_idx on binary_data (execution_id);
