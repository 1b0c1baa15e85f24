// The benchmark matrix (bench/scenarios.json) on the JS host's engine, run alike in Node and in
// a Chromium page. Every scenario's answer is checked before it is timed; a wrong one throws.
// Results are lines in the Go benchmark format that bench/cmd/benchreport reads.

const REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'PREREQUISITE_FAILED', 'ERROR'];
const now = () => performance.now();

/** Runs f(n) with n doubled until one call takes ≥ minMs; then `count` timed calls of that n. */
function measure(f, count, minMs) {
  let n = 64;
  for (;;) {
    const t0 = now();
    f(n);
    if (now() - t0 >= minMs || n >= 1 << 28) break;
    n *= 2;
  }
  const out = [];
  for (let r = 0; r < count; r++) {
    const t0 = now();
    f(n);
    out.push({ n, ns: ((now() - t0) * 1e6) / n });
  }
  return out;
}

function unpack(p) {
  return { variation: (p & 0x1fff) - 1, reason: REASONS[(p >>> 26) & 7], error: (p >>> 29) & 3 };
}

/**
 * @param {{Engine: any, compileModule: Function}} engineModule hosts/js/src/engine.js
 * @param {Uint8Array} wasm dist/vexil.wasm
 * @param {{version: number, scenarios: any[]}} matrix bench/scenarios.json
 * @param {{engine: string, count: number, minMs: number}} o engine id for the names
 * @returns {Promise<string[]>} benchmark lines
 */
export async function runMatrix({ Engine, compileModule }, wasm, matrix, o) {
  if (matrix.version !== 1) throw new Error(`scenarios.json version ${matrix.version}, this runner reads version 1`);
  const lines = [];
  let sink = 0;
  // The -1 suffix is go test's -GOMAXPROCS (JS runs on one thread): the report strips it, so
  // names ending in a number (prerequisite-chain-3) keep it.
  const line = (name, r, extra = '') => lines.push(`Benchmark${name}-1 ${r.n} ${r.ns.toFixed(2)} ns/op${extra}`);
  // Lifecycle. The engine may cache compiled code for bytes it has seen, so compiles after the
  // first are "repeat", not cold; instantiating includes _initialize and the ABI check.
  let module;
  for (let r = 0; r < o.count; r++) {
    const t0 = now();
    module = await compileModule(wasm);
    line(`Compile/${o.engine}/repeat`, { n: 1, ns: (now() - t0) * 1e6 });
  }
  for (let r = 0; r < o.count; r++) {
    const reps = 20;
    const t0 = now();
    for (let k = 0; k < reps; k++) await Engine.create(module);
    line(`Instantiate/${o.engine}`, { n: reps, ns: ((now() - t0) * 1e6) / reps });
  }
  for (const sc of matrix.scenarios) {
    const text = JSON.stringify(sc.snapshot);
    const e = await Engine.create(module);
    e.load(text);
    if (e.problems.length) throw new Error(`${sc.name}: snapshot problems: ${e.problems.join('; ')}`);
    if (sc.kind === 'load') {
      if (e.keys.length !== sc.want.flags) throw new Error(`${sc.name}: ${e.keys.length} flags, want ${sc.want.flags}`);
      const bytes = new TextEncoder().encode(text);
      // A fresh instance per load, as hosts take a new snapshot; instantiating is not timed.
      for (let r = 0; r < o.count; r++) {
        const fresh = await Engine.create(module);
        const t0 = now();
        fresh.load(bytes);
        line(`Load/${sc.want.flags}/${o.engine}`, { n: 1, ns: (now() - t0) * 1e6 });
      }
      continue;
    }
    const err = e.setContext(sc.context, sc.now, sc.random);
    if (err) throw new Error(`${sc.name}: setContext: ${err}`);
    if (sc.kind === 'evaluate') {
      const i = e.index(sc.flag);
      const got = unpack(e.evaluate(i, 0));
      const value = got.variation >= 0 ? e.valueJSON(i, got.variation) : 'null';
      const w = sc.want;
      if (got.variation !== w.variation || got.reason !== w.reason || got.error !== 0 || value !== JSON.stringify(w.value)) {
        throw new Error(`${sc.name}: got ${JSON.stringify(got)} value ${value}, want variation ${w.variation} ${w.reason} value ${JSON.stringify(w.value)}`);
      }
      for (const r of measure((n) => { for (let k = 0; k < n; k++) sink ^= e.evaluate(i, 0); }, o.count, o.minMs)) {
        line(`Evaluate/${o.engine}/${sc.name}`, r);
      }
    } else if (sc.kind === 'evaluate-all') {
      const all = e.evaluateAll();
      if (!all || all.length !== sc.want.flags) throw new Error(`${sc.name}: ${all && all.length} results, want ${sc.want.flags}`);
      for (let k = 0; k < all.length; k++) {
        if (all[k] !== sc.want.packed[k]) throw new Error(`${sc.name}: flag ${k} (${e.keys[k]}) packed ${all[k]}, want ${sc.want.packed[k]}`);
      }
      for (const r of measure((n) => { for (let k = 0; k < n; k++) sink ^= e.evaluateAll()[0]; }, o.count, o.minMs)) {
        line(`EvaluateAll/${o.engine}/${sc.name}`, r, ` ${(r.ns / sc.want.flags).toFixed(2)} ns/flag`);
      }
    } else {
      throw new Error(`${sc.name}: unknown kind ${sc.kind}`);
    }
  }
  if (sink === 0.5) lines.push(''); // keeps the loops' results alive
  return lines;
}
