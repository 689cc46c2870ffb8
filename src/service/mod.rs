//! Rules shared by the HTTP handlers and the command line (owner set-up, API keys).

pub mod api_keys;
pub mod audit;
pub mod community_packages;
pub mod credentials;
pub mod data_table_sizes;
pub mod data_tables;
pub mod executions;
pub mod folders;
pub mod insights;
pub mod outbound;
pub mod owner;
pub mod source_control;
pub mod tags;
pub mod users;
pub mod variables;
pub mod workflows;
