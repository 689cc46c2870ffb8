//! How much storage the data tables take, and the limits on it.
//!
//! Measuring reads the database's own figures (PostgreSQL relation sizes, SQLite page
//! counts), which costs more than a request should pay every time; as n8n does, a measurement
//! is reused for a while (`N8N_DATA_TABLES_SIZE_CHECK_CACHE_DURATION_MS`). Unlike n8n, the
//! figures do not go stale in between: every accepted write adds an estimate of what it
//! stored, so a burst of inserts cannot run far past the limit before the next measurement.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::db::{data_tables, Conn, Db};
use crate::error::{ApiError, Result};

/// One measurement, plus what was written since.
#[derive(Clone, Debug, Default)]
pub struct Sizes {
    pub total: i64,
    pub per_table: HashMap<String, i64>,
}

impl Sizes {
    pub fn of(&self, table_id: &str) -> i64 {
        self.per_table.get(table_id).copied().unwrap_or(0)
    }
}

struct Measured {
    at: Instant,
    sizes: Arc<Sizes>,
}

#[derive(Default)]
pub struct SizeTracker {
    last: Mutex<Option<Measured>>,
}

impl SizeTracker {
    /// The current figures: the last measurement while it is fresh, else a new one.
    pub async fn sizes(&self, db: &Db, config: &Config) -> Result<Arc<Sizes>> {
        if let Some(fresh) = self.fresh(config) {
            return Ok(fresh);
        }
        let mut pooled = db.acquire().await?;
        self.measure(pooled.conn()).await
    }

    fn fresh(&self, config: &Config) -> Option<Arc<Sizes>> {
        let ttl = Duration::from_millis(config.data_tables_size_check_cache_ms);
        self.lock()
            .as_ref()
            .filter(|m| m.at.elapsed() < ttl)
            .map(|m| m.sizes.clone())
    }

    async fn measure(&self, conn: Conn<'_>) -> Result<Arc<Sizes>> {
        let rows = data_tables::sizes(conn).await?;
        let sizes = Arc::new(Sizes {
            total: rows.iter().map(|(_, b)| *b).sum(),
            per_table: rows.into_iter().collect(),
        });
        *self.lock() = Some(Measured {
            at: Instant::now(),
            sizes: sizes.clone(),
        });
        Ok(sizes)
    }

    /// Refuses a write to `table_id` when the instance or the table is at its limit. A new
    /// measurement runs on `conn`, the write's own connection: a write holding its table's
    /// lock never waits for a second connection.
    pub async fn check(&self, conn: Conn<'_>, config: &Config, table_id: &str) -> Result<()> {
        let sizes = match self.fresh(config) {
            Some(fresh) => fresh,
            None => self.measure(conn).await?,
        };
        let max_total = config.data_tables_max_size_bytes as i64;
        if sizes.total >= max_total {
            return Err(ApiError::bad_request(format!(
                "Data table size limit exceeded: {}MB used, limit is {}MB",
                to_mb(sizes.total),
                to_mb(max_total)
            )));
        }
        let max_table = config.data_tables_table_max_size_bytes as i64;
        let used = sizes.of(table_id);
        if used >= max_table {
            return Err(ApiError::bad_request(format!(
                "Data table size limit exceeded for this table: {}MB used, limit is {}MB",
                to_mb(used),
                to_mb(max_table)
            )));
        }
        Ok(())
    }

    /// Adds an estimate of bytes written to `table_id` since the last measurement.
    pub fn grew(&self, table_id: &str, bytes: i64) {
        if let Some(m) = self.lock().as_mut() {
            // Copies the figures only if a request still holds the previous ones.
            let sizes = Arc::make_mut(&mut m.sizes);
            sizes.total += bytes;
            *sizes.per_table.entry(table_id.to_owned()).or_default() += bytes;
        }
    }

    /// Drops the measurement (after a table is deleted, say), so the next check measures.
    pub fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Measured>> {
        // A panic while holding this lock cannot leave the figures inconsistent in a way that
        // matters (the worst is a stale estimate), so a poisoned lock is used as it is.
        self.last.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Megabytes with at most two decimals, as n8n shows them.
fn to_mb(bytes: i64) -> String {
    let mb = (bytes as f64 / (1024.0 * 1024.0) * 100.0).round() / 100.0;
    let text = format!("{mb:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

#[cfg(test)]
mod tests {
    use super::to_mb;

    #[test]
    fn megabytes_read_like_n8n() {
        assert_eq!(to_mb(50 * 1024 * 1024), "50");
        assert_eq!(to_mb(1024 * 1024 + 512 * 1024), "1.5");
        assert_eq!(to_mb(0), "0");
    }
}
