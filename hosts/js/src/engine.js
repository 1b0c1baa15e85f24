// The engine: one instance of the Vexil wasm module (wasm/ABI.md, ABI version 1) with the
// per-snapshot state a host keeps beside it: flag keys → indices, attribute names → ids,
// lazily decoded variation values and rule ids, and the current context.
//
// This module is internal: the client (client.js) is the public API. It never throws from an
// evaluation; load and setContext report what they refuse.

import { encodeContext } from './context.js';

/** The ABI version this host implements (wasm/ABI.md). */
export const ABI_VERSION = 1;

const P = 'vexil:engine/evaluator@0.1.0#';
const MIN_BUFFER = 4096;

/** Reasons by their 3-bit code in a packed result. */
export const REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'PREREQUISITE_FAILED', 'ERROR'];
/** Error codes by their 2-bit code in a packed result ('' is none). */
export const ERROR_CODES = ['', 'FLAG_NOT_FOUND', 'PARSE_ERROR', 'TYPE_MISMATCH'];
/** Typed-check kinds of evaluate-typed, by the name a getter uses. */
export const KINDS = { any: 0, boolean: 1, string: 2, number: 3, integer: 4, json: 5 };

/** Packed result of an unknown flag: variation -1, reason ERROR, FLAG_NOT_FOUND. */
export const PACKED_NOT_FOUND = ((6 << 26) | (1 << 29)) >>> 0;

const utf8 = new TextDecoder('utf-8');
const utf8Enc = new TextEncoder();

/**
 * Compiles the module from what the caller has: a WebAssembly.Module, bytes (ArrayBuffer,
 * typed array), a Response or a promise of one (streaming compilation in browsers), a URL or a
 * path/URL string (Node: read from the file system for file: URLs and paths; elsewhere fetched
 * with streaming compilation).
 * @param {WebAssembly.Module|BufferSource|Response|Promise<Response>|URL|string} source
 * @returns {Promise<WebAssembly.Module>}
 */
export async function compileModule(source) {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  if (typeof source === 'string' || source instanceof URL) {
    const url = toURL(source);
    if (url.protocol === 'file:') {
      const { readFile } = await import('node:fs/promises');
      return WebAssembly.compile(await readFile(url));
    }
    return compileResponse(fetch(url));
  }
  if (source && (typeof source.then === 'function' || typeof source.arrayBuffer === 'function')) {
    return compileResponse(source);
  }
  throw new TypeError('vexil: wasm: want a WebAssembly.Module, bytes, a Response, a URL or a path');
}

function toURL(s) {
  if (s instanceof URL) return s;
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-z]:[\\/]/i.test(s)) return new URL(s);
  if (typeof process === 'object' && process.versions && process.versions.node) {
    // A file system path (Node): resolve it against the working directory.
    const abs = s.startsWith('/') ? s : process.cwd().replace(/\/?$/, '/') + s;
    return new URL('file://' + abs.split('/').map(encodeURIComponent).join('/'));
  }
  return new URL(s, globalThis.location ? globalThis.location.href : undefined);
}

async function compileResponse(resp) {
  const r = await resp;
  if (!r.ok) throw new Error(`vexil: wasm: GET ${r.url}: HTTP ${r.status}`);
  // Streaming compilation needs the application/wasm content type; fall back to bytes.
  const type = r.headers.get('content-type') || '';
  if (typeof WebAssembly.compileStreaming === 'function' && type.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(r);
  }
  return WebAssembly.compile(await r.arrayBuffer());
}

/** An error the engine refused an input with (a snapshot, a context), or a broken instance. */
export class EngineError extends Error {
  /** @param {string} op @param {string} message */
  constructor(op, message) {
    super(`vexil: ${op}: ${message}`);
    this.name = 'EngineError';
    this.op = op;
  }
}

/**
 * One wasm instance and its snapshot. Not re-entrant (a wasm instance never is); JS runs one
 * call at a time anyway.
 */
export class Engine {
  /**
   * Instantiates the module (no imports, no start function), calls _initialize once, and checks
   * the ABI version.
   * @param {WebAssembly.Module} module
   */
  static async create(module) {
    const instance = await WebAssembly.instantiate(module, {});
    return new Engine(instance);
  }

