//! Luxon's format tokens (`yyyy-MM-dd HH:mm`, `'quoted text'`, `X`, `DDD`, ...) in English,
//! for writing dates (`toFormat`) and for reading them (`fromFormat`, the common subset).
//!
//! Luxon's localized tokens (`D`, `t`, `f`, ...) are written as n8n 2.8 on Node 20 writes
//! them for `en-US` (with a plain space before AM/PM).

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use super::luxon::{offset_text, Moment};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// One piece of a format: a run of one letter (a token), or literal text.
#[derive(Debug, PartialEq)]
enum Piece {
    Token(String),
    Literal(String),
}

/// Luxon's `parseFormat`: runs of the same character are tokens; `'...'` is literal text
/// (`''` is a quote).
fn pieces(format: &str) -> Vec<Piece> {
    let mut out = Vec::new();
    let mut current: Option<char> = None;
    let mut run = String::new();
    let mut quoted = false;
    let push = |out: &mut Vec<Piece>, run: &str, literal: bool| {
        if literal || run.chars().all(char::is_whitespace) {
            out.push(Piece::Literal(run.to_owned()));
        } else {
            out.push(Piece::Token(run.to_owned()));
        }
    };
    for c in format.chars() {
        if c == '\'' {
            if !run.is_empty() || quoted {
                let text = if run.is_empty() { "'" } else { run.as_str() };
                push(&mut out, text, quoted);
            }
            current = None;
            run.clear();
            quoted = !quoted;
        } else if quoted || Some(c) == current {
            run.push(c);
        } else {
            if !run.is_empty() {
                push(&mut out, &run, false);
            }
            run = c.to_string();
            current = Some(c);
        }
    }
    if !run.is_empty() {
        push(&mut out, &run, quoted);
    }
    out
}

/// Luxon's `toFormat(format)` in English.
pub fn to_format(moment: &Moment, format: &str) -> String {
    let local = moment.local();
    pieces(format)
        .into_iter()
        .map(|piece| match piece {
            Piece::Literal(text) => text,
            Piece::Token(token) => token_text(moment, &local, &token).unwrap_or(token),
        })
        .collect()
}

fn pad(n: i64, width: usize) -> String {
    if n < 0 {
        format!("-{:0width$}", -n)
    } else {
        format!("{n:0width$}")
    }
}

fn hour12(local: &NaiveDateTime) -> u32 {
    match local.hour() % 12 {
        0 => 12,
        h => h,
    }
}

fn meridiem(local: &NaiveDateTime) -> &'static str {
    if local.hour() < 12 {
        "AM"
    } else {
        "PM"
    }
}

