// The expression evaluator: builds n8n's variables ($json, $input, $('Node'), $now, ...) from
// the data the server sends, runs each {{ }} block and answers in JSON.
//
// n8n's rules kept here: a lone block keeps its value; in text, a block worth null, undefined,
// NaN or "" adds nothing; an error that is not one of n8n's own expression errors (a
// TypeError on a missing property, say) makes its block worth undefined instead of failing;
// a syntax error anywhere fails the whole expression with "invalid syntax".
(function () {
  "use strict";
  var luxon = globalThis.luxon;
  var rewrite = globalThis.__n8nRewrite;
  var DateTime = luxon.DateTime;
  var Settings = luxon.Settings;

  Settings.defaultLocale = "en-US";
  // Zone offsets from the host: much faster than formatting dates through Intl to read them.
  var IANAZone = luxon.IANAZone;
  IANAZone.prototype.offset = function (ts) {
    if (!this.valid) return NaN;
    var answer = globalThis.__host.zone(this.name, ts);
    return answer ? Number(answer[0]) : NaN;
  };
  IANAZone.prototype.offsetName = function (ts, opts) {
    if (!this.valid) return null;
    var style = opts && opts.format === "long" ? "long" : "short";
    var parts = new Intl.DateTimeFormat("en-US", { timeZone: this.name, timeZoneName: style })
      .formatToParts(ts);
    var named = parts.filter(function (p) { return p.type === "timeZoneName"; })[0];
    return named ? named.value : null;
  };

  // n8n's own errors: they fail the expression; every other error is swallowed.
  // Properties are defined, not assigned: Error.prototype is frozen once loading ends.
  function ExpressionError(message, description) {
    Object.defineProperty(this, "message", { value: message });
    Object.defineProperty(this, "description", { value: description });
  }
  ExpressionError.prototype = Object.create(Error.prototype);
  ExpressionError.prototype.name = "ExpressionError";
  function fail(message, description) {
    throw new ExpressionError(message, description);
  }

  var UNEXECUTED = 'An expression references this node, but the node is unexecuted. ' +
    'Consider re-wiring your nodes or checking for execution first, i.e. ' +
    '{{ $if( $("NAME").isExecuted, <action_if_executed>, "") }}';

  // ---- compiling blocks ----

  var compiled = new Map();
  // Names n8n refuses to read, written or computed from a literal (checked on n8n 2.8).
  var UNSAFE = ["__proto__", "prototype", "constructor", "getPrototypeOf", "__defineGetter__",
    "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "mainModule", "binding", "_load"];

  function checkSafety(expression) {
    if (/\.\s*constructor/m.test(expression)) {
      fail("Expression contains invalid constructor function call",
        "Constructor override attempt is not allowed due to security concerns");
    }
    var dotted = /\.\s*([A-Za-z_$][\w$]*)|\[\s*(["'])([^"'\]]*)\2\s*\]/g;
    var m;
    while ((m = dotted.exec(expression)) !== null) {
      var name = m[1] !== undefined ? m[1] : m[3];
      if (UNSAFE.indexOf(name) >= 0) fail('Cannot access "' + name + '" due to security concerns');
    }
    if (/(^|[^\w$.])with\s*\(/.test(expression)) {
      fail('Cannot use "with" statements due to security concerns');
    }
  }

  function build(body) {
    return new Function("__scope", "with (__scope) { return (" + body + "\n); }");
  }

  function compile(code) {
    var fn = compiled.get(code);
    if (fn) return fn;
    var body = rewrite.rewriteIf(code).replace(/[\s;]+$/, "");
    if (body.trimStart()[0] === "{") body = "(" + body + ")";
    if (body.trim() === "") throw new SyntaxError("empty");
    try {
      fn = build(body);
    } catch (e) {
      var first = rewrite.firstStatement(body);
      if (first === null) throw e;
      body = first;
      fn = build(body);
    }
    var extended = rewrite.rewriteExtensions(body);
    if (extended !== body) {
      try { fn = build(extended); } catch (e) { /* keep the method-call form */ }
    }
    if (compiled.size > 2000) compiled.clear();
    compiled.set(code, fn);
    return fn;
  }

  // ---- values out ----

  // Extension functions are reached through `__extend` only; one that escapes as a value is
  // treated as the missing property it stands for.
  function isExtension(value) {
    return typeof value === "function" && !!value[globalThis.__n8nExtensions.MARK];
  }

  function encode(value) {
    if (value === undefined || isExtension(value)) return '{"undefined":true}';
    if (typeof value === "function") {
      if (value === DateTime) fail("this is a DateTime, please access its methods");
      fail("this is a function, please add ()");
    }
    if (typeof value === "bigint") value = value.toString();
    if (typeof value === "number" && !isFinite(value)) return '{"value":null}';
    return '{"value":' + JSON.stringify(value, replacer) + "}";
  }

  function replacer(key, value) {
    if (typeof value === "bigint") return value.toString();
    if (value instanceof Map || value instanceof Set) return {};
    return value;
  }

  // ---- the scope ----

  function itemList(items) {
    return Array.isArray(items) ? items : [];
  }

  // The evaluation in progress: what the shared scope members below read.
  var state = null;

  function currentItems() { return itemList(state.d.items); }

  // Everything that does not change between evaluations, built once and frozen; each
  // evaluation's scope inherits from it and adds the values of that evaluation.
  var BASE = Object.create(null);
  BASE.DateTime = DateTime;
  BASE.Duration = luxon.Duration;
  BASE.Interval = luxon.Interval;
  BASE.$jmespath = jmespath;
  BASE.$jmesPath = jmespath;
  BASE.$if = function (test, yes, no) {
    if (arguments.length < 2) fail("invalid syntax");
    return test ? yes : (arguments.length > 2 ? no : false);
  };
  BASE.$ifEmpty = ifEmpty;
  // `$evaluateExpression(text, itemIndex)`: `text` as a parameter value starting with `=`
  // (literal text with `{{ }}` blocks), for item `itemIndex` (n8n reads 0 as "the current
  // one"), with the same run data; the caller's scope is restored afterwards.
  BASE.$evaluateExpression = function (expression, itemIndex) {
    var saved = state;
    var d = saved.d;
    var index = itemIndex || d.itemIndex;
    var inner = d;
    if (index !== d.itemIndex) {
      inner = Object.assign({}, d, {
        itemIndex: index,
        pairedFor: d.pairedFor === undefined ? d.itemIndex : d.pairedFor
      });
    }
    var chunks = JSON.parse(globalThis.__host.template(String(expression)));
    try {
      return evaluateChunks(chunks, inner);
    } catch (e) {
      // n8n makes the calling block undefined for text that does not parse, as for any
      // JavaScript error; its own errors (a missing node ...) fail the expression.
      if (e instanceof ExpressionError && e.message === "invalid syntax") throw new SyntaxError(e.message);
      throw e;
    } finally {
      state = saved;
    }
  };
  BASE.$min = Math.min;
  BASE.$max = Math.max;
  BASE.min = Math.min;
  BASE.max = Math.max;
  BASE.$average = function () { return globalThis.__n8nAverage(Array.prototype.slice.call(arguments)); };
  BASE.average = BASE.$average;
  BASE.$not = function (v) { return !v; };
  BASE.not = BASE.$not;
  BASE.numberList = numberList;
  BASE.zip = zip;
  BASE.isFinite = Number.isFinite;
  BASE.isNaN = Number.isNaN;
  // What n8n hides from expressions.
  ["document", "global", "window", "Window", "globalThis", "self", "alert", "prompt",
    "confirm", "eval", "uneval", "setTimeout", "setInterval", "Function", "fetch",
    "XMLHttpRequest", "Promise", "Generator", "GeneratorFunction", "AsyncFunction",
    "AsyncGenerator", "AsyncGeneratorFunction", "WebAssembly", "Reflect", "Proxy",
    "escape", "unescape"].forEach(function (k) { BASE[k] = Object.freeze({}); });
  BASE.process = Object.freeze({ env: Object.freeze({}) });
  // `Object` without the statics that reach around property checks, as n8n hands it out
  // (a copy: the real one is frozen, and a proxy may not hide a frozen property).
  var HIDDEN_STATICS = ["defineProperty", "defineProperties", "setPrototypeOf", "getPrototypeOf",
    "getOwnPropertyDescriptor", "getOwnPropertyDescriptors"];
  var SafeObject = function Object(value) { return globalThis.Object(value); };
  SafeObject.prototype = Object.prototype;
  Object.getOwnPropertyNames(Object).forEach(function (name) {
    if (HIDDEN_STATICS.indexOf(name) >= 0 || name === "prototype" || name === "length" ||
      name === "name") return;
    SafeObject[name] = Object[name];
  });
  SafeObject.create = function create(proto) { return Object.create(proto); };
  Object.freeze(SafeObject);
  BASE.Object = SafeObject;
  Object.defineProperty(BASE, "$now", {
    get: function () {
      if (!state.now) state.now = DateTime.fromMillis(state.d.now, { zone: state.zone });
      return state.now;
    }
  });
  Object.defineProperty(BASE, "$today", {
    get: function () { return DateTime.fromMillis(state.d.now, { zone: state.zone }).startOf("day"); }
  });
  BASE.$input = Object.freeze({
    get item() { return state.current; },
    all: function () { return currentItems(); },
    first: function () {
      if (arguments.length) fail("$input.first() should have no arguments");
      return currentItems()[0];
    },
    last: function () {
      if (arguments.length) fail("$input.last() should have no arguments");
      var list = currentItems();
      return list[list.length - 1];
    },
    // n8n answers the parameters of the node the input came from.
    get params() { return state.d.prevNodeParameters; },
    get context() { return {}; }
  });
  BASE.$ = function (name) {
    var d = state.d;
    if (!name) {
      name = d.prevNode && d.prevNode.name;
      if (!name) fail("When calling $(), please specify a node");
    }
    return nodeHandle(d, d.nodes || {}, String(name));
  };
  BASE.$items = function (name, output, run) {
    if (name === undefined) return currentItems();
    var d = state.d;
    return nodeOutput(d, d.nodes || {}, String(name), output || 0, run === undefined ? -1 : run);
  };
  BASE.$item = function (index, run) {
    var d = state.d;
    var item = currentItems()[index];
    return {
      $json: item ? item.json : undefined,
      $binary: item ? item.binary || {} : undefined,
      $node: nodeProxy(d, d.nodes || {}, index, run)
    };
  };
  BASE.$env = new Proxy({}, {
    has: function () { return true; },
    get: function (target, name) {
      if (typeof name !== "string") return undefined;
      var env = state.d.env;
      if (env === null || env === undefined) {
        fail("access to env vars denied",
          "If you need access please contact the administrator to remove the environment variable ‘N8N_BLOCK_ENV_ACCESS_IN_NODE‘");
      }
      return env[name];
    },
    set: function () { return false; },
    defineProperty: function () { return false; }
  });
  BASE.$node = new Proxy({}, {
    get: function (target, name) {
      if (typeof name !== "string") return undefined;
      return nodeData(state.d, state.d.nodes || {}, name, state.d.itemIndex);
    },
    set: function () { return false; },
    defineProperty: function () { return false; }
  });
  Object.keys(BASE).forEach(function (k) {
    var v = Object.getOwnPropertyDescriptor(BASE, k).value;
    if (typeof v === "function") Object.freeze(v);
  });
  Object.freeze(BASE);

  function makeScope(d) {
    var current = d.items ? d.items[d.itemIndex] : d.item;
    state = {
      d: d, current: current, zone: d.timezone || "UTC", now: null,
      customData: Object.assign({}, d.execution.customData || {}), customDataChanged: false
    };
    var s = Object.create(BASE);
    s.__extend = globalThis.__n8nExtensions.extend;
    s.__extendOptional = globalThis.__n8nExtensions.extendOptional;
    s.$json = current ? current.json : undefined;
    s.$data = s.$json;
    s.$binary = current ? (current.binary || {}) : undefined;
    s.$itemIndex = d.itemIndex;
    s.$position = d.itemIndex;
    s.$thisItemIndex = d.itemIndex;
    s.$runIndex = d.runIndex;
    s.$thisRunIndex = d.runIndex;
    s.$thisItem = current;
    s.$nodeVersion = d.node.typeVersion;
    s.$nodeId = d.node.id;
    s.$mode = d.execution.mode;
    s.$parameter = parameterView(d.node.parameters || {}, d.resolvedParameters || {});
    s.$rawParameter = d.node.parameters;
    s.$workflow = { id: d.workflow.id, name: d.workflow.name, active: d.workflow.active };
    s.$prevNode = d.prevNode || {};
    s.$vars = d.vars || {};
    s.$execution = execution(d.execution);
    s.$executionId = d.execution.id;
    s.$resumeWebhookUrl = d.execution.resumeUrl;
    // Variables one node offers its own expressions (HTTP Request's `$response` while paging).
    if (d.additional) {
      Object.keys(d.additional).forEach(function (k) { s[k] = d.additional[k]; });
    }
    return s;
  }

  // `$execution.customData`, by n8n's rules: at most 10 keys of A-Za-z0-9_ (50 characters),
  // string or number values (512 characters). A bad key or value is ignored, except in manual
  // runs where it fails the block (which then is undefined, like any non-n8n error).
  function execution(e) {
    var manual = e.mode === "manual";
    function set(key, value) {
      var custom = state.customData;
      if (!(key in custom) && Object.keys(custom).length >= 10) return;
      var problem = null;
      if (typeof key !== "string") problem = 'Custom data keys must be a string (key "' + key + '")';
      else if (key.replace(/[A-Za-z0-9_]/g, "").length !== 0) {
        problem = 'Custom date key can only contain characters "A-Za-z0-9_" (key "' + key + '")';
      } else if (typeof value !== "string" && typeof value !== "number" && typeof value !== "bigint") {
        problem = 'Custom data values must be a string (key "' + key + '")';
      }
      if (problem) {
        if (manual) throw new Error(problem);
        return;
      }
      custom[key.slice(0, 50)] = String(value).slice(0, 512);
      state.customDataChanged = true;
    }
    return {
      id: e.id,
      mode: manual ? "test" : "production",
      resumeUrl: e.resumeUrl,
      resumeFormUrl: e.resumeUrl ? e.resumeUrl.replace("/webhook-waiting/", "/form-waiting/") : e.resumeUrl,
      customData: {
        set: set,
        setAll: function (obj) {
          var first = null;
          Object.keys(obj || {}).forEach(function (k) {
            try { set(k, obj[k]); } catch (err) { if (!first) first = err; }
          });
          if (first) throw first;
        },
        get: function (key) { return state.customData[String(key).slice(0, 50)]; },
        getAll: function () { return Object.assign({}, state.customData); }
      }
    };
  }

  // `$parameter`: the node's parameters with expressions evaluated (done by the server before
  // the call) and resource locators reduced to their value.
  function parameterView(raw, resolved) {
    return new Proxy(raw, {
      get: function (target, name) {
        if (typeof name !== "string" || !Object.prototype.hasOwnProperty.call(target, name)) {
          return undefined;
        }
        var outcome = resolved[name];
        if (outcome) {
          if (outcome.error) fail(outcome.error.message, outcome.error.description || undefined);
          return outcome.value;
        }
        var value = target[name];
        if (value === "={{ $parameter." + name + " }}") return undefined;
        if (value && typeof value === "object" && value.__rl) return value.value;
        return value;
      }
    });
  }

  function jmespath(data, expression) {
    if (typeof data !== "object" || typeof expression !== "string") {
      fail("expected two arguments (Object, string) for this function");
    }
    return globalThis.jmespath.search(data, expression);
  }

  function ifEmpty(value, defaultValue) {
    if (arguments.length !== 2) fail("expected two arguments (value, defaultValue) for this function");
    if (value === undefined || value === null || value === "") return defaultValue;
    if (typeof value === "object") {
      if (Array.isArray(value) && !value.length) return defaultValue;
      if (!Object.keys(value).length) return defaultValue;
    }
    return value;
  }

  function numberList(start, end) {
    var out = [];
    var step = start <= end ? 1 : -1;
    for (var i = start; step > 0 ? i <= end : i >= end; i += step) out.push(i);
    return out;
  }

  function zip(keys, values) {
    if (keys.length !== values.length) fail("keys and values not of equal length");
    var out = {};
    keys.forEach(function (k, i) { out[k] = values[i]; });
    return out;
  }

  // ---- other nodes ----

  function nodeInfo(nodes, name) {
    var info = nodes[name];
    if (!info || !info.exists) {
      fail("Referenced node doesn't exist");
    }
    return info;
  }

  function ensureExecuted(info, name) {
    if (!info.executed) fail("Node '" + name + "' hasn't been executed", UNEXECUTED.replace("NAME", name));
  }

  // The items of output `branch` of run `run` (-1: the last) of node `name`.
  function nodeOutput(d, nodes, name, branch, run) {
    var info = nodeInfo(nodes, name);
    ensureExecuted(info, name);
    var runs = info.runs || [];
    var index = run === undefined || run === -1 ? runs.length - 1 : run;
    if (index < 0 || index >= runs.length) fail("Run " + index + ' of node "' + name + '" not found');
    var main = runs[index];
    if (main === null && index !== runs.length - 1) {
      fail("Run " + index + ' of node "' + name + '" not found');
    }
    if (!main || !main.length || main[0] === null) fail("No data found from `main` input");
    if (main.length <= branch) fail('Node "' + name + '" has no branch with index ' + branch + ".");
    return main[branch] || [];
  }

  function pairedResult(answer) {
    if (answer === "undefined") return undefined;
    if (!answer) fail("Invalid expression", "No path back to referenced node");
    if (answer.error) fail(answer.error.message, answer.error.description || undefined);
    return answer.item;
  }

  function nodeHandle(d, nodes, name) {
    var info = nodeInfo(nodes, name);
    function paired(method, index) {
      if (!info.ancestor) fail("Invalid expression", "No path back to referenced node");
      ensureExecuted(info, name);
      var at = index === undefined ? d.itemIndex : index;
      // `paired` is the lineage of the item the server evaluated for; a Code node run for
      // each item moves `itemIndex` along (keeping that one in `pairedFor`) and reads the
      // other items' lineage from `matching`.
      var pairedFor = d.pairedFor === undefined ? d.itemIndex : d.pairedFor;
      if (at === pairedFor) return pairedResult(info.paired);
      return pairedResult((info.matching || [])[at]);
    }
    return {
      get isExecuted() { return !!info.executed; },
      get params() { return info.parameters; },
      get context() { return {}; },
      get item() { return paired("item"); },
      itemMatching: function (index) {
        if (index === undefined) fail("Missing item index for .itemMatching()");
        return paired("itemMatching", index);
      },
      pairedItem: function (index) { return paired("pairedItem", index); },
      first: function (branch, run) {
        ensureExecuted(info, name);
        return nodeOutput(d, nodes, name, branch === undefined ? info.branch : branch, run)[0];
      },
      last: function (branch, run) {
        ensureExecuted(info, name);
        var list = nodeOutput(d, nodes, name, branch === undefined ? info.branch : branch, run);
        return list[list.length - 1];
      },
      all: function (branch, run) {
        ensureExecuted(info, name);
        return nodeOutput(d, nodes, name, branch === undefined ? info.branch : branch, run);
      }
    };
  }

  // `$node["Name"]` (older syntax): the item at the same index as the current one.
  function nodeProxy(d, nodes, itemIndex, run) {
    return new Proxy({}, {
      get: function (target, name) {
        if (typeof name !== "string") return undefined;
        return nodeData(d, nodes, name, itemIndex, run);
      }
    });
  }

  function nodeData(d, nodes, name, itemIndex, run) {
    function item() {
      var info = nodes[name];
      if (!info || !info.exists) fail("Referenced node doesn't exist");
      if (!info.connected) fail('connect "' + d.node.name + '" to "' + name + '"');
      var list = info.executed ? nodeOutput(d, nodes, name, info.branch, run) : [];
      if (!list.length) fail("Node '" + name + "' hasn't been executed", UNEXECUTED.replace("NAME", name));
      if (list.length <= itemIndex) {
        fail('"' + name + '" node has ' + list.length + " item(s) but you're trying to access item " + itemIndex);
      }
      return list[itemIndex];
    }
    return {
      get json() { return item().json; },
      get data() { return item().json; },
      get binary() {
        var binary = item().binary || {};
        var out = {};
        Object.keys(binary).forEach(function (k) {
          out[k] = {};
          Object.keys(binary[k] || {}).forEach(function (p) { if (p !== "data") out[k][p] = binary[k][p]; });
        });
        return out;
      },
      get parameter() { var info = nodeInfo(nodes, name); return info.parameters; },
      get runIndex() { var info = nodes[name]; return info && info.runs ? info.runs.length - 1 : -1; },
      get context() { return {}; }
    };
  }

  // ---- evaluation ----

  var EMPTY_THIS = Object.freeze({ process: Object.freeze({}) });

  // QuickJS reports running out of memory as a catchable InternalError, or as a bare null
  // when it cannot even build that error: either must end the evaluation, not become an
  // undefined value.
  function isFatal(e) {
    return e === null || e === undefined ||
      (typeof InternalError === "function" && e instanceof InternalError);
  }

  // Only a call of an extension on null or undefined is n8n's error; reading a property of
  // that name (`$json.missing.length`) is a TypeError like any other, worth undefined.
  function runBlock(fn, scope, code) {
    try {
      return fn.call(EMPTY_THIS, scope);
    } catch (e) {
      if (e instanceof ExpressionError || isFatal(e)) throw e;
      var converted = globalThis.__n8nExtensionError(e);
      if (converted && calls(code, e)) throw converted;
      return undefined;
    }
  }

  function calls(code, e) {
    var m = /cannot read property '([^']+)'/.exec(String(e && e.message));
    if (!m || typeof code !== "string") return true;
    var name = m[1].replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return new RegExp("\\.\\s*" + name + "\\s*\\(").test(code);
  }

  var lastZone = null;

  function evaluate(request) {
    var d = request.data;
    // Luxon validates a zone name each time one is set: only set it when it changes.
    if (lastZone !== (d.timezone || "UTC")) {
      lastZone = d.timezone || "UTC";
      Settings.defaultZone = lastZone;
    }
    Settings.now = function () { return d.now; };
    return evaluateChunks(request.chunks, d);
  }

  function evaluateChunks(chunks, d) {
    var source = chunks.map(function (c) { return c.code !== undefined ? "{{" + c.code + "}}" : c.text; }).join("");
    checkSafety(source);
    var fns;
    try {
      fns = chunks.map(function (c) { return c.code !== undefined ? compile(c.code) : null; });
    } catch (e) {
      if (e instanceof ExpressionError) throw e;
      fail("invalid syntax");
    }
    var scope = makeScope(d);
    var lone = chunks.length === 2 && chunks[0].text === "" && chunks[1].code !== undefined;
    if (lone) return runBlock(fns[1], scope, chunks[1].code);
    var parts = [];
    chunks.forEach(function (c, i) {
      if (c.code === undefined) { parts.push(c.text); return; }
      var v = runBlock(fns[i], scope, c.code);
      if (isExtension(v)) v = undefined;
      parts.push(v || v === 0 || v === false ? v : "");
    });
    return parts.join("");
  }

  globalThis.__n8nExpressionError = ExpressionError;
  globalThis.__n8nFail = fail;
  // The Code node's runner (assets/code/runner.js) builds its variables the same way.
  globalThis.__n8nScope = Object.freeze({
    make: makeScope,
    current: function () { return state; },
    resume: function (saved) { state = saved; },
    fail: fail,
    ExpressionError: ExpressionError
  });
  // The answer, with the custom data when the expression changed it (even if it failed
  // afterwards: n8n keeps what was set).
  function answer(text) {
    if (!state || !state.customDataChanged) return text;
    return text.slice(0, -1) + ',"customData":' + JSON.stringify(state.customData) + "}";
  }

  globalThis.__n8nEvaluate = function (requestText) {
    state = null;
    try {
      return answer(encode(evaluate(JSON.parse(requestText))));
    } catch (e) {
      if (isFatal(e)) throw e;
      if (e instanceof ExpressionError) {
        return answer(JSON.stringify({ error: { message: e.message, description: e.description } }));
      }
      return answer(JSON.stringify({ error: { message: String(e && e.message || e) } }));
    }
  };
})();
