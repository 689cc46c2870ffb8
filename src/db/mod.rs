//! The database: one enum over the two pools, connections and transactions that hide which
//! backend runs, migrations, and the `on_conn!` macro that writes a query once for both.
//!
//! SQL is written in the subset SQLite and PostgreSQL share (`$n` placeholders, `returning`,
//! `on conflict`, text timestamps from Rust). A repository function looks like
//!
//! ```ignore
//! pub async fn find(conn: Conn<'_>, id: &str) -> sqlx::Result<Option<TagRow>> {
//!     on_conn!(conn, c => sqlx::query_as(FIND).bind(id).fetch_optional(c).await)
//! }
//! ```
//!
//! and the body is type-checked once per backend.
//!
//! SQLite allows one writer at a time. Rather than letting several pooled connections race
//! for the write lock (and answer "database is locked" under load), writes go through a
//! separate pool of exactly one connection, so they queue in the pool instead; reads use a
//! pool of many connections, which WAL mode lets run beside the writer.

pub mod api_keys;
pub mod binary_data;
pub mod community_packages;
pub mod credentials;
pub mod data_tables;
pub mod direct;
pub mod executions;
pub mod file_modes;
pub mod folders;
pub mod invitations;
pub mod leases;
pub mod projects;
pub mod published;
pub mod queue;
pub mod readers;
pub mod sessions;
pub mod settings;
pub mod source_control;
pub mod sql;
pub mod tags;
pub mod timestamps;
pub mod users;
pub mod variables;
pub mod webhooks;
pub mod workflows;

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};

use crate::config::{Config, DbType};

/// Runs `$body` with `$c` bound to the backend's connection (`&mut SqliteConnection` or
/// `&mut PgConnection`). The body is compiled once per backend.
#[macro_export]
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}

/// The two databases the server runs on.
#[derive(Clone)]
pub enum Db {
    Sqlite {
        /// Read transactions (one snapshot over several statements).
        read: SqlitePool,
        /// Every write, through one connection.
        write: SqlitePool,
        /// Single-statement reads (see `readers.rs`).
        readers: std::sync::Arc<readers::Readers>,
        /// Single-statement reads and writes on the caller's thread (see `direct.rs`);
        /// `None` for a database that is not a file.
        direct: Option<std::sync::Arc<direct::Direct>>,
        /// Held by every write transaction and direct write of this process, so that a direct
        /// write never meets the lock of a transaction still running.
        write_lock: std::sync::Arc<tokio::sync::Mutex<()>>,
    },
    Postgres(PgPool),
}

/// A borrowed connection of either backend: what every repository function takes.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// A shorter borrow of the same connection, for running several statements in a row.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Conn::Postgres(_))
    }

    /// Marks a point of the open transaction that [`Conn::rollback_to`] can return to, undoing
    /// only what came after it and keeping the transaction usable.
    pub async fn savepoint(&mut self, name: &'static str) -> sqlx::Result<()> {
        sql::Sql::build(format!("savepoint {name}"))
            .execute(self.reborrow())
            .await?;
        Ok(())
    }

    /// Keeps what was done since the savepoint and forgets the savepoint.
    pub async fn release(&mut self, name: &'static str) -> sqlx::Result<()> {
        sql::Sql::build(format!("release savepoint {name}"))
            .execute(self.reborrow())
            .await?;
        Ok(())
    }

    /// Undoes what was done since the savepoint, and forgets it.
    pub async fn rollback_to(&mut self, name: &'static str) -> sqlx::Result<()> {
        sql::Sql::build(format!("rollback to savepoint {name}"))
            .execute(self.reborrow())
            .await?;
        self.release(name).await
    }
}

/// A connection checked out of a pool (for reads outside a transaction).
pub enum Pooled {
    Sqlite(readers::Lease),
    Postgres(PoolConnection<Postgres>),
}

impl Pooled {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Pooled::Sqlite(c) => Conn::Sqlite(&mut *c),
            Pooled::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// Where single-statement reads run (see [`Db::reader`]).
pub enum Reader<'a> {
    Direct(&'a direct::Direct),
    Pooled(Pooled),
}

impl Reader<'_> {
    /// Whether the statements run on PostgreSQL (for the few texts whose dialects differ).
    pub fn is_postgres(&self) -> bool {
        matches!(self, Reader::Pooled(Pooled::Postgres(_)))
    }

