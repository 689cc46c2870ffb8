//! Black-box tests of the server: the real router over a real database (SQLite, or
//! PostgreSQL when `TEST_DATABASE_URL` is set), one test binary.

mod api_keys;
mod auth;
mod behind_proxy;
mod cli;
mod errors;
mod health;
mod helpers;
mod metrics;
mod mounting;
mod openapi;
mod owner;
mod route_table;
mod sessions;
mod tags;
