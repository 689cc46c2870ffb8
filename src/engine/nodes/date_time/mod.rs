//! Date & Time (v2): the current date, adding to and subtracting from a date, formatting,
//! rounding, the time between two dates, and extracting a part, as n8n computes them with
//! Luxon.
//!
//! Dates are read as n8n reads them: a number (or numeric text) is a Unix time in seconds
//! (fewer than 12 digits) or milliseconds; text is an ISO, RFC 2822 or SQL-like date, read
//! as UTC when it has no offset (n8n reads it in its server's zone, UTC in a usual
//! deployment). Results are shown in the workflow's zone, except in "format", which shows
//! the date in UTC (or in `Etc/GMT-N` for a text with a `+N` offset) unless told to use the
//! workflow's zone.

mod format;
mod luxon;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::{compare, types, Registry};
use crate::engine::data::{Item, JsonObject};
use crate::engine::node::{NodeError, NodeRun, NodeType, Outcome};
use luxon::{Duration, Moment};

struct DateTimeNode;

#[async_trait]
impl NodeType for DateTimeNode {
    async fn execute(&self, run: &NodeRun<'_>) -> Result<Outcome, NodeError> {
        let operation = run.param_str("operation", 0, "getCurrentDate")?;
        let workflow_zone: Tz = run.env.timezone.parse().unwrap_or(chrono_tz::UTC);
        let include_input = run.param_bool("options.includeInputFields", 0, false)?;
        let items = run.per_item(|i, item| {
            let mut out = if include_input {
                let mut copy = Item::paired(item.json.clone(), i);
                copy.binary = item.binary.clone();
                copy
            } else {
                Item::paired(JsonObject::new(), i)
            };
            let value = operate(run, &operation, i, workflow_zone)?;
            let field = run.param_str("outputFieldName", i, default_field(&operation))?;
            out.json.insert(field, value);
            Ok(vec![out])
        })?;
        Ok(Outcome::single(items))
    }
}

fn default_field(operation: &str) -> &'static str {
    match operation {
        "addToDate" | "subtractFromDate" => "newDate",
        "formatDate" => "formattedDate",
        "roundDate" => "roundedDate",
        "getTimeBetweenDates" => "timeDifference",
        "extractDate" => "datePart",
        _ => "currentDate",
    }
}

fn operate(run: &NodeRun<'_>, operation: &str, i: usize, zone: Tz) -> Result<Value, NodeError> {
    let date = |name: &str| {
        run.param_value(name, i)
            .map(|v| v.unwrap_or(Value::String(String::new())))
    };
    match operation {
        "getCurrentDate" => {
            let include_time = run.param_bool("includeTime", i, true)?;
            let asked = run.param_str("options.timezone", i, "")?;
            let name = if asked.is_empty() {
                run.env.timezone.clone()
            } else {
                asked
            };
            let now = zone_moment(run.env.now().timestamp_millis(), &name).ok_or_else(|| {
                NodeError::operation(format!(
                    "The timezone {name} is not valid. Please check the timezone."
                ))
            })?;
            Ok(Value::String(if include_time {
                now.iso()
            } else {
                now.start_of(4).iso()
            }))
        }
        "addToDate" | "subtractFromDate" => {
            let moment = parse_date(&date("magnitude")?, Some(zone), None)?;
            let unit = unit_param(run, "timeUnit", i, "days")?;
            let mut amount = run.param_f64("duration", i, 0.0)?;
            if operation == "subtractFromDate" {
                amount = -amount;
            }
            Ok(Value::String(
                moment.plus(&Duration::of(unit, amount)).iso(),
            ))
        }
        "formatDate" => {
            let value = date("date")?;
            if value.is_null() {
                return Ok(Value::Null);
            }
            let use_workflow_zone = run.param_bool("options.timezone", i, false)?;
            let from = run.param_str("options.fromFormat", i, "")?;
            let moment = parse_date(
                &value,
                use_workflow_zone.then_some(zone),
                Some(from.as_str()).filter(|f| !f.is_empty()),
            )?;
            let mut format = run.param_str("format", i, "MM/dd/yyyy")?;
            if format == "custom" {
                format = run.param_str("customFormat", i, "")?;
            }
            Ok(Value::String(format::to_format(&moment, &format)))
        }
        "roundDate" => {
            let moment = parse_date(&date("date")?, Some(zone), None)?;
            let rounded = if run.param_str("mode", i, "roundDown")? == "roundUp" {
                let unit = unit_param(run, "to", i, "month")?;
                moment.plus(&Duration::of(unit, 1.0)).start_of(unit)
            } else {
                moment.start_of(unit_param(run, "toNearest", i, "month")?)
            };
            Ok(Value::String(rounded.iso()))
        }
        "getTimeBetweenDates" => {
            let start = parse_date(&date("startDate")?, Some(zone), None)?;
            let end = parse_date(&date("endDate")?, Some(zone), None)?;
            let names = match run.param_value("units", i)? {
                None | Some(Value::Null) => vec![Value::String("day".into())],
                Some(Value::Array(list)) => list,
                Some(other) => vec![other],
            };
            let mut units = Vec::new();
            for name in names {
                let name = types::js_string(&name);
                units.push(luxon::unit_index(&name).ok_or_else(|| invalid_unit(&name))?);
            }
            if units.is_empty() {
                return Err(invalid_unit("undefined"));
            }
            let duration = luxon::diff(&end, &start, &units);
            if run.param_bool("options.isoString", i, false)? {
                return Ok(Value::String(duration.to_iso()));
            }
            let mut object = Map::new();
            for (index, value) in duration.0.iter().enumerate() {
                if let Some(v) = value {
                    object.insert(luxon::UNITS[index].to_owned(), types::number_value(*v));
                }
            }
            Ok(Value::Object(object))
        }
        "extractDate" => {
            let moment = parse_date(&date("date")?, Some(zone), None)?;
            let local = moment.local();
            let part = run.param_str("part", i, "month")?;
            let value = match part.as_str() {
                "year" => i64::from(local.year()),
                "month" => i64::from(local.month()),
                "week" => i64::from(local.iso_week().week()),
                "day" => i64::from(local.day()),
                "hour" => i64::from(local.hour()),
                "minute" => i64::from(local.minute()),
                "second" => i64::from(local.second()),
                other => {
                    return Err(NodeError::operation(format!(
                        "The part \"{other}\" is not known"
                    )))
                }
            };
            Ok(Value::from(value))
        }
        other => Err(NodeError::operation(format!(
            "The operation \"{other}\" is not supported"
        ))),
    }
}

