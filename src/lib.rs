//! An n8n-compatible public API server.
#![forbid(unsafe_code)]

/// The package version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// The git revision the binary was built from (`unknown` when built without git history,
/// e.g. from a Docker build context without `.git`); see `build.rs`.
pub const REVISION: &str = env!("FLOWGATE_GIT_REVISION");

/// Per-project access rules.
pub mod access;
/// The public API (`/api/v1`): route table, resources, OpenAPI document.
pub mod api;
/// The application: state, router, middleware stack, serving.
pub mod app;
/// API-key and session authentication, scopes and roles.
pub mod auth;
/// Export, import (between databases) and import from n8n's export files.
pub mod backup;
/// The command line (server, owner set-up, API keys).
pub mod cli;
/// Configuration from n8n's environment variables.
pub mod config;
/// Encryption at rest and keyed hashes.
pub mod crypto;
/// The database: both backends, migrations, repositories.
pub mod db;
/// Validated values (ids, emails, passwords, key format, time).
pub mod domain;
/// The workflow engine: runs published workflows and records their executions.
pub mod engine;
/// The error type and its JSON bodies.
pub mod error;
/// n8n's expression language (`={{ ... }}`).
pub mod expression;
/// Extractors with n8n's rejection messages.
pub mod extract;
/// Liveness and readiness probes.
pub mod health;
/// Instance secrets and housekeeping.
pub mod instance;
/// Prometheus metrics (`/metrics`).
pub mod metrics;
/// n8n's cursor pagination.
pub mod pagination;
/// The internal `/rest` API (owner set-up, sign-in, API keys).
pub mod rest;
/// Rules shared by handlers and the command line.
pub mod serve;
pub mod service;
/// Logging.
pub mod telemetry;
/// The web page: set-up, sign-in, and the API-key and user settings, embedded.
pub mod web;
