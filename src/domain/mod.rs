//! Validated values: each type's `parse()` is the only way in, and its rules have unit tests.

pub mod api_key;
pub mod credential_types;
pub mod email;
pub mod ids;
pub mod password;
pub mod time;
pub mod workflow;