  /** @param {WebAssembly.Instance} instance */
  constructor(instance) {
    const x = instance.exports;
    const fn = (name) => {
      const f = x[P + name];
      if (typeof f !== 'function') throw new EngineError('instantiate', `the module does not export ${P}${name} (not a Vexil engine of ABI ${ABI_VERSION})`);
      return f;
    };
    if (typeof x._initialize === 'function') x._initialize();
    const v = fn('abi-version')();
    if (v !== ABI_VERSION) throw new EngineError('instantiate', `the module implements ABI version ${v}, this host ABI version ${ABI_VERSION}`);
    this._mem = x.memory;
    this._buffer = fn('buffer');
    this._load = fn('load');
    this._flagCount = fn('flag-count');
    this._flagKey = fn('flag-key');
    this._attrCount = fn('attribute-count');
    this._attrName = fn('attribute-name');
    this._setContext = fn('set-context');
    /** evaluate-typed(flag, kind) → packed (signed i32; use >>> 0). The hot call. */
    this.evaluateTyped = fn('evaluate-typed');
    this._evaluateAll = fn('evaluate-all');
    this._variationJSON = fn('variation-json');
    this._ruleId = fn('rule-id');
    this._isStatic = fn('is-static');
    this._problemCount = fn('problem-count');
    this._problem = fn('problem');
    this._errorText = fn('error-text');

    this._bufPtr = 0;
    this._bufCap = 0;
    this._u8 = new Uint8Array(this._mem.buffer);

    /** Version of the loaded snapshot, -1 before the first load. */
    this.version = -1;
    /** @type {string[]} flag keys by index */
    this.keys = [];
    /** @type {Map<string, number>} */
    this._index = new Map();
    /** @type {Map<string, number>} attribute ids by name */
    this.attributeIds = new Map();
    /** @type {string[]} problems of the loaded snapshot */
    this.problems = [];
    this._static = new Uint8Array(0);
    this._staticPacked = new Uint32Array(0);
    this._values = [];
    this._valueJSON = [];
    this._rules = [];
    this._contextSet = false;
    /** Set when the instance trapped: every evaluation answers the caller's default. */
    this.broken = null;
  }

  /** The memory as bytes; taken again when a call grew (and so detached) the memory. */
  _bytes() {
    if (this._u8.buffer !== this._mem.buffer) this._u8 = new Uint8Array(this._mem.buffer);
    return this._u8;
  }

  /** Makes sure the guest buffer holds n bytes; returns its address. */
  _reserve(n) {
    if (n > this._bufCap) {
      const size = Math.max(n, MIN_BUFFER);
      const p = this._buffer(size) >>> 0;
      if (p === 0) throw new EngineError('buffer', `the guest cannot provide a buffer of ${size} bytes`);
      this._bufPtr = p;
      this._bufCap = size;
    }
    return this._bufPtr;
  }

  _write(bytes) {
    const p = this._reserve(bytes.length);
    this._bytes().set(bytes, p);
    return bytes.length;
  }

  /** Reads the UTF-8 text a packed (ptr << 32 | len) i64 names; 0n is ''. */
  _text(packed) {
    if (packed === 0n) return '';
    const v = BigInt.asUintN(64, packed);
    const ptr = Number(v >> 32n), len = Number(v & 0xffffffffn);
    return utf8.decode(this._bytes().subarray(ptr, ptr + len));
  }

  /**
   * Loads a snapshot (its JSON bytes or text) and resolves everything per snapshot. A snapshot
   * unusable as a whole throws an EngineError with the engine's reason, and the previous
   * snapshot stays loaded. The context must be set again afterwards (setContext).
   * @param {Uint8Array|string} json
   * @returns {number} the snapshot's version
   */
  load(json) {
    const bytes = typeof json === 'string' ? utf8Enc.encode(json) : json;
    this._guard(() => {
      const v = this._load(this._write(bytes));
      if (v < 0n) throw new EngineError('load', this._text(this._errorText()) || 'the engine refused the snapshot');
      this.version = Number(v);
      const n = this._flagCount() >>> 0;
      this.keys = new Array(n);
      this._index = new Map();
      for (let i = 0; i < n; i++) {
        const k = this._text(this._flagKey(i));
        this.keys[i] = k;
        if (!this._index.has(k)) this._index.set(k, i); // duplicates: the first loads
      }
      const na = this._attrCount() >>> 0;
      this.attributeIds = new Map();
      for (let id = 0; id < na; id++) this.attributeIds.set(this._text(this._attrName(id)), id);
      const np = this._problemCount() >>> 0;
      this.problems = [];
      for (let i = 0; i < np; i++) this.problems.push(this._text(this._problem(i)));
      // Static flags serve one result to every context: ask the engine once per typed-check
      // kind and answer from the host afterwards (0 = not asked yet; no static flag packs to 0,
      // which would be STATIC with the caller's default).
      this._static = new Uint8Array(n);
      for (let i = 0; i < n; i++) this._static[i] = this._isStatic(i);
      this._staticPacked = new Uint32Array(n * 6);
      this._values = new Array(n);
      this._valueJSON = new Array(n);
      this._rules = new Array(n);
      this._contextSet = false;
    });
    return this.version;
  }

