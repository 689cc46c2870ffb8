//! Moving an instance's data: `flowgate export` writes everything to one JSON file
//! ([`export`]), `flowgate import` restores such a file into an empty database of either kind
//! ([`import`]), and `flowgate import n8n` reads n8n's own export files ([`import_n8n`]).
//!
//! # The export file
//!
//! ```text
//! {
//!   "format": "flowgate-export",
//!   "version": 1,
//!   "exportedAt": "2026-11-26T10:00:00.000Z",
//!   "flowgateVersion": "0.1.0",
//!   "database": "sqlite",
//!   "keyIds": ["1a2b3c4d"],
//!   "tables": { "users": [{"id": "...", "email": "...", ...}], "projects": [...], ... },
//!   "dataTableRows": { "<data table id>": [{"id": 1, "createdAt": "...", "updatedAt": "...", "<column>": ...}] }
//! }
//! ```
//!
//! `tables` holds every row of every table of [`tables::TABLES`], as objects keyed by the
//! SQL column names, with the values as stored: timestamps and JSON documents as their text,
//! booleans as `true`/`false`, integers as numbers. Secrets stay as the database holds them:
//! password hashes, API-key hashes, and credentials and the instance secret sealed with
//! `N8N_ENCRYPTION_KEY` (`keyIds` names the keys that sealed them, so an import can tell at
//! once whether it has the right key). `dataTableRows` holds the rows of each data table's own
//! SQL table. The version changes whenever the tables do; an import refuses a version it does
//! not know rather than guess.

pub mod export;
pub mod import;
pub mod import_n8n;
pub mod tables;

use std::path::Path;

/// The `format` of an export file.
pub const FORMAT: &str = "flowgate-export";
/// The `version` this build writes and reads.
pub const VERSION: u64 = 1;

/// What can stop an export or an import. Every message is one line that says what is wrong
/// with the file or the database and what to do; none carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input cannot be used as it is: not JSON, cut short, another format, a value of the
    /// wrong type, data the catalog refuses.
    #[error("{0}")]
    Input(String),
    /// The target refuses the operation as it stands: a database that holds data, a key that
    /// cannot open the file's secrets, a missing owner or project.
    #[error("{0}")]
    Refused(String),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl From<crate::error::ApiError> for Error {
    /// A step shared with the API refused (e.g. the workflow lifecycle): its message is the
    /// reason; a database failure stays one.
    fn from(error: crate::error::ApiError) -> Error {
        match error {
            crate::error::ApiError::Database(e) => Error::Database(e),
            crate::error::ApiError::Internal(e) => Error::Refused(format!("{e:#}")),
            other => Error::Refused(other.client_message()),
        }
    }
}

impl Error {
    pub(crate) fn file(path: &Path, source: std::io::Error) -> Error {
        Error::File {
            path: path.display().to_string(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// "3 users, 1 project, 0 workflows": counts for a summary line.
pub(crate) fn counted(count: usize, singular: &str, plural: &str) -> String {
    format!("{count} {}", if count == 1 { singular } else { plural })
}

/// How many rows an export or import moved, per table in export order.
#[derive(Debug, Default)]
pub struct Counts {
    pub tables: Vec<(&'static str, usize)>,
    /// Rows of all data tables together.
    pub data_table_rows: usize,
}

/// "users 2, projects 3, ..., data table rows 10", for the summary line (settings are the
/// instance's plumbing, not data to count).
impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, count) in self.tables.iter().filter(|(n, _)| *n != tables::SETTINGS) {
            write!(f, "{name} {count}, ")?;
        }
        write!(f, "data table rows {}", self.data_table_rows)
    }
}
