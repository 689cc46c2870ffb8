-- Source-control pulls and community node packages.

-- What the last pull imported, per item of the repository: a hash of the item as the
-- repository held it, and the local version the import produced. The next pull compares
-- both, so it can tell a remote change from a local one, and both together (a conflict).
create table source_control_imports (
    -- workflow (the only kind whose local edits can conflict with the repository's)
    resource_type text not null,
    resource_id   text not null,
    remote_hash   text not null,
    local_version text not null,
    imported_at   text not null,
    constraint source_control_imports_pkey primary key (resource_type, resource_id)
);

-- Installed community node packages. Their files are kept in the data folder; the server
-- never loads or runs them.
create table community_packages (
    package_name      text primary key,
    installed_version text not null,
    author_name       text,
    author_email      text,
    -- The integrity string (SRI) of the tarball that was checked before unpacking.
    integrity         text not null,
    created_at        text not null,
    updated_at        text not null
);

-- The nodes a package declares in its package.json (`n8n.nodes`).
create table community_package_nodes (
    package_name   text not null references community_packages (package_name) on delete cascade,
    -- "<package>.<node>", unique across packages because the package name is in it.
    type           text not null,
    name           text not null,
    latest_version bigint not null,
    created_at     text not null,
    updated_at     text not null,
    constraint community_package_nodes_pkey primary key (type)
);
create index community_package_nodes_package_idx on community_package_nodes (package_name);
