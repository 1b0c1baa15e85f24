// The public client: createClient, getters, detail, all, setContext, events, close.

import { compileModule, Engine, EngineError, KINDS, REASONS, ERROR_CODES } from './engine.js';
import { SnapshotDoc } from './snapshot.js';
import { DaemonSource } from './source.js';
import { resolveStore } from './storage.js';

const STATE_OK = 0, STATE_NOW = 1, STATE_FULL = 2;
const RENEW_MIN = 32 << 20;
const EVENTS = ['ready', 'change', 'stale', 'error'];
const utf8 = new TextDecoder();

/** Where the packaged module lives (the package ships vexil.wasm beside src/). */
const DEFAULT_WASM = new URL('../vexil.wasm', import.meta.url);

let sharedModule = null; // Promise<WebAssembly.Module> for the default location

/**
 * Creates a client and resolves once it is ready, or once the first attempt to reach the
 * daemon failed (serving the stored or bootstrap snapshot, STALE), or after options.timeout ms
 * (serving what it has; checks answer their defaults with PROVIDER_NOT_READY until a snapshot
 * arrives). Bad options reject with an error naming the option.
 *
 * @param {import('../index.d.ts').ClientOptions} [options]
 * @returns {Promise<Client>}
 */
export async function createClient(options = {}) {
  const o = checkOptions(options);
  let module;
  try {
    module = await (o.wasm === undefined ? (sharedModule ??= compileModule(DEFAULT_WASM)) : compileModule(o.wasm));
  } catch (e) {
    if (o.wasm === undefined) sharedModule = null; // let a later call try again
    throw new Error(`vexil: createClient: cannot load the engine module (options.wasm${o.wasm === undefined ? ' default, ' + DEFAULT_WASM : ''}): ${e.message}`);
  }
  const engine = await Engine.create(module);
  const client = new Client(engine, o, module);
  await client._start();
  return client;
}

function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('vexil: createClient: options must be an object');
  const bad = (field, why) => {
    throw new TypeError(`vexil: createClient: options.${field}: ${why}`);
  };
  const o = { ...options };
  if (o.url !== undefined) {
    if (typeof o.url !== 'string' || !/^https?:\/\//.test(o.url)) bad('url', 'must be an http(s) URL of a Vexil daemon');
    if (typeof o.clientKey !== 'string' || o.clientKey === '') bad('clientKey', 'required with url (a vx_client_… key)');
    if (o.clientKey.startsWith('vx_server_')) bad('clientKey', 'is a server key: never ship it to a browser; use the environment\'s client key');
  } else if (o.bootstrap === undefined) {
    bad('url', 'give url (and clientKey), or a bootstrap snapshot, or both');
  }
  if (o.context !== undefined && (o.context === null || typeof o.context !== 'object' || Array.isArray(o.context))) bad('context', 'must be an object');
  if (o.bootstrap !== undefined && typeof o.bootstrap !== 'string' && !(o.bootstrap instanceof Uint8Array) && (o.bootstrap === null || typeof o.bootstrap !== 'object')) {
    bad('bootstrap', 'must be a snapshot: an object, its JSON text or its bytes');
  }
  if (o.timeout !== undefined && !(Number.isFinite(o.timeout) && o.timeout >= 0)) bad('timeout', 'must be a number of milliseconds ≥ 0');
  if (o.backoff !== undefined) {
    const { min = 1000, max = 30000 } = o.backoff ?? {};
    if (!(min > 0 && max >= min)) bad('backoff', 'want {min, max} in ms with 0 < min ≤ max');
  }
  try {
    o.store = resolveStore(o.storage);
  } catch (e) {
    bad('storage', e.message.replace(/^vexil: storage: /, ''));
  }
  return o;
}

/**
 * A Vexil client: evaluates flags locally with the wasm engine against the latest snapshot it
 * holds. Checks never throw: on any problem they return the caller's default, and detail()
 * says why.
 */