    pub async fn fetch_all<T: sql::FromRow + direct::DirectRow>(
        &mut self,
        sql: &sql::Sql<'_>,
    ) -> sqlx::Result<Vec<T>> {
        match self {
            Reader::Direct(d) => d.fetch_all(sql),
            Reader::Pooled(p) => sql.fetch_all(p.conn()).await,
        }
    }

    pub async fn fetch_optional<T: sql::FromRow + direct::DirectRow>(
        &mut self,
        sql: &sql::Sql<'_>,
    ) -> sqlx::Result<Option<T>> {
        match self {
            Reader::Direct(d) => d.fetch_optional(sql),
            Reader::Pooled(p) => sql.fetch_optional(p.conn()).await,
        }
    }

    pub async fn fetch_scalar_optional<T: sql::Scalar + rusqlite::types::FromSql>(
        &mut self,
        sql: &sql::Sql<'_>,
    ) -> sqlx::Result<Option<T>> {
        match self {
            Reader::Direct(d) => d.fetch_scalar_optional(sql),
            Reader::Pooled(p) => sql.fetch_scalar_optional(p.conn()).await,
        }
    }
}

/// An open transaction. Dropping it without `commit()` rolls back, so every write that fails
/// half-way leaves nothing behind.
pub enum Tx {
    /// With the database's write lock (none for read transactions).
    Sqlite(
        Transaction<'static, Sqlite>,
        Option<tokio::sync::OwnedMutexGuard<()>>,
    ),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t, _) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub async fn commit(self) -> sqlx::Result<()> {
        match self {
            Tx::Sqlite(t, _lock) => t.commit().await,
            Tx::Postgres(t) => t.commit().await,
        }
    }
}

/// How long a request waits for a pooled connection before it is answered 503.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a PostgreSQL connection may sit idle before it is checked again when handed out.
const PG_CHECK_IDLE_AFTER: Duration = Duration::from_secs(1);

/// How long a SQLite statement waits for a lock another connection holds.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

impl Db {
    /// Opens the database the configuration names, creating the SQLite file (and its folder)
    /// or the PostgreSQL schema when missing.
    pub async fn connect(config: &Config) -> anyhow::Result<Db> {
        let url = config.database_url.clone();
        let use_postgres = match &url {
            Some(u) => u.starts_with("postgres:") || u.starts_with("postgresql:"),
            None => config.db_type == DbType::Postgresdb,
        };
        if use_postgres {
            Self::connect_postgres(config, url.as_deref()).await
        } else {
            Self::connect_sqlite(config, url.as_deref()).await
        }
    }

