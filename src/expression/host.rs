//! Pure functions the JavaScript side borrows from Rust: what QuickJS lacks (time zone data,
//! hashing) or does slowly.

use base64::Engine as _;
use chrono::{Offset, TimeZone};
use sha2::Digest;

/// The UTC offset (minutes) and abbreviation of IANA zone `name` at `ts` (Unix ms); `None`
/// for an unknown zone or a time outside chrono's range.
pub(crate) fn zone_offset(name: &str, ts: f64) -> Option<(i32, String)> {
    let zone = parse_zone(name)?;
    if !ts.is_finite() {
        return None;
    }
    let instant = chrono::DateTime::from_timestamp_millis(ts as i64)?;
    let local = zone.from_utc_datetime(&instant.naive_utc());
    let offset = local.offset().fix().local_minus_utc() / 60;
    Some((offset, local.format("%Z").to_string()))
}

/// An IANA zone by name, in any letter case (as `Intl` accepts them).
pub(crate) fn parse_zone(name: &str) -> Option<chrono_tz::Tz> {
    name.parse::<chrono_tz::Tz>().ok().or_else(|| {
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
    })
}

/// `text` hashed with one of the algorithms n8n's `hash()` offers, as lowercase hex (base64
/// for `base64`, as n8n treats it as an encoding).
pub(crate) fn hash(algorithm: &str, text: &str) -> rquickjs::Result<String> {
    let bytes = text.as_bytes();
    let hex = match algorithm.to_ascii_lowercase().as_str() {
        "md5" => hex::encode(md5::Md5::digest(bytes)),
        "sha1" => hex::encode(sha1::Sha1::digest(bytes)),
        "sha224" => hex::encode(sha2::Sha224::digest(bytes)),
        "sha256" => hex::encode(sha2::Sha256::digest(bytes)),
        "sha384" => hex::encode(sha2::Sha384::digest(bytes)),
        "sha512" => hex::encode(sha2::Sha512::digest(bytes)),
        "base64" => base64_encode(text),
        other => {
            return Err(rquickjs::Error::new_from_js_message(
                "string",
                "hash",
                format!("Unknown algorithm {other}"),
            ))
        }
    };
    Ok(hex)
}

/// UTF-8 text as standard base64.
pub(crate) fn base64_encode(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// Base64 (standard or URL-safe, padded or not) back to text; invalid UTF-8 is replaced.
pub(crate) fn base64_decode(text: &str) -> String {
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = cleaned.trim_end_matches('=');
    let engines = [
        base64::engine::general_purpose::STANDARD_NO_PAD,
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ];
    for engine in engines {
        if let Ok(bytes) = engine.decode(trimmed) {
            return String::from_utf8_lossy(&bytes).into_owned();
        }
    }
    String::new()
}

/// `text` cut to at most `max` bytes, at a character boundary.
pub(crate) fn clip(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_york_is_five_hours_behind_in_winter_and_four_in_summer() {
        let winter = 1_704_067_200_000.0; // 2024-01-01T00:00:00Z
        let summer = 1_719_792_000_000.0; // 2024-07-01T00:00:00Z
        assert_eq!(
            zone_offset("America/New_York", winter),
            Some((-300, "EST".into()))
        );
        assert_eq!(
            zone_offset("america/new_york", summer),
            Some((-240, "EDT".into()))
        );
        assert_eq!(zone_offset("Mars/Olympus", winter), None);
    }

    #[test]
    fn hashes_are_lowercase_hex() {
        assert_eq!(
            hash("md5", "hello").ok().as_deref(),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
        assert_eq!(
            hash("sha256", "hello").ok().as_deref(),
            Some("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        );
        assert!(hash("whirlpool", "x").is_err());
    }

    #[test]
    fn base64_round_trips_unicode() {
        assert_eq!(base64_encode("hé"), "aMOp");
        assert_eq!(base64_decode("aMOp"), "hé");
        assert_eq!(base64_decode("aGVsbG8="), "hello");
    }
}