export class Client {
  /** @param {Engine} engine */
  constructor(engine, o, module) {
    this._engine = engine;
    this._module = module;
    this._renewing = false;
    this._renewAt = RENEW_MIN; // tests lower it to force renewals
    this._o = o;
    /** @type {SnapshotDoc|null} */
    this._doc = null;
    this._status = 'NOT_READY';
    this._statusWhy = 'no snapshot yet';
    this._listeners = new Map(EVENTS.map((e) => [e, new Set()]));
    this._ctx = o.context ? { ...o.context } : {};
    this._pinNow = undefined;
    this._pinRandom = undefined;
    this._random = 0;
    this._ctxError = '';
    this._state = STATE_FULL;
    this._closed = false;
    this._store = o.store;
    this._storeKey = 'vexil.snapshot.' + (o.clientKey ?? 'bootstrap');
    this._source = null;
    // The context's `now` is refreshed once a second (schedules, experiment windows), by
    // marking it stale here rather than reading the clock in every check.
    this._clock = setInterval(() => {
      if (this._state === STATE_OK && this._pinNow === undefined) this._state = STATE_NOW;
    }, 1000);
    this._clock.unref?.();
    this._drawRandom();
  }

  async _start() {
    const o = this._o;
    // Offline start: the stored snapshot or the bootstrap, whichever is newer.
    let stored = null;
    if (this._store) {
      try {
        stored = await this._store.get(this._storeKey);
      } catch (e) {
        this._emit('error', new Error('vexil: storage: cannot read the stored snapshot: ' + e.message));
      }
    }
    const boot = o.bootstrap === undefined ? null : typeof o.bootstrap === 'string' ? o.bootstrap : o.bootstrap instanceof Uint8Array ? utf8.decode(o.bootstrap) : JSON.stringify(o.bootstrap);
    const candidates = [];
    for (const [text, from] of [[stored, 'storage'], [boot, 'bootstrap']]) {
      if (text == null) continue;
      try {
        candidates.push({ doc: SnapshotDoc.parse(text), from });
      } catch (e) {
        this._emit('error', new Error(`vexil: ${from}: ${e.message}`));
      }
    }
    candidates.sort((a, b) => b.doc.version - a.doc.version);
    for (const c of candidates) if (this._load(c.doc, c.from)) break;

    if (!o.url) {
      if (this._doc) this._setStatus('READY', `serving the bootstrap snapshot, version ${this._doc.version}`);
      else this._setStatus('ERROR', 'the bootstrap snapshot could not be loaded');
      return;
    }
    if (this._doc) this._setStatus('STALE', `serving the ${this._docFrom} snapshot, version ${this._doc.version}, until the daemon answers`);
    this._source = new DaemonSource({
      url: o.url,
      clientKey: o.clientKey,
      backoff: o.backoff,
      eventSource: o.eventSource,
      sink: {
        version: () => (this._doc ? this._doc.version : -1),
        snapshot: (text) => this._fromDaemon(text, null),
        patch: (p) => this._fromDaemon(null, p),
        connection: (up, why) => {
          if (up) this._setStatus('READY', `streaming from ${o.url}`);
          else if (this._doc) this._setStatus('STALE', `serving version ${this._doc.version}: ${why}`);
          else this._setStatus('ERROR', why);
        },
        error: (e) => this._emit('error', e),
      },
    });
    const timeout = o.timeout ?? 5000;
    let t;
    await Promise.race([this._source.start(), new Promise((r) => (t = setTimeout(r, timeout)))]);
    clearTimeout(t);
  }

  /** A snapshot text or a patch from the daemon: load it, store it. */
  _fromDaemon(text, patch) {
    let doc;
    try {
      doc = patch ? this._doc.patch(patch) : SnapshotDoc.parse(text);
    } catch (e) {
      this._emit('error', new Error('vexil: daemon: ' + e.message));
      return false;
    }
    if (!this._load(doc, 'daemon')) return false;
    this._persist();
    return true;
  }

