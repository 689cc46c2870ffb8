//! The workflow engine: runs published workflows from their triggers, node by node, as n8n
//! runs them, and records their executions.

pub mod data;
pub mod workflow;
