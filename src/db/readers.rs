//! The SQLite reader connections that plain reads use (`Db::acquire`).
//!
//! sqlx's pool tests every connection when it is handed back, with a ping that is a round trip
//! to the connection's worker thread: as costly as a point query itself, on every request. A
//! SQLite connection is a handle on a local file; it does not go stale the way a network
//! connection does, so this pool hands connections back without a test. That halves the
//! worker round trips of a typical authenticated read (key look-up, then the resource).
//!
//! Connections are opened on first need, up to the limit, and kept. A caller waits at most the
//! acquire timeout for one, then gets `PoolTimedOut` (a 503), as with sqlx's pool.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection, SqliteConnection};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

pub struct Readers {
    shared: Arc<Shared>,
}

struct Shared {
    options: SqliteConnectOptions,
    idle: Mutex<Vec<SqliteConnection>>,
    permits: Arc<Semaphore>,
    opened: AtomicU32,
    timeout: Duration,
}

/// A reader connection, back in the pool when dropped.
pub struct Lease {
    connection: Option<SqliteConnection>,
    shared: Arc<Shared>,
    _permit: OwnedSemaphorePermit,
}

impl Readers {
    pub fn new(options: SqliteConnectOptions, max: u32, timeout: Duration) -> Readers {
        Readers {
            shared: Arc::new(Shared {
                options,
                idle: Mutex::new(Vec::new()),
                permits: Arc::new(Semaphore::new(max as usize)),
                opened: AtomicU32::new(0),
                timeout,
            }),
        }
    }

    pub async fn acquire(&self) -> sqlx::Result<Lease> {
        let permit = tokio::time::timeout(
            self.shared.timeout,
            self.shared.permits.clone().acquire_owned(),
        )
        .await
        .map_err(|_| sqlx::Error::PoolTimedOut)?
        .map_err(|_| sqlx::Error::PoolClosed)?;
        let idle = self.shared.idle().pop();
        let connection = match idle {
            Some(c) => c,
            None => {
                let c = self.shared.options.connect().await?;
                self.shared.opened.fetch_add(1, Ordering::Relaxed);
                c
            }
        };
        Ok(Lease {
            connection: Some(connection),
            shared: self.shared.clone(),
            _permit: permit,
        })
    }

    /// (connections open, connections idle), for the metrics.
    pub fn usage(&self) -> (u32, u32) {
        (
            self.shared.opened.load(Ordering::Relaxed),
            self.shared.idle().len() as u32,
        )
    }

    /// Refuses new leases and closes the idle connections.
    pub async fn close(&self) {
        self.shared.permits.close();
        let idle: Vec<SqliteConnection> = std::mem::take(&mut *self.shared.idle());
        for connection in idle {
            let _ = connection.close().await;
        }
    }
}

impl Shared {
    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<SqliteConnection>> {
        // The vector is consistent after every operation on it, so a poisoned lock is fine.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::ops::Deref for Lease {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        self.connection
            .as_ref()
            .expect("a lease holds its connection until dropped")
    }
}

impl std::ops::DerefMut for Lease {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.connection
            .as_mut()
            .expect("a lease holds its connection until dropped")
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        // Leases are only used for single statements outside transactions, so a connection
        // comes back in a clean state (a statement cut short by a dropped request is reset by
        // its worker before the next one runs).
        if let Some(connection) = self.connection.take() {
            if self.shared.permits.is_closed() {
                self.shared.opened.fetch_sub(1, Ordering::Relaxed);
                return;
            }
            self.shared.idle().push(connection);
        }
    }
}
