//! The date arithmetic of n8n's Date & Time node, which uses Luxon: a point in time seen in a
//! zone ([`Moment`]), adding calendar units on the wall clock (with Luxon's handling of
//! month ends and daylight-saving gaps), rounding down to a unit, and differences in units
//! (with Luxon's algorithm, which puts the remainder as a fraction of the smallest unit).

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;

const DAY_MS: f64 = 86_400_000.0;

/// Luxon's duration units, largest first.
pub const UNITS: [&str; 9] = [
    "years",
    "quarters",
    "months",
    "weeks",
    "days",
    "hours",
    "minutes",
    "seconds",
    "milliseconds",
];

/// Milliseconds per unit in Luxon's "casual" conversion (a month is 30 days, a year 365).
const UNIT_MS: [f64; 9] = [
    365.0 * DAY_MS,
    91.0 * DAY_MS,
    30.0 * DAY_MS,
    7.0 * DAY_MS,
    DAY_MS,
    3_600_000.0,
    60_000.0,
    1_000.0,
    1.0,
];

/// The index of a unit in [`UNITS`]; singular and plural names both count, as in Luxon.
pub fn unit_index(name: &str) -> Option<usize> {
    let plural = if name.ends_with('s') {
        name.to_owned()
    } else {
        format!("{name}s")
    };
    UNITS.iter().position(|u| *u == plural)
}

/// An amount per unit; absent units are not part of the duration.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Duration(pub [Option<f64>; 9]);

impl Duration {
    pub fn of(unit: usize, amount: f64) -> Duration {
        let mut d = Duration::default();
        d.0[unit] = Some(amount);
        d
    }

    fn get(&self, unit: usize) -> f64 {
        self.0[unit].unwrap_or(0.0)
    }

    /// Luxon's `toISO()`: `P1M14DT12.5H`, `PT0S` when empty.
    pub fn to_iso(self) -> String {
        let num = super::super::types::js_number;
        let mut s = "P".to_owned();
        let (years, quarters, months, weeks, days) = (
            self.get(0),
            self.get(1),
            self.get(2),
            self.get(3),
            self.get(4),
        );
        let (hours, minutes, seconds, ms) = (self.get(5), self.get(6), self.get(7), self.get(8));
        if years != 0.0 {
            s += &format!("{}Y", num(years));
        }
        if months != 0.0 || quarters != 0.0 {
            s += &format!("{}M", num(months + quarters * 3.0));
        }
        if weeks != 0.0 {
            s += &format!("{}W", num(weeks));
        }
        if days != 0.0 {
            s += &format!("{}D", num(days));
        }
        if hours != 0.0 || minutes != 0.0 || seconds != 0.0 || ms != 0.0 {
            s.push('T');
        }
        if hours != 0.0 {
            s += &format!("{}H", num(hours));
        }
        if minutes != 0.0 {
            s += &format!("{}M", num(minutes));
        }
        if seconds != 0.0 || ms != 0.0 {
            let total = ((seconds + ms / 1000.0) * 1000.0).round() / 1000.0;
            s += &format!("{}S", num(total));
        }
        if s == "P" {
            s += "T0S";
        }
        s
    }
}

/// A point in time (Unix milliseconds) seen in a zone.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Moment {
    pub ms: i64,
    pub zone: Tz,
    /// Luxon's fixed UTC zone (asked for as `UTC`): its ISO text ends in `Z`.
    pub fixed_utc: bool,
}

fn utc_naive(ms: i64) -> NaiveDateTime {
    DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .naive_utc()
}

/// The zone's offset from UTC, in minutes, at `ms`.
fn offset_at(zone: Tz, ms: i64) -> i64 {
    i64::from(
        zone.offset_from_utc_datetime(&utc_naive(ms))
            .fix()
            .local_minus_utc(),
    ) / 60
}

/// Luxon's `fixOffset`: the instant of a wall-clock time, guessing the offset first.
fn fix_offset(local_ms: i64, offset: i64, zone: Tz) -> i64 {
    let mut guess = local_ms - offset * 60_000;
    let o2 = offset_at(zone, guess);
    if o2 == offset {
        return guess;
    }
    guess -= (o2 - offset) * 60_000;
    let o3 = offset_at(zone, guess);
    if o2 == o3 {
        return guess;
    }
    local_ms - o2.min(o3) * 60_000
}

fn days_in_month(year: i32, month: u32) -> u32 {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    next.and_then(|n| n.pred_opt()).map_or(31, |d| d.day())
}

/// A year and a month that may be out of range (month 14), brought into range.
fn normalize_month(year: i64, month: i64) -> (i32, u32) {
    let m = (month - 1).rem_euclid(12) + 1;
    let y = year + (month - m) / 12;
    (y as i32, m as u32)
}

/// Wall-clock milliseconds of a calendar time whose day may overflow the month.
fn local_ms(year: i32, month: u32, day: i64, time_ms: i64) -> i64 {
    let first = NaiveDate::from_ymd_opt(year, month, 1)
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default();
    first.and_utc().timestamp_millis() + (day - 1) * DAY_MS as i64 + time_ms
}