fn token_text(moment: &Moment, local: &NaiveDateTime, token: &str) -> Option<String> {
    let month = local.month() as usize;
    let weekday = local.weekday().num_days_from_monday() as usize;
    let iso = local.iso_week();
    let offset = moment.offset_minutes();
    let ms = i64::from(local.nanosecond() / 1_000_000);
    let year = i64::from(local.year());
    let short_date = || format!("{}/{}/{}", local.month(), local.day(), local.year());
    let medium_date = || {
        format!(
            "{} {}, {}",
            &MONTHS[month - 1][..3],
            local.day(),
            local.year()
        )
    };
    let time = |seconds: bool| {
        let s = if seconds {
            format!(":{:02}", local.second())
        } else {
            String::new()
        };
        format!(
            "{}:{:02}{s} {}",
            hour12(local),
            local.minute(),
            meridiem(local)
        )
    };
    Some(match token {
        "S" => ms.to_string(),
        "SSS" => pad(ms, 3),
        "u" => pad(ms, 3),
        "s" => local.second().to_string(),
        "ss" => pad(i64::from(local.second()), 2),
        "m" => local.minute().to_string(),
        "mm" => pad(i64::from(local.minute()), 2),
        "h" => hour12(local).to_string(),
        "hh" => pad(i64::from(hour12(local)), 2),
        "H" => local.hour().to_string(),
        "HH" => pad(i64::from(local.hour()), 2),
        "Z" => {
            let sign = if offset < 0 { '-' } else { '+' };
            let (h, m) = (offset.abs() / 60, offset.abs() % 60);
            if m == 0 {
                format!("{sign}{h}")
            } else {
                format!("{sign}{h}:{m:02}")
            }
        }
        "ZZ" => offset_text(offset, true),
        "ZZZ" => offset_text(offset, false),
        "z" => moment.zone.name().to_owned(),
        "a" => meridiem(local).to_owned(),
        "d" => local.day().to_string(),
        "dd" => pad(i64::from(local.day()), 2),
        "c" | "E" => (weekday + 1).to_string(),
        "ccc" | "EEE" => WEEKDAYS[weekday][..3].to_owned(),
        "cccc" | "EEEE" => WEEKDAYS[weekday].to_owned(),
        "ccccc" | "EEEEE" => WEEKDAYS[weekday][..1].to_owned(),
        "L" | "M" => month.to_string(),
        "LL" | "MM" => pad(month as i64, 2),
        "LLL" | "MMM" => MONTHS[month - 1][..3].to_owned(),
        "LLLL" | "MMMM" => MONTHS[month - 1].to_owned(),
        "LLLLL" | "MMMMM" => MONTHS[month - 1][..1].to_owned(),
        "y" => year.to_string(),
        "yy" => pad(year.rem_euclid(100), 2),
        "yyyy" => pad(year, 4),
        "yyyyyy" => pad(year, 6),
        "G" => if year > 0 { "AD" } else { "BC" }.to_owned(),
        "GG" => if year > 0 {
            "Anno Domini"
        } else {
            "Before Christ"
        }
        .to_owned(),
        "GGGGG" => if year > 0 { "A" } else { "B" }.to_owned(),
        "kk" => pad(i64::from(iso.year()).rem_euclid(100), 2),
        "kkkk" => pad(i64::from(iso.year()), 4),
        "W" => iso.week().to_string(),
        "WW" => pad(i64::from(iso.week()), 2),
        "o" => local.ordinal().to_string(),
        "ooo" => pad(i64::from(local.ordinal()), 3),
        "q" => ((month - 1) / 3 + 1).to_string(),
        "qq" => pad(((month - 1) / 3 + 1) as i64, 2),
        "X" => moment.ms.div_euclid(1000).to_string(),
        "x" => moment.ms.to_string(),
        "D" => short_date(),
        "DD" => medium_date(),
        "DDD" => format!("{} {}, {}", MONTHS[month - 1], local.day(), local.year()),
        "DDDD" => format!(
            "{}, {} {}, {}",
            WEEKDAYS[weekday],
            MONTHS[month - 1],
            local.day(),
            local.year()
        ),
        "t" => time(false),
        "tt" => time(true),
        "T" => format!("{:02}:{:02}", local.hour(), local.minute()),
        "TT" => format!(
            "{:02}:{:02}:{:02}",
            local.hour(),
            local.minute(),
            local.second()
        ),
        "f" => format!("{}, {}", short_date(), time(false)),
        "ff" => format!("{}, {}", medium_date(), time(false)),
        "F" => format!("{}, {}", short_date(), time(true)),
        "FF" => format!("{}, {}", medium_date(), time(true)),
        _ => return None,
    })
}

