// The benchmark matrix (bench/scenarios.json) on the JS host's engine, run alike in Node and in
// a Chromium page, with either module: the TinyGo one (no imports) or the standard-Go one
// (WASI through wasi.mjs). Every scenario's answer is checked before it is timed; a wrong one
// throws. Results are lines in the Go benchmark format that bench/cmd/benchreport reads.
// Lifecycle (compile, instantiate, memory) is lifecycle.mjs's.

import { wasi, checkImports } from './wasi.mjs';
import { measure } from '../../hosts/js/bench/measure.mjs';

const REASONS = ['STATIC', 'TARGETING_MATCH', 'SPLIT', 'DISABLED', 'DEFAULT', 'PREREQUISITE_FAILED', 'ERROR'];
const now = () => performance.now();


/**
 * Instantiates module for the engine: with the WASI shim when the module imports anything
 * (the standard-Go build), with no imports otherwise (the TinyGo build). The Engine
 * constructor calls _initialize and checks the ABI version.
 * @returns {Promise<any>} an Engine
 */
export async function createEngine(Engine, module) {
  if (WebAssembly.Module.imports(module).length === 0) return new Engine(await WebAssembly.instantiate(module, {}));
  checkImports(module);
  const w = wasi();
  const instance = await WebAssembly.instantiate(module, w.imports);
  w.bind(instance);
  return new Engine(instance);
}

/**
 * Checks an evaluate scenario's answer on an engine with its snapshot loaded; throws on a wrong
 * one. Sets the scenario's context.
 * @returns {number} the flag's index
 */
export function checkEvaluate(e, sc) {
  const err = e.setContext(sc.context, sc.now, sc.random);
  if (err) throw new Error(`${sc.name}: setContext: ${err}`);
  const i = e.index(sc.flag);
  const got = unpack(e.evaluate(i, 0));
  const value = got.variation >= 0 ? e.valueJSON(i, got.variation) : 'null';
  const w = sc.want;
  if (got.variation !== w.variation || got.reason !== w.reason || got.error !== 0 || value !== JSON.stringify(w.value)) {
    throw new Error(`${sc.name}: got ${JSON.stringify(got)} value ${value}, want variation ${w.variation} ${w.reason} value ${JSON.stringify(w.value)}`);
  }
  return i;
}

/**
 * Loads a load scenario's snapshot into e and checks the flag count; throws on a wrong one.
 */
export function checkLoad(e, sc, text = JSON.stringify(sc.snapshot)) {
  e.load(text);
  if (e.problems.length) throw new Error(`${sc.name}: snapshot problems: ${e.problems.join('; ')}`);
  if (e.keys.length !== sc.want.flags) throw new Error(`${sc.name}: ${e.keys.length} flags, want ${sc.want.flags}`);
}

function unpack(p) {
  return { variation: (p & 0x1fff) - 1, reason: REASONS[(p >>> 26) & 7], error: (p >>> 29) & 3 };
}

/**
 * @param {{Engine: any, compileModule: Function}} engineModule hosts/js/src/engine.js
 * @param {Uint8Array} wasm dist/vexil.wasm or dist/vexil-go.wasm
 * @param {{version: number, scenarios: any[]}} matrix bench/scenarios.json
 * @param {{engine: string, count: number, minMs: number}} o engine id for the names (node,
 *   chromium, node-go, chromium-go)
 * @returns {Promise<string[]>} benchmark lines
 */
export async function runMatrix({ Engine, compileModule }, wasm, matrix, o) {
  if (matrix.version !== 1) throw new Error(`scenarios.json version ${matrix.version}, this runner reads version 1`);
  const lines = [];
  let sink = 0;
  // The -1 suffix is go test's -GOMAXPROCS (JS runs on one thread): the report strips it, so
  // names ending in a number (prerequisite-chain-3) keep it.
  const line = (name, r, extra = '') => lines.push(`Benchmark${name}-1 ${r.n} ${r.ns.toFixed(2)} ns/op${extra}`);
  const module = await compileModule(wasm);
  for (const sc of matrix.scenarios) {
    const text = JSON.stringify(sc.snapshot);
    const e = await createEngine(Engine, module);
    if (sc.kind === 'load') {
      checkLoad(e, sc, text);
      const bytes = new TextEncoder().encode(text);
      // A fresh instance per load, as hosts take a new snapshot; instantiating is not timed.
      for (let r = 0; r < o.count; r++) {
        const fresh = await createEngine(Engine, module);
        const t0 = now();
        fresh.load(bytes);
        line(`Load/${sc.want.flags}/${o.engine}`, { n: 1, ns: (now() - t0) * 1e6 });
      }
      continue;
    }
    e.load(text);
    if (e.problems.length) throw new Error(`${sc.name}: snapshot problems: ${e.problems.join('; ')}`);
    if (sc.kind === 'evaluate') {
      const i = checkEvaluate(e, sc);
      for (const r of measure((n) => { for (let k = 0; k < n; k++) sink ^= e.evaluate(i, 0); }, o.count, o.minMs)) {
        line(`Evaluate/${o.engine}/${sc.name}`, r);
      }
    } else if (sc.kind === 'evaluate-all') {
      const err = e.setContext(sc.context, sc.now, sc.random);
      if (err) throw new Error(`${sc.name}: setContext: ${err}`);
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
