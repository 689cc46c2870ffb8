//! Insights: execution counts, failure rate, run time and time saved over a period (with the
//! change from the period of equal length before it), and the same figures day by day. The
//! public API's `/insights/summary` and the web page's `/rest/insights/*` both come here.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use serde_json::{json, Value};

use crate::access;
use crate::app::AppState;
use crate::auth::Principal;
use crate::db::executions::{self, Totals};
use crate::domain::ids::is_plausible_id;
use crate::domain::time::{iso, parse_iso};
use crate::error::{ApiError, Result};

/// The longest period the day-by-day figures cover (a year and a day, for leap years).
const MAX_DAYS: i64 = 367;

/// A period of time, start included, end excluded.
#[derive(Clone, Copy, Debug)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    /// The period of `startDate` and `endDate` (default: the 7 days up to now).
    pub fn parse(start: Option<&str>, end: Option<&str>) -> Result<Period> {
        let parse = |v: Option<&str>, name: &str| {
            v.map(|s| {
                parse_iso(s).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "request/query/{name} must match format \"date-time\""
                    ))
                })
            })
            .transpose()
        };
        let end = parse(end, "endDate")?.unwrap_or_else(Utc::now);
        let start = parse(start, "startDate")?.unwrap_or(end - Duration::days(7));
        if start > end {
            return Err(ApiError::bad_request(
                "endDate must be the same as or after startDate",
            ));
        }
        Ok(Period { start, end })
    }
}

/// `project_id` when the caller can see it; a project they cannot see is answered as missing.
async fn project<'a>(
    state: &AppState,
    principal: &Principal,
    project_id: Option<&'a str>,
) -> Result<Option<&'a str>> {
    let Some(p) = project_id else {
        return Ok(None);
    };
    let mut conn = state.db.acquire().await?;
    if !is_plausible_id(p)
        || access::project_access(conn.conn(), principal, p)
            .await?
            .is_none()
    {
        return Err(ApiError::not_found(format!(
            "Project with ID \"{p}\" not found"
        )));
    }
    Ok(Some(p))
}

fn figure(value: f64, before: f64, unit: &str, had_before: bool) -> Value {
    let deviation = had_before.then_some(value - before);
    json!({ "value": value, "deviation": deviation, "unit": unit })
}

fn rate(t: &Totals) -> f64 {
    if t.total == 0 {
        0.0
    } else {
        t.failed as f64 / t.total as f64
    }
}

fn average(t: &Totals) -> f64 {
    if t.timed == 0 {
        0.0
    } else {
        t.run_time_ms / t.timed as f64
    }
}

/// n8n's summary: each figure with its deviation from the previous period (`null` when that
/// period had no runs).
pub async fn summary(
    state: &AppState,
    principal: &Principal,
    period: Period,
    project_id: Option<&str>,
) -> Result<Value> {
    let project = project(state, principal, project_id).await?;
    let Period { start, end } = period;
    let previous_start = start - (end - start);
    let mut conn = state.db.acquire().await?;
    let now = executions::totals(conn.conn(), &iso(start), &iso(end), project).await?;
    let before =
        executions::totals(conn.conn(), &iso(previous_start), &iso(start), project).await?;
    let had_before = before.total > 0;
    Ok(json!({
        "total": figure(now.total as f64, before.total as f64, "count", had_before),
        "failed": figure(now.failed as f64, before.failed as f64, "count", had_before),
        "failureRate": figure(rate(&now), rate(&before), "ratio", had_before),
        "timeSaved": figure(now.minutes_saved, before.minutes_saved, "minute", had_before),
        "averageRunTime": figure(average(&now), average(&before), "millisecond", had_before),
    }))
}

/// n8n's by-time figures, one entry per UTC day of the period (days without runs included,
/// so a chart needs no gap filling), oldest first.
pub async fn by_time(
    state: &AppState,
    principal: &Principal,
    period: Period,
    project_id: Option<&str>,
) -> Result<Vec<Value>> {
    let project = project(state, principal, project_id).await?;
    let first_day = period.start.date_naive();
    // The period ends before `end`: an end at midnight does not add that day.
    let last_day = if period.end > period.start {
        (period.end - Duration::nanoseconds(1)).date_naive()
    } else {
        first_day
    };
    let days = (last_day - first_day).num_days() + 1;
    if days > MAX_DAYS {
        return Err(ApiError::bad_request(format!(
            "The period must not be longer than {MAX_DAYS} days"
        )));
    }
    let mut buckets: Vec<Totals> = (0..days).map(|_| Totals::default()).collect();
    let rows = {
        let mut conn = state.db.acquire().await?;
        executions::runs_between(conn.conn(), &iso(period.start), &iso(period.end), project).await?
    };
    for row in &rows {
        let Some(started) = row.started_at.as_deref().and_then(parse_iso) else {
            continue;
        };
        let day = (started.date_naive() - first_day).num_days();
        if let Some(bucket) = usize::try_from(day).ok().and_then(|d| buckets.get_mut(d)) {
            bucket.add(row);
        }
    }
    Ok(buckets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let date = (first_day + Duration::days(i as i64)).and_time(NaiveTime::MIN);
            json!({
                "date": iso(date.and_utc()),
                "values": {
                    "total": t.total,
                    "succeeded": t.succeeded,
                    "failed": t.failed,
                    "failureRate": rate(t),
                    "averageRunTime": average(t),
                    "timeSaved": t.minutes_saved,
                },
            })
        })
        .collect())
}