  /**
   * Stores the snapshot served, one write at a time: a write that finds a newer snapshot when
   * it completes writes that one next, so the store ends with the latest and writes never overlap.
   */
  _persist() {
    if (!this._store) return;
    if (this._storing) {
      this._storeAgain = true;
      return;
    }
    this._storing = true;
    const text = this._doc.text;
    Promise.resolve()
      .then(() => this._store.set(this._storeKey, text))
      .catch((e) => this._emit('error', new Error('vexil: storage: cannot store the snapshot: ' + e.message)))
      .finally(() => {
        this._storing = false;
        if (this._storeAgain && !this._closed) {
          this._storeAgain = false;
          if (this._doc.text !== text) this._persist();
        }
      });
  }

  /** Loads doc into the engine and emits 'change'. False (and an 'error') when refused. */
  _load(doc, from) {
    if (this._closed) return false;
    const prev = this._doc;
    const before = prev ? this._signatures() : null;
    try {
      this._engine.load(doc.text);
    } catch (e) {
      this._emit('error', e instanceof EngineError ? new EngineError(`${from} snapshot version ${doc.version}`, e.message.replace(/^vexil: load: /, '')) : e);
      return false;
    }
    this._doc = doc;
    this._docFrom = from;
    this._state = STATE_FULL;
    if (this._engine.problems.length) {
      this._emit('error', new EngineError(`snapshot version ${doc.version}`, `${this._engine.problems.length} flags or segments rejected (they answer PARSE_ERROR): ${this._engine.problems.join('; ')}`));
    }
    this._maybeRenew();
    const keys = new Set(doc.changedFlags(prev));
    if (before) {
      const after = this._signatures();
      for (const [k, s] of after) if (before.get(k) !== s) keys.add(k);
      for (const k of before.keys()) if (!after.has(k)) keys.add(k);
    }
    if (keys.size || !prev) {
      this._emit('change', { keys: [...keys].sort(), version: doc.version, previousVersion: prev ? prev.version : -1 });
    }
    return true;
  }

  /**
   * Linear memory never shrinks, and every load parses into new memory (wasm/ABI.md): a
   * long-lived client applying many patches would grow without bound. When the memory passes
   * 32 MiB and 16 × the snapshot's size, a fresh instance is made off the hot path, loaded with
   * the current snapshot and swapped in (checks keep using the old one meanwhile).
   */
  _maybeRenew() {
    const e = this._engine;
    const bytes = e._mem.buffer.byteLength;
    if (this._renewing || !this._module || !this._doc) return;
    // A trapped instance is replaced at once (its checks answer defaults meanwhile).
    if (e.broken === null && (bytes < this._renewAt || bytes < 16 * this._doc.text.length)) return;
    this._renewing = true;
    Engine.create(this._module)
      .then((fresh) => {
        this._renewing = false;
    this._renewAt = RENEW_MIN; // tests lower it to force renewals
        if (this._closed || !this._doc) return;
        fresh.load(this._doc.text); // the snapshot served now (a patch may have come meanwhile)
        this._engine = fresh;
        this._state = STATE_FULL;
        this.renewals = (this.renewals ?? 0) + 1;
      })
      .catch((err) => {
        this._renewing = false;
    this._renewAt = RENEW_MIN; // tests lower it to force renewals
        this._emit('error', new Error('vexil: renewing the engine instance: ' + err.message));
      });
  }

  /** Each flag's result for the current context, as comparable text. */
  _signatures() {
    const m = new Map();
    if (!this._prepare()) return m;
    const e = this._engine;
    const all = e.evaluateAll();
    if (!all) return m;
    const packed = Array.from(all);
    packed.forEach((p, i) => {
      const v = (p & 0x1fff) - 1;
      m.set(e.keys[i], (v >= 0 ? e.valueJSON(i, v) : '-') + ' ' + ((p >>> 26) & 7) + ' ' + ((p >>> 13) & 0x1fff));
    });
    return m;
  }

