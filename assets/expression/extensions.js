// n8n's extension functions ("data transformation functions"): `"a@b.io".isEmail()`,
// `[1, 2].sum()`, `$now.plus(1, 'day')`... Written from n8n's documentation and checked
// against a running n8n.
//
// n8n picks the function by the type of the value it is called on (an array, a string that is
// an exact ISO date, a string, a number, a date, an object, a boolean), before any native
// method of the same name, then falls back to the native method, then to a generic one. The
// prelude rewrites `value.name(args)` into `extend(value, "name", [args])` for every name
// here; nothing is added to the built-in prototypes, whose properties libraries read too.
(function () {
  "use strict";
  var DateTime = globalThis.luxon.DateTime;
  var fail = globalThis.__n8nFail;
  var host = globalThis.__host;
  var MARK = typeof Symbol === "function" ? Symbol("n8n.extension") : "__n8nExtension";

  function isDateTime(v) { return !!v && DateTime.isDateTime(v); }
  function isPlainDateString(v) {
    if (typeof v !== "string" || !/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}.\d{3}Z/.test(v)) return false;
    var d = new Date(v);
    return !isNaN(d.valueOf()) && d.toISOString() === v;
  }

  function deepEqual(a, b) {
    if (a === b) return true;
    if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") {
      return a !== a && b !== b;
    }
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    var ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (var i = 0; i < ka.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(b, ka[i]) || !deepEqual(a[ka[i]], b[ka[i]])) return false;
    }
    return true;
  }

  function uniqueBy(list, keys) {
    var out = [];
    var view = function (item) {
      if (keys.length && item && typeof item === "object") {
        var o = {};
        keys.forEach(function (k) { o[k] = item[k]; });
        return o;
      }
      return item;
    };
    list.forEach(function (item) {
      var v = view(item);
      if (!out.some(function (kept) { return deepEqual(view(kept), v); })) out.push(item);
    });
    return out;
  }

  // ---- strings ----

  var EMAIL = /(([^<>()\[\]\\.,;:\s@"]+(\.[^<>()\[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))/;
  var HOST = "(?:(?:[-\\w]+\\.)+(?:[a-zA-Z]{2,}|xn--[a-zA-Z0-9]+)|localhost|\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3})";
  var URL_EXACT = new RegExp("^(?:(?:https?|ftp):\\/\\/)(?:www\\.)?(" + HOST + ")(?::\\d+)?(?:\\/[^\\s?#]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?$", "i");
  var URL_ANYWHERE = new RegExp("(?:(?:https?|ftp):\\/\\/)(?:www\\.)?(" + HOST + ")(?::\\d+)?(?:\\/[^\\s?#]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?", "i");
  var DOMAIN_EXACT = new RegExp("^(?:www\\.)?(" + HOST + ")(?::\\d+)?(?:\\/[^\\s?]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?$", "i");
  var DOMAIN_IN = new RegExp("^(?:(?:https?|ftp):\\/\\/)?(?:mailto:)?(?:\\/\\/)?((?:www\\.)?" + HOST + ")(?::\\d+)?(?:\\/[^\\s?]*)?(?:\\?[^\\s#]*)?(?:#[^\\s]*)?$", "i");
  var CURRENCY = /^[$€£¥₹]|[$€£¥₹]$/g;
  var SMALL_WORDS = ["a", "an", "and", "as", "at", "but", "by", "en", "for", "if", "in", "nor",
    "of", "on", "or", "per", "the", "to", "v", "v.", "vs", "vs.", "via"];

  function isEmail(s) { return EMAIL.test(s) && s.indexOf(" ") < 0; }

  function toDateTimeFromString(s, format) {
    if (format) {
      if (format === "ms" || format === "s" || format === "us" || format === "excel") {
        return numberToDateTime(Number(s), format);
      }
      return DateTime.fromFormat(s, format);
    }
    var text = String(s).trim();
    var tries = [
      function () { return DateTime.fromISO(text, { setZone: true }); },
      function () { return DateTime.fromHTTP(text, { setZone: true }); },
      function () { return DateTime.fromRFC2822(text, { setZone: true }); },
      function () { return DateTime.fromSQL(text, { setZone: true }); },
      function () { return DateTime.fromMillis(Date.parse(text)); }
    ];
    for (var i = 0; i < tries.length; i++) {
      var dt = tries[i]();
      if (dt.isValid) return dt;
    }
    fail("cannot convert to Luxon DateTime");
  }

  function titleCase(s) {
    var index = 0;
    return s.replace(/[^\s]+/g, function (word, offset) {
      var position = index++;
      var isLast = offset + word.length >= s.trimEnd().length;
      var lower = word.toLowerCase();
      if (position > 0 && !isLast && SMALL_WORDS.indexOf(lower) >= 0 && word === lower) return word;
      if (/[A-Z]/.test(word.slice(1)) || /[./@:]/.test(word.slice(1, -1))) return word;
      return word.replace(/\p{L}/u, function (c) { return c.toUpperCase(); });
    });
  }

  function sentenceCase(s) {
    var out = "";
    var rest = s;
    var letter = /\p{L}/u;
    while (letter.test(rest)) {
      var at = rest.search(letter);
      rest = rest.slice(0, at) + rest[at].toLocaleUpperCase() + rest.slice(at + 1).toLocaleLowerCase();
      var stop = rest.search(/[!?.]/);
      if (stop < 0) { out += rest; rest = ""; break; }
      out += rest.slice(0, stop + 1);
      rest = rest.slice(stop + 1);
    }
    return out + rest;
  }

  var LETTERS = { "ß": "ss", "æ": "ae", "Æ": "AE", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L",
    "đ": "d", "Đ": "D", "œ": "oe", "Œ": "OE", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D",
    "ı": "i", "€": "EUR", "£": "PS", "©": "(c)", "®": "(r)", "™": "tm", "–": "-", "—": "-",
    "‘": "'", "’": "'", "“": "\"", "”": "\"", "…": "...", "«": "<<", "»": ">>" };

  function replaceSpecialChars(s) {
    return Array.from(s.normalize("NFD").replace(/[\u0300-\u036f]/g, "")).map(function (c) {
      if (c.charCodeAt(0) < 128) return c;
      return LETTERS[c] !== undefined ? LETTERS[c] : "?";
    }).join("");
  }

  function removeMarkdown(s) {
    return s
      .replace(/^([\s\t]*)([*\-+]|\d\.)\s+/gm, "$1")
      .replace(/\n={2,}/g, "\n")
      .replace(/~~/g, "")
      .replace(/`{3}.*\n/g, "")
      .replace(/<[^>]+>/g, "")
      .replace(/!\[(.*?)\][\[(].*?[\])]/g, "")
      .replace(/\[(.*?)\][\[(].*?[\])]/g, "$1")
      .replace(/^>\s?/gm, "")
      .replace(/^#{1,6}\s*([^#]*)\s*(#{1,6})?/gm, "$1")
      .replace(/([*_]{1,3})(\S.*?\S)\1/g, "$2")
      .replace(/`(.+?)`/g, "$1")
      .replace(/^-{3,}\s*$/gm, "")
      .replace(/\n{2,}/g, "\n\n");
  }

  var STRING = {
    hash: function (s, a) {
      var algorithm = a[0] === undefined ? "md5" : String(a[0]).toLowerCase();
      if (["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "base64"].indexOf(algorithm) < 0) {
        fail("Unknown algorithm " + algorithm + ". Available algorithms are: md5,sha1,sha224,sha256,sha384,sha512, and Base64.");
      }
      return host.hash(algorithm, s);
    },
    removeMarkdown: removeMarkdown,
    removeTags: function (s) { return s.replace(/<[^>]*>?/gm, ""); },
    toDate: function (s) {
      var d = new Date(Date.parse(s));
      if (isNaN(d.valueOf())) fail("cannot convert to date");
      if (!/:/.test(s)) d.setHours(0, 0, 0);
      return d;
    },
    toDateTime: function (s, a) { return toDateTimeFromString(s, a[0]); },
    toBoolean: function (s) {
      var v = s.toLowerCase();
      return v.length > 0 && v !== "false" && v !== "no" && v !== "0";
    },
    toNumber: function (s) {
      var n = Number(s.replace(CURRENCY, ""));
      if (isNaN(n)) fail("cannot convert to number");
      return n;
    },
    toFloat: function (s) {
      if (s.indexOf(",") >= 0) fail("cannot convert to float, expected . as decimal separator");
      var n = parseFloat(s.replace(CURRENCY, ""));
      if (isNaN(n)) fail("cannot convert to float");
      return n;
    },
    toInt: function (s, a) {
      var n = parseInt(s.replace(CURRENCY, ""), a[0]);
      if (isNaN(n)) fail("cannot convert to integer");
      return n;
    },
    toSentenceCase: sentenceCase,
    toSnakeCase: function (s) {
      return s.toLocaleLowerCase().replace(/[ \-]/g, "_")
        .replace(/[\u2000-\u206F\u2E00-\u2E7F\\'!"#$%&()*+,.\/:;<=>?@\[\]^`{|}~]/g, "");
    },
    toTitleCase: titleCase,
    urlDecode: function (s, a) { return a[0] ? decodeURI(s) : decodeURIComponent(s); },
    urlEncode: function (s, a) { return a[0] ? encodeURI(s) : encodeURIComponent(s); },
    quote: function (s, a) {
      var mark = a[0] === undefined ? "\"" : String(a[0]);
      return mark + s.replace(/\\/g, "\\\\").split(mark).join("\\" + mark) + mark;
    },
    replaceSpecialChars: replaceSpecialChars,
    length: function (s) { return s.length; },
    isDomain: function (s) { return DOMAIN_EXACT.test(s); },
    isEmail: isEmail,
    isNumeric: function (s) { return s.indexOf(" ") < 0 && !isNaN(s) && !isNaN(parseFloat(s)); },
    isUrl: function (s) { return URL_EXACT.test(s); },
    isEmpty: function (s) { return s === ""; },
    isNotEmpty: function (s) { return s !== ""; },
    toJsonString: function (s) { return JSON.stringify(s); },
    extractEmail: function (s) { var m = EMAIL.exec(s); return m ? m[0] : undefined; },
    extractDomain: function (s) {
      if (isEmail(s)) { var m = EMAIL.exec(s); return m ? m[5] : undefined; }
      var d = DOMAIN_IN.exec(s);
      return d ? d[1] : undefined;
    },
    extractUrl: function (s) { var m = URL_ANYWHERE.exec(s); return m ? m[0] : undefined; },
    extractUrlPath: function (s) {
      var m = /^[a-z][a-z0-9+.-]*:\/\/[^\/?#\s]*([^?#\s]*)/i.exec(s);
      if (!m) return undefined;
      return m[1] || "/";
    },
    parseJson: function (s) {
      try { return JSON.parse(s); } catch (e) {
        if (s.indexOf("'") >= 0) fail("Parsing failed. Check you're using double quotes");
        fail("Parsing failed");
      }
    },
    base64Encode: function (s) { return host.base64Encode(s); },
    base64Decode: function (s) { return host.base64Decode(s); }
  };
  STRING.toDecimalNumber = STRING.toFloat;
  STRING.toWholeNumber = STRING.toInt;

  // ---- numbers ----

  function numberToDateTime(n, format) {
    switch (format || "ms") {
      case "excel": return DateTime.fromSeconds((n - 25569) * 86400);
      case "s": return DateTime.fromSeconds(n);
      case "us": return DateTime.fromMillis(n / 1000);
      case "ms": return DateTime.fromMillis(n);
      default: fail("toDateTime() only accepts the formats ms, s, us and excel");
    }
  }

  var NUMBER = {
    ceil: function (n) { return Math.ceil(n); },
    floor: function (n) { return Math.floor(n); },
    abs: function (n) { return Math.abs(n); },
    format: function (n, a) {
      return new Intl.NumberFormat(a[0] === undefined ? "en-US" : a[0], a[1] || {}).format(n);
    },
    round: function (n, a) { return +n.toFixed(a[0] === undefined ? 0 : a[0]); },
    isInteger: function (n) { return Number.isInteger(n); },
    isEven: function (n) {
      if (!Number.isInteger(n)) fail("isEven() is only callable on integers");
      return n % 2 === 0;
    },
    isOdd: function (n) {
      if (!Number.isInteger(n)) fail("isOdd() is only callable on integers");
      return Math.abs(n) % 2 === 1;
    },
    toBoolean: function (n) { return n !== 0; },
    toInt: function (n) { return +n.toFixed(0); },
    toFloat: function (n) { return n; },
    toDateTime: function (n, a) { return numberToDateTime(n, a[0]); }
  };

  // ---- arrays ----

  function numbersOnly(list, name) {
    if (list.some(function (v) { return typeof v !== "number"; })) {
      fail(name + "(): all array elements must be numbers");
    }
  }

  function sum(list) {
    numbersOnly(list, "sum");
    return list.reduce(function (p, c) { return p + c; }, 0);
  }

  function compactValue(v) {
    if (Array.isArray(v)) return ARRAY.compact(v);
    if (v && typeof v === "object") return OBJECT.compact(v);
    return v;
  }

  function mergeMissing(target, other) {
    var out = ({ ...target });
    Object.keys(other).forEach(function (k) { if (!(k in out)) out[k] = other[k]; });
    return out;
  }

  function listArg(a, name, example) {
    if (!Array.isArray(a[0])) fail(name + "(): expected array arg, e.g. ." + name + "(" + example + ")");
    return a[0];
  }

  var ARRAY = {
    first: function (l) { return l[0]; },
    last: function (l) { return l[l.length - 1]; },
    isEmpty: function (l) { return l.length === 0; },
    isNotEmpty: function (l) { return l.length > 0; },
    pluck: function (l, a) {
      if (!a.length) return l;
      var out = [];
      l.forEach(function (o) {
        if (!o || typeof o !== "object") return;
        var found = [];
        Object.keys(o).forEach(function (k) { if (a.indexOf(k) >= 0) found.push(o[k]); });
        if (found.length) out.push(found.length === 1 ? found[0] : found);
      });
      return out;
    },
    randomItem: function (l) { return l.length ? l[Math.floor(Math.random() * l.length)] : undefined; },
    unique: function (l, a) { return uniqueBy(l, a); },
    sum: sum,
    min: function (l) { numbersOnly(l, "min"); return Math.min.apply(null, l); },
    max: function (l) { numbersOnly(l, "max"); return Math.max.apply(null, l); },
    average: function (l) { numbersOnly(l, "average"); return l.length ? sum(l) / l.length : 0; },
    compact: function (l) {
      return l.filter(function (v) {
        if (v && typeof v === "object" && Object.keys(v).length === 0) return false;
        return v !== null && v !== undefined && v !== "nil" && v !== "";
      }).map(compactValue);
    },
    smartJoin: function (l, a) {
      var key = a[0], value = a[1];
      if (!key || !value || typeof key !== "string" || typeof value !== "string") {
        fail('smartJoin(): expected two string args, e.g. .smartJoin("name", "value")');
      }
      var out = {};
      l.forEach(function (o) { if (o && typeof o === "object" && key in o && value in o) out[o[key]] = o[value]; });
      return out;
    },
    chunk: function (l, a) {
      var size = a[0];
      if (typeof size !== "number" || size === 0) fail("chunk(): expected non-zero numeric arg, e.g. .chunk(5)");
      var out = [];
      for (var i = 0; i < l.length; i += size) out.push(l.slice(i, i + size));
      return out;
    },
    renameKeys: function (l, a) {
      if (a.length === 0 || a.length % 2 !== 0) {
        fail('renameKeys(): expected an even number of args: from1, to1 [, from2, to2, ...]. e.g. .renameKeys("name", "title")');
      }
      return l.map(function (o) {
        if (!o || typeof o !== "object") return o;
        var out = ({ ...o });
        for (var i = 0; i < a.length; i += 2) {
          if (a[i] in out) { out[a[i + 1]] = out[a[i]]; delete out[a[i]]; }
        }
        return out;
      });
    },
    merge: function (l, a) {
      if (a[0] === undefined) {
        return l.reduce(function (acc, o) {
          return o !== null && typeof o === "object" && !Array.isArray(o) ? mergeMissing(acc, o) : acc;
        }, {});
      }
      var others = listArg(a, "merge", "[{ id: 1, otherValue: 3 }]");
      var out = {};
      for (var i = 0; i < Math.max(l.length, others.length); i++) {
        if (l[i] !== undefined && typeof l[i] === "object" && typeof others[i] === "object") {
          out = Object.assign(out, others[i] ? mergeMissing(l[i], others[i]) : l[i]);
        }
      }
      return out;
    },
    union: function (l, a) {
      var others = listArg(a, "union", "[1, 2, 3, 4]");
      return uniqueBy(l.concat(others), []);
    },
    difference: function (l, a) {
      var others = listArg(a, "difference", "[1, 2, 3, 4]");
      return uniqueBy(l.filter(function (v) { return !others.some(function (w) { return deepEqual(w, v); }); }), []);
    },
    intersection: function (l, a) {
      var others = listArg(a, "intersection", "[1, 2, 3, 4]");
      var both = l.filter(function (v) { return others.some(function (w) { return deepEqual(w, v); }); })
        .concat(others.filter(function (v) { return l.some(function (w) { return deepEqual(w, v); }); }));
      return uniqueBy(both, []);
    },
    append: function (l, a) { return l.concat(a); },
    toJsonString: function (l) { return JSON.stringify(l); },
    toInt: function () { return undefined; },
    toFloat: function () { return undefined; },
    toBoolean: function () { return undefined; },
    toDateTime: function () { return undefined; }
  };
  ARRAY.removeDuplicates = ARRAY.unique;

  // ---- objects ----

  var OBJECT = {
    isEmpty: function (o) { return Object.keys(o).length === 0; },
    isNotEmpty: function (o) { return Object.keys(o).length > 0; },
    hasField: function (o, a) { return a[0] in o; },
    removeField: function (o, a) {
      if (!(a[0] in o)) return o;
      var out = ({ ...o });
      delete out[a[0]];
      return out;
    },
    removeFieldsContaining: function (o, a) {
      if (typeof a[0] !== "string" || a[0] === "") fail("removeFieldsContaining(): expected non-empty string arg");
      var out = ({ ...o });
      Object.keys(o).forEach(function (k) { if (typeof o[k] === "string" && o[k].indexOf(a[0]) >= 0) delete out[k]; });
      return out;
    },
    keepFieldsContaining: function (o, a) {
      if (typeof a[0] !== "string" || a[0] === "") fail("argument of keepFieldsContaining must be a non-empty string");
      var out = ({ ...o });
      Object.keys(o).forEach(function (k) { if (typeof o[k] !== "string" || o[k].indexOf(a[0]) < 0) delete out[k]; });
      return out;
    },
    compact: function (o) {
      var out = {};
      Object.keys(o).forEach(function (k) {
        var v = o[k];
        if (v === null || v === undefined || v === "nil" || v === "") return;
        if (typeof v === "object") {
          if (Object.keys(v).length === 0) return;
          out[k] = OBJECT.compact(v);
        } else {
          out[k] = v;
        }
      });
      return out;
    },
    urlEncode: function (o) {
      return Object.keys(o).map(function (k) {
        return encodeURIComponent(k).replace(/%20/g, "+") + "=" + encodeURIComponent(String(o[k])).replace(/%20/g, "+");
      }).join("&");
    },
    keys: function (o) { return Object.keys(o); },
    values: function (o) { return Object.values(o); },
    toJsonString: function (o) { return JSON.stringify(o); },
    toInt: function () { return undefined; },
    toFloat: function () { return undefined; },
    toBoolean: function () { return undefined; },
    toDateTime: function () { return undefined; }
  };

  var BOOLEAN = {
    toBoolean: function (b) { return b; },
    toInt: function (b) { return b ? 1 : 0; },
    toFloat: function (b) { return b ? 1 : 0; },
    toNumber: function (b) { return b ? 1 : 0; },
    toDateTime: function () { return undefined; }
  };

  var GENERIC = {
    isEmpty: function (v) { return v === null || v === undefined || v === "" || (typeof v === "object" && Object.keys(v).length === 0); },
    isNotEmpty: function (v) { return !GENERIC.isEmpty(v); }
  };

  var TABLES = [["String", STRING], ["Number", NUMBER], ["Date", null], ["Array", ARRAY],
    ["Object", OBJECT], ["Boolean", BOOLEAN]];

  function extend(input, name, args) {
    var table = null, value = input;
    if (Array.isArray(input)) table = ARRAY;
    else if (isPlainDateString(input) && name !== "toDate" && name !== "toDateTime") {
      value = new Date(input); table = globalThis.__n8nDateExtensions;
    } else if (typeof input === "string") table = STRING;
    else if (typeof input === "number") table = NUMBER;
    else if (isDateTime(input) || input instanceof Date) table = globalThis.__n8nDateExtensions;
    else if (input !== null && typeof input === "object") table = OBJECT;
    else if (typeof input === "boolean") table = BOOLEAN;
    var fn = table && Object.prototype.hasOwnProperty.call(table, name) ? table[name] : null;
    if (!fn) {
      var native = input !== null && input !== undefined ? input[name] : undefined;
      if (typeof native === "function" && !native[MARK]) return native.apply(input, args);
      fn = GENERIC[name];
    }
    if (!fn) {
      if (input === null || input === undefined) {
        fail(name + " can't be used on " + String(input) + " value",
          "To ignore this error, add a ? to the variable before this function, e.g. my_var?." + name);
      }
      var having = TABLES.filter(function (t) {
        var tbl = t[1] || globalThis.__n8nDateExtensions;
        return Object.prototype.hasOwnProperty.call(tbl, name);
      }).map(function (t) { return '"' + t[0] + '"'; });
      if (having.length > 1) {
        var lastType = having.pop();
        fail(name + "() is only callable on types " + having.join(", ") + ", and " + lastType);
      }
      fail(name + "() is only callable on type " + having[0]);
    }
    return fn(value, args);
  }

  var NAMES = {};
  [STRING, NUMBER, ARRAY, OBJECT, BOOLEAN].forEach(function (t) {
    Object.keys(t).forEach(function (k) { NAMES[k] = true; });
  });

  function dispatcher(name) {
    var fn = function () { return extend(this, name, Array.prototype.slice.call(arguments)); };
    Object.defineProperty(fn, MARK, { value: true });
    return fn;
  }

  function extendOptional(input, name, args) {
    return input === null || input === undefined ? undefined : extend(input, name, args);
  }

  globalThis.__n8nExtensions = {
    MARK: MARK,
    extend: extend,
    extendOptional: extendOptional,
    dispatcher: dispatcher,
    names: NAMES,
    isDateTime: isDateTime,
    toDateTimeFromString: toDateTimeFromString,
    numberToDateTime: numberToDateTime,
    deepEqual: deepEqual
  };
  globalThis.__n8nAverage = function (list) { return ARRAY.average(list); };

  // A TypeError from calling an extension on null or undefined becomes n8n's message.
  globalThis.__n8nExtensionError = function (e) {
    var m = e && /cannot read property '([^']+)' of (undefined|null)/.exec(String(e.message));
    if (!m || !(NAMES[m[1]] || (globalThis.__n8nDateExtensions && globalThis.__n8nDateExtensions[m[1]]))) return null;
    return new globalThis.__n8nExpressionError(m[1] + " can't be used on " + m[2] + " value",
      "To ignore this error, add a ? to the variable before this function, e.g. my_var?." + m[1]);
  };
})();
