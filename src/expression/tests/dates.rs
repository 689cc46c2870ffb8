//! Luxon and n8n's date functions, in the workflow's time zone (America/New_York; the clock
//! is 2024-03-15T14:30:45.123Z, 10:30:45 in New York).

use serde_json::json;

use super::check;
use super::fixture::Fixture;

#[test]
fn now_and_today_are_in_the_workflow_time_zone() {
    check(&[
        (
            "={{ $now.toISO() }}",
            json!("2024-03-15T10:30:45.123-04:00"),
        ),
        (
            "={{ $today.toISO() }}",
            json!("2024-03-15T00:00:00.000-04:00"),
        ),
        ("={{ $now.zoneName }}", json!("America/New_York")),
        (
            "={{ $now.toFormat('yyyy-MM-dd HH:mm') }}",
            json!("2024-03-15 10:30"),
        ),
        (
            "={{ $now.toFormat('cccc, LLLL d') }}",
            json!("Friday, March 15"),
        ),
        ("={{ $now.toFormat('h:mm a ZZZZ') }}", json!("10:30 AM EDT")),
        ("={{ $now.toMillis() }}", json!(1_710_513_045_123_i64)),
        (
            "={{ DateTime.now().toMillis() }}",
            json!(1_710_513_045_123_i64),
        ),
        (
            "={{ $now.setZone('Europe/Berlin').toFormat('HH:mm ZZ') }}",
            json!("15:30 +01:00"),
        ),
        ("={{ $now.setZone('UTC').hour }}", json!(14)),
        ("={{ $now.weekdayLong }}", json!("Friday")),
    ]);
}

#[test]
fn a_date_time_result_is_written_as_iso_text() {
    check(&[
        ("={{ $now }}", json!("2024-03-15T10:30:45.123-04:00")),
        ("=at {{ $now }}", json!("at 2024-03-15T10:30:45.123-04:00")),
        (
            "={{ new Date(Date.UTC(2024, 0, 2)) }}",
            json!("2024-01-02T00:00:00.000Z"),
        ),
    ]);
}

#[test]
fn luxon_parsing_arithmetic_and_durations() {
    check(&[
        ("={{ DateTime.fromISO('2024-01-31').plus({months: 1}).toISODate() }}", json!("2024-02-29")),
        ("={{ DateTime.fromISO('2024-01-01T00:00:00Z', {zone: 'UTC'}).toRFC2822() }}", json!("Mon, 01 Jan 2024 00:00:00 +0000")),
        ("={{ DateTime.fromFormat('15/03/2024', 'dd/MM/yyyy').toISODate() }}", json!("2024-03-15")),
        ("={{ Duration.fromObject({hours: 2, minutes: 30}).as('minutes') }}", json!(150)),
        ("={{ Duration.fromISO('PT90M').toFormat('hh:mm') }}", json!("01:30")),
        ("={{ Interval.fromDateTimes(DateTime.fromISO('2024-01-01'), DateTime.fromISO('2024-01-11')).length('days') }}", json!(10)),
        ("={{ DateTime.fromISO('2024-03-10T12:00', {zone: 'America/New_York'}).offset }}", json!(-240)),
        ("={{ DateTime.fromISO('2024-03-09T12:00', {zone: 'America/New_York'}).offset }}", json!(-300)),
        ("={{ DateTime.fromISO('2024-03-15').toLocaleString(DateTime.DATE_MED) }}", json!("Mar 15, 2024")),
        ("={{ DateTime.fromISO('2024-03-15').toLocaleString() }}", json!("3/15/2024")),
        ("={{ $now.minus({days: 3}).toRelative() }}", json!("3 days ago")),
    ]);
}