/// The wall-clock time (and the offset, when the text has one) read from `text` with a
/// Luxon format; `None` when the text does not fit.
pub fn from_format(text: &str, format: &str) -> Option<(NaiveDateTime, Option<i64>)> {
    let mut rest = text;
    let (mut year, mut month, mut day) = (1970_i64, 1_u32, 1_u32);
    let (mut hour, mut minute, mut second, mut ms) = (0_u32, 0_u32, 0_u32, 0_u32);
    let mut pm: Option<bool> = None;
    let mut offset = None;
    let mut timestamp: Option<i64> = None;
    for piece in pieces(format) {
        let token = match piece {
            Piece::Literal(literal) => {
                rest = rest.strip_prefix(literal.as_str())?;
                continue;
            }
            Piece::Token(token) => token,
        };
        let digits = |rest: &mut &str, min: usize, max: usize| -> Option<i64> {
            let count = rest
                .chars()
                .take(max)
                .take_while(char::is_ascii_digit)
                .count();
            if count < min {
                return None;
            }
            let (number, tail) = rest.split_at(count);
            *rest = tail;
            number.parse().ok()
        };
        match token.as_str() {
            "y" => year = digits(&mut rest, 1, 6)?,
            "yyyy" => year = digits(&mut rest, 4, 4)?,
            "yy" => {
                // Luxon's `untruncateYear`: two digits past 60 are the 1900s.
                let short = digits(&mut rest, 2, 4)?;
                year = if short > 99 {
                    short
                } else if short > 60 {
                    1900 + short
                } else {
                    2000 + short
                };
            }
            "M" | "L" => month = u32::try_from(digits(&mut rest, 1, 2)?).ok()?,
            "MM" | "LL" => month = u32::try_from(digits(&mut rest, 2, 2)?).ok()?,
            "MMM" | "LLL" | "MMMM" | "LLLL" => {
                let long = token.len() == 4;
                let (index, name) = MONTHS.iter().enumerate().find(|(_, name)| {
                    let name = if long { name } else { &name[..3] };
                    rest.get(..name.len())
                        .is_some_and(|start| start.eq_ignore_ascii_case(name))
                })?;
                let length = if long { name.len() } else { 3 };
                rest = &rest[length..];
                month = index as u32 + 1;
            }
            "d" => day = u32::try_from(digits(&mut rest, 1, 2)?).ok()?,
            "dd" => day = u32::try_from(digits(&mut rest, 2, 2)?).ok()?,
            "H" | "h" => hour = u32::try_from(digits(&mut rest, 1, 2)?).ok()?,
            "HH" | "hh" => hour = u32::try_from(digits(&mut rest, 2, 2)?).ok()?,
            "m" => minute = u32::try_from(digits(&mut rest, 1, 2)?).ok()?,
            "mm" => minute = u32::try_from(digits(&mut rest, 2, 2)?).ok()?,
            "s" => second = u32::try_from(digits(&mut rest, 1, 2)?).ok()?,
            "ss" => second = u32::try_from(digits(&mut rest, 2, 2)?).ok()?,
            "S" | "SSS" => ms = u32::try_from(digits(&mut rest, 1, 3)?).ok()?,
            "a" => {
                let upper = rest.get(..2)?.to_ascii_uppercase();
                pm = Some(match upper.as_str() {
                    "AM" => false,
                    "PM" => true,
                    _ => return None,
                });
                rest = &rest[2..];
            }
            "X" => timestamp = Some(digits(&mut rest, 1, 15)? * 1000),
            "x" => timestamp = Some(digits(&mut rest, 1, 18)?),
            "Z" | "ZZ" | "ZZZ" => {
                let sign = match rest.chars().next()? {
                    '+' => 1,
                    '-' => -1,
                    _ => return None,
                };
                rest = &rest[1..];
                let h = digits(&mut rest, 1, 2)?;
                if let Some(tail) = rest.strip_prefix(':') {
                    rest = tail;
                }
                let m = digits(&mut rest, 0, 2).unwrap_or(0);
                offset = Some(sign * (h * 60 + m));
            }
            _ => rest = rest.strip_prefix(token.as_str())?,
        }
    }
    if !rest.is_empty() {
        return None;
    }
    if let Some(ms) = timestamp {
        let utc = chrono::DateTime::from_timestamp_millis(ms)?.naive_utc();
        return Some((utc, Some(0)));
    }
    match pm {
        Some(true) if hour < 12 => hour += 12,
        Some(false) if hour == 12 => hour = 0,
        _ => {}
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some((date.and_hms_milli_opt(hour, minute, second, ms)?, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moment() -> Moment {
        // 2024-01-31 22:30:05.042 at +02:00.
        Moment::new(1_706_733_005_042, "Etc/GMT-2".parse().expect("zone"))
    }

    #[test]
    fn tokens_write_as_luxon_writes_them() {
        assert_eq!(
            to_format(
                &moment(),
                "yyyy-MM-dd HH:mm:ss.SSS ZZ z ccc cccc LLL LLLL d/M/yy h a EEE q kkkk WW o X x"
            ),
            "2024-01-31 22:30:05.042 +02:00 Etc/GMT-2 Wed Wednesday Jan January 31/1/24 10 PM Wed 1 2024 05 31 1706733005 1706733005042"
        );
        assert_eq!(
            to_format(&moment(), "'Day' d 'of' MMMM, ''yy"),
            "Day 31 of January, '24"
        );
        assert_eq!(to_format(&moment(), "DDD"), "January 31, 2024");
        assert_eq!(
            to_format(&moment(), "t|ff"),
            "10:30 PM|Jan 31, 2024, 10:30 PM"
        );
    }

    #[test]
    fn formats_read_dates() {
        let (local, offset) = from_format("20240131 2230", "yyyyMMdd HHmm").expect("parse");
        assert_eq!(local.to_string(), "2024-01-31 22:30:00");
        assert_eq!(offset, None);
        let (local, _) = from_format("Jan 5, 2024 3:04 pm", "MMM d, yyyy h:mm a").expect("parse");
        assert_eq!(local.to_string(), "2024-01-05 15:04:00");
        assert!(from_format("2024-13-01", "yyyy-MM-dd").is_none());
        assert!(from_format("2024-01-01x", "yyyy-MM-dd").is_none());
    }
}
