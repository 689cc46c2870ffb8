//! Long because the three time-trigger node types share one rule model (interval kinds,
//! cron text, the hashed random second, the "every N units" counter), the loop that fires
//! the rules uses that model's private parts, and the tests sit beside both; split by node
//! type, each part would need the others' private helpers.
//!
//! Time triggers: the Schedule Trigger (every interval kind n8n offers and cron expressions),
//! and the older Cron and Interval nodes.
//!
//! Each rule becomes a cron expression with seconds, as n8n turns them into one; where n8n
//! picks a random second or minute, this server derives it from a hash of the workflow, node
//! and rule, so every instance computes the same times. Intervals of more than one hour, day,
//! week or month fire on the cron's times only when that many units passed since the last
//! firing, counted in the workflow's static data, as n8n does.
//!
//! One instance fires schedules: the holder of the `scheduler` lease (see `leases.rs`). Each
//! tick is recorded with its execution in one transaction (see `execute/queue.rs`), so a tick
//! fires once even while two instances believe they lead (one has not yet noticed that its
//! lease ran out).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Datelike, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::{json, Value};

use super::data::{Connections, Item};
use super::execute::{Mode, Start, Tick};
use super::nodes::{CRON, INTERVAL, SCHEDULE};
use super::workflow::{Node, Workflow};
use super::Engine;

/// When a rule fires.
#[derive(Clone, Debug)]
enum When {
    Cron(croner::Cron),
    /// The Interval node: every so many seconds from when the workflow was published.
    Every(Duration),
}

/// An interval longer than one unit, counted in static data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Hours,
    Days,
    Weeks,
    Months,
}

#[derive(Clone, Copy, Debug)]
struct Recurrence {
    unit: Unit,
    size: i64,
}

/// One rule of one time-trigger node.
#[derive(Clone, Debug)]
pub struct Rule {
    pub node: String,
    /// The rule's index in the node (`recurrenceRules[index]`).
    index: usize,
    when: When,
    recurrence: Option<Recurrence>,
    /// Schedule Trigger items carry the time; Cron and Interval emit an empty item.
    detailed_item: bool,
}

/// Checks at publish that every time trigger of `workflow` can be scheduled.
pub fn check(workflow: &Workflow) -> Result<(), String> {
    rules(workflow).map(|_| ())
}

/// The rules of every enabled time trigger of `workflow`.
pub fn rules(workflow: &Workflow) -> Result<Vec<Rule>, String> {
    let mut rules = Vec::new();
    for node in workflow.nodes.iter().filter(|n| !n.disabled) {
        match node.kind.as_str() {
            SCHEDULE => schedule_rules(workflow, node, &mut rules)?,
            CRON => cron_rules(workflow, node, &mut rules)?,
            INTERVAL => rules.push(interval_rule(node)?),
            _ => {}
        }
    }
    Ok(rules)
}

/// A number in `0..modulo` from a hash of the strings, the same on every instance.
fn stable(parts: &[&str], modulo: u32) -> u32 {
    // FNV-1a: small, stable across builds and platforms.
    let mut hash: u32 = 0x811c_9dc5;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u32::from(byte);
            hash = hash.wrapping_mul(0x0100_0193);
        }
    }
    hash % modulo
}

fn int(value: Option<&Value>, default: i64) -> i64 {
    match value {
        Some(Value::Number(n)) => n.as_f64().map_or(default, |f| f as i64),
        Some(Value::String(s)) => s.trim().parse().unwrap_or(default),
        _ => default,
    }
}

fn parse_cron(expression: &str, node: &Node) -> Result<croner::Cron, String> {
    croner::Cron::new(expression.trim())
        .with_seconds_optional()
        .with_dom_and_dow()
        .parse()
        .map_err(|_| {
            format!(
                "Invalid cron expression in node \"{}\": {}",
                node.name,
                expression.trim()
            )
        })
}

