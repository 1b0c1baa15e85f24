// The host side of snapshots and patches (sync/PROTOCOL.md): a parsed snapshot the client can
// patch, rebuild as JSON for the engine, and compare with its predecessor.

/**
 * A snapshot as documents: top-level fields, and flags and segments by key (each kept as its
 * JSON text, so that comparing two versions of a flag is a string comparison).
 */
export class SnapshotDoc {
  /**
   * @param {string} text the snapshot JSON
   * @throws {Error} when it is not a JSON object with a numeric version
   */
  static parse(text) {
    const obj = JSON.parse(text);
    if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new Error('snapshot: must be a JSON object');
    if (typeof obj.version !== 'number' || !Number.isInteger(obj.version) || obj.version < 0) {
      throw new Error('snapshot.version: must be an integer ≥ 0');
    }
    const d = new SnapshotDoc();
    const { flags, segments, ...top } = obj;
    d.top = top;
    d.flags = toMap(flags, 'flags');
    d.segments = toMap(segments, 'segments');
    d.text = text;
    return d;
  }

  /** The snapshot's version. */
  get version() {
    return this.top.version;
  }

  /**
   * Applies a patch event's data (already checked to follow this version), returning a new doc.
   * @param {{version:number, flags?:object, segments?:object}} patch
   */
  patch(patch) {
    const d = new SnapshotDoc();
    d.top = { ...this.top, version: patch.version };
    d.flags = new Map(this.flags);
    d.segments = new Map(this.segments);
    apply(d.flags, patch.flags, 'flags');
    apply(d.segments, patch.segments, 'segments');
    const parts = [];
    for (const [k, v] of Object.entries(d.top)) parts.push(JSON.stringify(k) + ':' + JSON.stringify(v));
    parts.push('"flags":[' + sorted(d.flags).join(',') + ']');
    parts.push('"segments":[' + sorted(d.segments).join(',') + ']');
    d.text = '{' + parts.join(',') + '}';
    return d;
  }

  /** Keys of flags added, removed or whose document differs between prev and this. */
  changedFlags(prev) {
    const out = [];
    for (const [k, v] of this.flags) if (!prev || prev.flags.get(k) !== v) out.push(k);
    if (prev) for (const k of prev.flags.keys()) if (!this.flags.has(k)) out.push(k);
    return out;
  }
}

function toMap(list, what) {
  const m = new Map();
  if (list == null) return m;
  if (!Array.isArray(list)) throw new Error(`snapshot.${what}: must be an array`);
  list.forEach((doc, i) => {
    const key = doc && typeof doc === 'object' ? doc.key : undefined;
    // Documents without a string key are kept as they are (under a key no flag can have), so
    // the engine sees them and reports them as problems.
    m.set(typeof key === 'string' ? key : `\u0000${i}`, JSON.stringify(doc));
  });
  return m;
}

function apply(m, changes, what) {
  if (changes == null) return;
  if (typeof changes !== 'object' || Array.isArray(changes)) throw new Error(`patch.${what}: must be an object`);
  for (const [k, doc] of Object.entries(changes)) {
    if (doc === null) m.delete(k);
    else m.set(k, JSON.stringify(doc));
  }
}

function sorted(m) {
  return [...m.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => m.get(k));
}