fn invalid_unit(name: &str) -> NodeError {
    NodeError::operation(format!("Invalid unit {name}"))
}

fn unit_param(run: &NodeRun<'_>, name: &str, i: usize, default: &str) -> Result<usize, NodeError> {
    let unit = run.param_str(name, i, default)?;
    luxon::unit_index(&unit).ok_or_else(|| invalid_unit(&unit))
}

/// A moment in the zone named `name` (Luxon's `UTC` and `GMT` are its fixed UTC zone).
fn zone_moment(ms: i64, name: &str) -> Option<Moment> {
    if name.eq_ignore_ascii_case("utc") || name.eq_ignore_ascii_case("gmt") {
        let mut moment = Moment::new(ms, chrono_tz::UTC);
        moment.fixed_utc = true;
        return Some(moment);
    }
    Some(Moment::new(ms, name.parse().ok()?))
}

fn invalid_date() -> NodeError {
    NodeError::operation("Invalid date format")
}

/// n8n's `parseDate` for the Date & Time node: see the module's description. `zone` is where
/// the result is shown (`None`: UTC, or the `+N` offset written in the text).
pub fn parse_date(
    value: &Value,
    zone: Option<Tz>,
    from_format: Option<&str>,
) -> Result<Moment, NodeError> {
    let number = compare::to_number(Some(value));
    if !number.is_nan() && from_format.is_none() {
        let number = if number.fract() != 0.0 {
            number * 1000.0
        } else {
            number
        };
        if number.fract() == 0.0 && number.is_finite() {
            let digits = types::js_number(number).len();
            let ms = if digits < 12 { number * 1000.0 } else { number };
            if ms.abs() > 8.64e15 {
                return Err(invalid_date());
            }
            return Ok(Moment::new(ms as i64, zone.unwrap_or(chrono_tz::Etc::UTC)));
        }
        // n8n goes on to treat the number as text, which fails.
        return Err(NodeError::operation("date.includes is not a function"));
    }
    let Value::String(text) = value else {
        return Err(NodeError::operation("date.includes is not a function"));
    };
    let mut zone = zone;
    if zone.is_none() {
        if let Some((_, after)) = text.split_once('+') {
            // n8n names the zone after the hours of the offset only.
            let hours: String = after.chars().take(2).collect();
            let hours = compare::to_number(Some(&Value::String(hours)));
            let name = format!("Etc/GMT-{}", types::js_number(hours));
            zone = Some(name.parse().map_err(|_| invalid_date())?);
        }
    }
    let ms = match from_format {
        Some(format) => {
            let (local, offset) = format::from_format(text, format).ok_or_else(invalid_date)?;
            local.and_utc().timestamp_millis() - offset.unwrap_or(0) * 60_000
        }
        None => match types::to_datetime(value, chrono_tz::UTC) {
            Some(date) => date.timestamp_millis(),
            None => loose_date(text).ok_or_else(invalid_date)?,
        },
    };
    Ok(Moment::new(ms, zone.unwrap_or(chrono_tz::Etc::UTC)))
}

