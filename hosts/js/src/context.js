// The binary context encoding of wasm/ABI.md § Context, and the checks the native core makes
// of a JSON context (core.Context.SetJSON), so that a context means the same on every host.

const TYPE_STRING = 1, TYPE_NUMBER = 2, TYPE_BOOL = 3, TYPE_STRINGS = 4;
const HEADER = 16;
const enc = new TextEncoder();

/** A context attribute the engine cannot use; message names it as the core does. */
export class ContextError extends Error {
  constructor(field, message) {
    super(`${field}: ${message}`);
    this.name = 'ContextError';
    this.field = field;
  }
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : typeof v;
}

// One scratch buffer for every encoding: JS runs one encode at a time and the engine copies
// the bytes into guest memory at once, so no ArrayBuffer is allocated per setContext.
let scratch = new Uint8Array(1024);
let view = new DataView(scratch.buffer);

/**
 * Encodes a context for set-context. ctx is OpenFeature's flat shape: {targetingKey, ...}
 * with string, number, boolean, Date (as epoch ms) or string-array values; undefined values
 * are left out. Any other value throws a ContextError naming the attribute, checked for every
 * attribute (also those no flag uses, as the core does).
 * @param {object|null|undefined} ctx
 * @param {Map<string, number>} ids attribute ids of the loaded snapshot
 * @param {number} now epoch ms (an integer within ±2^53)
 * @param {number} random uint32
 * @returns {Uint8Array} a view of a shared scratch buffer, valid until the next call
 */
export function encodeContext(ctx, ids, now, random) {
  if (ctx == null) ctx = {};
  if (typeof ctx !== 'object' || Array.isArray(ctx)) throw new ContextError('context', 'must be an object');
  // Pass 1: check, pick the attributes the snapshot uses, bound the size (3 bytes per UTF-16
  // unit covers any string).
  const picked = [];
  let size = HEADER;
  for (const name of Object.keys(ctx)) {
    let v = ctx[name];
    if (v === undefined) continue;
    if (name === 'targetingKey') {
      if (typeof v !== 'string') throw new ContextError('context.targetingKey', 'must be a string');
    } else if (v instanceof Date) {
      v = v.getTime();
    } else if (Array.isArray(v)) {
      for (const e of v) if (typeof e !== 'string') throw new ContextError('context.' + name, 'arrays must hold only strings');
    } else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      throw new ContextError('context.' + name, 'unsupported type ' + typeName(v));
    }
    const id = ids.get(name);
    if (id === undefined) continue;
    picked.push(id, v);
    size += 5;
    if (typeof v === 'string') size += 4 + 3 * v.length;
    else if (typeof v === 'number') size += 8;
    else if (typeof v === 'boolean') size += 1;
    else {
      size += 4;
      for (const e of v) size += 4 + 3 * e.length;
    }
  }
  if (size > scratch.length) {
    scratch = new Uint8Array(Math.max(size, 2 * scratch.length));
    view = new DataView(scratch.buffer);
  }
  const buf = scratch, dv = view;
  // Pass 2: write. now as two 32-bit halves (two's complement), no BigInt.
  now = Math.trunc(now);
  dv.setUint32(0, now >>> 0, true);
  dv.setInt32(4, Math.floor(now / 4294967296), true);
  dv.setUint32(8, random >>> 0, true);
  dv.setUint32(12, picked.length / 2, true);
  let off = HEADER;
  const str = (s) => {
    const at = off + 4;
    let n = s.length, i = 0;
    // ASCII fast path: one byte per UTF-16 unit, no encoder call.
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    if (i < n) n = i + enc.encodeInto(s.slice(i), buf.subarray(at + i)).written;
    dv.setUint32(off, n, true);
    off = at + n;
  };
  for (let k = 0; k < picked.length; k += 2) {
    const id = picked[k], v = picked[k + 1];
    dv.setUint32(off, id, true);
    if (typeof v === 'string') {
      buf[off + 4] = TYPE_STRING;
      off += 5;
      str(v);
    } else if (typeof v === 'number') {
      buf[off + 4] = TYPE_NUMBER;
      dv.setFloat64(off + 5, v, true);
      off += 13;
    } else if (typeof v === 'boolean') {
      buf[off + 4] = TYPE_BOOL;
      buf[off + 5] = v ? 1 : 0;
      off += 6;
    } else {
      buf[off + 4] = TYPE_STRINGS;
      dv.setUint32(off + 5, v.length, true);
      off += 9;
      for (const e of v) str(e);
    }
  }
  return buf.subarray(0, off);
}
