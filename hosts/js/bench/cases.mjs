// The benchmark bodies, run alike in Node and in Chromium (bench.mjs loads this module in a
// page through the demo server). Each returns ns per operation for `rounds` timed runs.

import { measure as measureRuns } from './measure.mjs';

const now = () => performance.now();

/** ns per operation of `rounds` timed runs of f (measure.mjs). */
const measure = (f, rounds, minMs) => measureRuns(f, rounds, minMs).map((r) => r.ns);

/**
 * @param {Function} createClient the package's createClient
 * @param {{snapshot: string, context: object, now: number}} input
 * @param {{rounds?: number, minMs?: number, wasm?: any, wasmBytes?: Uint8Array}} o
 */
export async function runBench(createClient, input, o = {}) {
  const rounds = o.rounds ?? 5, minMs = o.minMs ?? 200;
  const snap = JSON.parse(input.snapshot);
  const c = await createClient({ bootstrap: input.snapshot, storage: false, wasm: o.wasm });
  c.setContext(input.context, { now: input.now });
  const keys = c.keys;
  // A flag with rules that is evaluated in the engine, and a static one.
  const ruleFlag = snap.flags.find((f) => f.enabled && f.rules?.length && !f.prerequisites?.length && f.variations.every((v) => typeof v === 'boolean')).key;
  const staticFlag = snap.flags.find((f) => f.enabled && !f.rules?.length && !f.targets?.length && !f.prerequisites?.length && !f.schedule && f.percentageOfTime == null && f.fallthrough?.variation !== undefined && f.variations.every((v) => typeof v === 'boolean')).key;
  let sink = 0;
  const results = {};
  results[`bool(), flag with rules (${ruleFlag})`] = measure((n) => {
    for (let i = 0; i < n; i++) if (c.bool(ruleFlag, false)) sink++;
  }, rounds, minMs);
  results[`bool(), static flag (${staticFlag})`] = measure((n) => {
    for (let i = 0; i < n; i++) if (c.bool(staticFlag, false)) sink++;
  }, rounds, minMs);
  results['detail(), flag with rules'] = measure((n) => {
    for (let i = 0; i < n; i++) sink += c.detail(ruleFlag, false).variation;
  }, rounds, minMs);
  const n = keys.length;
  results[`all(), per flag (${n} flags), results unchanged: the same object`] = measure((k) => {
    for (let i = 0; i < k; i++) if (c.all()) sink++;
  }, rounds, minMs).map((x) => x / n);
  results[`all(), per flag (${n} flags), a new object`] = measure((k) => {
    for (let i = 0; i < k; i++) {
      c._allCache = null; // as if a result had changed
      if (c.all()) sink++;
    }
  }, rounds, minMs).map((x) => x / n);
  results['setContext() (10 attributes)'] = measure((n) => {
    for (let i = 0; i < n; i++) c.setContext(input.context, { now: input.now });
  }, rounds, minMs);
  if (o.wasmBytes) {
    const bytes = o.wasmBytes;
    results['compile module'] = [];
    results['instantiate + _initialize'] = [];
    for (let r = 0; r < rounds; r++) {
      let t0 = now();
      const m = await WebAssembly.compile(bytes);
      results['compile module'].push((now() - t0) * 1e6);
      t0 = now();
      const reps = 20;
      for (let i = 0; i < reps; i++) (await WebAssembly.instantiate(m, {})).exports._initialize();
      results['instantiate + _initialize'].push(((now() - t0) * 1e6) / reps);
    }
  }
  results[`createClient() from a bootstrap of ${keys.length} flags (compiled module cached)`] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    const c2 = await createClient({ bootstrap: input.snapshot, storage: false, wasm: o.wasm });
    results[`createClient() from a bootstrap of ${keys.length} flags (compiled module cached)`].push((now() - t0) * 1e6);
    c2.close();
  }
  c.close();
  return { results, sink };
}
