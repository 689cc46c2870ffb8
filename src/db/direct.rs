//! Reads on SQLite executed on the request's own thread.
//!
//! sqlx runs every SQLite connection on a worker thread of its own: each statement is a message
//! to that thread and a wake-up of the request's task when it answers. For a point read that
//! costs far more than the read itself (a profile of the tag read showed most CPU in futex
//! wake/wait and context switches). The reads here open their own connections to the same file
//! (through rusqlite, which links the very SQLite sqlx links: one `libsqlite3-sys` in the
//! build) and run the statement synchronously on the thread that asks. A point read takes
//! microseconds, less than a thread hop, so blocking the runtime's thread for it is cheaper
//! than yielding it.
//!
//! The statements are the same [`Sql`] values the pooled path runs (one text for both
//! databases); only the execution and the row decoding ([`DirectRow`]) differ. Each statement
//! runs outside any transaction, so it reads the last committed state, as a pooled read does:
//! nothing is cached here.
//!
//! Connections are kept in a list and taken for the length of one statement. Since nothing
//! awaits while one is held, at most one per thread running requests is ever open.
//!
//! Single-statement writes that run on every execution (its row's insert and its end) go the
//! same way, through one writer connection, for the same reason: through the pool's writer a
//! one-statement transaction costs four round trips to its worker thread (begin, statement,
//! commit, and the pool's check when the connection is handed back), and the write lock is
//! held, for every other writer, the whole time. Here the statement commits on its own in
//! microseconds. [`crate::db::Db`] serialises these writes with its pool transactions.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use crate::db::sql::{Param, Sql};

/// A row type decodable from a rusqlite row, by column name.
pub trait DirectRow: Sized {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self>;
}

/// Implements [`DirectRow`] for a struct whose fields are named like its columns.
///
/// Statements usually list the columns in field order, so each field is looked for at its own
/// position first (one name comparison) and by name only when another column stands there:
/// rusqlite's look-up by name compares against every column in turn, which made reading a
/// row's columns quadratic in their number (a tenth of a key check's cost).
#[macro_export]
macro_rules! direct_row {
    ($ty:ty { $($field:ident),* $(,)? }) => {
        impl $crate::db::direct::DirectRow for $ty {
            fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
                let mut positions = 0usize..;
                Ok(Self { $($field: $crate::db::direct::column(
                    row,
                    positions.next().unwrap_or_default(),
                    stringify!($field),
                )?),* })
            }
        }
    };
}

/// The column `name` of `row`, looked for at `position` first (see [`direct_row!`]).
pub fn column<T: rusqlite::types::FromSql>(
    row: &rusqlite::Row<'_>,
    position: usize,
    name: &str,
) -> rusqlite::Result<T> {
    let statement = row.as_ref();
    if position < statement.column_count()
        && statement
            .column_name(position)
            .is_ok_and(|n| n.eq_ignore_ascii_case(name))
    {
        row.get(position)
    } else {
        row.get(name)
    }
}

/// The synchronous connections of one SQLite database file: readers, and one writer.
pub struct Direct {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    /// The connection of single-statement writes (see [`Direct::write`]), opened on first use.
    writer: Mutex<Option<Connection>>,
}

/// What a direct write answers: its result, or `Busy` when another connection holds the
/// write lock (the caller then writes through the pool, which waits for it).
pub enum Written<R> {
    Done(R),
    Busy,
}

/// Prepared statements kept per connection: the hot statements are few and constant.
const STATEMENT_CACHE: usize = 64;

impl Direct {
    pub fn new(path: PathBuf, busy_timeout: Duration) -> Direct {
        Direct {
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
        }
    }

    /// The writer connection: the pool writer's settings, except that it never waits for a
    /// lock (it runs on the caller's thread, which must not sleep in SQLite's busy handler).
    fn open_writer(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(Duration::ZERO)?;
        connection.execute_batch(
            "pragma synchronous = normal; pragma foreign_keys = on; pragma temp_store = memory;",
        )?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }

