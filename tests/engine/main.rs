//! The engine, black-box: workflows created and published through the public API, run through
//! their real webhooks on the real router, on SQLite (and PostgreSQL with
//! `TEST_DATABASE_URL`), and read back through the executions API.
//!
//! `golden/` holds workflows with the requests to send and the answers and executions to
//! expect; each expectation was first checked against n8n (the file says which version).

#[path = "../api/helpers.rs"]
mod helpers;

mod binary_data;
mod code_binary;
mod code_node;
mod data_nodes;
mod flow_nodes;
mod flows;
mod golden;
mod http_request;
mod runs;
mod support;
mod webhook_access;
