//! The execution queue (see migration 0008): queued executions are rows of `executions`
//! with status `new` and no lease owner; an instance claims one by setting itself as owner
//! with a lease end it renews while the run lasts. Also the schedule ticks fired once and the
//! webhook answers handed between instances.

use crate::db::executions::NewRun;
use crate::db::sql::Sql;
use crate::db::Conn;

/// The PostgreSQL channel told of every enqueued execution (idle workers wake on it).
pub const CHANNEL: &str = "flowgate_queue";

/// Queues an execution (its trigger data in `run.data`), unless `limit` executions are
/// queued already: answers its id, or `None` when the queue is full. The count and the
/// insert are one statement; instances enqueueing at the same moment may each see the last
/// free place, so the queue can pass its limit by at most the number of such instances.
pub async fn enqueue(
    mut conn: Conn<'_>,
    run: &NewRun<'_>,
    limit: Option<i64>,
) -> sqlx::Result<Option<i64>> {
    let size = run.data.map_or(0, |d| d.len() as i64);
    let mut sql = Sql::build(
        "insert into executions (workflow_id, workflow_version_id, mode, status, finished, created_at, \
         started_at, retry_of, lease_owner, lease_until, data, json_size_bytes) select ",
    );
    sql.push_bind(run.workflow_id)
        .push(", ")
        .push_bind(run.version_id)
        .push(", ")
        .push_bind(run.mode)
        .push(", 'new', false, ")
        .push_bind(run.now)
        .push(", null, ")
        .push_bind(run.retry_of)
        .push(", ")
        .push_bind(run.lease_owner)
        .push(", ")
        .push_bind(run.lease_until)
        .push(", ")
        .push_bind(run.data)
        .push(", ")
        .push_bind(size);
    if let Some(limit) = limit {
        sql.push(
            " where (select count(*) from executions where status = 'new' and lease_owner is null) < ",
        )
        .push_bind(limit);
    }
    sql.push(" returning id");
    let id: Option<i64> = sql.fetch_scalar_optional(conn.reborrow()).await?;
    if id.is_some() && conn.is_postgres() {
        // Delivered when the transaction commits, so a worker never wakes before the row is
        // visible.
        Sql::query("select pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(conn)
            .await?;
    }
    Ok(id)
}

/// Makes a queued execution its receiving instance held back (while it moved the trigger's
/// files into the binary data store) claimable, with its final trigger data.
pub async fn release(mut conn: Conn<'_>, id: i64, owner: &str, data: &str) -> sqlx::Result<bool> {
    const SQL: &str = "update executions set data = $3, json_size_bytes = $4, lease_owner = null,                        lease_until = null where id = $1 and status = 'new' and lease_owner = $2";
    let released = Sql::query(SQL)
        .bind(id)
        .bind(owner)
        .bind(data)
        .bind(data.len() as i64)
        .execute(conn.reborrow())
        .await?
        == 1;
    if released && conn.is_postgres() {
        Sql::query("select pg_notify($1, '')")
            .bind(CHANNEL)
            .execute(conn)
            .await?;
    }
    Ok(released)
}

/// A queued execution this instance claimed.
#[derive(Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: i64,
    pub workflow_id: String,
    pub workflow_version_id: Option<String>,
    pub mode: String,
    pub created_at: String,
    pub data: Option<String>,
}

/// Claims the oldest queued execution for `owner` with a lease until `until`. On PostgreSQL
/// the row is picked with `for update skip locked`, so instances claiming at once each get a
/// different row without waiting for one another; SQLite has a single writer, which makes the
/// statement atomic by itself.
pub async fn claim_next(
    conn: Conn<'_>,
    owner: &str,
    now: &str,
    until: &str,
) -> sqlx::Result<Option<Claimed>> {
    let lock = if conn.is_postgres() {
        " for update skip locked"
    } else {
        ""
    };
    let text = format!(
        "update executions set status = 'running', lease_owner = $1, started_at = $2, lease_until = $3 \
         where id = (select id from executions where status = 'new' and lease_owner is null \
         order by id limit 1{lock}) and status = 'new' and lease_owner is null \
         returning id, workflow_id, workflow_version_id, mode, created_at, data"
    );
    Sql::build(text)
        .bind(owner)
        .bind(now)
        .bind(until)
        .fetch_optional(conn)
        .await
}

/// Renews the leases of the executions `owner` runs or holds; answers how many.
pub async fn heartbeat(conn: Conn<'_>, owner: &str, until: &str) -> sqlx::Result<u64> {
    const SQL: &str = "update executions set lease_until = $2 \
                       where lease_owner = $1 and status in ('running', 'new')";
    Sql::query(SQL).bind(owner).bind(until).execute(conn).await
}

/// The executions `owner` runs that were stopped through the API meanwhile, perhaps on another
/// instance: their row says `canceled` (and keeps its owner until the run records its end),
/// the run goes on until its own instance cancels it.
pub async fn stopped_elsewhere(conn: Conn<'_>, owner: &str) -> sqlx::Result<Vec<i64>> {
    const SQL: &str = "select id from executions where status = 'canceled' and lease_owner = $1";
    Sql::query(SQL).bind(owner).fetch_scalars(conn).await
}

/// How many executions wait in the queue.
pub async fn depth(conn: Conn<'_>) -> sqlx::Result<i64> {
    const SQL: &str =
        "select count(*) from executions where status = 'new' and lease_owner is null";
    Sql::query(SQL).fetch_scalar(conn).await
}

/// Records that the tick `tick_at` of `trigger` fired; answers `false` when it had already.
pub async fn record_tick(
    conn: Conn<'_>,
    workflow_id: &str,
    trigger: &str,
    tick_at: &str,
) -> sqlx::Result<bool> {
    const SQL: &str =
        "insert into schedule_ticks (workflow_id, trigger, tick_at) values ($1, $2, $3) \
                       on conflict do nothing";
    let inserted = Sql::query(SQL)
        .bind(workflow_id)
        .bind(trigger)
        .bind(tick_at)
        .execute(conn)
        .await?;
    Ok(inserted == 1)
}

/// Stores the webhook answer of execution `id`.
pub async fn write_answer(conn: Conn<'_>, id: i64, answer: &str, now: &str) -> sqlx::Result<()> {
    const SQL: &str =
        "insert into execution_answers (execution_id, answer, created_at) values ($1, $2, $3) \
                       on conflict do nothing";
    Sql::query(SQL)
        .bind(id)
        .bind(answer)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
}

/// The webhook answer of execution `id` if one was written, and the execution's status (`None`
/// when its record is gone).
pub async fn answer_and_status(
    conn: Conn<'_>,
    id: i64,
) -> sqlx::Result<(Option<String>, Option<String>)> {
    const SQL: &str = "select (select answer from execution_answers where execution_id = $1), \
                       (select status from executions where id = $1)";
    Sql::query(SQL).bind(id).fetch_one(conn).await
}

pub async fn delete_answer(conn: Conn<'_>, id: i64) -> sqlx::Result<()> {
    const SQL: &str = "delete from execution_answers where execution_id = $1";
    Sql::query(SQL).bind(id).execute(conn).await.map(|_| ())
}

/// Deletes ticks and unread answers older than `before` (the caller had gone).
pub async fn prune(mut conn: Conn<'_>, before: &str) -> sqlx::Result<u64> {
    let ticks = Sql::query("delete from schedule_ticks where tick_at < $1")
        .bind(before)
        .execute(conn.reborrow())
        .await?;
    let answers = Sql::query("delete from execution_answers where created_at < $1")
        .bind(before)
        .execute(conn)
        .await?;
    Ok(ticks + answers)
}
