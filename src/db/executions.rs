//! Executions: the record of workflow runs, and their annotation tags.

use crate::db::sql::Sql;
use crate::db::tags::TagRow;
use crate::db::{Conn, Db};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExecutionRow {
    pub id: i64,
    pub workflow_id: String,
    pub mode: String,
    pub status: String,
    pub finished: bool,
    pub retry_of: Option<String>,
    pub retry_success_id: Option<String>,
    pub created_at: String,
    pub started_at: Option<String>,
    pub stopped_at: Option<String>,
    pub wait_till: Option<String>,
    pub workflow_version_id: Option<String>,
    pub data: Option<String>,
    pub workflow_data: Option<String>,
    pub custom_data: Option<String>,
    pub json_size_bytes: i64,
}

const COLUMNS: &str = "e.id, e.workflow_id, e.mode, e.status, e.finished, e.retry_of, e.retry_success_id, e.created_at, \
    e.started_at, e.stopped_at, e.wait_till, e.workflow_version_id, e.data, e.workflow_data, e.custom_data, e.json_size_bytes";

/// A run to record (imports and tests; the server has no workflow engine of its own).
pub struct NewExecution<'a> {
    pub workflow_id: &'a str,
    pub mode: &'a str,
    pub status: &'a str,
    pub finished: bool,
    pub created_at: &'a str,
    pub started_at: Option<&'a str>,
    pub stopped_at: Option<&'a str>,
    pub data: Option<&'a str>,
}

pub async fn insert(conn: Conn<'_>, e: &NewExecution<'_>) -> sqlx::Result<i64> {
    const SQL: &str = "insert into executions (workflow_id, mode, status, finished, created_at, started_at, stopped_at, data, json_size_bytes) \
                       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id";
    let size = e.data.map_or(0, |d| d.len() as i64);
    Sql::query(SQL)
        .bind(e.workflow_id)
        .bind(e.mode)
        .bind(e.status)
        .bind(e.finished)
        .bind(e.created_at)
        .bind(e.started_at)
        .bind(e.stopped_at)
        .bind(e.data)
        .bind(size)
        .fetch_scalar(conn)
        .await
}

/// The filters of the execution list and of the bulk stop.
#[derive(Default)]
pub struct Filter<'a> {
    /// Only executions of workflows in this user's projects.
    pub member: Option<&'a str>,
    pub statuses: Option<&'a [String]>,
    pub workflow_id: Option<&'a str>,
    pub project_id: Option<&'a str>,
    pub started_after: Option<&'a str>,
    pub started_before: Option<&'a str>,
    /// Leave out running executions (n8n lists them only when asked for by status).
    pub exclude_running: bool,
}

/// Appends the filter's conditions (each ` and ...`).
fn push_filter<'q>(sql: &mut Sql<'q>, filter: &Filter<'q>) {
    if let Some(m) = filter.member {
        sql.push(
            " and e.workflow_id in (select w.id from workflows w where w.project_id in \
             (select project_id from project_relations where user_id = ",
        )
        .push_bind(m)
        .push("))");
    }
    if let Some(statuses) = filter.statuses {
        sql.push(" and e.status in (").push_list(statuses).push(")");
    }
    if let Some(w) = filter.workflow_id {
        sql.push(" and e.workflow_id = ").push_bind(w);
    }
    if let Some(p) = filter.project_id {
        sql.push(" and e.workflow_id in (select w.id from workflows w where w.project_id = ")
            .push_bind(p)
            .push(")");
    }
    if let Some(t) = filter.started_after {
        sql.push(" and e.started_at >= ").push_bind(t);
    }
    if let Some(t) = filter.started_before {
        sql.push(" and e.started_at <= ").push_bind(t);
    }
    if filter.exclude_running {
        sql.push(" and e.status <> 'running'");
    }
}

/// One page, newest first, below `before_id`.
pub async fn list(
    conn: Conn<'_>,
    filter: &Filter<'_>,
    before_id: Option<i64>,
    limit: u64,
) -> sqlx::Result<Vec<ExecutionRow>> {
    let mut sql = Sql::build(format!("select {COLUMNS} from executions e where e.id < "));
    sql.push_bind(before_id.unwrap_or(i64::MAX));
    push_filter(&mut sql, filter);
    sql.push(" order by e.id desc limit ")
        .push_bind(limit as i64);
    sql.fetch_all(conn).await
}

pub async fn find(conn: Conn<'_>, id: i64) -> sqlx::Result<Option<ExecutionRow>> {
    let sql = format!("select {COLUMNS} from executions e where e.id = $1");
    Sql::query(&sql).bind(id).fetch_optional(conn).await
}