    /// Runs one write statement on the caller's thread, as a transaction of its own
    /// (autocommit); its changes are committed when this returns `Done`. The caller holds the
    /// database's write lock, so no other writer of this process is in the middle of a
    /// transaction; another process (or a pool transaction still rolling back) may be: then
    /// this answers `Busy` at once rather than waiting.
    ///
    /// `rows` receives the statement's result rows (`returning`); answered is what it
    /// returns, with the count of changed rows.
    pub fn write<R>(
        &self,
        sql: &Sql<'_>,
        rows: impl FnOnce(&mut rusqlite::Rows<'_>) -> rusqlite::Result<R>,
    ) -> sqlx::Result<Written<(R, u64)>> {
        let text = sql.text_for(false)?;
        let mut writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        if writer.is_none() {
            *writer = Some(self.open_writer().map_err(into_sqlx)?);
        }
        let Some(connection) = writer.as_ref() else {
            unreachable!("opened above")
        };
        let result: rusqlite::Result<(R, u64)> = (|| {
            let mut statement = connection.prepare_cached(&text)?;
            bind(&mut statement, sql.params())?;
            let mut raw = statement.raw_query();
            let answered = rows(&mut raw)?;
            // Stepping to the end finishes the statement, which commits it.
            while raw.next()?.is_some() {}
            drop(raw);
            Ok((answered, connection.changes()))
        })();
        match result {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) =>
            {
                Ok(Written::Busy)
            }
            other => other.map(Written::Done).map_err(into_sqlx),
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        // Read-only: these connections never write, and SQLite refuses it if one tried. The
        // connection is used by one thread at a time, so SQLite's own mutex is not needed.
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(self.busy_timeout)?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(connection)
    }

    fn idle(&self) -> std::sync::MutexGuard<'_, Vec<Connection>> {
        // The list is consistent after every operation on it, so a poisoned lock is fine.
        self.idle.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `work` on a connection of this thread's choosing, synchronously.
    fn with<R>(&self, work: impl FnOnce(&Connection) -> rusqlite::Result<R>) -> sqlx::Result<R> {
        let taken = self.idle().pop();
        let connection = match taken {
            Some(c) => c,
            None => self.open().map_err(into_sqlx)?,
        };
        let result = work(&connection);
        self.idle().push(connection);
        result.map_err(into_sqlx)
    }

    pub fn fetch_all<T: DirectRow>(&self, sql: &Sql<'_>) -> sqlx::Result<Vec<T>> {
        let text = sql.text_for(false)?;
        self.with(|c| {
            let mut statement = c.prepare_cached(&text)?;
            bind(&mut statement, sql.params())?;
            let mut rows = statement.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                out.push(T::from_direct(row)?);
            }
            Ok(out)
        })
    }

    pub fn fetch_optional<T: DirectRow>(&self, sql: &Sql<'_>) -> sqlx::Result<Option<T>> {
        let text = sql.text_for(false)?;
        self.with(|c| {
            let mut statement = c.prepare_cached(&text)?;
            bind(&mut statement, sql.params())?;
            let mut rows = statement.raw_query();
            match rows.next()? {
                Some(row) => Ok(Some(T::from_direct(row)?)),
                None => Ok(None),
            }
        })
    }

    /// The first column of the row the statement answers, if it answers one.
    pub fn fetch_scalar_optional<T: rusqlite::types::FromSql>(
        &self,
        sql: &Sql<'_>,
    ) -> sqlx::Result<Option<T>> {
        let text = sql.text_for(false)?;
        self.with(|c| {
            let mut statement = c.prepare_cached(&text)?;
            bind(&mut statement, sql.params())?;
            let mut rows = statement.raw_query();
            match rows.next()? {
                Some(row) => Ok(Some(row.get(0)?)),
                None => Ok(None),
            }
        })
    }

    /// Closes the idle connections (those in use close when their statement ends).
    pub fn close(&self) {
        self.idle().clear();
        *self.writer.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

/// Binds `params` the way sqlx does: a numbered placeholder (`$3`) takes the value of its
/// number, an anonymous one (`?`) the next value in order.
fn bind(statement: &mut rusqlite::Statement<'_>, params: &[Param<'_>]) -> rusqlite::Result<()> {
    for index in 1..=statement.parameter_count() {
        let position = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$').or_else(|| name.strip_prefix('?')))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let Some(param) = position.checked_sub(1).and_then(|i| params.get(i)) else {
            return Err(rusqlite::Error::InvalidParameterCount(
                params.len(),
                statement.parameter_count(),
            ));
        };
        match param {
            Param::Text(t) => statement.raw_bind_parameter(index, t.as_ref())?,
            Param::Int(i) => statement.raw_bind_parameter(index, *i)?,
            Param::Int32(i) => statement.raw_bind_parameter(index, *i)?,
            Param::Float(f) => statement.raw_bind_parameter(index, *f)?,
            Param::Bool(b) => statement.raw_bind_parameter(index, *b)?,
            Param::Bytes(bytes) => statement.raw_bind_parameter(index, bytes.as_ref())?,
            Param::Null(_) => statement.raw_bind_parameter(index, rusqlite::types::Null)?,
        }
    }
    Ok(())
}

