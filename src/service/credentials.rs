//! Credential secrets at rest: sealed under the instance key, bound to the credential's id.

use serde_json::{Map, Value};

use crate::crypto::KeyRing;
use crate::db::credentials::CredentialRow;
use crate::error::ApiError;

/// The context a credential's data is sealed under: its id, so a copy on another row fails.
fn context(id: &str) -> String {
    format!("credential:{id}")
}

/// Seals a credential's data for storage.
pub fn seal(keys: &KeyRing, id: &str, data: &Map<String, Value>) -> String {
    keys.seal(&serde_json::to_vec(data).unwrap_or_default(), &context(id))
}

/// Opens a stored credential's data.
pub fn open(keys: &KeyRing, row: &CredentialRow) -> Result<Map<String, Value>, ApiError> {
    let bytes = keys.open(&row.data, &context(&row.id)).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "credential {} cannot be opened: {e}",
            row.id
        ))
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::Internal(anyhow::anyhow!(
            "credential {} holds no JSON object: {e}",
            row.id
        ))
    })
}