  _setStatus(status, why) {
    const changed = status !== this._status;
    this._status = status;
    this._statusWhy = why;
    if (!changed) return;
    if (status === 'READY') this._emit('ready', { version: this.version });
    else if (status === 'STALE') this._emit('stale', { version: this.version, reason: why });
    else if (status === 'ERROR') this._emit('error', new Error('vexil: ' + why));
  }

  _emit(type, arg) {
    for (const fn of this._listeners.get(type)) {
      try {
        fn(arg);
      } catch (e) {
        // A listener's failure is its own; the client goes on.
        if (type !== 'error') this._emit('error', e);
      }
    }
  }

  _drawRandom() {
    this._random = this._pinRandom !== undefined ? this._pinRandom : drawRandom();
  }

  /** Makes the engine's context current; false when checks must answer defaults. */
  _prepare() {
    if (this._engine.broken !== null) this._maybeRenew();
    if (this._closed || !this._doc || this._ctxError || this._engine.broken) return false;
    // STATE_NOW (the clock moved) sets the same context again with the new time: about a
    // microsecond, once a second.
    const err = this._engine.setContext(this._ctx, this._pinNow ?? Date.now(), this._random);
    if (err) {
      this._ctxError = err;
      this._emit('error', new Error('vexil: context: ' + err));
      return false;
    }
    this._state = STATE_OK;
    return true;
  }

  /** Why a check cannot reach the engine: [errorCode, message]. */
  _fault() {
    if (this._closed) return ['GENERAL', 'the client is closed'];
    if (this._engine.broken) return ['GENERAL', this._engine.broken.message];
    if (!this._doc) return ['PROVIDER_NOT_READY', 'no snapshot yet: ' + this._statusWhy];
    if (this._ctxError) return ['INVALID_CONTEXT', this._ctxError];
    return ['GENERAL', 'unknown'];
  }

  _value(key, kind, def) {
    if (this._state !== STATE_OK && !this._prepare()) return def;
    const e = this._engine;
    const i = e._index.get(key);
    if (i === undefined) return def;
    const v = (e.evaluate(i, kind) & 0x1fff) - 1;
    if (v < 0) {
      if (e.broken !== null) this._state = STATE_FULL; // replaced at the next check
      return def;
    }
    const val = e.value(i, v);
    if (e.broken === null) return val;
    this._state = STATE_FULL; // the next check goes through _prepare, which replaces the instance
    return def;
  }

  /**
   * The flag's boolean value for the current context, or defaultValue.
   * @param {string} key @param {boolean} defaultValue @returns {boolean}
   */
  bool(key, defaultValue) {
    return this._value(key, 1, defaultValue);
  }

  /** @param {string} key @param {string} defaultValue @returns {string} */
  string(key, defaultValue) {
    return this._value(key, 2, defaultValue);
  }

  /** @param {string} key @param {number} defaultValue @returns {number} */
  number(key, defaultValue) {
    return this._value(key, 3, defaultValue);
  }

  /**
   * Any JSON value (objects and arrays are frozen: they are shared until the next snapshot).
   * @param {string} key @param {*} defaultValue
   */
  json(key, defaultValue) {
    return this._value(key, 5, defaultValue);
  }

  /**
   * The full result: value, variation, reason, ruleId, errorCode (and errorMessage), whether it
   * is an experiment exposure, the value as JSON text and the snapshot version.
   * @param {string} key
   * @param {*} [defaultValue] served (variation -1) when the flag cannot be
   * @param {'boolean'|'string'|'number'|'integer'|'json'} [type] typed check, as the getters make
   * @returns {import('../index.d.ts').Detail}
   */
  detail(key, defaultValue = null, type) {
    const kind = type === undefined ? 0 : Object.hasOwn(KINDS, type) ? KINDS[type] : undefined;
    if (kind === undefined) return this._errorDetail(key, defaultValue, 'TYPE_MISMATCH', `unknown type ${JSON.stringify(type)} (boolean, string, number, integer, json)`);
    if (this._state !== STATE_OK && !this._prepare()) {
      const [code, msg] = this._fault();
      return this._errorDetail(key, defaultValue, code, msg);
    }
    const e = this._engine;
    const i = e.index(key);
    const d = this._detail(key, i, e.evaluate(i, kind), defaultValue);
    return e.broken === null ? d : this._errorDetail(key, defaultValue, 'GENERAL', e.broken.message);
  }