  /** Runs f; a trap (any non-EngineError) breaks the instance for good. */
  _guard(f) {
    if (this.broken) throw this.broken;
    try {
      return f();
    } catch (e) {
      if (e instanceof EngineError && e.op !== 'trap') throw e;
      this.broken = new EngineError('trap', `the wasm instance failed and is discarded: ${e && e.message}`);
      throw this.broken;
    }
  }

  /** Index of flag key in the loaded snapshot, -1 when it has none. */
  index(key) {
    const i = this._index.get(key);
    return i === undefined ? -1 : i;
  }

  /**
   * Sets the context of the next evaluations. Attributes the snapshot does not use are left
   * out (no flag can read them), but every attribute is checked as the native core checks it.
   * @param {object} ctx {targetingKey, ...attributes}
   * @param {number} now epoch milliseconds
   * @param {number} random uint32
   * @returns {string} '' or the problem ("context.plan: unsupported type object"); on a
   *   problem the context has no attributes
   */
  setContext(ctx, now, random) {
    let bytes;
    try {
      bytes = encodeContext(ctx, this.attributeIds, now, random);
    } catch (e) {
      this._contextSet = false;
      return e.message;
    }
    try {
      return this._guard(() => {
        if (this._setContext(this._write(bytes)) !== 0) {
          this._contextSet = false;
          return this._text(this._errorText());
        }
        this._contextSet = true;
        return '';
      });
    } catch (e) {
      this._contextSet = false;
      return e.message; // a buffer the guest cannot provide, or a trap (then broken is set)
    }
  }

  /** Whether a context is set since the last load. */
  get contextSet() {
    return this._contextSet;
  }

  /** Evaluates flag i with the typed check kind (0 … 5); packed u32 result. Never throws. */
  evaluate(i, kind) {
    if (this.broken || i < 0) return PACKED_NOT_FOUND;
    try {
      if (this._static[i] === 1) {
        const k = i * 6 + kind;
        const p = this._staticPacked[k];
        return p !== 0 ? p : (this._staticPacked[k] = this.evaluateTyped(i, kind) >>> 0);
      }
      return this.evaluateTyped(i, kind) >>> 0;
    } catch (e) {
      this.broken = new EngineError('trap', `the wasm instance failed and is discarded: ${e && e.message}`);
      return PACKED_NOT_FOUND;
    }
  }

  /**
   * Evaluates every flag in index order. The array is a view of guest memory, valid until the
   * next call into the engine: read it at once.
   * @returns {Uint32Array|null} null when the instance is broken
   */
  evaluateAll() {
    if (this.broken) return null;
    try {
      const p = this._evaluateAll() >>> 0;
      const n = this.keys.length;
      // The array is 4-byte aligned in guest memory (u32 elements), so a Uint32Array view works.
      return new Uint32Array(this._mem.buffer, p, n);
    } catch (e) {
      this.broken = new EngineError('trap', `the wasm instance failed and is discarded: ${e && e.message}`);
      return null;
    }
  }

  /** The compact JSON text of variation v of flag i (cached per snapshot). */
  valueJSON(i, v) {
    let row = this._valueJSON[i];
    if (!row) row = this._valueJSON[i] = [];
    let s = row[v];
    if (s === undefined) {
      try {
        s = row[v] = this._text(this._variationJSON(i, v));
      } catch (e) {
        this.broken = new EngineError('trap', `the wasm instance failed and is discarded: ${e && e.message}`);
        return 'null';
      }
    }
    return s;
  }

  /** Variation v of flag i as a JS value, decoded once per snapshot (objects are frozen). */
  value(i, v) {
    const row = this._values[i];
    if (row !== undefined) {
      const val = row[v];
      if (val !== undefined) return val; // JSON has no undefined: a hit
    }
    return this._decode(i, v);
  }

  _decode(i, v) {
    let row = this._values[i];
    if (!row) row = this._values[i] = [];
    const val = deepFreeze(JSON.parse(this.valueJSON(i, v)));
    row[v] = val;
    return val;
  }

  /** The id of rule r of flag i, '' when it has none (cached per snapshot). */
  ruleId(i, r) {
    let row = this._rules[i];
    if (!row) row = this._rules[i] = [];
    let s = row[r];
    if (s === undefined) {
      try {
        s = row[r] = this._text(this._ruleId(i, r));
      } catch (e) {
        this.broken = new EngineError('trap', `the wasm instance failed and is discarded: ${e && e.message}`);
        return '';
      }
    }
    return s;
  }
}

function deepFreeze(v) {
  if (v !== null && typeof v === 'object') {
    for (const k of Object.keys(v)) deepFreeze(v[k]);
    Object.freeze(v);
  }
  return v;
}