impl Moment {
    pub fn new(ms: i64, zone: Tz) -> Moment {
        Moment {
            ms,
            zone,
            fixed_utc: false,
        }
    }

    pub fn offset_minutes(&self) -> i64 {
        offset_at(self.zone, self.ms)
    }

    /// The wall-clock time in the zone.
    pub fn local(&self) -> NaiveDateTime {
        utc_naive(self.ms + self.offset_minutes() * 60_000)
    }

    fn time_of_day_ms(local: &NaiveDateTime) -> i64 {
        i64::from(local.num_seconds_from_midnight()) * 1000
            + i64::from(local.nanosecond() / 1_000_000)
    }

    /// Luxon's `plus`: whole calendar units move the wall clock (a month end stays in its
    /// month), the rest adds elapsed time.
    pub fn plus(&self, d: &Duration) -> Moment {
        let local = self.local();
        let trunc = |i: usize| d.get(i).trunc();
        let (year, month) = normalize_month(
            i64::from(local.year()) + trunc(0) as i64,
            i64::from(local.month()) + trunc(2) as i64 + trunc(1) as i64 * 3,
        );
        let day = i64::from(local.day().min(days_in_month(year, month)))
            + trunc(4) as i64
            + trunc(3) as i64 * 7;
        let wall = local_ms(year, month, day, Moment::time_of_day_ms(&local));
        let mut ms = fix_offset(wall, self.offset_minutes(), self.zone);
        let mut extra = 0.0;
        for (i, factor) in UNIT_MS.iter().enumerate() {
            let amount = if i < 5 { d.get(i) - trunc(i) } else { d.get(i) };
            extra += amount * factor;
        }
        ms += extra as i64;
        Moment { ms, ..*self }
    }

    /// Luxon's `startOf(unit)` (weeks start on Monday).
    pub fn start_of(&self, unit: usize) -> Moment {
        let local = self.local();
        let date = local.date();
        let start = match unit {
            0 => NaiveDate::from_ymd_opt(date.year(), 1, 1),
            1 => NaiveDate::from_ymd_opt(date.year(), (date.month() - 1) / 3 * 3 + 1, 1),
            2 => NaiveDate::from_ymd_opt(date.year(), date.month(), 1),
            3 => date.checked_sub_days(chrono::Days::new(u64::from(
                date.weekday().num_days_from_monday(),
            ))),
            _ => Some(date),
        }
        .unwrap_or(date);
        let time = match unit {
            0..=4 => 0,
            5 => i64::from(local.hour()) * 3_600_000,
            6 => i64::from(local.hour()) * 3_600_000 + i64::from(local.minute()) * 60_000,
            7 => i64::from(local.num_seconds_from_midnight()) * 1000,
            _ => Moment::time_of_day_ms(&local),
        };
        let wall = start
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis()
            + time;
        Moment {
            ms: fix_offset(wall, self.offset_minutes(), self.zone),
            ..*self
        }
    }

    /// Luxon's `toISO()`: `2024-02-29T15:30:00.000-05:00`.
    pub fn iso(&self) -> String {
        let local = self.local();
        let offset = self.offset_minutes();
        let zone = if self.fixed_utc && offset == 0 {
            "Z".to_owned()
        } else {
            offset_text(offset, true)
        };
        format!(
            "{}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{zone}",
            year_text(local.year()),
            local.month(),
            local.day(),
            local.hour(),
            local.minute(),
            local.second(),
            local.nanosecond() / 1_000_000
        )
    }
}

fn year_text(year: i32) -> String {
    if (0..=9999).contains(&year) {
        format!("{year:04}")
    } else if year < 0 {
        format!("-{:06}", -i64::from(year))
    } else {
        format!("+{year:06}")
    }
}

/// An offset as `+05:00` (or `+0500` without the colon).
pub fn offset_text(minutes: i64, colon: bool) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let (h, m) = (minutes.abs() / 60, minutes.abs() % 60);
    if colon {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}{m:02}")
    }
}

/// Whole days between the wall-clock dates of two moments (Luxon's `dayDiff`).
fn day_diff(earlier: &Moment, later: &Moment) -> f64 {
    let day = |m: &Moment| {
        m.local()
            .date()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
            .and_utc()
            .timestamp_millis()
    };
    ((day(later) - day(earlier)) as f64 / DAY_MS).floor()
}