/// A rusqlite failure as the error every repository function answers: busy past the timeout
/// and unopenable files are outages (503), as a pool that cannot hand out a connection is.
fn into_sqlx(error: rusqlite::Error) -> sqlx::Error {
    use rusqlite::ErrorCode;
    match error.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => sqlx::Error::PoolTimedOut,
        Some(ErrorCode::CannotOpen) => sqlx::Error::Io(std::io::Error::other(error)),
        _ => sqlx::Error::Protocol(format!("sqlite: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Pair {
        a: String,
        b: i64,
    }

    direct_row!(Pair { a, b });

    fn database() -> (tempfile::TempDir, Direct) {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.sqlite");
        let writer = Connection::open(&path).expect("open");
        writer
            .execute_batch(
                "pragma journal_mode = wal; create table t (a text not null, b integer not null); \
                 insert into t values ('x', 1), ('y', 2), ('z', 3);",
            )
            .expect("schema");
        (dir, Direct::new(path, Duration::from_secs(1)))
    }

    #[test]
    fn numbered_placeholders_take_the_value_of_their_number_wherever_they_stand() {
        let (_dir, direct) = database();
        let sql = Sql::query("select a, b from t where b > $2 and a <> $1 and b > $2 order by b")
            .bind("z")
            .bind(1i64);
        let rows: Vec<Pair> = direct.fetch_all(&sql).expect("rows");
        assert_eq!(
            rows.iter().map(|r| (r.a.as_str(), r.b)).collect::<Vec<_>>(),
            [("y", 2)]
        );
    }

    #[test]
    fn built_placeholders_are_bound_in_order() {
        let (_dir, direct) = database();
        let mut sql = Sql::build("select a, b from t where a in (");
        sql.push_list(["x", "z"]).push(") and b < ").push_bind(3i64);
        let rows: Vec<Pair> = direct.fetch_all(&sql).expect("rows");
        assert_eq!(rows.len(), 1);
        assert_eq!((rows[0].a.as_str(), rows[0].b), ("x", 1));
        let none: Option<Pair> = direct
            .fetch_optional(&Sql::query("select a, b from t where a = $1").bind("w"))
            .expect("query");
        assert!(none.is_none());
    }

    #[test]
    fn a_commit_of_another_connection_is_seen_by_the_next_read() {
        let (dir, direct) = database();
        let count = || -> i64 {
            direct
                .fetch_scalar_optional(&Sql::query("select count(*) from t"))
                .expect("count")
                .expect("a row")
        };
        assert_eq!(count(), 3);
        let writer = Connection::open(dir.path().join("t.sqlite")).expect("open");
        writer
            .execute("delete from t where b = 1", [])
            .expect("delete");
        assert_eq!(count(), 2);
    }

    #[test]
    fn a_direct_write_is_committed_when_it_returns() {
        let (dir, direct) = database();
        let insert = Sql::query("insert into t (a, b) values ($1, $2) returning b")
            .bind("w")
            .bind(4i64);
        let written = direct
            .write(&insert, |rows| Ok(rows.next()?.map(|r| r.get::<_, i64>(0))))
            .expect("insert");
        let Written::Done((Some(Ok(4)), 1)) = written else {
            panic!("the insert did not answer its row");
        };
        let other = Connection::open(dir.path().join("t.sqlite")).expect("open");
        let count: i64 = other
            .query_row("select count(*) from t", [], |r| r.get(0))
            .expect("count");
        assert_eq!(count, 4);
    }

    #[test]
    fn a_direct_write_answers_busy_at_once_while_another_connection_writes() {
        let (dir, direct) = database();
        let other = Connection::open(dir.path().join("t.sqlite")).expect("open");
        other
            .execute_batch("begin immediate; delete from t where b = 1;")
            .expect("lock");
        let started = std::time::Instant::now();
        let written = direct
            .write(&Sql::query("delete from t where b = 2"), |_| Ok(()))
            .expect("no error");
        assert!(matches!(written, Written::Busy));
        assert!(started.elapsed() < Duration::from_millis(500));
        other.execute_batch("commit").expect("commit");
        let Written::Done((_, changed)) = direct
            .write(&Sql::query("delete from t where b = 2"), |_| Ok(()))
            .expect("delete")
        else {
            panic!("still busy after the other writer committed");
        };
        assert_eq!(changed, 1);
    }

    #[test]
    fn the_connections_refuse_to_write() {
        let (_dir, direct) = database();
        let error = direct
            .fetch_all::<Pair>(&Sql::query("delete from t returning a, b"))
            .expect_err("read-only");
        assert!(error.to_string().contains("readonly"), "{error}");
    }
}
