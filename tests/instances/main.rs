//! The real binary as separate processes: several instances on one PostgreSQL database,
//! and the operator's view (version, health check, proxy-aware logs, upgrades). A test
//! binary of its own, apart from the in-process API suite in `tests/api`.

mod binary_data;
mod cluster;
mod database_restart;
mod full_disk;
mod load;
mod operations;
mod private_postgres;
mod queue;
mod queue_scale;
mod queue_stop;
mod reliability;
mod shared_database;
mod support;
