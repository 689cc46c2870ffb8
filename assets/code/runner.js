// The Code node's runner: runs a node's JavaScript with n8n's variables ($input, $json,
// $('Node'), ...) built by the expression prelude, waits for its promise (the server drives
// the job queue and the timers below), and checks what it returns by n8n's rules, answering
// JSON: {"items": [...]} or {"error": {...}}.
//
// The code runs in a function made with `new Function`, so it sees the variables as
// parameters and the frozen global object around them: nothing it does outlives the run.
(function () {
  "use strict";
  var scopeApi = globalThis.__n8nScope;
  var host = globalThis.__host;

  // Variables of the expression scope the code sees, as n8n's data proxy hands them out.
  var SCOPE_NAMES = ["$input", "$json", "$binary", "$data", "$", "$node", "$items", "$item",
    "$workflow", "$execution", "$vars", "$env", "$now", "$today", "DateTime", "Duration",
    "Interval", "$jmespath", "$jmesPath", "$if", "$ifEmpty", "$min", "$max", "$prevNode",
    "$runIndex", "$itemIndex", "$mode", "$nodeVersion", "$nodeId", "$parameter",
    "$rawParameter", "$executionId", "$resumeWebhookUrl", "$thisItem", "$thisItemIndex",
    "$thisRunIndex", "$position"];
  var OWN_NAMES = ["items", "item", "console", "require", "module", "setTimeout",
    "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate", "btoa",
    "atob", "$getWorkflowStaticData", "getWorkflowStaticData", "$evaluateExpression", "Buffer"];
  var PARAMS = SCOPE_NAMES.concat(OWN_NAMES);

  // The user's line 1 is on the wrapper's first line, as in n8n (`[line N]` in errors).
  function compile(code, sync) {
    var body = "return (" + (sync ? "" : "async ") + "function VmCodeWrapper() {" + code +
      "\n}).call(this);";
    return Function.apply(null, PARAMS.concat([body]));
  }

  // Compiled code by its text, most recently used last: a workflow runs the same code over
  // and over, and compiling it is a good part of a short run. What is kept is the compiled
  // wrapper only (frozen, and it closes over nothing): every run calls it afresh with its own
  // variables and `this`, so no state is carried from one run to the next.
  var COMPILED_MAX = 32;
  var COMPILED_TEXT_MAX = 64 * 1024;
  var compiled = new Map();

  function compiledCode(code) {
    var fn = compiled.get(code);
    if (fn !== undefined) {
      compiled.delete(code);
      compiled.set(code, fn);
      return fn;
    }
    fn = compile(code);
    if (code.length > COMPILED_TEXT_MAX) return fn;
    Object.freeze(fn.prototype);
    Object.freeze(fn);
    compiled.set(code, fn);
    if (compiled.size > COMPILED_MAX) compiled.delete(compiled.keys().next().value);
    return fn;
  }

  // Where frames of the user's function point (file name, first line): found once, from a
  // synchronous probe with the same header.
  var PROBE = (function () {
    var found = { file: null, offset: 0 };
    try {
      compile("\nthrow new Error('probe')", true).apply({}, []);
    } catch (e) {
      var frame = frames(e)[0];
      if (frame) { found.file = frame.file; found.offset = frame.line - 2; }
    }
    return found;
  })();

  function frames(error) {
    var stack = error && typeof error.stack === "string" ? error.stack : "";
    var out = [];
    stack.split("\n").forEach(function (row) {
      var m = /\(([^()]*?):(\d+)(?::\d+)?\)\s*$/.exec(row);
      if (m) out.push({ file: m[1], line: Number(m[2]) });
    });
    return out;
  }

  // The line of the user's code an error was thrown at (innermost frame of the user's code).
  function lineOf(error) {
    if (PROBE.file === null) return undefined;
    var frame = frames(error).filter(function (f) { return f.file === PROBE.file; })[0];
    return frame ? frame.line - PROBE.offset : undefined;
  }

  // n8n's runner reads the message from the error's first line (`Type: details`), splitting
  // at colons: the last part is the message, the one before it (unless `Error`) the
  // description, and a line number is added.
  function userError(e, itemIndex) {
    var out = { kind: "user" };
    if (e instanceof scopeApi.ExpressionError) {
      // Raised by n8n's variables (`$('Missing')`, `$env` when blocked): their own words.
      out.message = e.message;
      if (e.description) out.description = e.description;
      if (itemIndex !== undefined) out.itemIndex = itemIndex;
      return out;
    }
    var line = e instanceof Error && !e.__n8nCompile ? lineOf(e) : undefined;
    var where = line === undefined ? "" : itemIndex === undefined ? "[line " + line + "]" :
      "[line " + line + ", for item " + itemIndex + "]";
    if (line !== undefined) out.lineNumber = line;
    if (itemIndex !== undefined) out.itemIndex = itemIndex;
    if (e instanceof Error && e.__n8nModule) {
      // n8n keeps a module name's colon (`node:fs`) in the message.
      out.message = e.message + " " + where;
      return out;
    }
    if (!(e instanceof Error)) {
      out.message = "Unknown error " + where;
      return out;
    }
    var row = String(e.name) + ": " + String(e.message);
    if (row.indexOf("Error:") < 0) {
      out.message = "Unknown error " + where;
      return out;
    }
    var segments = row.split(":").map(function (s) { return s.trim(); }).reverse();
    var details = segments[0], type = segments[1];
    if (type && type !== "Error") out.description = type;
    out.message = details ? details + " " + where : "Unknown error " + where;
    return out;
  }

  function validation(message, description, itemIndex, lineNumber) {
    var text = message;
    if (lineNumber !== undefined && itemIndex !== undefined) {
      text += " [line " + lineNumber + ", for item " + itemIndex + "]";
    } else if (lineNumber !== undefined) text += " [line " + lineNumber + "]";
    else if (itemIndex !== undefined) text += " [item " + itemIndex + "]";
    var out = { kind: "validation", message: text, description: description };
    if (itemIndex !== undefined) out.itemIndex = itemIndex;
    if (lineNumber !== undefined) out.lineNumber = lineNumber;
    return out;
  }

  // ---- timers, console, require ----

  var timers = [];
  var timerSeq = 0;

  function addTimer(fn, delay, args, repeat) {
    if (typeof fn !== "function") throw new TypeError("The \"callback\" argument must be of type function");
    var ms = Math.max(0, Number(delay) || 0);
    var timer = { id: ++timerSeq, fn: fn, args: args, due: Date.now() + ms, every: repeat ? Math.max(1, ms) : 0 };
    timers.push(timer);
    return timer.id;
  }

  function clearTimer(id) {
    timers = timers.filter(function (t) { return t.id !== id; });
  }

  function formatLog(args) {
    return Array.prototype.map.call(args, function (arg) {
      if (typeof arg === "string") return "'" + arg + "'";
      if (arg === undefined) return "undefined";
      try {
        var seen = [];
        return JSON.stringify(arg, function (k, v) {
          if (typeof v === "bigint") return v.toString();
          if (v && typeof v === "object") {
            if (seen.indexOf(v) >= 0) return "[Circular Reference]";
            seen.push(v);
          }
          return v;
        });
      } catch (e) { return String(arg); }
    }).join(" ");
  }

  var CONSOLE = Object.freeze({
    log: function () { host.log(formatLog(arguments)); },
    info: function () { host.log(formatLog(arguments)); },
    warn: function () { host.log(formatLog(arguments)); },
    error: function () { host.log(formatLog(arguments)); },
    debug: function () { host.log(formatLog(arguments)); },
    trace: function () {},
    table: function () {},
    dir: function () {},
    time: function () {},
    timeEnd: function () {},
    group: function () {},
    groupEnd: function () {},
    assert: function () {},
    count: function () {}
  });

  // n8n allows no module unless its administrator lists it; none can be listed here.
  function require(name) {
    var error = new Error("Module '" + String(name) + "' is disallowed");
    error.__n8nModule = true;
    throw error;
  }

  function unsupported(name) {
    return function () { throw new Error(name + " is not supported by this server's Code node"); };
  }

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  function btoa(text) {
    text = String(text);
    var out = "";
    for (var i = 0; i < text.length; i += 3) {
      var a = text.charCodeAt(i), b = text.charCodeAt(i + 1), c = text.charCodeAt(i + 2);
      if (a > 255 || b > 255 || c > 255) throw new Error("Invalid character");
      var n = (a << 16) | ((b || 0) << 8) | (c || 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63] +
        (i + 1 < text.length ? B64[(n >> 6) & 63] : "=") + (i + 2 < text.length ? B64[n & 63] : "=");
    }
    return out;
  }
  function atob(text) {
    text = String(text).replace(/[\s=]+/g, "");
    var out = "", bits = 0, value = 0;
    for (var i = 0; i < text.length; i++) {
      var v = B64.indexOf(text[i]);
      if (v < 0) throw new Error("The string to be decoded is not correctly encoded.");
      value = (value << 6) | v; bits += 6;
      if (bits >= 8) { bits -= 8; out += String.fromCharCode((value >> bits) & 255); }
    }
    return out;
  }

  // ---- this.helpers: binary data, as n8n's runner offers it to the Code node ----

  // n8n's `assertBinaryData`: the item's binary entry, or n8n's error.
  function binaryEntry(inputs, itemIndex, propertyName) {
    var item = inputs[itemIndex];
    var binary = item && item.binary;
    if (!binary) {
      throw new Error("This operation expects the node's input data to contain a binary file '" +
        propertyName + "', but none was found [item " + itemIndex + "]");
    }
    var entry = binary[propertyName];
    if (!entry) throw new Error("The item has no binary field '" + propertyName + "' [item " + itemIndex + "]");
    return entry;
  }

  // `bytes` holds the base64 text of entries kept in the binary data store (sent only when
  // the code asks for bytes); inline entries carry theirs in `data`.
  function makeHelpers(inputs, bytes) {
    var Buffer = globalThis.__n8nBuffer;
    function later(f) {
      return function () {
        var args = arguments;
        return new Promise(function (resolve) { resolve(f.apply(null, args)); });
      };
    }
    return Object.freeze({
      assertBinaryData: later(function (itemIndex, propertyName) {
        return JSON.parse(JSON.stringify(binaryEntry(inputs, itemIndex, propertyName)));
      }),
      getBinaryDataBuffer: later(function (itemIndex, propertyName) {
        var entry = binaryEntry(inputs, itemIndex, propertyName);
        var stored = bytes && bytes[itemIndex] && bytes[itemIndex][propertyName];
        var text = typeof stored === "string" ? stored : typeof entry.data === "string" ? entry.data : "";
        return Buffer.from(text, "base64");
      }),
      binaryToString: later(function (body, encoding) {
        return Buffer.from(body).toString(encoding);
      }),
      prepareBinaryData: later(function (data, fileName, mimeType) {
        var buffer = typeof data === "string" ? Buffer.from(data) : Buffer.from(data);
        var out = { data: buffer.toString("base64"), mimeType: mimeType || "application/octet-stream" };
        if (fileName) out.fileName = String(fileName);
        return out;
      })
    });
  }

  // ---- the run ----

  var run = null;

  function argsFor(scope, own) {
    return PARAMS.map(function (name) {
      return Object.prototype.hasOwnProperty.call(own, name) ? own[name] : scope[name];
    });
  }

  function ownValues(extra) {
    var own = {
      console: CONSOLE, require: require, module: { exports: {} },
      setTimeout: function (fn, ms) { return addTimer(fn, ms, Array.prototype.slice.call(arguments, 2), false); },
      setInterval: function (fn, ms) { return addTimer(fn, ms, Array.prototype.slice.call(arguments, 2), true); },
      setImmediate: function (fn) { return addTimer(fn, 0, Array.prototype.slice.call(arguments, 1), false); },
      clearTimeout: clearTimer, clearInterval: clearTimer, clearImmediate: clearTimer,
      btoa: btoa, atob: atob,
      $getWorkflowStaticData: unsupported("$getWorkflowStaticData"),
      getWorkflowStaticData: unsupported("getWorkflowStaticData"),
      $evaluateExpression: unsupported("$evaluateExpression"),
      Buffer: globalThis.__n8nBuffer
    };
    Object.keys(extra).forEach(function (k) { own[k] = extra[k]; });
    return own;
  }

  // JSON round trip, as n8n's runner sends results over its socket: functions and undefined
  // go, dates become strings, a cycle fails.
  function plain(value) {
    if (value === undefined) return undefined;
    return JSON.parse(JSON.stringify(value, function (k, v) {
      return typeof v === "bigint" ? v.toString() : v;
    }));
  }

  function isObject(v) {
    return typeof v === "object" && v !== null && !Array.isArray(v);
  }

  var ITEM_KEYS = ["json", "binary", "pairedItem", "error", "index"];

  function checkTopLevelKeys(item, index) {
    var reserved = null, unknown = [];
    Object.keys(item).forEach(function (key) {
      if (ITEM_KEYS.indexOf(key) >= 0) { if (reserved === null) reserved = key; }
      else unknown.push(key);
    });
    if (!unknown.length) return null;
    if (reserved !== null) {
      return validation("Invalid output format", "An output item contains the reserved key <code>" +
        reserved + "</code>. To get around this, please wrap each item in an object, under a key called <code>json</code>. <a href=\"https://docs.n8n.io/data/data-structure/#data-structure\" target=\"_blank\">Example</a>", index);
    }
    return validation("Unknown top-level item key: " + unknown[0],
      "Access the properties of an item under `.json`, e.g. `item.json`", index);
  }

  function checkItem(item, index) {
    if (!isObject(item.json)) {
      return validation("A 'json' property isn't an object",
        "In the returned data, every key named 'json' must point to an object.", index);
    }
    if (item.binary !== undefined && !isObject(item.binary)) {
      return validation("A 'binary' property isn't an object",
        "In the returned data, every key named 'binary' must point to an object.", index);
    }
    return null;
  }

  function inconsistent() {
    return { kind: "validation", message: "Inconsistent item format" };
  }

  // n8n's `normalizeItems`: a list of items, of plain objects, or of objects with `binary`.
  function normalize(data) {
    if (isObject(data)) data = data.json ? [data] : [{ json: data }];
    var hasJson = function (i) { return typeof i === "object" && i !== null && "json" in i; };
    var hasBinary = function (i) { return typeof i === "object" && i !== null && "binary" in i; };
    if (data.every(hasJson)) return data;
    if (data.some(hasJson)) return inconsistent();
    if (data.every(hasBinary)) {
      return data.map(function (item) {
        var json = {};
        Object.keys(item).forEach(function (k) { if (k !== "binary") json[k] = item[k]; });
        return { json: json, binary: item.binary };
      });
    }
    if (data.some(hasBinary)) return inconsistent();
    return data.map(function (item) { return { json: item }; });
  }

  var NOT_ITEMS = "Please return an array of objects, one for each item you would like to output.";

  // Run Once for All Items: what the code returned, checked and made into items.
  function allItemsResult(result) {
    if (result === null) return { items: [] };
    if (result === undefined || typeof result !== "object") {
      return { error: validation("Code doesn't return items properly", NOT_ITEMS) };
    }
    if (Array.isArray(result)) {
      for (var i = 0; i < result.length; i++) {
        if (!isObject(result[i])) return { error: validation("Code doesn't return items properly", NOT_ITEMS) };
      }
      var n8nKeys = result.some(function (item) {
        return Object.keys(item).some(function (k) { return ITEM_KEYS.indexOf(k) >= 0; });
      });
      if (n8nKeys) {
        for (var j = 0; j < result.length; j++) {
          var bad = checkTopLevelKeys(result[j], j);
          if (bad) return { error: bad };
        }
      }
    }
    var items = normalize(result);
    if (!Array.isArray(items)) return { error: items };
    for (var k = 0; k < items.length; k++) {
      var wrong = checkItem(items[k], k);
      if (wrong) return { error: wrong };
    }
    return { items: items };
  }

  // Run Once for Each Item: one item (or none) per run.
  function eachItemResult(result, index) {
    if (!result) return { items: [] };
    var json = result;
    if (isObject(result) || Array.isArray(result)) {
      if ("json" in result) json = result.json;
      else if ("binary" in result) json = result.json === undefined || result.json === null ? {} : result.json;
    }
    var item = { json: json, pairedItem: { item: index } };
    if (result.binary) item.binary = result.binary;
    var wrong = checkItem(item, index);
    if (wrong) return { error: wrong };
    return { items: [item] };
  }

  function legacy(message) {
    return { error: { kind: "validation", message: message } };
  }

  // The legacy Function node: `items` in, items (or plain objects) out.
  function functionResult(result) {
    if (result === undefined || result === null) return legacy("No data got returned. Always return an Array of items!");
    var items = normalize(result);
    if (!Array.isArray(items)) return { error: items };
    for (var i = 0; i < items.length; i++) {
      var item = items[i];
      if (item.json === undefined) return legacy("All returned items have to contain a property named \"json\"!");
      if (typeof item.json !== "object" || item.json === null || Array.isArray(item.json)) {
        return legacy("The json-property has to be an object!");
      }
      if (item.binary !== undefined && (Array.isArray(item.binary) || typeof item.binary !== "object")) {
        return legacy("The binary-property has to be an object!");
      }
    }
    return { items: items };
  }

  // The legacy Function Item node: the item's json in, its new json out.
  function functionItemResult(result, index, binary) {
    if (result === undefined || result === null || typeof result !== "object" || Array.isArray(result)) {
      return legacy("No data got returned. Always an object has to be returned!");
    }
    var item = { json: result, pairedItem: { item: index } };
    if (binary) item.binary = binary;
    return { items: [item] };
  }

  // A legacy node's thrown error: its message with the line (and item) added.
  function legacyError(e, mode, index) {
    var message = e instanceof Error ? String(e.message) : String(e);
    var line = e instanceof Error ? lineOf(e) : undefined;
    var suffix = mode === "function"
      ? (line === undefined ? "" : " [Line " + line + "]")
      : (line === undefined ? " [Item Index: " + index + "]" : " [Line " + line + " | Item Index: " + index + "]");
    return { kind: "user", message: message + suffix, plain: message };
  }

  // Each item of `d.items` in turn (per-item modes), or all at once.
  function drive(request) {
    var d = request.data;
    var mode = request.mode;
    var legacyMode = mode === "function" || mode === "functionItem";
    var inputs = Array.isArray(d.items) ? d.items : [];
    var perItem = mode === "each" || mode === "functionItem";
    if (mode === "each") {
      var disallowed = /\$input\.(first|last|all|itemMatching)/.exec(request.code);
      if (disallowed) {
        var lines = request.code.split("\n");
        var at = lines.findIndex(function (l) {
          l = l.trimStart();
          return l.indexOf(disallowed[1]) >= 0 && !l.startsWith("//") && !l.startsWith("/*") && !l.startsWith("*");
        }) + 1;
        if (at !== 0) {
          return Promise.resolve({ error: validation("Can't use ." + disallowed[1] + "() here",
            "This is only available in 'Run Once for All Items' mode", 0, at) });
        }
      }
    }
    var fn;
    try {
      fn = compiledCode(request.code);
    } catch (e) {
      // n8n reports a syntax error without a line.
      if (e instanceof Error) e.__n8nCompile = true;
      var failed = legacyMode ? legacyError(e, mode, 0) : userError(e, perItem ? 0 : undefined);
      return Promise.resolve(settle({ error: failed }, 0));
    }
    d.pairedFor = d.itemIndex;
    var out = [];
    var customData = null;

    // What the continue-on-fail setting makes of a failed run.
    function settle(answer, index) {
      if (!answer.error || !request.continueOnFail) return answer;
      var error = answer.error;
      if (!legacyMode && error.kind !== "user") return answer;
      var item = { json: { error: error.plain !== undefined ? error.plain : error.message } };
      if (perItem) item.pairedItem = { item: index };
      return { items: [item] };
    }

    function keepCustomData(state) {
      if (state.customDataChanged) { customData = state.customData; run.customDataChanged = true; }
      run.customData = state.customData;
    }

    function once(index) {
      d.itemIndex = index;
      if (customData) d.execution.customData = customData;
      var scope = scopeApi.make(d);
      var state = scopeApi.current();
      var extra = {};
      var current = inputs[index];
      if (mode === "all") extra.items = inputs;
      if (mode === "each") extra.item = current;
      if (mode === "function") {
        extra.items = inputs.map(function (i, n) {
          var copy = { json: i.json, index: n };
          if (i.binary) copy.binary = i.binary;
          return copy;
        });
      }
      if (mode === "functionItem") extra.item = current ? current.json : {};
      var promise;
      try {
        promise = fn.apply({ helpers: makeHelpers(inputs, request.binaryBytes) },
          argsFor(scope, ownValues(extra)));
      } catch (e) {
        promise = Promise.reject(e);
      }
      return promise.then(function (value) {
        keepCustomData(state);
        var result;
        try {
          result = plain(value);
        } catch (e) {
          return settle({ error: legacyMode ? legacyError(e, mode, index) : userError(e, perItem ? index : undefined) }, index);
        }
        if (mode === "all") return allItemsResult(result);
        if (mode === "each") return eachItemResult(result, index);
        if (mode === "function") return settle(functionResult(result), index);
        return settle(functionItemResult(result, index, current && current.binary), index);
      }, function (e) {
        keepCustomData(state);
        if (isFatal(e)) throw e;
        var error = legacyMode ? legacyError(e, mode, index) : userError(e, perItem ? index : undefined);
        return settle({ error: error }, index);
      });
    }

    if (!perItem) return once(0);
    var index = 0;
    function next() {
      if (index >= inputs.length) return Promise.resolve({ items: out });
      var i = index++;
      return once(i).then(function (answer) {
        if (answer.error) return answer;
        out = out.concat(answer.items);
        return next();
      });
    }
    return next();
  }

  // Running out of memory (an InternalError, one without even its message, or a bare null
  // when nothing could be built) ends the run; the server reports it with the limit.
  function fatalReason(e) {
    if (e === null || e === undefined) return "out of memory";
    if (typeof InternalError !== "function" || !(e instanceof InternalError)) return null;
    var message = String(e.message || "");
    if (message === "") return "out of memory";
    return /out of memory|interrupted/.test(message) ? message : null;
  }

  function isFatal(e) {
    return fatalReason(e) !== null;
  }

  globalThis.__n8nCodeStart = function (requestText) {
    timers = [];
    run = { done: false, answer: null, fatal: null, customData: null, customDataChanged: false };
    var request = JSON.parse(requestText);
    drive(request).then(function (answer) {
      run.done = true;
      run.answer = answer;
    }, function (e) {
      run.done = true;
      run.fatal = fatalReason(e) || String(e.message || e);
    });
  };

  // Milliseconds until the next timer is due; -1 when none is waiting.
  globalThis.__n8nCodeNextTimer = function () {
    if (!timers.length) return -1;
    var due = Math.min.apply(null, timers.map(function (t) { return t.due; }));
    return Math.max(0, due - Date.now());
  };

  // Runs the timers that are due, earliest first.
  globalThis.__n8nCodeFireTimers = function () {
    var now = Date.now();
    var due = timers.filter(function (t) { return t.due <= now; });
    due.sort(function (a, b) { return a.due - b.due || a.id - b.id; });
    due.forEach(function (timer) {
      if (!timers.some(function (t) { return t.id === timer.id; })) return;
      if (timer.every) timer.due = now + timer.every;
      else clearTimer(timer.id);
      try {
        timer.fn.apply(undefined, timer.args);
      } catch (e) {
        // An error in a timer fails the run, as an uncaught exception fails n8n's task.
        if (!run.done) { run.done = true; run.answer = { error: userError(e) }; }
      }
    });
  };

  // The answer once the code's promise settled; null while it is pending.
  globalThis.__n8nCodeAnswer = function () {
    if (!run || !run.done) return null;
    if (run.fatal !== null) throw new InternalError(run.fatal);
    var answer = run.answer;
    if (run.customDataChanged) answer.customData = run.customData;
    timers = [];
    return JSON.stringify(answer);
  };
})();