fn schedule_rules(workflow: &Workflow, node: &Node, out: &mut Vec<Rule>) -> Result<(), String> {
    let intervals = node
        .parameters
        .get("rule")
        .and_then(|r| r.get("interval"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| vec![json!({})]);
    for (index, interval) in intervals.iter().enumerate() {
        let field = interval
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or("days");
        let key = index.to_string();
        let seed = [workflow.id.as_str(), node.name.as_str(), key.as_str()];
        let second = stable(&[&seed[..], &["second"]].concat(), 60);
        let minute = int(
            interval.get("triggerAtMinute"),
            i64::from(stable(&[&seed[..], &["minute"]].concat(), 60)),
        );
        let hour = int(
            interval.get("triggerAtHour"),
            i64::from(stable(&[&seed[..], &["hour"]].concat(), 24)),
        );
        let range = |name: &str, default: i64, low: i64, high: i64, message: &str| {
            let value = int(interval.get(name), default);
            if value < low || value > high {
                Err(format!(
                    "Invalid interval in node \"{}\": {message}",
                    node.name
                ))
            } else {
                Ok(value)
            }
        };
        let (expression, recurrence) = match field {
            "cronExpression" => (
                interval
                    .get("expression")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                None,
            ),
            "seconds" => {
                let n = range(
                    "secondsInterval",
                    30,
                    1,
                    59,
                    "Seconds must be in range 1-59",
                )?;
                (format!("*/{n} * * * * *"), None)
            }
            "minutes" => {
                let n = range("minutesInterval", 5, 1, 59, "Minutes must be in range 1-59")?;
                (format!("{second} */{n} * * * *"), None)
            }
            "hours" => {
                let n = range("hoursInterval", 1, 1, 23, "Hours must be in range 1-23")?;
                (
                    format!("{second} {minute} */{n} * * *"),
                    recur(Unit::Hours, n),
                )
            }
            "days" => {
                let n = range("daysInterval", 1, 1, 31, "Days must be in range 1-31")?;
                (
                    format!("{second} {minute} {hour} * * *"),
                    recur(Unit::Days, n),
                )
            }
            "weeks" => {
                let n = int(interval.get("weeksInterval"), 1).max(1);
                let days: Vec<String> = match interval.get("triggerAtDay") {
                    Some(Value::Array(list)) => {
                        list.iter().map(|d| int(Some(d), 0).to_string()).collect()
                    }
                    _ => vec!["0".to_owned()],
                };
                let days = if days.is_empty() {
                    "*".to_owned()
                } else {
                    days.join(",")
                };
                (
                    format!("{second} {minute} {hour} * * {days}"),
                    recur(Unit::Weeks, n),
                )
            }
            "months" => {
                let n = range(
                    "monthsInterval",
                    1,
                    1,
                    i64::MAX,
                    "Months must be larger than 0",
                )?;
                let day = int(interval.get("triggerAtDayOfMonth"), 1);
                (
                    format!("{second} {minute} {hour} {day} */{n} *"),
                    recur(Unit::Months, n),
                )
            }
            other => {
                return Err(format!(
                    "The schedule rule \"{other}\" of node \"{}\" is not known",
                    node.name
                ))
            }
        };
        out.push(Rule {
            node: node.name.clone(),
            index,
            when: When::Cron(parse_cron(&expression, node)?),
            recurrence,
            detailed_item: true,
        });
    }
    Ok(())
}

fn recur(unit: Unit, size: i64) -> Option<Recurrence> {
    (size != 1).then_some(Recurrence { unit, size })
}

fn cron_rules(workflow: &Workflow, node: &Node, out: &mut Vec<Rule>) -> Result<(), String> {
    let items = node
        .parameters
        .get("triggerTimes")
        .and_then(|t| t.get("item"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (index, item) in items.iter().enumerate() {
        let key = index.to_string();
        let second = stable(
            &[workflow.id.as_str(), node.name.as_str(), &key, "second"],
            60,
        );
        let minute_random = stable(
            &[workflow.id.as_str(), node.name.as_str(), &key, "minute"],
            60,
        );
        let minute = int(item.get("minute"), 0);
        let hour = int(item.get("hour"), 14);
        let mode = item
            .get("mode")
            .and_then(Value::as_str)
            .unwrap_or("everyDay");
        let expression = match mode {
            "everyMinute" => format!("{second} * * * * *"),
            "everyHour" => format!("{second} {minute} * * * *"),
            "everyX" => {
                let value = int(item.get("value"), 2);
                match item.get("unit").and_then(Value::as_str).unwrap_or("hours") {
                    "minutes" => format!("{second} */{value} * * * *"),
                    _ => format!("{second} {minute_random} */{value} * * *"),
                }
            }
            "everyDay" => format!("{second} {minute} {hour} * * *"),
            "everyWeek" => format!(
                "{second} {minute} {hour} * * {}",
                int(item.get("weekday"), 1)
            ),
            "everyMonth" => format!(
                "{second} {minute} {hour} {} * *",
                int(item.get("dayOfMonth"), 1)
            ),
            _ => item
                .get("cronExpression")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        };
        out.push(Rule {
            node: node.name.clone(),
            index,
            when: When::Cron(parse_cron(&expression, node)?),
            recurrence: None,
            detailed_item: false,
        });
    }
    Ok(())
}

fn interval_rule(node: &Node) -> Result<Rule, String> {
    let interval = int(node.parameters.get("interval"), 1);
    if interval <= 0 {
        return Err(format!(
            "The interval of node \"{}\" has to be set to at least 1 or higher!",
            node.name
        ));
    }
    let seconds = match node
        .parameters
        .get("unit")
        .and_then(Value::as_str)
        .unwrap_or("seconds")
    {
        "minutes" => interval.saturating_mul(60),
        "hours" => interval.saturating_mul(3600),
        _ => interval,
    };
    if seconds.saturating_mul(1000) > 2_147_483_647 {
        return Err(format!(
            "The interval value of node \"{}\" is too large.",
            node.name
        ));
    }
    Ok(Rule {
        node: node.name.clone(),
        index: 0,
        when: When::Every(Duration::from_secs(seconds as u64)),
        recurrence: None,
        detailed_item: false,
    })
}

impl Rule {
    /// The next time this rule fires after `after`, in zone `tz`.
    fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        match &self.when {
            When::Cron(cron) => cron
                .find_next_occurrence(&after.with_timezone(&tz), false)
                .ok()
                .map(|t| t.with_timezone(&Utc)),
            When::Every(every) => {
                after.checked_add_signed(chrono::Duration::from_std(*every).ok()?)
            }
        }
    }
}

/// The unit counter n8n compares for intervals of more than one unit (moment's hour, day of
/// year, US week of year, month).
fn unit_value(unit: Unit, at: DateTime<Tz>) -> i64 {
    match unit {
        Unit::Hours => i64::from(at.hour()),
        Unit::Days => i64::from(at.ordinal()),
        Unit::Weeks => {
            let jan1 = at.with_ordinal(1).unwrap_or(at);
            let offset = i64::from(jan1.weekday().num_days_from_sunday());
            (i64::from(at.ordinal0()) + offset) / 7 + 1
        }
        Unit::Months => i64::from(at.month0()),
    }
}

fn unit_modulo(unit: Unit) -> i64 {
    match unit {
        Unit::Hours => 24,
        Unit::Days => 365,
        Unit::Weeks => 52,
        Unit::Months => 12,
    }
}

/// n8n's check for intervals of more than one unit; updates `last` when the rule fires.
fn recurrence_allows(recurrence: Recurrence, last: &mut Option<i64>, at: DateTime<Tz>) -> bool {
    let now = unit_value(recurrence.unit, at);
    let due = match *last {
        None => true,
        Some(previous) => {
            now == (recurrence.size + previous) % unit_modulo(recurrence.unit)
                || (recurrence.unit == Unit::Weeks && now == previous)
        }
    };
    if due {
        *last = Some(now);
    }
    due
}

/// The item a Schedule Trigger emits at `at`, in n8n's shape.
pub fn schedule_item(at: DateTime<Tz>, zone: &str) -> Item {
    let offset = at.format("%:z").to_string();
    let day = at.day();
    let suffix = match (day % 10, day % 100) {
        (1, n) if n != 11 => "st",
        (2, n) if n != 12 => "nd",
        (3, n) if n != 13 => "rd",
        _ => "th",
    };
    let json = json!({
        "timestamp": at.format("%Y-%m-%dT%H:%M:%S%.3f").to_string() + &offset,
        "Readable date": format!("{} {day}{suffix} {}, {}", at.format("%B"), at.format("%Y"), at.format("%-I:%M:%S %P")),
        "Readable time": at.format("%-I:%M:%S %P").to_string(),
        "Day of week": at.format("%A").to_string(),
        "Year": at.format("%Y").to_string(),
        "Month": at.format("%B").to_string(),
        "Day of month": at.format("%d").to_string(),
        "Hour": at.format("%H").to_string(),
        "Minute": at.format("%M").to_string(),
        "Second": at.format("%S").to_string(),
        "Timezone": format!("{zone} (UTC{offset})"),
    });
    Item::new(json.as_object().cloned().unwrap_or_default())
}

/// A published workflow's rules and when each fires next.
struct Planned {
    workflow: Arc<Workflow>,
    tz: Tz,
    rules: Vec<(Rule, Option<DateTime<Utc>>)>,
    /// `recurrenceRules` per node, as in the workflow's static data.
    recurrence: HashMap<String, Vec<Option<i64>>>,
}

/// Fires the schedules of published workflows while this instance holds the lease.
pub(crate) fn spawn(engine: Engine) {
    tokio::spawn(async move {
        let mut planned: HashMap<String, (String, Planned)> = HashMap::new();
        let mut next_reload = tokio::time::Instant::now();
        let changed = Arc::clone(&engine.inner().schedules_changed);
        let shutdown = engine.inner().shutdown.clone();
        // The lease is renewed and the published workflows read again every check: a publish
        // on another instance is scheduled within this bound (on this one at once).
        let reload_every = engine.inner().config.leader_check();
        loop {
            let now = tokio::time::Instant::now();
            if now >= next_reload {
                next_reload = now + reload_every;
                let leader = engine.hold_lease("scheduler").await.unwrap_or(false);
                let was = engine
                    .inner()
                    .leader
                    .swap(leader, std::sync::atomic::Ordering::Relaxed);
                if leader != was {
                    tracing::info!(leader, "schedule leadership changed");
                }
                if leader {
                    if let Err(e) = reload(&engine, &mut planned).await {
                        tracing::warn!(error = %e, "could not read the published schedules");
                    }
                } else {
                    planned.clear();
                }
            }
            let wall = Utc::now();
            fire_due(&engine, &mut planned, wall).await;
            let soonest = planned
                .values()
                .flat_map(|(_, p)| p.rules.iter().filter_map(|(_, next)| *next))
                .min();
            let sleep_for = soonest
                .map(|t| (t - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .unwrap_or(reload_every)
                .min(next_reload.saturating_duration_since(tokio::time::Instant::now()));
            tokio::select! {
                () = shutdown.cancelled() => {
                    if engine.inner().leader.load(std::sync::atomic::Ordering::Relaxed) {
                        let _ = engine.release_lease("scheduler").await;
                    }
                    break;
                }
                () = changed.notified() => { next_reload = tokio::time::Instant::now(); }
                () = tokio::time::sleep(sleep_for) => {}
            }
        }
    });
}

async fn reload(
    engine: &Engine,
    planned: &mut HashMap<String, (String, Planned)>,
) -> Result<(), crate::error::ApiError> {
    let published = {
        let mut conn = engine.inner().db.acquire().await?;
        crate::db::published::published(conn.conn()).await?
    };
    let live: std::collections::HashSet<&str> =
        published.iter().map(|(id, _)| id.as_str()).collect();
    planned.retain(|id, _| live.contains(id.as_str()));
    for (id, version_id) in &published {
        if planned.get(id).is_some_and(|(v, _)| v == version_id) {
            continue;
        }
        let workflow = {
            let mut conn = engine.inner().db.acquire().await?;
            engine.version(conn.conn(), id, version_id).await?
        };
        let Some(workflow) = workflow else { continue };
        let rules = match rules(&workflow) {
            Ok(rules) if !rules.is_empty() => rules,
            _ => {
                planned.remove(id);
                continue;
            }
        };
        let tz: Tz = workflow
            .timezone()
            .unwrap_or(&engine.inner().config.timezone)
            .parse()
            .unwrap_or(chrono_tz::America::New_York);
        let now = Utc::now();
        let recurrence = stored_recurrence(&workflow);
        let rules = rules
            .into_iter()
            .map(|r| {
                let next = r.next_after(now, tz);
                (r, next)
            })
            .collect();
        planned.insert(
            id.clone(),
            (
                version_id.clone(),
                Planned {
                    workflow,
                    tz,
                    rules,
                    recurrence,
                },
            ),
        );
    }
    Ok(())
}

fn stored_recurrence(workflow: &Workflow) -> HashMap<String, Vec<Option<i64>>> {
    workflow
        .static_data
        .iter()
        .filter_map(|(key, value)| {
            let node = key.strip_prefix("node:")?;
            let rules = value.get("recurrenceRules")?.as_array()?;
            Some((node.to_owned(), rules.iter().map(Value::as_i64).collect()))
        })
        .collect()
}

async fn fire_due(
    engine: &Engine,
    planned: &mut HashMap<String, (String, Planned)>,
    now: DateTime<Utc>,
) {
    for (_, plan) in planned.values_mut() {
        let mut static_changed = false;
        for (rule, next) in plan.rules.iter_mut() {
            let Some(at) = *next else { continue };
            if at > now {
                continue;
            }
            *next = rule.next_after(at.max(now - chrono::Duration::milliseconds(1)), plan.tz);
            let local = at.with_timezone(&plan.tz);
            if let Some(recurrence) = rule.recurrence {
                let slots = plan.recurrence.entry(rule.node.clone()).or_default();
                if slots.len() <= rule.index {
                    slots.resize(rule.index + 1, None);
                }
                if !recurrence_allows(recurrence, &mut slots[rule.index], local) {
                    continue;
                }
                static_changed = true;
            }
            let item = if rule.detailed_item {
                schedule_item(local, plan.tz.name())
            } else {
                Item::default()
            };
            let start = Start {
                mode: Mode::Trigger,
                node: rule.node.clone(),
                input: Connections::single(vec![item]),
                respond: None,
            };
            let tick = Tick {
                workflow_id: plan.workflow.id.clone(),
                trigger: format!("{}#{}", rule.node, rule.index),
                at: crate::domain::time::iso(at),
            };
            let engine = engine.clone();
            let workflow = Arc::clone(&plan.workflow);
            tokio::spawn(async move {
                if let Err(e) = engine.fire(workflow, start, tick).await {
                    tracing::warn!(error = %e, "a scheduled execution could not start");
                }
            });
        }
        if static_changed {
            let data: serde_json::Map<String, Value> = plan
                .recurrence
                .iter()
                .map(|(node, rules)| (format!("node:{node}"), json!({"recurrenceRules": rules})))
                .collect();
            let engine = engine.clone();
            let id = plan.workflow.id.clone();
            tokio::spawn(async move {
                if let Err(e) = engine.save_static_data(&id, Value::Object(data)).await {
                    tracing::warn!(error = %e, "could not save a schedule's state");
                }
            });
        }
    }
}

/// Runs `f` in zone `tz` for tests of the item shape.
pub fn zoned(tz: Tz, utc: DateTime<Utc>) -> DateTime<Tz> {
    tz.from_utc_datetime(&utc.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow(node: Value) -> Workflow {
        Workflow::parse("wf", "w", true, &json!([node]), &json!({}), &json!({})).expect("workflow")
    }

    #[test]
    fn every_interval_kind_becomes_a_cron_rule() {
        let w = workflow(
            json!({"name": "S", "type": SCHEDULE, "typeVersion": 1.2, "parameters": {"rule": {"interval": [
                {"field": "seconds", "secondsInterval": 10},
                {"field": "minutes", "minutesInterval": 15},
                {"field": "hours", "hoursInterval": 2, "triggerAtMinute": 5},
                {"field": "days", "triggerAtHour": 9, "triggerAtMinute": 30},
                {"field": "weeks", "triggerAtDay": [1, 3], "triggerAtHour": 8},
                {"field": "months", "triggerAtDayOfMonth": 15},
                {"field": "cronExpression", "expression": "0 12 * * 1-5"}
            ]}}}),
        );
        let rules = rules(&w).expect("rules");
        assert_eq!(rules.len(), 7);
        let tz: Tz = "Europe/Berlin".parse().expect("tz");
        let start = Utc
            .with_ymd_and_hms(2026, 3, 2, 10, 0, 0)
            .single()
            .expect("time");
        let next = |i: usize| zoned(tz, rules[i].next_after(start, tz).expect("next"));
        assert_eq!(next(0).second() % 10, 0);
        assert_eq!(next(3).hour(), 9);
        assert_eq!(next(3).minute(), 30);
        assert_eq!(next(6).hour(), 12);
        assert!(rules[2].recurrence.is_some());
        assert!(rules[3].recurrence.is_none());
    }

    #[test]
    fn random_parts_are_the_same_on_every_instance() {
        let node = json!({"name": "S", "type": SCHEDULE, "typeVersion": 1.2, "parameters": {"rule": {"interval": [{"field": "minutes"}]}}});
        let a = rules(&workflow(node.clone())).expect("rules");
        let b = rules(&workflow(node)).expect("rules");
        let t = Utc
            .with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .expect("time");
        let tz = chrono_tz::UTC;
        assert_eq!(a[0].next_after(t, tz), b[0].next_after(t, tz));
    }

    #[test]
    fn bad_rules_are_refused_with_the_node_name() {
        let bad = workflow(json!({"name": "Tick", "type": SCHEDULE, "typeVersion": 1.2,
            "parameters": {"rule": {"interval": [{"field": "cronExpression", "expression": "not cron"}]}}}));
        assert!(check(&bad).unwrap_err().contains("\"Tick\""));
        let range = workflow(json!({"name": "Tick", "type": SCHEDULE, "typeVersion": 1.2,
            "parameters": {"rule": {"interval": [{"field": "seconds", "secondsInterval": 90}]}}}));
        assert!(check(&range)
            .unwrap_err()
            .contains("Seconds must be in range 1-59"));
    }

    #[test]
    fn longer_intervals_fire_every_nth_unit() {
        let recurrence = Recurrence {
            unit: Unit::Days,
            size: 2,
        };
        let tz = chrono_tz::UTC;
        let day = |d: u32| {
            zoned(
                tz,
                Utc.with_ymd_and_hms(2026, 1, d, 9, 0, 0)
                    .single()
                    .expect("time"),
            )
        };
        let mut last = None;
        let fired: Vec<bool> = (1..=5)
            .map(|d| recurrence_allows(recurrence, &mut last, day(d)))
            .collect();
        assert_eq!(fired, vec![true, false, true, false, true]);
    }

    #[test]
    fn the_schedule_item_has_n8ns_fields() {
        let tz: Tz = "America/New_York".parse().expect("tz");
        let at = zoned(
            tz,
            Utc.with_ymd_and_hms(2026, 11, 1, 14, 5, 9)
                .single()
                .expect("time"),
        );
        let item = schedule_item(at, "America/New_York");
        assert_eq!(
            item.json["timestamp"],
            json!("2026-11-01T09:05:09.000-05:00")
        );
        assert_eq!(
            item.json["Readable date"],
            json!("November 1st 2026, 9:05:09 am")
        );
        assert_eq!(item.json["Day of week"], json!("Sunday"));
        assert_eq!(item.json["Timezone"], json!("America/New_York (UTC-05:00)"));
    }

    #[test]
    fn cron_and_interval_nodes_are_read() {
        let cron = workflow(
            json!({"name": "C", "type": CRON, "typeVersion": 1, "parameters": {"triggerTimes": {"item": [{"mode": "everyMinute"}, {"mode": "custom", "cronExpression": "*/5 * * * *"}]}}}),
        );
        assert_eq!(rules(&cron).expect("rules").len(), 2);
        let interval = workflow(
            json!({"name": "I", "type": INTERVAL, "typeVersion": 1, "parameters": {"interval": 0}}),
        );
        assert!(check(&interval).is_err());
    }
}