  _detail(key, i, p, def) {
    const e = this._engine;
    const variation = (p & 0x1fff) - 1, rule = ((p >>> 13) & 0x1fff) - 1;
    const d = {
      key,
      value: variation >= 0 ? e.value(i, variation) : def,
      variation,
      reason: REASONS[(p >>> 26) & 7],
      inExperiment: p >>> 31 === 1,
      version: this._doc.version,
      valueJSON: variation >= 0 ? e.valueJSON(i, variation) : toJSON(def),
    };
    if (rule >= 0) {
      const id = e.ruleId(i, rule);
      if (id) d.ruleId = id;
    }
    const code = ERROR_CODES[(p >>> 29) & 3];
    if (code) {
      d.errorCode = code;
      d.errorMessage = code === 'FLAG_NOT_FOUND' ? `no flag ${JSON.stringify(key)} in snapshot version ${this._doc.version}` : code === 'PARSE_ERROR' ? 'the flag was rejected when the snapshot loaded: ' + (e.problems.find((s) => s.startsWith(`flags[${i}]`)) ?? 'see client.problems') : 'the flag\'s values are not of the type asked for';
    }
    return d;
  }

  _errorDetail(key, def, code, message) {
    return { key, value: def, variation: -1, reason: 'ERROR', errorCode: code, errorMessage: message, inExperiment: false, version: this._doc ? this._doc.version : -1, valueJSON: toJSON(def) };
  }

  /**
   * Every flag's value for the current context, by key (null where the flag serves the
   * caller's default: disabled without an off variation, rejected). One engine call.
   *
   * The object is frozen, and all() returns the same object again while no flag's result
   * changes (same snapshot, same answers), so it can be compared by identity (a UI re-renders
   * only when it is a new object).
   * @returns {Readonly<Record<string, *>>}
   */
  all() {
    if (this._state !== STATE_OK && !this._prepare()) return Object.freeze({});
    const e = this._engine;
    const all = e.evaluateAll();
    if (!all) return Object.freeze({});
    const c = this._allCache;
    if (c && c.doc === this._doc && c.engine === e && sameU32(c.packed, all)) return c.out;
    const out = {};
    const keys = e.keys;
    for (let i = 0; i < all.length; i++) {
      const v = (all[i] & 0x1fff) - 1;
      put(out, keys[i], v >= 0 ? e.value(i, v) : null);
    }
    Object.freeze(out);
    this._allCache = { doc: this._doc, engine: e, packed: all.slice(), out };
    return out;
  }

  /**
   * Every flag's detail for the current context, by key, in one engine call.
   * @returns {Record<string, import('../index.d.ts').Detail>}
   */
  allDetails() {
    const out = {};
    if (this._state !== STATE_OK && !this._prepare()) return out;
    const e = this._engine;
    const all = e.evaluateAll();
    if (!all) return out;
    const packed = Array.from(all); // a view of guest memory: copy before calling in again
    packed.forEach((p, i) => put(out, e.keys[i], this._detail(e.keys[i], i, p, null)));
    return out;
  }

