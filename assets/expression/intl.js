// A small `Intl` for QuickJS, which has none: enough for Luxon to resolve IANA time zones and
// to write dates and numbers the way an en-US Node.js does. Time zone offsets come from the
// host (`__host.zone`); other locales are written as en-US.
(function () {
  "use strict";
  var host = globalThis.__host;
  var MONTHS_LONG = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];
  var WEEKDAYS_LONG = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

  // Like n8n on a server whose clock runs in UTC: `new Intl.DateTimeFormat()` without a
  // zone answers the host's zone, not the workflow's.
  function defaultZone() {
    return "UTC";
  }

  // Long names of the zones most workflows use (ICU's names); other zones show their
  // abbreviation.
  var LONG_NAMES = {
    UTC: "Coordinated Universal Time", GMT: "Greenwich Mean Time",
    EST: "Eastern Standard Time", EDT: "Eastern Daylight Time",
    CST: "Central Standard Time", CDT: "Central Daylight Time",
    MST: "Mountain Standard Time", MDT: "Mountain Daylight Time",
    PST: "Pacific Standard Time", PDT: "Pacific Daylight Time",
    AKST: "Alaska Standard Time", AKDT: "Alaska Daylight Time",
    HST: "Hawaii-Aleutian Standard Time", BST: "British Summer Time",
    CET: "Central European Standard Time", CEST: "Central European Summer Time",
    EET: "Eastern European Standard Time", EEST: "Eastern European Summer Time",
    WET: "Western European Standard Time", WEST: "Western European Summer Time",
    JST: "Japan Standard Time", KST: "Korean Standard Time", IST: "India Standard Time",
    AEST: "Australian Eastern Standard Time", AEDT: "Australian Eastern Daylight Time"
  };

  // Wall-clock fields of `ms` in `zone`.
  function fieldsOf(ms, zone) {
    var offset = 0;
    var abbreviation = "UTC";
    if (zone !== "UTC" && zone !== "Etc/UTC") {
      var answer = host.zone(zone, ms);
      if (!answer) throw new RangeError("Invalid time zone specified: " + zone);
      offset = Number(answer[0]);
      abbreviation = answer[1];
    }
    var d = new Date(ms + offset * 60000);
    return {
      year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate(),
      hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
      millisecond: d.getUTCMilliseconds(), weekday: d.getUTCDay(), offset: offset,
      abbreviation: abbreviation
    };
  }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  function checkZone(zone) {
    if (zone === undefined) return defaultZone();
    var name = String(zone);
    if (/^(utc|etc\/utc|gmt|etc\/gmt)$/i.test(name)) return "UTC";
    if (!host.zone(name, 0)) throw new RangeError("Invalid time zone specified: " + name);
    return name;
  }

  // Month and weekday names of the languages workflows use most (long forms; short forms
  // are their first three letters). Other languages are written in English.
  var LANGUAGES = {
    de: { months: "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
      days: "Sonntag Montag Dienstag Mittwoch Donnerstag Freitag Samstag", numeric: "d.M.y", day: "d.", join: " um " },
    fr: { months: "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
      days: "dimanche lundi mardi mercredi jeudi vendredi samedi", numeric: "dd/MM/y", day: "d", join: " à " },
    es: { months: "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
      days: "domingo lunes martes miércoles jueves viernes sábado", numeric: "d/M/y", day: "d", of: " de ", join: ", " },
    it: { months: "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
      days: "domenica lunedì martedì mercoledì giovedì venerdì sabato", numeric: "d/M/y", day: "d", join: " alle ore " },
    pt: { months: "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
      days: "domingo segunda-feira terça-feira quarta-feira quinta-feira sexta-feira sábado", numeric: "dd/MM/y", day: "d", of: " de ", join: " às " },
    nl: { months: "januari februari maart april mei juni juli augustus september oktober november december",
      days: "zondag maandag dinsdag woensdag donderdag vrijdag zaterdag", numeric: "d-M-y", day: "d", join: " om " }
  };

  function languageOf(locale) {
    var tag = String(Array.isArray(locale) ? locale[0] || "" : locale || "");
    var language = tag.split("-")[0].toLowerCase();
    return LANGUAGES[language] ? { tag: tag, names: LANGUAGES[language] } : null;
  }

  function DateTimeFormat(locale, options) {
    if (!(this instanceof DateTimeFormat)) return new DateTimeFormat(locale, options);
    var o = options || {};
    this._language = languageOf(locale);
    this._zone = checkZone(o.timeZone);
    var has = ["weekday", "era", "year", "month", "day", "hour", "minute", "second",
      "fractionalSecondDigits", "timeZoneName", "dateStyle", "timeStyle"].some(function (k) {
      return o[k] !== undefined;
    });
    this._o = has ? o : { year: "numeric", month: "numeric", day: "numeric" };
    this._hour12 = o.hourCycle ? (o.hourCycle === "h12" || o.hourCycle === "h11")
      : (o.hour12 === undefined ? !this._language : !!o.hour12);
  }

  DateTimeFormat.prototype.resolvedOptions = function () {
    return {
      locale: this._language ? this._language.tag : "en-US", calendar: "gregory", numberingSystem: "latn",
      timeZone: this._zone, hour12: this._hour12
    };
  };

  DateTimeFormat.prototype.formatToParts = function (date) {
    var ms = date === undefined ? Date.now() : +date;
    if (!isFinite(ms)) throw new RangeError("Invalid time value");
    var f = fieldsOf(ms, this._zone);
    var o = this._o;
    if (o.dateStyle || o.timeStyle) o = styles(o);
    var parts = [];
    function push(type, value) { parts.push({ type: type, value: String(value) }); }
    function lit(value) { parts.push({ type: "literal", value: value }); }
    var hasDate = o.year || o.month || o.day || o.weekday;
    var language = this._language;
    if (hasDate) (language ? localDatePart : datePart)(o, f, push, lit, language && language.names);
    if (o.era) { if (hasDate) lit(" "); push("era", f.year > 0 ? "AD" : "BC"); }
    var hasTime = o.hour || o.minute || o.second;
    if (hasTime) {
      // ICU joins a long date and a time with " at " (or its translation), anything shorter
      // with a comma.
      if (hasDate) lit(o.month === "long" ? (language ? language.names.join : " at ") : ", ");
      timePart(o, f, push, lit, this._hour12);
    }
    if (o.timeZoneName) {
      lit(" ");
      push("timeZoneName", zoneName(f, o.timeZoneName));
    }
    return parts;
  };

  DateTimeFormat.prototype.format = function (date) {
    return this.formatToParts(date).map(function (p) { return p.value; }).join("");
  };

  DateTimeFormat.supportedLocalesOf = function () { return ["en-US"]; };

  function styles(o) {
    var out = {};
    var d = o.dateStyle, t = o.timeStyle;
    if (d === "full") { out.weekday = "long"; out.month = "long"; out.day = "numeric"; out.year = "numeric"; }
    if (d === "long") { out.month = "long"; out.day = "numeric"; out.year = "numeric"; }
    if (d === "medium") { out.month = "short"; out.day = "numeric"; out.year = "numeric"; }
    if (d === "short") { out.month = "numeric"; out.day = "numeric"; out.year = "2-digit"; }
    if (t) { out.hour = "numeric"; out.minute = "2-digit"; }
    if (t === "medium" || t === "long" || t === "full") out.second = "2-digit";
    if (t === "long" || t === "full") out.timeZoneName = "short";
    return out;
  }

  function zoneName(f, style) {
    if (style === "shortOffset" || style === "longOffset" || /^[+-]\d/.test(f.abbreviation)) {
      if (f.offset === 0) return "GMT";
      var sign = f.offset < 0 ? "-" : "+";
      var abs = Math.abs(f.offset);
      var h = Math.floor(abs / 60), m = abs % 60;
      if (style === "longOffset") return "GMT" + sign + pad2(h) + ":" + pad2(m);
      return "GMT" + sign + h + (m ? ":" + pad2(m) : "");
    }
    if (style === "long" && LONG_NAMES[f.abbreviation]) return LONG_NAMES[f.abbreviation];
    return f.abbreviation;
  }

  function yearText(o, f) {
    return o.year === "2-digit" ? pad2(f.year % 100) : String(f.year);
  }

  function datePart(o, f, push, lit) {
    var textual = o.month === "long" || o.month === "short" || o.month === "narrow";
    if (o.weekday) {
      var w = WEEKDAYS_LONG[f.weekday];
      push("weekday", o.weekday === "long" ? w : o.weekday === "short" ? w.slice(0, 3) : w[0]);
      if (o.month || o.day || o.year) lit(", ");
    }
    if (textual) {
      var m = MONTHS_LONG[f.month - 1];
      push("month", o.month === "long" ? m : o.month === "short" ? m.slice(0, 3) : m[0]);
      if (o.day) { lit(" "); push("day", o.day === "2-digit" ? pad2(f.day) : f.day); }
      if (o.year) { lit(o.day ? ", " : " "); push("year", yearText(o, f)); }
      return;
    }
    var pieces = [];
    if (o.month) pieces.push(["month", o.month === "2-digit" ? pad2(f.month) : f.month]);
    if (o.day) pieces.push(["day", o.day === "2-digit" ? pad2(f.day) : f.day]);
    if (o.year) pieces.push(["year", yearText(o, f)]);
    pieces.forEach(function (p, i) { if (i) lit("/"); push(p[0], p[1]); });
  }

  // Dates in one of LANGUAGES: day before month, the language's names and separators.
  function localDatePart(o, f, push, lit, names) {
    var months = names.months.split(" "), days = names.days.split(" ");
    var textual = o.month === "long" || o.month === "short" || o.month === "narrow";
    if (o.weekday) {
      var w = days[f.weekday];
      push("weekday", o.weekday === "long" ? w : w.slice(0, 3));
      if (o.month || o.day || o.year) lit(names.of || names.join === " um " ? ", " : " ");
    }
    if (textual) {
      var m = months[f.month - 1];
      if (o.day) {
        push("day", o.day === "2-digit" ? pad2(f.day) : f.day);
        lit(names.day === "d." ? ". " : names.of || " ");
      }
      push("month", o.month === "long" ? m : m.slice(0, 3));
      if (o.year) { lit(names.of || " "); push("year", yearText(o, f)); }
      return;
    }
    var pattern = names.numeric;
    var separator = pattern.replace(/[dMy]/g, "")[0] || "/";
    var pieces = [];
    if (o.day) pieces.push(["day", pattern.indexOf("dd") >= 0 || o.day === "2-digit" ? pad2(f.day) : f.day]);
    if (o.month) pieces.push(["month", pattern.indexOf("MM") >= 0 || o.month === "2-digit" ? pad2(f.month) : f.month]);
    if (o.year) pieces.push(["year", yearText(o, f)]);
    pieces.forEach(function (p, i) { if (i) lit(separator); push(p[0], p[1]); });
  }

  function timePart(o, f, push, lit, hour12) {
    var first = true;
    if (o.hour) {
      var h = f.hour;
      if (hour12) { h = h % 12; if (h === 0) h = 12; }
      push("hour", o.hour === "2-digit" || (!hour12 && (o.minute || o.second)) ? pad2(h) : h);
      first = false;
    }
    if (o.minute) { if (!first) lit(":"); push("minute", o.hour || o.minute === "2-digit" ? pad2(f.minute) : f.minute); first = false; }
    if (o.second) { if (!first) lit(":"); push("second", o.minute || o.second === "2-digit" ? pad2(f.second) : f.second); }
    if (o.fractionalSecondDigits) {
      lit(".");
      push("fractionalSecond", String(f.millisecond + 1000).slice(1, 1 + o.fractionalSecondDigits));
    }
    if (o.hour && hour12) { lit(" "); push("dayPeriod", f.hour < 12 ? "AM" : "PM"); }
  }

  // Decimal and group separators by language; the currency symbol goes after the number
  // where the decimal separator is a comma (as ICU writes de-DE, fr-FR, es-ES...).
  var SEPARATORS = {
    en: [".", ","], de: [",", "."], es: [",", "."], it: [",", "."], nl: [",", "."],
    pt: [",", "."], id: [",", "."], da: [",", "."], tr: [",", "."], el: [",", "."],
    fr: [",", "\u202f"], ru: [",", "\u00a0"], pl: [",", "\u00a0"], cs: [",", "\u00a0"],
    sv: [",", "\u00a0"], fi: [",", "\u00a0"], nb: [",", "\u00a0"], uk: [",", "\u00a0"],
    ja: [".", ","], zh: [".", ","], ko: [".", ","], hi: [".", ","]
  };

  function separatorsOf(locale) {
    var tag = String(Array.isArray(locale) ? locale[0] : locale || "en-US");
    if (/^de-(CH|LI)/i.test(tag)) return [".", "\u2019"];
    if (/^pt-PT/i.test(tag)) return [",", "\u00a0"];
    return SEPARATORS[tag.split("-")[0].toLowerCase()] || SEPARATORS.en;
  }

  function NumberFormat(locale, options) {
    if (!(this instanceof NumberFormat)) return new NumberFormat(locale, options);
    this._o = options || {};
    this._sep = separatorsOf(locale);
  }

  NumberFormat.prototype.resolvedOptions = function () {
    return { locale: "en-US", numberingSystem: "latn" };
  };

  NumberFormat.prototype.format = function (value) {
    var o = this._o;
    var n = Number(value);
    if (!isFinite(n)) return isNaN(n) ? "NaN" : (n < 0 ? "-∞" : "∞");
    var style = o.style || "decimal";
    if (style === "percent") n = n * 100;
    var minFrac = o.minimumFractionDigits !== undefined ? o.minimumFractionDigits
      : (style === "currency" ? 2 : 0);
    var maxFrac = o.maximumFractionDigits !== undefined ? Math.max(o.maximumFractionDigits, minFrac)
      : Math.max(minFrac, style === "currency" ? 2 : style === "percent" ? 0 : 3);
    var fixed = Math.abs(n).toFixed(maxFrac);
    var parts = fixed.split(".");
    var int = parts[0], frac = parts[1] || "";
    while (frac.length > minFrac && frac[frac.length - 1] === "0") frac = frac.slice(0, -1);
    if (o.minimumIntegerDigits) while (int.length < o.minimumIntegerDigits) int = "0" + int;
    var decimal = this._sep[0], group = this._sep[1];
    if (o.useGrouping !== false) int = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
    var text = int + (frac ? decimal + frac : "");
    if (style === "percent") text += decimal === "," ? "\u00a0%" : "%";
    if (style === "currency") {
      var symbols = { USD: "$", EUR: "€", GBP: "£", JPY: "¥", INR: "₹" };
      var code = String(o.currency || "USD").toUpperCase();
      var symbol = symbols[code] || code;
      text = decimal === "," ? text + "\u00a0" + symbol
        : symbol + (symbols[code] ? "" : "\u00a0") + text;
    }
    if (style === "unit" && o.unit) {
      var unit = String(o.unit);
      var display = o.unitDisplay || "short";
      text += display === "long" ? " " + (Number(value) === 1 ? unit : unit + "s")
        : " " + unit;
    }
    var isZero = Number(fixed) === 0;
    return (n < 0 && !isZero ? "-" : "") + text;
  };

  NumberFormat.prototype.formatToParts = function (value) {
    return [{ type: "literal", value: this.format(value) }];
  };

  function ListFormat(locale, options) {
    if (!(this instanceof ListFormat)) return new ListFormat(locale, options);
    this._o = options || {};
  }

  ListFormat.prototype.format = function (list) {
    var items = Array.from(list, String);
    var o = this._o;
    var word = o.type === "disjunction" ? "or" : "and";
    if (o.style === "narrow" && o.type !== "disjunction") return items.join(", ");
    if (o.style === "short" && o.type !== "disjunction") word = "&";
    if (items.length < 2) return items.join("");
    if (items.length === 2) return items[0] + " " + word + " " + items[1];
    return items.slice(0, -1).join(", ") + ", " + word + " " + items[items.length - 1];
  };

  // QuickJS's own locale methods write dates in another shape; Node.js (en-US, UTC host)
  // writes them through Intl.
  var DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
  function localeDate(kind) {
    return function (locale, options) {
      var o = options || {};
      var has = ["weekday", "era", "year", "month", "day", "hour", "minute", "second",
        "timeZoneName", "dateStyle", "timeStyle"].some(function (k) { return o[k] !== undefined; });
      if (!has) {
        var d = { year: "numeric", month: "numeric", day: "numeric" };
        var t = { hour: "numeric", minute: "2-digit", second: "2-digit" };
        o = Object.assign({}, o, kind === "date" ? d : kind === "time" ? t : Object.assign(d, t));
      }
      return new DateTimeFormat(locale, o).format(this);
    };
  }
  Date.prototype.toLocaleString = localeDate("both");
  Date.prototype.toLocaleDateString = localeDate("date");
  Date.prototype.toLocaleTimeString = localeDate("time");
  Date.prototype.toString = function () {
    var ms = this.getTime();
    if (isNaN(ms)) return "Invalid Date";
    var d = new Date(ms);
    return DAYS[d.getUTCDay()] + " " + MONTHS_LONG[d.getUTCMonth()].slice(0, 3) + " " +
      pad2(d.getUTCDate()) + " " + String(d.getUTCFullYear()).padStart(4, "0") + " " +
      pad2(d.getUTCHours()) + ":" + pad2(d.getUTCMinutes()) + ":" + pad2(d.getUTCSeconds()) +
      " GMT+0000 (Coordinated Universal Time)";
  };
  Number.prototype.toLocaleString = function (locale, options) {
    return new NumberFormat(locale, options).format(this);
  };

  globalThis.Intl = {
    DateTimeFormat: DateTimeFormat,
    NumberFormat: NumberFormat,
    ListFormat: ListFormat,
    getCanonicalLocales: function () { return ["en-US"]; }
  };
})();
