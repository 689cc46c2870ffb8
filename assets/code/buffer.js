// A small `Buffer` for the Code node (QuickJS has none): what n8n's Code examples use with
// binary data — `Buffer.from(text | bytes | base64, encoding)`, `buf.toString(encoding)`,
// `Buffer.concat`, `Buffer.isBuffer`, `Buffer.alloc`, `Buffer.byteLength` — with Node's
// encodings utf8, base64, base64url, hex, latin1/binary and ascii. Invalid UTF-8 decodes to
// U+FFFD, as in Node. Loaded before the runner, frozen with the other built-ins.
(function () {
  "use strict";

  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  var B64_VALUE = {};
  for (var i = 0; i < B64.length; i++) B64_VALUE[B64[i]] = i;
  B64_VALUE["-"] = 62;
  B64_VALUE["_"] = 63;

  function normal(encoding) {
    var e = String(encoding === undefined ? "utf8" : encoding).toLowerCase();
    if (e === "utf-8") return "utf8";
    if (e === "binary") return "latin1";
    if (["utf8", "base64", "base64url", "hex", "latin1", "ascii"].indexOf(e) < 0) {
      throw new TypeError("Unknown encoding: " + encoding);
    }
    return e;
  }

  function utf8Bytes(text) {
    var out = [];
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
        var d = text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
        } else c = 0xfffd;
      } else if (c >= 0xd800 && c < 0xe000) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  }

  function utf8Text(bytes, start, end) {
    var out = "";
    var i = start;
    while (i < end) {
      var b = bytes[i];
      var need = b < 0x80 ? 0 : b >= 0xc2 && b < 0xe0 ? 1 : b >= 0xe0 && b < 0xf0 ? 2 : b >= 0xf0 && b < 0xf5 ? 3 : -1;
      if (need < 0) { out += "\ufffd"; i++; continue; }
      var c = need === 0 ? b : b & (0x3f >> need);
      var ok = true;
      for (var k = 1; k <= need; k++) {
        var next = bytes[i + k];
        if (i + k >= end || (next & 0xc0) !== 0x80) { ok = false; break; }
        c = (c << 6) | (next & 63);
      }
      if (!ok || (need === 2 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) ||
          (need === 3 && (c < 0x10000 || c > 0x10ffff))) {
        out += "\ufffd";
        i++;
        continue;
      }
      out += String.fromCodePoint(c);
      i += need + 1;
    }
    return out;
  }

  function base64Bytes(text) {
    var out = [], bits = 0, value = 0;
    for (var i = 0; i < text.length; i++) {
      var v = B64_VALUE[text[i]];
      if (v === undefined) {
        if (text[i] === "=") break;
        continue; // Node skips what is not base64
      }
      value = ((value << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) { bits -= 8; out.push((value >> bits) & 255); }
    }
    return out;
  }

  function base64Text(bytes, start, end, url) {
    var out = "";
    for (var i = start; i < end; i += 3) {
      var a = bytes[i], b = i + 1 < end ? bytes[i + 1] : 0, c = i + 2 < end ? bytes[i + 2] : 0;
      var n = (a << 16) | (b << 8) | c;
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < end ? B64[(n >> 6) & 63] : url ? "" : "=";
      out += i + 2 < end ? B64[n & 63] : url ? "" : "=";
    }
    return url ? out.replace(/\+/g, "-").replace(/\//g, "_") : out;
  }

  function bytesOf(text, encoding) {
    switch (normal(encoding)) {
      case "utf8": return utf8Bytes(text);
      case "base64":
      case "base64url": return base64Bytes(text);
      case "hex": {
        var out = [];
        for (var i = 0; i + 1 < text.length; i += 2) {
          var byte = parseInt(text.substr(i, 2), 16);
          if (isNaN(byte)) break;
          out.push(byte);
        }
        return out;
      }
      default: {
        var bytes = [];
        for (var j = 0; j < text.length; j++) bytes.push(text.charCodeAt(j) & 255);
        return bytes;
      }
    }
  }

  class Buffer extends Uint8Array {
    toString(encoding, start, end) {
      var from = start === undefined ? 0 : Math.max(0, start | 0);
      var to = end === undefined ? this.length : Math.min(this.length, end | 0);
      if (to <= from) return "";
      switch (normal(encoding)) {
        case "utf8": return utf8Text(this, from, to);
        case "base64": return base64Text(this, from, to, false);
        case "base64url": return base64Text(this, from, to, true);
        case "hex": {
          var hex = "";
          for (var i = from; i < to; i++) hex += (this[i] < 16 ? "0" : "") + this[i].toString(16);
          return hex;
        }
        case "ascii": {
          var ascii = "";
          for (var k = from; k < to; k++) ascii += String.fromCharCode(this[k] & 127);
          return ascii;
        }
        default: {
          var latin = "";
          for (var j = from; j < to; j++) latin += String.fromCharCode(this[j]);
          return latin;
        }
      }
    }

    toJSON() {
      return { type: "Buffer", data: Array.prototype.slice.call(this) };
    }

    equals(other) {
      if (!(other instanceof Uint8Array) || other.length !== this.length) return false;
      for (var i = 0; i < this.length; i++) if (this[i] !== other[i]) return false;
      return true;
    }

    static from(value, encoding) {
      if (typeof value === "string") return new Buffer(bytesOf(value, encoding));
      if (value instanceof ArrayBuffer) return new Buffer(new Uint8Array(value));
      if (Array.isArray(value) || value instanceof Uint8Array) return new Buffer(value);
      if (value && value.type === "Buffer" && Array.isArray(value.data)) return new Buffer(value.data);
      throw new TypeError("The first argument must be a string, a Buffer, an ArrayBuffer or an array");
    }

    static alloc(size, fill) {
      var buffer = new Buffer(Math.max(0, size | 0));
      if (fill !== undefined) buffer.fill(typeof fill === "number" ? fill : bytesOf(String(fill))[0] || 0);
      return buffer;
    }

    static isBuffer(value) {
      return value instanceof Buffer;
    }

    static byteLength(value, encoding) {
      return typeof value === "string" ? bytesOf(value, encoding).length : value.byteLength;
    }

    static concat(list, total) {
      var size = 0;
      list.forEach(function (b) { size += b.length; });
      var out = new Buffer(total === undefined ? size : total);
      var at = 0;
      list.forEach(function (b) {
        if (at < out.length) out.set(b.length + at > out.length ? b.subarray(0, out.length - at) : b, at);
        at += b.length;
      });
      return out;
    }
  }

  Object.freeze(Buffer.prototype);
  Object.freeze(Buffer);
  globalThis.__n8nBuffer = Buffer;
})();