  /**
   * Sets the evaluation context: {targetingKey, ...attributes} with strings, numbers,
   * booleans, Dates (epoch ms) or arrays of strings. It is encoded and handed to the engine
   * once; checks then only name the flag (the fast path). A context the engine cannot use is
   * reported as an 'error' event, and checks answer their defaults with INVALID_CONTEXT until
   * the next setContext.
   *
   * options.now (epoch ms or a Date) pins the evaluation time (default: the clock, refreshed
   * every second); options.random (uint32) pins the number percentage-of-time gates compare
   * (default: drawn once per setContext).
   * @param {object} context
   * @param {{now?: number|Date, random?: number}} [options]
   */
  setContext(context, options = {}) {
    this._state = STATE_FULL;
    const refuse = (why) => {
      this._ctxError = why;
      this._emit('error', new Error('vexil: setContext: ' + why));
    };
    if (context === null || typeof context !== 'object' || Array.isArray(context)) {
      this._ctx = {};
      return refuse('context: must be an object');
    }
    const { now, random } = options ?? {};
    const pin = now instanceof Date ? now.getTime() : now;
    if (pin !== undefined && !Number.isFinite(pin)) return refuse('options.now: must be epoch milliseconds or a Date');
    if (random !== undefined && !(Number.isInteger(random) && random >= 0 && random <= 0xffffffff)) {
      return refuse('options.random: must be an integer 0 … 2^32-1');
    }
    this._pinNow = pin;
    this._pinRandom = random;
    this._ctx = { ...context };
    this._ctxError = '';
    this._drawRandom();
    if (this._doc) this._prepare(); // report a bad context now, not at the first check
  }

  /** The context set last. */
  get context() {
    return { ...this._ctx };
  }

  /**
   * Listens for 'ready' (serving the daemon's current snapshot), 'change' ({keys, version,
   * previousVersion}: flags whose document or result for the current context changed),
   * 'stale' ({version, reason}: serving a snapshot while the daemon is unreachable) and
   * 'error' (an Error). Returns a function that removes the listener.
   * @param {'ready'|'change'|'stale'|'error'} type
   * @param {Function} fn
   * @returns {() => void}
   */
  on(type, fn) {
    const set = this._listeners.get(type);
    if (!set) throw new TypeError(`vexil: on: unknown event ${JSON.stringify(type)} (ready, change, stale, error)`);
    if (typeof fn !== 'function') throw new TypeError('vexil: on: listener must be a function');
    set.add(fn);
    return () => set.delete(fn);
  }

  /** Removes a listener added with on. */
  off(type, fn) {
    this._listeners.get(type)?.delete(fn);
  }

  /** 'NOT_READY', 'READY', 'STALE', 'ERROR' or 'CLOSED'. */
  get status() {
    return this._closed ? 'CLOSED' : this._status;
  }

  /** Why the client is in its status (e.g. "serving version 7: stream: connection lost"). */
  get statusReason() {
    return this._statusWhy;
  }

  /** The version of the snapshot served, -1 before the first. */
  get version() {
    return this._doc ? this._doc.version : -1;
  }

  /** Validation problems of the snapshot served ("path: message"): those flags answer PARSE_ERROR. */
  get problems() {
    return [...this._engine.problems];
  }

  /** Flag keys of the snapshot served. */
  get keys() {
    return [...this._engine.keys];
  }

  /** Stops the daemon connection and timers; checks afterwards return their defaults. */
  close() {
    if (this._closed) return;
    this._closed = true;
    this._state = STATE_FULL;
    clearInterval(this._clock);
    this._source?.close();
    for (const s of this._listeners.values()) s.clear();
  }
}

// Random numbers come from a pool filled by crypto.getRandomValues 256 at a time: one call
// costs microseconds in Node, and setContext draws one.
const pool = new Uint32Array(256);
let poolAt = pool.length;
function drawRandom() {
  if (poolAt === pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  return pool[poolAt++];
}

function sameU32(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** out[key] = v, also for a flag named __proto__ (an own property, not the prototype). */
function put(out, key, v) {
  if (key === '__proto__') Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
  else out[key] = v;
}

function toJSON(v) {
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return 'null';
  }
}