    async fn connect_sqlite(config: &Config, url: Option<&str>) -> anyhow::Result<Db> {
        let options = match url {
            Some(u) => SqliteConnectOptions::from_str(u)
                .context("DATABASE_URL is not a valid sqlite URL")?,
            None => {
                let path = config
                    .sqlite_database
                    .clone()
                    .unwrap_or_else(|| config.data_folder().join("flowgate.sqlite"));
                file_modes::secure(path.parent(), &path).with_context(|| {
                    format!("cannot create the database file {}", path.display())
                })?;
                SqliteConnectOptions::new().filename(path)
            }
        };
        // WAL lets readers run beside the writer; NORMAL sync is durable across process crashes
        // in WAL mode (only an OS crash can lose the last commits).
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(SQLITE_BUSY_TIMEOUT)
            .pragma("temp_store", "memory");
        // A SQLite connection is a local file handle: it cannot go stale the way a network
        // connection can, so checking it before each use (a round trip to its worker thread,
        // as costly as the query itself) buys nothing.
        // The writer keeps every index up to date: a page cache of 32 MiB (SQLite's default
        // is 2 MiB) keeps the indexes of large data tables in memory while they are written.
        // It is only filled as it is used, so small instances do not pay for it.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone().pragma("cache_size", "-32768"))
            .await
            .context("cannot open the SQLite database")?;
        let read = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(config.sqlite_pool_size)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options.clone())
            .await
            .context("cannot open the SQLite database")?;
        // An in-memory database has no file another connection could open.
        let path = options.get_filename().to_path_buf();
        let direct = std::fs::metadata(&path)
            .is_ok_and(|m| m.is_file())
            .then(|| std::sync::Arc::new(direct::Direct::new(path, SQLITE_BUSY_TIMEOUT)));
        let readers = readers::Readers::new(options, config.sqlite_pool_size, ACQUIRE_TIMEOUT);
        Ok(Db::Sqlite {
            read,
            write,
            readers: std::sync::Arc::new(readers),
            direct,
            write_lock: Default::default(),
        })
    }

    async fn connect_postgres(config: &Config, url: Option<&str>) -> anyhow::Result<Db> {
        let options = match url {
            Some(u) => {
                PgConnectOptions::from_str(u).context("DATABASE_URL is not a valid postgres URL")?
            }
            None => PgConnectOptions::new()
                .host(&config.postgres_host)
                .port(config.postgres_port)
                .database(&config.postgres_database)
                .username(&config.postgres_user)
                .password(&config.postgres_password),
        };
        let schema = config.postgres_schema.clone();
        if schema != "public" {
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options.clone())
                .await
                .context("cannot connect to PostgreSQL")?;
            // The schema name was validated as a plain identifier by the config parser.
            let created = sqlx::query(&format!("create schema if not exists \"{schema}\""))
                .execute(&pool)
                .await;
            if let Err(e) = created {
                // Two instances starting at once may both try; the loser sees a duplicate.
                let duplicate = e
                    .as_database_error()
                    .and_then(|d| d.code())
                    .is_some_and(|c| c == "23505" || c == "42P06");
                if !duplicate {
                    return Err(e).context("cannot create the PostgreSQL schema");
                }
            }
            pool.close().await;
        }
        let options = options.options([("search_path", schema.as_str())]);
        // sqlx pings a connection before handing it out: a round trip to the server in front
        // of every statement a request runs outside a transaction (the guard's key look-up,
        // then the read itself). A connection in steady use is known to work, so only one
        // that sat idle for a while is pinged (and replaced when the ping fails); one that
        // breaks in between fails its statement as an outage (503) and is not kept.
        let pool = PgPoolOptions::new()
            .max_connections(config.postgres_pool_size)
            .min_connections(1)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for > PG_CHECK_IDLE_AFTER {
                        sqlx::Connection::ping(connection).await?;
                    }
                    Ok(true)
                })
            })
            .connect_with(options)
            .await
            .context("cannot connect to PostgreSQL")?;
        Ok(Db::Postgres(pool))
    }

    /// Applies the migrations that are missing. On PostgreSQL the migrator holds an advisory
    /// lock, so instances that start at once apply each migration exactly once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match self {
            Db::Sqlite { write, .. } => sqlx::migrate!("./migrations/sqlite")
                .run(write)
                .await
                .context("cannot bring the SQLite database up to date")?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres")
                .run(pool)
                .await
                .context("cannot bring the PostgreSQL database up to date")?,
        }
        Ok(())
    }

    /// A pooled connection for reads.
    pub async fn acquire(&self) -> sqlx::Result<Pooled> {
        Ok(match self {
            Db::Sqlite { readers, .. } => Pooled::Sqlite(readers.acquire().await?),
            Db::Postgres(pool) => Pooled::Postgres(pool.acquire().await?),
        })
    }

    /// A reader for single statements outside a transaction: on a SQLite file they run on the
    /// caller's thread, otherwise on a pooled connection.
    pub async fn reader(&self) -> sqlx::Result<Reader<'_>> {
        Ok(match self {
            Db::Sqlite {
                direct: Some(direct),
                ..
            } => Reader::Direct(direct),
            _ => Reader::Pooled(self.acquire().await?),
        })
    }

    /// A transaction for writes (on SQLite, through the single writer connection).
    pub async fn begin(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            // IMMEDIATE: the write lock is taken at the start. A deferred transaction that read
            // first and writes later fails at once (SQLITE_BUSY_SNAPSHOT, no busy wait) when
            // another process sharing the file wrote in between, as a second instance's
            // background writes (leases, heartbeats) do.
            Db::Sqlite {
                write, write_lock, ..
            } => {
                let lock = std::sync::Arc::clone(write_lock).lock_owned().await;
                match write.begin_with("BEGIN IMMEDIATE").await {
                    // The writer still counts a transaction that SQLite already ended (a commit
                    // refused for a full disk rolls back, and so does its rollback): the
                    // connection cannot begin again. It is closed, and the next one opened in
                    // its place.
                    Err(sqlx::Error::InvalidSavePointStatement) => {
                        tracing::warn!(
                            "replacing the SQLite writer connection after a failed transaction"
                        );
                        write.acquire().await?.close_on_drop();
                        Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?, Some(lock))
                    }
                    begun => Tx::Sqlite(begun?, Some(lock)),
                }
            }
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Runs one write statement as a transaction of its own; answers how many rows it changed.
    /// On a SQLite file it runs on the caller's thread (see `direct.rs`), otherwise, or when
    /// another process holds the write lock, in a transaction through the pool.
    pub async fn write_one(&self, sql: &sql::Sql<'_>) -> sqlx::Result<u64> {
        if let Some(written) = self.write_direct(sql, |_| Ok(())).await? {
            return Ok(written.1);
        }
        let mut tx = self.begin().await?;
        let changed = sql.execute(tx.conn()).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// As [`Db::write_one`], for a statement that answers one value (`returning id`).
    pub async fn write_one_scalar<T: sql::Scalar + rusqlite::types::FromSql>(
        &self,
        sql: &sql::Sql<'_>,
    ) -> sqlx::Result<T> {
        let first = |rows: &mut rusqlite::Rows<'_>| match rows.next()? {
            Some(row) => row.get::<_, T>(0).map(Some),
            None => Ok(None),
        };
        if let Some((value, _)) = self.write_direct(sql, first).await? {
            return value.ok_or(sqlx::Error::RowNotFound);
        }
        let mut tx = self.begin().await?;
        let value = sql.fetch_scalar(tx.conn()).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// A direct write under the write lock; `None` when there is no direct writer or it
    /// found the database locked by another process.
    async fn write_direct<R>(
        &self,
        sql: &sql::Sql<'_>,
        rows: impl FnOnce(&mut rusqlite::Rows<'_>) -> rusqlite::Result<R>,
    ) -> sqlx::Result<Option<(R, u64)>> {
        let Db::Sqlite {
            direct: Some(direct),
            write_lock,
            ..
        } = self
        else {
            return Ok(None);
        };
        let _lock = write_lock.lock().await;
        Ok(match direct.write(sql, rows)? {
            direct::Written::Done(done) => Some(done),
            direct::Written::Busy => None,
        })
    }

    /// A read-only transaction: one consistent snapshot for several reads (on SQLite, on a
    /// reader connection, so it does not queue behind writes).
    pub async fn begin_read(&self) -> sqlx::Result<Tx> {
        Ok(match self {
            Db::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?, None),
            Db::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// A cheap round trip, for the readiness probe.
    pub async fn ping(&self) -> sqlx::Result<()> {
        let mut pooled = self.acquire().await?;
        sql::Sql::query("select 1").execute(pooled.conn()).await?;
        Ok(())
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Pool gauges for metrics: (connections open, connections idle).
    pub fn pool_usage(&self) -> (u32, u32) {
        match self {
            Db::Sqlite {
                read,
                write,
                readers,
                ..
            } => {
                let (open, idle) = readers.usage();
                (
                    read.size() + write.size() + open,
                    (read.num_idle() + write.num_idle()) as u32 + idle,
                )
            }
            Db::Postgres(pool) => (pool.size(), pool.num_idle() as u32),
        }
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite {
                read,
                write,
                readers,
                direct,
                ..
            } => {
                if let Some(direct) = direct {
                    direct.close();
                }
                readers.close().await;
                read.close().await;
                write.close().await;
            }
            Db::Postgres(pool) => pool.close().await,
        }
    }
}

/// A unique constraint, named the way each backend reports it: PostgreSQL gives the
/// constraint's name, SQLite only the `table.column` list.
#[derive(Clone, Copy, Debug)]
pub struct Unique {
    pub name: &'static str,
    pub columns: &'static str,
}

impl Unique {
    /// Whether `error` is a violation of this constraint.
    pub fn matches(&self, error: &sqlx::Error) -> bool {
        let Some(db_error) = error.as_database_error() else {
            return false;
        };
        if !db_error.is_unique_violation() {
            return false;
        }
        match db_error.constraint() {
            Some(name) => name == self.name,
            None => db_error
                .message()
                .strip_prefix("UNIQUE constraint failed: ")
                .is_some_and(|cols| cols == self.columns),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    fn versions(folder: &str) -> BTreeSet<String> {
        std::fs::read_dir(format!(
            "{}/migrations/{folder}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .expect("migrations folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
    }

    #[test]
    fn both_backends_have_the_same_migration_versions_and_names() {
        let sqlite = versions("sqlite");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, versions("postgres"));
    }
}