/// Luxon's `later.diff(earlier, units)` for `later` not before `earlier`.
fn diff_forward(earlier: &Moment, later: &Moment, units: &[usize]) -> Duration {
    let mut results = Duration::default();
    let mut cursor = *earlier;
    let mut high_water: Option<Moment> = None;
    let mut lowest = None;
    let mut cursor_is_high_water = false;
    for unit in 0..5 {
        if !units.contains(&unit) {
            continue;
        }
        lowest = Some(unit);
        let count = match unit {
            0 => f64::from(later.local().year() - cursor.local().year()),
            1 => {
                let q = |m: &Moment| f64::from((m.local().month() - 1) / 3 + 1);
                q(later) - q(&cursor)
                    + f64::from(later.local().year() - cursor.local().year()) * 4.0
            }
            2 => {
                f64::from(later.local().month() as i32 - cursor.local().month() as i32)
                    + f64::from(later.local().year() - cursor.local().year()) * 12.0
            }
            3 => {
                let days = day_diff(&cursor, later);
                (days - days % 7.0) / 7.0
            }
            _ => day_diff(&cursor, later),
        };
        results.0[unit] = Some(count);
        let reached = earlier.plus(&results);
        if reached.ms > later.ms {
            results.0[unit] = Some(count - 1.0);
            cursor = earlier.plus(&results);
            high_water = Some(reached);
            cursor_is_high_water = false;
            if cursor.ms > later.ms {
                high_water = Some(cursor);
                results.0[unit] = Some(count - 2.0);
                cursor = earlier.plus(&results);
            }
        } else {
            cursor = reached;
            high_water = Some(reached);
            cursor_is_high_water = true;
        }
    }
    let remaining = (later.ms - cursor.ms) as f64;
    let lower: Vec<usize> = units.iter().copied().filter(|u| *u >= 5).collect();
    if lower.is_empty() {
        if let (Some(unit), Some(mut high)) = (lowest, high_water) {
            if high.ms < later.ms {
                high = cursor.plus(&Duration::of(unit, 1.0));
                cursor_is_high_water = false;
            }
            if !cursor_is_high_water {
                let span = (high.ms - cursor.ms) as f64;
                results.0[unit] = Some(results.get(unit) + remaining / span);
            }
        }
        return results;
    }
    // The remainder in the smaller units: all of it into the smallest, then rolled up.
    let mut out = results;
    let smallest = lower.iter().copied().max().unwrap_or(8);
    for &unit in &lower {
        out.0[unit] = Some(0.0);
    }
    out.0[smallest] = Some(remaining / UNIT_MS[smallest]);
    let mut previous: Option<usize> = None;
    for unit in (5..9).rev() {
        if !lower.contains(&unit) {
            continue;
        }
        if let Some(p) = previous {
            let conversion = UNIT_MS[unit] / UNIT_MS[p];
            let roll = (out.get(p) / conversion).floor();
            out.0[unit] = Some(out.get(unit) + roll);
            out.0[p] = Some(out.get(p) - roll * conversion);
        }
        previous = Some(unit);
    }
    out
}

/// Luxon's `end.diff(start, units)`: negative when `end` is before `start`.
pub fn diff(end: &Moment, start: &Moment, units: &[usize]) -> Duration {
    if end.ms >= start.ms {
        return diff_forward(start, end, units);
    }
    let mut d = diff_forward(end, start, units);
    for value in d.0.iter_mut().flatten() {
        *value = -*value;
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, zone: &str) -> Moment {
        let zone: Tz = zone.parse().expect("zone");
        Moment::new(
            DateTime::parse_from_rfc3339(text)
                .expect("date")
                .timestamp_millis(),
            zone,
        )
    }

    #[test]
    fn adding_months_keeps_the_month_end_and_the_wall_clock() {
        let start = at("2024-01-31T20:30:00Z", "America/New_York");
        assert_eq!(start.iso(), "2024-01-31T15:30:00.000-05:00");
        let month = start.plus(&Duration::of(2, 1.0));
        assert_eq!(month.iso(), "2024-02-29T15:30:00.000-05:00");
        // Across the March change the wall clock stays; elapsed units do not.
        assert_eq!(
            start.plus(&Duration::of(4, 45.0)).iso(),
            "2024-03-16T15:30:00.000-04:00"
        );
        assert_eq!(
            start.plus(&Duration::of(5, -1.5)).iso(),
            "2024-01-31T14:00:00.000-05:00"
        );
    }

    #[test]
    fn rounding_down_starts_the_unit() {
        let start = at("2024-01-31T20:30:00Z", "America/New_York");
        assert_eq!(start.start_of(3).iso(), "2024-01-29T00:00:00.000-05:00");
        assert_eq!(
            start.plus(&Duration::of(2, 1.0)).start_of(2).iso(),
            "2024-02-01T00:00:00.000-05:00"
        );
        assert_eq!(start.start_of(1).iso(), "2024-01-01T00:00:00.000-05:00");
    }

    #[test]
    fn differences_follow_luxon() {
        let start = at("2024-01-31T20:30:00Z", "America/New_York");
        let end = at("2024-03-15T08:00:00Z", "America/New_York");
        let d = diff(&end, &start, &[2, 4, 5]);
        assert_eq!(d.0[2], Some(1.0));
        assert_eq!(d.0[4], Some(14.0));
        assert_eq!(d.0[5], Some(12.5));
        assert_eq!(diff(&end, &start, &[4]).to_iso(), "P43.520833333333336D");
        assert_eq!(d.to_iso(), "P1M14DT12.5H");
        assert_eq!(Duration::default().to_iso(), "PT0S");
        let back = diff(&start, &end, &[4]);
        assert!(back.0[4].is_some_and(|d| d < -43.0));
    }
}
