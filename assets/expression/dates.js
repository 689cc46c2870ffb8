// n8n's date functions, on Luxon DateTimes and JavaScript Dates (a Date in, a Date out).
(function () {
  "use strict";
  var luxon = globalThis.luxon;
  var DateTime = luxon.DateTime;
  var fail = globalThis.__n8nFail;
  var ext = globalThis.__n8nExtensions;
  var isDateTime = ext.isDateTime;

  var DURATION_UNITS = ["milliseconds", "seconds", "minutes", "hours", "days", "weeks",
    "months", "quarters", "years"];
  var DATE_PARTS = ["day", "week", "month", "year", "hour", "minute", "second", "millisecond",
    "weekNumber", "yearDayNumber", "weekday"];
  // Singular and short unit names n8n accepts for durations...
  var TO_DURATION = { day: "days", month: "months", year: "years", week: "weeks", hour: "hours",
    minute: "minutes", second: "seconds", millisecond: "milliseconds", ms: "milliseconds",
    sec: "seconds", secs: "seconds", hr: "hours", hrs: "hours", min: "minutes", mins: "minutes" };
  // ...and plural or short names it accepts for date parts.
  var TO_PART = { days: "day", months: "month", years: "year", hours: "hour", minutes: "minute",
    seconds: "second", milliseconds: "millisecond", hrs: "hour", hr: "hour", mins: "minute",
    min: "minute", secs: "second", sec: "second", ms: "millisecond" };

  var nativePlus = DateTime.prototype.plus;
  var nativeMinus = DateTime.prototype.minus;

  function duration(args) {
    if (args.length === 1) return args[0];
    var amount = args[0] === undefined ? 0 : args[0];
    var unit = args[1] === undefined ? "minutes" : args[1];
    var out = {};
    out[TO_DURATION[unit] || unit] = amount;
    return out;
  }

  function asDateTime(d) { return isDateTime(d) ? d : DateTime.fromJSDate(d); }
  // Keeps the kind of date it was given.
  function same(d, result) { return isDateTime(d) ? result : result.toJSDate(); }

  function toDateTime(v) {
    if (isDateTime(v)) return v;
    if (typeof v === "string") return ext.toDateTimeFromString(v);
    return DateTime.fromJSDate(v);
  }

  function loose(v) {
    if (typeof v === "string") {
      var dt = DateTime.fromJSDate(new Date(v));
      return dt.isValid ? dt : undefined;
    }
    if (v instanceof Date) return DateTime.fromJSDate(v);
    if (isDateTime(v)) return v;
    return undefined;
  }

  function diffTo(d, a) {
    var other = a[0];
    var unit = a[1] === undefined ? "days" : a[1];
    var units = Array.isArray(unit) ? unit : [unit];
    if (!units.length) units = ["days"];
    var bad = units.filter(function (u) { return DATE_PARTS.indexOf(u) < 0 && DURATION_UNITS.indexOf(u) < 0; })[0];
    if (bad !== undefined) {
      fail("Unsupported unit '" + String(bad) + "'. Supported: " +
        DURATION_UNITS.map(function (u) { return "'" + u + "'"; }).join(", ") + ".");
    }
    var result = asDateTime(d).diff(toDateTime(other), units);
    return units.length > 1 ? result.toObject() : result.as(units[0]);
  }

  var DATE = {
    beginningOf: function (d, a) {
      var raw = a[0] === undefined ? "week" : a[0];
      return same(d, asDateTime(d).startOf(TO_PART[raw] || raw));
    },
    endOfMonth: function (d) { return same(d, asDateTime(d).endOf("month")); },
    extract: function (d, a) {
      var part = a[0] === undefined ? "week" : a[0];
      var dt = asDateTime(d);
      if (part === "yearDayNumber") return dt.ordinal;
      if (part === "week") part = "weekNumber";
      return dt.get(TO_PART[part] || part);
    },
    format: function (d, a) { return asDateTime(d).toFormat(a[0], Object.assign({}, a[1] || {})); },
    isBetween: function (d, a) {
      if (a.length !== 2) fail("isBetween(): expected exactly two args");
      var first = loose(a[0]), second = loose(a[1]);
      if (!first || !second) return undefined;
      var dt = asDateTime(d);
      return first > second ? second < dt && dt < first : second > dt && dt > first;
    },
    isDst: function (d) { return asDateTime(d).isInDST; },
    isInLast: function (d, a) {
      var now = DateTime.now();
      var since = nativeMinus.call(now, duration([a[0] === undefined ? 0 : a[0], a[1] === undefined ? "minutes" : a[1]]));
      var dt = asDateTime(d);
      return since <= dt && dt <= now;
    },
    isWeekend: function (d) { var w = asDateTime(d).weekday; return w === 6 || w === 7; },
    minus: function (d, a) { return same(d, nativeMinus.call(asDateTime(d), duration(a))); },
    plus: function (d, a) { return same(d, nativePlus.call(asDateTime(d), duration(a))); },
    toDateTime: function (d) { return toDateTime(d); },
    diffTo: diffTo,
    diffToNow: function (d, a) { return diffTo(d, [DateTime.now(), a[0]]); },
    toInt: function (d) { return isDateTime(d) ? d.toMillis() : d.getTime(); },
    toFloat: function (d) { return isDateTime(d) ? d.toMillis() : d.getTime(); },
    toBoolean: function () { return undefined; },
    isEmpty: function () { return false; },
    isNotEmpty: function () { return true; }
  };
  globalThis.__n8nDateExtensions = DATE;
  Object.keys(DATE).forEach(function (k) { ext.names[k] = true; });

})();