/// What moment.js still reads by handing the text to JavaScript's `Date`: US dates
/// (`05/03/2024 07:08`) and English month names (`May 3, 2024`, `3 May 2024 10:00`), in UTC.
fn loose_date(text: &str) -> Option<i64> {
    const FORMATS: [&str; 9] = [
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%B %d, %Y %H:%M:%S",
        "%B %d, %Y %H:%M",
        "%b %d, %Y %H:%M:%S",
        "%b %d, %Y %H:%M",
        "%d %B %Y %H:%M:%S",
        "%d %B %Y %H:%M",
        "%d %b %Y %H:%M",
    ];
    const DATES: [&str; 5] = ["%m/%d/%Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y"];
    let text = text.trim();
    for format in FORMATS {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc().timestamp_millis());
        }
    }
    DATES.iter().find_map(|format| {
        chrono::NaiveDate::parse_from_str(text, format)
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp_millis())
    })
}

pub fn register(registry: &mut Registry) {
    registry.add("n8n-nodes-base.dateTime", &[2.0], Arc::new(DateTimeNode));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ny() -> Tz {
        "America/New_York".parse().expect("zone")
    }

    #[test]
    fn dates_are_read_as_n8n_reads_them() {
        let iso = |v: Value, zone: Option<Tz>| parse_date(&v, zone, None).expect("date").iso();
        assert_eq!(
            iso(json!("2024-01-31T22:30:00+02:00"), None),
            "2024-01-31T22:30:00.000+02:00"
        );
        assert_eq!(
            iso(json!("2024-01-31 22:30"), None),
            "2024-01-31T22:30:00.000+00:00"
        );
        assert_eq!(
            iso(json!("1710489600"), Some(ny())),
            "2024-03-15T04:00:00.000-04:00"
        );
        assert_eq!(
            iso(json!(1706740200000_i64), None),
            "2024-01-31T22:30:00.000+00:00"
        );
        assert_eq!(
            iso(json!(1706740200.5), None),
            "2024-01-31T22:30:00.500+00:00"
        );
        assert!(parse_date(&json!("soon"), None, None).is_err());
        assert_eq!(
            parse_date(&json!("31.01.2024"), None, Some("dd.MM.yyyy"))
                .expect("date")
                .iso(),
            "2024-01-31T00:00:00.000+00:00"
        );
    }

    #[test]
    fn differences_and_rounding_match_n8n() {
        // Recorded from n8n 2.8.4 (workflow zone America/New_York): end, start, the
        // difference in years, weeks and seconds, in months as ISO text, and the start
        // rounded up to the month.
        let cases = [
            (
                json!("05/03/2024 07:08"),
                json!("2024-03-31T23:59:59.999+05:30"),
                json!({"years": 0, "weeks": 4, "seconds": 391080.001}),
                "P1.0814964161439666M",
                "2024-04-01T00:00:00.000-04:00",
            ),
            (
                json!("2024-01-31T12:00:00.123+05:30"),
                json!("2025-02-28T00:00:00Z"),
                json!({"years": -1, "weeks": -3, "seconds": -581399.877}),
                "P-12.990327330109126M",
                "2025-03-01T00:00:00.000-05:00",
            ),
            (
                json!(1706740200.25),
                json!("Tue, 05 Mar 2024 10:00:00 GMT"),
                json!({"years": 0, "weeks": -4, "seconds": -473399.75}),
                "P-1.1446836212053237M",
                "2024-04-01T00:00:00.000-04:00",
            ),
        ];
        for (end, start, parts, months, up) in cases {
            let end = parse_date(&end, Some(ny()), None).expect("end");
            let start = parse_date(&start, Some(ny()), None).expect("start");
            let d = luxon::diff(&end, &start, &[0, 3, 7]);
            let object: serde_json::Map<String, Value> =
                d.0.iter()
                    .enumerate()
                    .filter_map(|(i, v)| {
                        v.map(|v| (luxon::UNITS[i].to_owned(), types::number_value(v)))
                    })
                    .collect();
            assert_eq!(Value::Object(object), parts);
            assert_eq!(luxon::diff(&end, &start, &[2]).to_iso(), months);
            assert_eq!(start.plus(&Duration::of(2, 1.0)).start_of(2).iso(), up);
        }
    }

    #[test]
    fn adding_fractions_and_quarters_matches_n8n() {
        // Recorded from n8n 2.8.4 (America/New_York): 1.5 days across the March change,
        // and a quarter back onto a shorter month.
        let at = |text: &str| parse_date(&json!(text), Some(ny()), None).expect("date");
        assert_eq!(
            at("2024-03-09T12:00:00Z").plus(&Duration::of(4, 1.5)).iso(),
            "2024-03-10T19:00:00.000-04:00"
        );
        assert_eq!(
            at("2024-03-09T12:00:00Z")
                .plus(&Duration::of(1, -1.0))
                .iso(),
            "2023-12-09T07:00:00.000-05:00"
        );
        assert_eq!(
            at("2024-05-31T23:30:00-04:00")
                .plus(&Duration::of(1, -1.0))
                .iso(),
            "2024-02-29T23:30:00.000-05:00"
        );
    }

    #[test]
    fn the_current_date_can_be_in_fixed_utc() {
        let moment = zone_moment(0, "UTC").expect("zone");
        assert_eq!(moment.iso(), "1970-01-01T00:00:00.000Z");
        assert!(zone_moment(0, "Mars/Olympus").is_none());
    }
}
