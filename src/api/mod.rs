//! The public API (`/api/v1`).

pub mod v1;
