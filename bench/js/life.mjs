// The lifecycle steps lifecycle.mjs times, alike in Node and in a Chromium page, for either
// module (the TinyGo one, no imports; the standard-Go one, WASI through wasi.mjs): compile,
// instantiate, and instances holding a snapshot. Times are performance.now() differences in
// nanoseconds (pages coarsen performance.now() to 0.1 ms, hence repetitions where a step is
// short). Every step that loads a snapshot checks its answer: a wrong one throws.

import { createEngine, checkEvaluate, checkLoad } from './cases.mjs';

const now = () => performance.now();

/**
 * The same module with one custom section appended whose payload is new on each call: other
 * wire bytes (so no cache keyed by them can answer) for exactly the same code.
 * @param {Uint8Array} wasm
 */
export function uniqueBytes(wasm) {
  const name = new TextEncoder().encode('vexil-bench-nonce');
  const nonce = new Uint8Array(8);
  crypto.getRandomValues(nonce);
  const body = [name.length, ...name, ...nonce]; // < 128 bytes: one-byte LEB128 sizes
  const out = new Uint8Array(wasm.length + 2 + body.length);
  out.set(wasm);
  out.set([0, body.length, ...body], wasm.length);
  return out;
}

/**
 * Compiles wasm three times in a row and times each: the first compile (cold when this is a
 * fresh process or browser context), the same bytes again while the first module is alive
 * (warm: an engine that reuses compiled modules by their bytes would answer from memory), and
 * other bytes of the same code (warmNewBytes: the same work in a warm process, with nothing to
 * reuse). Comparing the last two shows whether the second compile was answered from a cache.
 * @returns {Promise<{cold: number, warm: number, warmNewBytes: number}>} nanoseconds
 */
export async function compileTimes(compileModule, wasm) {
  const other = uniqueBytes(wasm);
  let t0 = now();
  const first = await compileModule(wasm);
  const cold = (now() - t0) * 1e6;
  t0 = now();
  const again = await compileModule(wasm);
  const warm = (now() - t0) * 1e6;
  t0 = now();
  await compileModule(other);
  const warmNewBytes = (now() - t0) * 1e6;
  if (!first || !again) throw new Error('compile returned no module');
  return { cold, warm, warmNewBytes };
}

/**
 * Checks the module's answers: the 1,000-flag snapshot loads with its flag count, and the
 * rule-match scenario gives its expected result. Throws on a wrong one.
 * @param {{load: any, evaluate: any}} sc the load-1000-flags and rule-match scenarios
 */
export async function checkAnswers(Engine, module, sc) {
  const e = await createEngine(Engine, module);
  checkLoad(e, sc.load);
  const r = await createEngine(Engine, module);
  r.load(JSON.stringify(sc.evaluate.snapshot));
  checkEvaluate(r, sc.evaluate);
}

/**
 * Instantiates (with _initialize and the ABI check, as a host does) reps times.
 * @returns {Promise<number>} nanoseconds per instance
 */
export async function timeInstantiate(Engine, module, reps) {
  const keep = [];
  const t0 = now();
  for (let k = 0; k < reps; k++) keep.push(await createEngine(Engine, module));
  const ns = ((now() - t0) * 1e6) / reps;
  if (keep.length !== reps) throw new Error('lost an instance');
  return ns;
}

const held = [];

/**
 * Creates n instances, each with the 1,000-flag snapshot loaded, and keeps them (in this
 * module) until release(): the caller measures memory around it.
 * @returns {Promise<{ns: number, linear: number}>} nanoseconds per instance (instantiate and
 *   load) and the linear memory of one instance in bytes
 */
export async function hold(Engine, module, loadScenario, n) {
  const text = JSON.stringify(loadScenario.snapshot);
  const t0 = now();
  for (let k = 0; k < n; k++) {
    const e = await createEngine(Engine, module);
    checkLoad(e, loadScenario, text);
    held.push(e);
  }
  const ns = ((now() - t0) * 1e6) / n;
  let linear = 0;
  for (const e of held) linear += e._mem.buffer.byteLength;
  return { ns, linear: linear / held.length };
}

/** Drops the instances hold() keeps. */
export function release() {
  held.length = 0;
}

/**
 * Runs the engine's hot paths long enough for V8 to tier functions up to its optimizing
 * compiler (whose code is what a code cache holds): loads, then evaluates all flags repeatedly.
 */
export async function exercise(Engine, module, loadScenario, evaluateScenario) {
  const text = JSON.stringify(loadScenario.snapshot);
  let sink = 0;
  for (let k = 0; k < 3; k++) {
    const e = await createEngine(Engine, module);
    checkLoad(e, loadScenario, text);
    const err = e.setContext(evaluateScenario.context, evaluateScenario.now, evaluateScenario.random);
    if (err) throw new Error(`setContext: ${err}`);
    for (let i = 0; i < 300; i++) sink ^= e.evaluateAll()[i];
  }
  return sink;
}
