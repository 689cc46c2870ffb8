//! Validated values: each type's `parse()` is the only way in, and its rules have unit tests.

pub mod api_key;
pub mod credential_types;
pub mod data_table;
pub mod email;
pub mod ids;
pub mod jwt;
pub mod names;
pub mod password;
pub mod time;
pub mod workflow;