pub async fn delete(conn: Conn<'_>, id: i64) -> sqlx::Result<bool> {
    Ok(delete_sql(id).execute(conn).await? == 1)
}

/// As [`delete`], in a transaction of its own (see [`Db::write_one`]).
pub async fn delete_alone(db: &Db, id: i64) -> sqlx::Result<bool> {
    Ok(db.write_one(&delete_sql(id)).await? == 1)
}

fn delete_sql(id: i64) -> Sql<'static> {
    Sql::query("delete from executions where id = $1").bind(id)
}

/// Marks one execution canceled; answers whether it was still stoppable.
pub async fn cancel(conn: Conn<'_>, id: i64, now: &str) -> sqlx::Result<bool> {
    const SQL: &str =
        "update executions set status = 'canceled', stopped_at = $2, finished = false \
                       where id = $1 and status in ('new', 'running', 'waiting')";
    Ok(Sql::query(SQL).bind(id).bind(now).execute(conn).await? == 1)
}

/// Cancels every execution the filter selects; answers how many.
pub async fn cancel_matching(conn: Conn<'_>, filter: &Filter<'_>, now: &str) -> sqlx::Result<u64> {
    let mut sql = Sql::build("update executions set status = 'canceled', stopped_at = ");
    sql.push_bind(now)
        .push(", finished = false where id in (select e.id from executions e where 1 = 1");
    push_filter(&mut sql, filter);
    sql.push(")");
    sql.execute(conn).await
}

pub async fn tags_of(conn: Conn<'_>, execution_id: i64) -> sqlx::Result<Vec<TagRow>> {
    const SQL: &str = "select t.id, t.name, t.created_at, t.updated_at from execution_tags et join tags t on t.id = et.tag_id \
                       where et.execution_id = $1 order by t.name, t.id";
    Sql::query(SQL).bind(execution_id).fetch_all(conn).await
}

pub async fn set_tags(
    mut conn: Conn<'_>,
    execution_id: i64,
    tag_ids: &[String],
) -> sqlx::Result<()> {
    const CLEAR: &str = "delete from execution_tags where execution_id = $1";
    const ADD: &str =
        "insert into execution_tags (execution_id, tag_id) values ($1, $2) on conflict do nothing";
    Sql::query(CLEAR)
        .bind(execution_id)
        .execute(conn.reborrow())
        .await?;
    for tag_id in tag_ids {
        Sql::query(ADD)
            .bind(execution_id)
            .bind(tag_id)
            .execute(conn.reborrow())
            .await?;
    }
    Ok(())
}

/// How many executions match the filter.
pub async fn count(conn: Conn<'_>, filter: &Filter<'_>) -> sqlx::Result<i64> {
    let mut sql = Sql::build("select count(*) from executions e where 1 = 1");
    push_filter(&mut sql, filter);
    sql.fetch_scalar(conn).await
}

/// The newest execution of each of these workflows (those that have one).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LatestRow {
    pub workflow_id: String,
    pub id: i64,
    pub status: String,
    pub started_at: Option<String>,
}

pub async fn latest_of(conn: Conn<'_>, workflow_ids: &[String]) -> sqlx::Result<Vec<LatestRow>> {
    if workflow_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::build(
        "select e.workflow_id, e.id, e.status, e.started_at from executions e where e.id in \
         (select max(x.id) from executions x where x.workflow_id in (",
    );
    sql.push_list(workflow_ids)
        .push(") group by x.workflow_id)");
    sql.fetch_all(conn).await
}

/// Figures for the insights summary over executions started in [from, to).
#[derive(Debug, Default, sqlx::FromRow)]
pub struct Totals {
    pub total: i64,
    pub failed: i64,
    pub succeeded: i64,
    /// Sum of run times in milliseconds, over finished executions with both timestamps.
    pub run_time_ms: f64,
    pub timed: i64,
    /// Minutes saved: each successful run counts its workflow's `timeSavedPerExecution`.
    pub minutes_saved: f64,
}

/// A finished run, as the insights count it.
#[derive(Debug, sqlx::FromRow)]
pub struct RunRow {
    pub status: String,
    pub started_at: Option<String>,
    pub stopped_at: Option<String>,
    pub settings: String,
}

/// Runs started in [from, to), optionally of one project's workflows.
pub async fn runs_between(
    conn: Conn<'_>,
    from: &str,
    to: &str,
    project_id: Option<&str>,
) -> sqlx::Result<Vec<RunRow>> {
    let mut sql = Sql::build(
        "select e.status, e.started_at, e.stopped_at, w.settings from executions e \
         join workflows w on w.id = e.workflow_id where e.started_at >= ",
    );
    sql.push_bind(from)
        .push(" and e.started_at < ")
        .push_bind(to);
    if let Some(p) = project_id {
        sql.push(" and w.project_id = ").push_bind(p);
    }
    sql.fetch_all(conn).await
}

