//! Black-box tests of the server: the real router over a real database (SQLite, or
//! PostgreSQL when `TEST_DATABASE_URL` is set), one test binary.

mod access;
mod api_keys;
mod audit;
mod auth;
mod backup;
mod behind_proxy;
mod cli;
mod community_packages;
mod credentials;
mod data_tables;
mod discover;
mod errors;
mod executions;
mod fixtures;
mod folders;
mod health;
mod helpers;
mod import_n8n;
mod metrics;
mod mounting;
mod nul_characters;
mod openapi;
mod owner;
mod projects;
mod query_parameters;
mod request_limits;
mod route_table;
mod sessions;
mod source_control;
mod tags;
mod users;
mod variables;
mod web;
mod workflow_rules;
mod workflows;
