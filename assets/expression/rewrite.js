// Source rewrites n8n makes before running a block, done here on the text: `$if(...)`
// becomes a conditional, `value.ext(args)` a call through the extension dispatcher, and only
// the first statement of a block is kept. Each works on a mask of which characters are
// inside string or template literals, so that text in quotes is never rewritten.
(function () {
  "use strict";

  // `$if(test, a, b)` is a conditional in n8n, not a call: only the branch taken runs.
  // Rewrites each call whose arguments can be split at top-level commas.
  function rewriteIf(code) {
    var at = code.search(/(^|[^\w$.])\$if\s*\(/);
    if (at < 0) return code;
    var start = code.indexOf("$if", at);
    var open = code.indexOf("(", start);
    var args = [], depth = 0, quote = null, from = open + 1, i;
    for (i = open + 1; i < code.length; i++) {
      var c = code[i];
      if (quote) {
        if (c === "\\") i++;
        else if (c === quote) quote = null;
        continue;
      }
      if (c === "'" || c === "\"" || c === "`") quote = c;
      else if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if (c === "," && depth === 0) {
        args.push(code.slice(from, i));
        from = i + 1;
      }
    }
    if (i >= code.length) return code;
    args.push(code.slice(from, i));
    if (args.length === 1 && args[0].trim() === "") args = [];
    if (args.some(function (a) { return /^\s*\.\.\./.test(a); })) return code;
    // n8n refuses this while rewriting the code, which it reports as a syntax error.
    if (args.length < 2) globalThis.__n8nFail("invalid syntax");
    var alternative = args.length > 2 ? rewriteIf(args[2]) : "false";
    var replaced = "((" + rewriteIf(args[0]) + ") ? (" + rewriteIf(args[1]) + ") : (" + alternative + "))";
    return code.slice(0, start) + replaced + rewriteIf(code.slice(i + 1));
  }

  // For each character of `code` inside a string or template literal, the index where that
  // literal starts; undefined outside literals.
  // The code inside `${ }` of a template literal counts as code.
  function literalMask(code) {
    var mask = new Array(code.length);
    var quote = null, from = 0;
    var templates = []; // brace depth of each `${` we are inside
    for (var i = 0; i < code.length; i++) {
      var c = code[i];
      if (quote) {
        mask[i] = from;
        if (c === "\\") { mask[++i] = from; continue; }
        if (quote === "`" && c === "$" && code[i + 1] === "{") {
          mask[++i] = from;
          templates.push({ depth: 0, from: from });
          quote = null;
          continue;
        }
        if (c === quote) quote = null;
      } else if (c === "'" || c === "\"" || c === "`") {
        quote = c;
        from = i;
        mask[i] = from;
      } else if (templates.length && (c === "{" || c === "}")) {
        var top = templates[templates.length - 1];
        if (c === "{") top.depth++;
        else if (top.depth > 0) top.depth--;
        else {
          templates.pop();
          quote = "`";
          from = top.from;
          mask[i] = from;
        }
      }
    }
    return mask;
  }

  // The start of the member chain that ends just before `end` (`$json.a[0]`, `$('X').item`,
  // `'text'`, `(1.5)`, `new Date()`), or -1.
  function chainStart(code, mask, end) {
    var i = end - 1;
    var start = -1;
    while (i >= 0) {
      var c = code[i];
      if (mask[i] !== undefined) {
        start = mask[i];
        i = start - 1;
      } else if (c === ")" || c === "]") {
        var open = c === ")" ? "(" : "[";
        var depth = 0;
        for (; i >= 0; i--) {
          if (mask[i] !== undefined) { i = mask[i]; continue; }
          if (code[i] === c) depth++;
          else if (code[i] === open && --depth === 0) break;
        }
        if (i < 0) return -1;
        start = i;
        if (i > 0 && /[\w$)\]]/.test(code[i - 1])) { i--; continue; }
        if (open === "(" && i > 1 && code[i - 1] === "." && code[i - 2] === "?") { i -= 3; continue; }
      } else if (/[\w$]/.test(c)) {
        while (i >= 0 && /[\w$]/.test(code[i]) && mask[i] === undefined) i--;
        start = i + 1;
      } else {
        return -1;
      }
      if (start > 0 && code[start - 1] === ".") {
        i = start - 2;
        if (i >= 0 && code[i] === "?") i--;
        continue;
      }
      break;
    }
    if (start < 0) return -1;
    var before = code.slice(0, start);
    var newMatch = /(^|[^\w$.])new\s+$/.exec(before);
    if (newMatch) start = before.length - newMatch[0].length + newMatch[1].length;
    return start;
  }

  // n8n calls extension functions through its own dispatcher rather than as methods, so
  // they also answer on null and undefined (`$json.missing.isEmpty()` is true). Rewrites
  // `chain.name(args)` into `__extend(chain, "name", [args])` for every extension name.
  function rewriteExtensions(code) {
    var names = globalThis.__n8nExtensions.names;
    var pattern = /\.\s*([A-Za-z_$][\w$]*)\s*\(/g;
    var out = code;
    for (var guard = 0; guard < 200; guard++) {
      var mask = literalMask(out);
      pattern.lastIndex = 0;
      var m, done = true;
      while ((m = pattern.exec(out)) !== null) {
        if (mask[m.index] !== undefined || !Object.prototype.hasOwnProperty.call(names, m[1])) continue;
        var optional = m.index > 0 && out[m.index - 1] === "?";
        var start = chainStart(out, mask, optional ? m.index - 1 : m.index);
        if (start < 0 || start === m.index) continue;
        var open = m.index + m[0].length - 1;
        var depth = 0, close = -1;
        for (var j = open; j < out.length; j++) {
          if (mask[j] !== undefined) continue;
          if (out[j] === "(" || out[j] === "[" || out[j] === "{") depth++;
          else if (out[j] === ")" || out[j] === "]" || out[j] === "}") {
            if (--depth === 0) { close = j; break; }
          }
        }
        if (close < 0) continue;
        out = out.slice(0, start) + (optional ? "__extendOptional(" : "__extend(") +
          out.slice(start, optional ? m.index - 1 : m.index) + ", \"" + m[1] +
          "\", [" + out.slice(open + 1, close) + "])" + out.slice(close + 1);
        done = false;
        break;
      }
      if (done) break;
    }
    return out;
  }

  // n8n keeps the first statement of a block (`{{ 1; 2 }}` is 1).
  function firstStatement(body) {
    var mask = literalMask(body);
    var depth = 0;
    for (var i = 0; i < body.length; i++) {
      if (mask[i] !== undefined) continue;
      var c = body[i];
      if (c === "(" || c === "[" || c === "{") depth++;
      else if (c === ")" || c === "]" || c === "}") depth--;
      else if (c === ";" && depth === 0) return body.slice(0, i);
    }
    return null;
  }

  globalThis.__n8nRewrite = Object.freeze({
    rewriteIf: rewriteIf,
    rewriteExtensions: rewriteExtensions,
    firstStatement: firstStatement
  });
})();