#[test]
fn n8n_date_functions() {
    check(&[
        (
            "={{ $now.plus(1, 'day').toISODate() }}",
            json!("2024-03-16"),
        ),
        ("={{ $now.minus(2, 'hours').hour }}", json!(8)),
        (
            "={{ $now.plus({weeks: 1}).toISODate() }}",
            json!("2024-03-22"),
        ),
        (
            "={{ $now.beginningOf('month').toISO() }}",
            json!("2024-03-01T00:00:00.000-05:00"),
        ),
        ("={{ $now.endOfMonth().toISODate() }}", json!("2024-03-31")),
        ("={{ $now.extract('month') }}", json!(3)),
        ("={{ $now.extract() }}", json!(11)),
        ("={{ $now.format('yyyy LLL dd') }}", json!("2024 Mar 15")),
        (
            "={{ $now.isBetween('2024-01-01', '2024-12-31') }}",
            json!(true),
        ),
        ("={{ $now.isWeekend() }}", json!(false)),
        ("={{ $now.isDst() }}", json!(true)),
        (
            "={{ $now.diffTo('2024-03-10T10:30:45.123-04:00', 'days') }}",
            json!(5),
        ),
        ("={{ $now.toInt() }}", json!(1_710_513_045_123_i64)),
        ("={{ $json.joined.toDateTime().year }}", json!(2024)),
        (
            "={{ '2024-01-05'.toDateTime().toISO() }}",
            json!("2024-01-05T00:00:00.000-05:00"),
        ),
        (
            "={{ '15-03-2024'.toDateTime('dd-MM-yyyy').month }}",
            json!(3),
        ),
        (
            "={{ $json.joined.toDate().getTime() }}",
            json!(1_704_448_800_000_i64),
        ),
    ]);
}

#[test]
fn another_time_zone_changes_now() {
    let mut fixture = Fixture::standard();
    fixture.timezone = "Asia/Tokyo".into();
    assert_eq!(
        fixture.eval("={{ $now.toISO() }}"),
        Ok(json!("2024-03-15T23:30:45.123+09:00"))
    );
    // And the next evaluation on the same runtime is back in its own zone.
    assert_eq!(Fixture::standard().eval("={{ $now.hour }}"), Ok(json!(10)));
}

#[test]
fn localized_formats_are_written_as_an_en_us_node_writes_them() {
    check(&[
        (
            "={{ DateTime.fromISO('2024-03-15T10:30:45', {zone: 'America/New_York'}).toLocaleString(DateTime.DATETIME_FULL) }}",
            json!("March 15, 2024 at 10:30 AM EDT"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30:45', {zone: 'America/New_York'}).toLocaleString(DateTime.DATETIME_HUGE) }}",
            json!("Friday, March 15, 2024 at 10:30 AM Eastern Daylight Time"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30:45', {zone: 'America/New_York'}).toLocaleString(DateTime.DATETIME_MED) }}",
            json!("Mar 15, 2024, 10:30 AM"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T15:30:45', {zone: 'America/New_York'}).toLocaleString(DateTime.TIME_24_WITH_SECONDS) }}",
            json!("15:30:45"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30:45', {zone: 'America/New_York'}).toFormat('DDD ff t') }}",
            json!("March 15, 2024 Mar 15, 2024, 10:30 AM 10:30 AM"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30:45', {zone: 'America/New_York'}).toFormat('z ZZZZZ') }}",
            json!("America/New_York Eastern Daylight Time"),
        ),
        (
            "={{ Duration.fromObject({days: 1, hours: 2}).toHuman({listStyle: 'long'}) }}",
            json!("1 day and 2 hours"),
        ),
        ("={{ (1234.5).format('de-DE') }}", json!("1.234,5")),
        (
            "={{ (1234.5).format('de-DE', {style: 'currency', currency: 'EUR'}) }}",
            json!("1.234,50\u{a0}€"),
        ),
        (
            "={{ (1234.5).format('en-US', {style: 'currency', currency: 'USD'}) }}",
            json!("$1,234.50"),
        ),
        (
            "={{ new Date(Date.UTC(2024, 0, 2)).toLocaleDateString() }}",
            json!("1/2/2024"),
        ),
        (
            "=x {{ new Date(Date.UTC(2024, 0, 2)) }}",
            json!("x Tue Jan 02 2024 00:00:00 GMT+0000 (Coordinated Universal Time)"),
        ),
    ]);
}

#[test]
fn common_european_languages_name_months_and_days() {
    check(&[
        (
            "={{ DateTime.fromISO('2024-03-15T10:30').setLocale('de').toFormat('cccc, d. MMMM yyyy') }}",
            json!("Freitag, 15. März 2024"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30').setLocale('fr').toFormat('cccc d MMMM yyyy') }}",
            json!("vendredi 15 mars 2024"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30').setLocale('de').toLocaleString(DateTime.DATE_SHORT) }}",
            json!("15.3.2024"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30').setLocale('es').toLocaleString(DateTime.DATE_FULL) }}",
            json!("15 de marzo de 2024"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30').setLocale('de').toLocaleString(DateTime.DATE_HUGE) }}",
            json!("Freitag, 15. März 2024"),
        ),
        (
            "={{ DateTime.fromISO('2024-03-15T10:30').setLocale('nl').toFormat('d MMMM yyyy') }}",
            json!("15 maart 2024"),
        ),
    ]);
}
