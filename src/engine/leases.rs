//! Leadership over work that exactly one instance does (firing schedules, pruning): a lease
//! row in the database, taken or renewed by one atomic statement; when the holder stops
//! renewing (it died), another instance takes the lease once it has run out, so the work
//! pauses at most N8N_MULTI_MAIN_SETUP_KEY_TTL plus one N8N_MULTI_MAIN_SETUP_CHECK_INTERVAL.

use serde_json::Value;

use super::Engine;
use crate::db::{leases, published};
use crate::domain::time::iso;
use crate::error::ApiError;

impl Engine {
    /// Takes or renews lease `name`; answers whether this instance holds it.
    pub async fn hold_lease(&self, name: &str) -> Result<bool, ApiError> {
        let now = chrono::Utc::now();
        let ttl = self.inner().config.leader_ttl();
        let until = now + chrono::Duration::from_std(ttl).unwrap_or_default();
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

    /// Gives lease `name` up if this instance holds it (shutdown), so another takes over at
    /// its next check instead of after the lease ran out.
    pub async fn release_lease(&self, name: &str) -> Result<(), ApiError> {
        let mut tx = self.inner().db.begin().await?;
        leases::release(tx.conn(), name, &self.inner().instance).await?;
        tx.commit().await?;
        Ok(())
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
