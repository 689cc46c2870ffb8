//! Time in the two forms the server stores and sends: ISO-8601 UTC text with milliseconds
//! (what n8n's JSON carries; fixed width, so text order is time order) and Unix seconds.

use chrono::{DateTime, SecondsFormat, Utc};

/// Now as `2026-11-26T10:00:00.000Z`.
pub fn now_iso() -> String {
    iso(Utc::now())
}

pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Now in Unix seconds.
pub fn now_unix() -> i64 {
    Utc::now().timestamp()
}

/// Parses an ISO-8601 date-time with an offset (as clients send them) into UTC.
pub fn parse_iso(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_text_is_fixed_width_utc_with_milliseconds() {
        let now = now_iso();
        assert_eq!(now.len(), 24);
        assert!(now.ends_with('Z'));
        let parsed = parse_iso(&now).expect("parses");
        assert_eq!(iso(parsed), now);
        assert_eq!(
            iso(parse_iso("2026-01-02T03:04:05+02:00").expect("offset")),
            "2026-01-02T01:04:05.000Z"
        );
        assert!(parse_iso("yesterday").is_none());
    }
}