impl Totals {
    /// Counts one run. Run times are computed in Rust from the timestamps (the two databases
    /// compute date differences unalike); runs that did not end (running, waiting, canceled)
    /// do not count.
    pub fn add(&mut self, row: &RunRow) {
        if !matches!(row.status.as_str(), "success" | "error" | "crashed") {
            return;
        }
        self.total += 1;
        if row.status == "success" {
            self.succeeded += 1;
            let settings: serde_json::Value =
                serde_json::from_str(&row.settings).unwrap_or_default();
            self.minutes_saved += settings
                .get("timeSavedPerExecution")
                .and_then(serde_json::Value::as_f64)
                .unwrap_or(0.0);
        } else {
            self.failed += 1;
        }
        let times = row
            .started_at
            .as_deref()
            .and_then(crate::domain::time::parse_iso)
            .zip(
                row.stopped_at
                    .as_deref()
                    .and_then(crate::domain::time::parse_iso),
            );
        if let Some((start, stop)) = times {
            self.run_time_ms += (stop - start).num_milliseconds().max(0) as f64;
            self.timed += 1;
        }
    }
}

/// Counts runs started in [from, to), optionally of one project's workflows.
pub async fn totals(
    conn: Conn<'_>,
    from: &str,
    to: &str,
    project_id: Option<&str>,
) -> sqlx::Result<Totals> {
    let mut totals = Totals::default();
    for row in runs_between(conn, from, to, project_id).await? {
        totals.add(&row);
    }
    Ok(totals)
}

/// An execution the engine starts.
pub struct NewRun<'a> {
    pub workflow_id: &'a str,
    pub version_id: Option<&'a str>,
    pub mode: &'a str,
    /// `running`, or `new` while it waits for a free slot.
    pub status: &'a str,
    pub now: &'a str,
    pub retry_of: Option<&'a str>,
    /// The instance that runs it, and until when its claim holds without a heartbeat.
    pub lease_owner: Option<&'a str>,
    pub lease_until: Option<&'a str>,
    pub data: Option<&'a str>,
}

pub async fn insert_run(conn: Conn<'_>, run: &NewRun<'_>) -> sqlx::Result<i64> {
    insert_run_sql(run).fetch_scalar(conn).await
}

/// As [`insert_run`], in a transaction of its own (see [`Db::write_one`]).
pub async fn insert_run_alone(db: &Db, run: &NewRun<'_>) -> sqlx::Result<i64> {
    db.write_one_scalar(&insert_run_sql(run)).await
}

fn insert_run_sql<'a>(run: &NewRun<'a>) -> Sql<'a> {
    const SQL: &str = "insert into executions (workflow_id, workflow_version_id, mode, status, finished, created_at, started_at, retry_of, lease_owner, lease_until, data, json_size_bytes) \
                       values ($1, $2, $3, $4, false, $5, $5, $6, $7, $8, $9, $10) returning id";
    let size = run.data.map_or(0, |d| d.len() as i64);
    Sql::query(SQL)
        .bind(run.workflow_id)
        .bind(run.version_id)
        .bind(run.mode)
        .bind(run.status)
        .bind(run.now)
        .bind(run.retry_of)
        .bind(run.lease_owner)
        .bind(run.lease_until)
        .bind(run.data)
        .bind(size)
}

/// How a run ended, as stored.
pub struct Finished<'a> {
    pub status: &'a str,
    pub finished: bool,
    pub stopped_at: &'a str,
    /// The run data; `None` keeps what is stored.
    pub data: Option<&'a str>,
    pub wait_till: Option<&'a str>,
    /// `$execution.customData` as JSON; `None` keeps what is stored.
    pub custom_data: Option<&'a str>,
}

/// Records the end (or pause) of a run; answers whether the row still existed. A run whose
/// lease ran out was marked `crashed` by another instance, which may already have told the
/// webhook caller: that outcome stands, the late result is not written.
pub async fn finish(conn: Conn<'_>, id: i64, f: &Finished<'_>) -> sqlx::Result<bool> {
    Ok(finish_sql(id, f).execute(conn).await? == 1)
}

/// As [`finish`], in a transaction of its own (see [`Db::write_one`]).
pub async fn finish_alone(db: &Db, id: i64, f: &Finished<'_>) -> sqlx::Result<bool> {
    Ok(db.write_one(&finish_sql(id, f)).await? == 1)
}

