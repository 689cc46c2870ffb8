-- Data tables: the catalogue of tables and their columns. Each data table's rows live in a
-- physical table of its own, `data_table_user_<id>`, created and altered by the server (see
-- src/db/data_tables.rs for why).

create table data_tables (
    id         text primary key,
    name       text not null,
    project_id text not null references projects (id) on delete cascade,
    created_at text not null,
    updated_at text not null,
    constraint data_tables_project_name_key unique (project_id, name)
);

create table data_table_columns (
    id            text primary key,
    data_table_id text not null references data_tables (id) on delete cascade,
    name          text not null,
    -- string | number | boolean | date
    type          text not null,
    -- The column's place in the table, from 0, without gaps.
    position      bigint not null,
    created_at    text not null,
    updated_at    text not null,
    constraint data_table_columns_table_name_key unique (data_table_id, name)
);
create index data_table_columns_table_idx on data_table_columns (data_table_id, position);
