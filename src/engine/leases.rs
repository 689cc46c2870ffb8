//! Leadership over work that exactly one instance does (firing schedules): a lease row in
//! the database, renewed by its holder; when the holder stops renewing (it died), another
//! instance takes the lease once it has run out.

use std::time::Duration;

use serde_json::Value;

use super::Engine;
use crate::db::{leases, published};
use crate::domain::time::iso;
use crate::error::ApiError;

/// How long a lease holds without renewal: the bound on how long schedules pause when the
/// instance firing them dies.
pub const LEASE: Duration = Duration::from_secs(30);

impl Engine {
    /// Takes or renews lease `name`; answers whether this instance holds it.
    pub async fn hold_lease(&self, name: &str) -> Result<bool, ApiError> {
        let now = chrono::Utc::now();
        let until = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let mut tx = self.inner().db.begin().await?;
        let held = leases::hold(
            tx.conn(),
            name,
            &self.inner().instance,
            &iso(now),
            &iso(until),
        )
        .await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Merges `data` (an object of top-level keys) into a workflow's static data.
    pub async fn save_static_data(&self, workflow_id: &str, data: Value) -> Result<(), ApiError> {
        let mut tx = self.inner().db.begin().await?;
        let Some(current) = published::static_data(tx.conn(), workflow_id).await? else {
            return Ok(());
        };
        let mut merged = current
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        if let Value::Object(data) = data {
            merged.extend(data);
        }
        let text = serde_json::to_string(&merged).map_err(anyhow::Error::from)?;
        published::set_static_data(tx.conn(), workflow_id, &text).await?;
        tx.commit().await?;
        Ok(())
    }
}
