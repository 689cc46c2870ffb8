// Last step of loading: every built-in prototype, constructor and the global object are
// frozen, so that nothing an expression does can change what the next expression on this
// runtime sees.
(function () {
  "use strict";
  var luxon = globalThis.luxon;
  var roots = [Object, Function, Array, String, Number, Boolean, Symbol, Date, RegExp, Error,
    TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, Map, Set, WeakMap,
    WeakSet, Promise, Proxy, JSON, Math, Reflect, ArrayBuffer, DataView, BigInt,
    Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float32Array,
    Float64Array, Uint8ClampedArray, Intl, Intl.DateTimeFormat, Intl.NumberFormat,
    Intl.ListFormat, luxon.DateTime, luxon.Duration, luxon.Interval, luxon.Info, luxon.Zone,
    luxon.IANAZone, luxon.FixedOffsetZone, luxon.SystemZone, luxon.InvalidZone,
    globalThis.jmespath];
  roots.forEach(function (root) {
    if (!root) return;
    if (root.prototype) Object.freeze(root.prototype);
    Object.freeze(root);
  });
  Object.freeze(Object.getPrototypeOf(function* () {}));
  Object.freeze(Object.getPrototypeOf(async function () {}));
  Object.freeze(Object.getPrototypeOf([][Symbol.iterator]()));
  Object.freeze(Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())));
  Object.freeze(Object.getPrototypeOf(Uint8Array));
  Object.freeze(Object.getPrototypeOf(Uint8Array.prototype));
  Object.freeze(luxon);
  // Our own tables and host functions: nothing may replace an entry.
  [globalThis.__host, globalThis.__n8nExtensions, globalThis.__n8nExtensions.names,
    globalThis.__n8nDateExtensions].forEach(function (o) {
    Object.keys(o).forEach(function (k) { if (typeof o[k] === "function") Object.freeze(o[k]); });
    Object.freeze(o);
  });
  Object.freeze(globalThis);
})();