fn finish_sql<'a>(id: i64, f: &Finished<'a>) -> Sql<'a> {
    // A run stopped through the API while it ran (maybe by another instance) stays canceled.
    const SQL: &str = "update executions set status = case when status = 'canceled' then status else $2 end, \
                       finished = case when status = 'canceled' then false else $3 end, \
                       stopped_at = coalesce(case when status = 'canceled' then stopped_at end, $4), \
                       data = coalesce($5, data), json_size_bytes = coalesce($6, json_size_bytes), \
                       wait_till = case when status = 'canceled' then null else $7 end, \
                       custom_data = coalesce($8, custom_data), \
                       lease_owner = null, lease_until = null where id = $1 and status <> 'crashed'";
    let size = f.data.map(|d| d.len() as i64);
    Sql::query(SQL)
        .bind(id)
        .bind(f.status)
        .bind(f.finished)
        .bind(f.stopped_at)
        .bind(f.data)
        .bind(size)
        .bind(f.wait_till)
        .bind(f.custom_data)
}

/// Saves the run data of a run in progress (`saveExecutionProgress`).
pub async fn save_progress(conn: Conn<'_>, id: i64, data: &str) -> sqlx::Result<()> {
    const SQL: &str = "update executions set data = $2, json_size_bytes = $3 where id = $1 and status = 'running'";
    Sql::query(SQL)
        .bind(id)
        .bind(data)
        .bind(data.len() as i64)
        .execute(conn)
        .await
        .map(|_| ())
}

/// Claims a `new` or `waiting` execution for this instance; answers whether it was still
/// there to claim (another instance, a stop request or a delete may have been first).
pub async fn claim(
    conn: Conn<'_>,
    id: i64,
    from_status: &str,
    owner: &str,
    now: &str,
    until: &str,
) -> sqlx::Result<bool> {
    const SQL: &str = "update executions set status = 'running', lease_owner = $3, lease_until = $5, \
                       started_at = coalesce(started_at, $4), wait_till = null where id = $1 and status = $2";
    let changed = Sql::query(SQL)
        .bind(id)
        .bind(from_status)
        .bind(owner)
        .bind(now)
        .bind(until)
        .execute(conn)
        .await?;
    Ok(changed == 1)
}

/// Waiting executions that are due, oldest first.
pub async fn due_waiting(conn: Conn<'_>, now: &str, limit: i64) -> sqlx::Result<Vec<i64>> {
    const SQL: &str = "select id from executions where status = 'waiting' and wait_till <= $1 order by wait_till, id limit $2";
    Sql::query(SQL)
        .bind(now)
        .bind(limit)
        .fetch_scalars(conn)
        .await
}

/// Marks executions left `running` or `new` by an instance that is gone as `crashed`
/// (`owner` `None`: every such execution whose lease ran out). Queued executions (`new`
/// without an owner) are nobody's yet and stay queued.
pub async fn mark_crashed(conn: Conn<'_>, owner: Option<&str>, now: &str) -> sqlx::Result<u64> {
    match owner {
        Some(owner) => {
            const SQL: &str = "update executions set status = 'crashed', finished = false, stopped_at = $2, lease_owner = null \
                               where status in ('running', 'new') and lease_owner = $1";
            Sql::query(SQL).bind(owner).bind(now).execute(conn).await
        }
        None => {
            const SQL: &str = "update executions set status = 'crashed', finished = false, stopped_at = $1, lease_owner = null \
                               where status in ('running', 'new') and lease_owner is not null \
                               and (lease_until is null or lease_until < $1)";
            Sql::query(SQL).bind(now).execute(conn).await
        }
    }
}

/// Links a retried execution to the retry that succeeded.
pub async fn set_retry_success(conn: Conn<'_>, id: i64, success_id: i64) -> sqlx::Result<()> {
    const SQL: &str = "update executions set retry_success_id = $2 where id = $1";
    Sql::query(SQL)
        .bind(id)
        .bind(success_id.to_string())
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes finished executions stopped before `before`, and beyond the newest `keep`
/// finished ones; answers how many went.
pub async fn prune(conn: Conn<'_>, before: &str, keep: Option<i64>) -> sqlx::Result<u64> {
    const FINISHED: &str = "('success', 'error', 'canceled', 'crashed')";
    let by_age = format!("delete from executions where status in {FINISHED} and stopped_at < $1");
    let mut conn = conn;
    let mut removed = Sql::query(&by_age)
        .bind(before)
        .execute(conn.reborrow())
        .await?;
    if let Some(keep) = keep {
        let by_count = format!(
            "delete from executions where status in {FINISHED} and id < \
             (select coalesce(min(id), 0) from (select id from executions where status in {FINISHED} order by id desc limit $1) newest)"
        );
        removed += Sql::query(&by_count).bind(keep).execute(conn).await?;
    }
    Ok(removed)
}
