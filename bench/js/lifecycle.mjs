#!/usr/bin/env node
// Lifecycle of both modules (dist/vexil.wasm, TinyGo; dist/vexil-go.wasm, standard Go with WASI
// through wasi.mjs) in Node and in Debian's headless Chromium: compile cold and warm, compile
// from Chromium's code cache, instantiate, and memory per instance holding
// the 1,000-flag snapshot. Prints the Go benchmark format for benchreport:
//
//   node bench/js/lifecycle.mjs [--count 5] [--instances 20] [--no-browser] > bench/out/jslife.txt
//
// Needs bench/scenarios.json (go run ./bench/cmd/scenarios), both modules in dist/ and, for
// Chromium, `make js-deps`. Each module must load the 1,000-flag snapshot and answer the
// rule-match scenario correctly in each runtime before anything is timed; a wrong answer exits
// 1. Runs itself again with --expose-gc when started without it.
//
// What the names mean (<rt> is node or chromium, <m> tinygo or go):
//   Compile/<rt>/<m>/cold      first compile of the bytes in a fresh process (Node: one `node`
//                              per run) or a fresh browser context (Chromium: its own renderer
//                              process, empty HTTP and code caches); WebAssembly.compile of
//                              bytes already in memory
//   Compile/<rt>/<m>/warm      the same bytes again in that process while the first module is
//                              alive (what an in-memory cache keyed by the bytes would answer)
//   Compile/<rt>/<m>/warm-new-bytes  the same code under other wire bytes (a custom section
//                              added) in that process: a warm process with nothing to reuse;
//                              equal to warm when no in-memory cache answered
//   Compile/chromium/<m>/streaming-cold  compileStreaming(fetch(url)) in a browser started on
//                              an empty profile (includes the fetch from a local server)
//   Compile/chromium/<m>/code-cache      the same in the browser started again on that profile
//                              after the first visit ran the engine until V8 wrote the module's
//                              code cache; reported only when the trace shows the cache hit
//   Instantiate/<rt>/<m>       WebAssembly.instantiate + _initialize + ABI check, per instance
//   InstanceMemory/<rt>/<m>    n instances each holding the 1,000-flag snapshot: ns/op is
//                              instantiate + load per instance; linear-B/op the linear memory of
//                              one; heap-B/op the JS heap growth per instance after a full GC
//                              (Node: heapUsed; Chromium: CDP Runtime.getHeapUsage usedSize;
//                              neither counts linear memory); Node also external-B/op (which
//                              does count linear memory) and rss-B/op
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const repo = fileURLToPath(new URL('../../', import.meta.url));
const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '5' },
    instances: { type: 'string', default: '20' },
    'no-browser': { type: 'boolean' },
    'child-compile': { type: 'string' },
  },
});
const engine = await import(pathToFileURL(repo + 'hosts/js/src/engine.js'));
const life = await import('./life.mjs');

if (values['child-compile']) {
  // One cold sample: this process has compiled nothing yet.
  console.log(JSON.stringify(await life.compileTimes(engine.compileModule, readFileSync(values['child-compile']))));
  process.exit(0);
}
if (typeof globalThis.gc !== 'function') {
  const r = spawnSync(process.execPath, ['--expose-gc', self, ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status === null ? 1 : r.status);
}

const count = Number(values.count), instances = Number(values.instances);
if (!(count >= 1) || !(instances >= 1)) throw new Error('--count and --instances must be at least 1');
const MODULES = [
  { id: 'tinygo', file: 'vexil.wasm' },
  { id: 'go', file: 'vexil-go.wasm' },
];
const matrix = JSON.parse(readFileSync(repo + 'bench/scenarios.json', 'utf8'));
if (matrix.version !== 1) throw new Error(`scenarios.json version ${matrix.version}, this runner reads version 1`);
const pick = (name) => {
  const sc = matrix.scenarios.find((s) => s.name === name);
  if (!sc) throw new Error(`scenarios.json has no ${name} scenario`);
  return sc;
};
const scenarios = { load: pick('load-1000-flags'), evaluate: pick('rule-match') };
const bytes = Object.fromEntries(MODULES.map((m) => [m.id, readFileSync(repo + 'dist/' + m.file)]));

// The -1 suffix is go test's -GOMAXPROCS (JS runs on one thread); the report strips it.
const line = (name, n, pairs) => console.log(`Benchmark${name}-1 ${n} ${pairs.map(([v, u]) => `${Math.round(v)} ${u}`).join(' ')}`);

console.log(`node: ${process.version}`);
for (const m of MODULES) {
  const module = await engine.compileModule(bytes[m.id]);
  await life.checkAnswers(engine.Engine, module, scenarios);
  for (let r = 0; r < count; r++) {
    const c = spawnSync(process.execPath, [self, '--child-compile', repo + 'dist/' + m.file], { encoding: 'utf8' });
    if (c.status !== 0) throw new Error(`cold compile of ${m.file} in a child process: ${c.stderr}`);
    const t = JSON.parse(c.stdout);
    line(`Compile/node/${m.id}/cold`, 1, [[t.cold, 'ns/op']]);
    line(`Compile/node/${m.id}/warm`, 1, [[t.warm, 'ns/op']]);
    line(`Compile/node/${m.id}/warm-new-bytes`, 1, [[t.warmNewBytes, 'ns/op']]);
  }
  for (let r = 0; r < count; r++) line(`Instantiate/node/${m.id}`, 20, [[await life.timeInstantiate(engine.Engine, module, 20), 'ns/op']]);
  for (let r = 0; r < count; r++) {
    life.release();
    await fullGC();
    const before = process.memoryUsage();
    const h = await life.hold(engine.Engine, module, scenarios.load, instances);
    await fullGC();
    const after = process.memoryUsage();
    const per = (k) => (after[k] - before[k]) / instances;
    line(`InstanceMemory/node/${m.id}`, instances, [[h.ns, 'ns/op'], [h.linear, 'linear-B/op'], [per('heapUsed'), 'heap-B/op'],
      [per('external'), 'external-B/op'], [per('rss'), 'rss-B/op']]);
    life.release();
  }
}
life.release();
await fullGC();

/** Collects until what dead instances hold (linear memory included) is freed: one gc() call
 * leaves some of it to a later cycle. */
async function fullGC() {
  for (let k = 0; k < 4; k++) {
    gc();
    await new Promise((ok) => setImmediate(ok));
  }
}

if (!values['no-browser']) await chromiumRuns();

async function chromiumRuns() {
  const { chromium } = await import(pathToFileURL(repo + 'hosts/js/node_modules/playwright-core/index.mjs'));
  const { CHROMIUM, CHROMIUM_ARGS } = await import(pathToFileURL(repo + 'hosts/js/test/chromium.js'));
  const scenariosText = JSON.stringify(scenarios);
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const send = (type, body, headers = {}) => res.writeHead(200, { 'Content-Type': type, ...headers }).end(body);
    const mod = MODULES.find((m) => path === '/' + m.file);
    // Cacheable, so that a second visit can take the module (and its code cache) from the
    // HTTP cache.
    if (mod) return send('application/wasm', bytes[mod.id], { 'Cache-Control': 'max-age=3600', 'Last-Modified': 'Mon, 23 Nov 2026 10:00:00 GMT' });
    if (path === '/') return send('text/html', '<!doctype html><title>vexil lifecycle</title>');
    if (path === '/life.json') return send('application/json', scenariosText);
    if (/^\/[a-z]+\.mjs$/.test(path)) return send('text/javascript', readFileSync(repo + 'bench/js' + path));
    if (/^\/src\/[a-z]+\.js$/.test(path)) return send('text/javascript', readFileSync(repo + 'hosts/js' + path));
    // cases.mjs (through life.mjs) imports ../../hosts/js/bench/measure.mjs: from /, this path.
    if (path === '/hosts/js/bench/measure.mjs') return send('text/javascript', readFileSync(repo + path.slice(1)));
    res.writeHead(404).end();
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const origin = `http://127.0.0.1:${server.address().port}`;
  // In the page: the engine, the lifecycle steps and the two scenarios, as globals.
  const setup = async (page) => {
    await page.goto(origin + '/');
    await page.evaluate(async () => {
      globalThis.engine = await import('/src/engine.js');
      globalThis.life = await import('/life.mjs');
      globalThis.sc = await (await fetch('/life.json')).json();
    });
  };

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    console.log(`chromium: ${browser.version()}`);
    for (const m of MODULES) {
      for (let r = 0; r < count; r++) {
        // A fresh browser context per sample: its own renderer process and empty caches.
        const ctx = await browser.newContext();
        const page = await ctx.newPage();
        await setup(page);
        const t = await page.evaluate(async (file) => {
          const wasm = new Uint8Array(await (await fetch('/' + file)).arrayBuffer());
          return life.compileTimes(engine.compileModule, wasm);
        }, m.file);
        line(`Compile/chromium/${m.id}/cold`, 1, [[t.cold, 'ns/op']]);
        line(`Compile/chromium/${m.id}/warm`, 1, [[t.warm, 'ns/op']]);
        line(`Compile/chromium/${m.id}/warm-new-bytes`, 1, [[t.warmNewBytes, 'ns/op']]);
        await ctx.close();
      }
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await setup(page);
      await page.evaluate(async (file) => {
        globalThis.mod = await engine.compileModule(new Uint8Array(await (await fetch('/' + file)).arrayBuffer()));
        await life.checkAnswers(engine.Engine, mod, sc);
      }, m.file);
      for (let r = 0; r < count; r++) {
        const ns = await page.evaluate(() => life.timeInstantiate(engine.Engine, mod, 20));
        line(`Instantiate/chromium/${m.id}`, 20, [[ns, 'ns/op']]);
      }
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('HeapProfiler.enable');
      const heap = async () => {
        await cdp.send('HeapProfiler.collectGarbage');
        return (await cdp.send('Runtime.getHeapUsage')).usedSize;
      };
      for (let r = 0; r < count; r++) {
        await page.evaluate(() => life.release());
        const before = await heap();
        const h = await page.evaluate((n) => life.hold(engine.Engine, mod, sc.load, n), instances);
        const after = await heap();
        line(`InstanceMemory/chromium/${m.id}`, instances, [[h.ns, 'ns/op'], [h.linear, 'linear-B/op'], [(after - before) / instances, 'heap-B/op']]);
      }
      await ctx.close();
    }
  } finally {
    await browser.close();
  }

  // Code cache. V8 writes a streamed module's code to Chromium's code cache once it has
  // optimized enough of it (--wasm-caching-threshold, 1,000 bytes of optimized code, then
  // --wasm-caching-timeout-ms, 2 s without more). In headless runs we never saw that timeout
  // fire (no v8.wasm.cachedModule event after 12 s), so these launches set the timeout to 0:
  // the cache is written as soon as the threshold is reached. Both launches of a sample use
  // the same flags (V8 refuses code cached under other flags).
  const args = [...CHROMIUM_ARGS, '--js-flags=--wasm-caching-timeout-ms=0'];
  const visit = async (dir, file, first) => {
    const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args, headless: true });
    try {
      const page = ctx.pages()[0] || (await ctx.newPage());
      await setup(page);
      const cdp = await ctx.newCDPSession(page);
      const events = [];
      cdp.on('Tracing.dataCollected', (d) => events.push(...d.value));
      const done = new Promise((ok) => cdp.once('Tracing.tracingComplete', ok));
      await cdp.send('Tracing.start', { traceConfig: { includedCategories: ['disabled-by-default-devtools.timeline'] }, transferMode: 'ReportEvents' });
      const ns = await page.evaluate(async ([file, first]) => {
        const t0 = performance.now();
        const mod = await WebAssembly.compileStreaming(fetch('/' + file));
        const ns = (performance.now() - t0) * 1e6;
        await life.checkAnswers(engine.Engine, mod, sc);
        if (first) {
          await life.exercise(engine.Engine, mod, sc.load, sc.evaluate);
          await new Promise((ok) => setTimeout(ok, 1500)); // the cache write happens in the background
        }
        return ns;
      }, [file, first]);
      await cdp.send('Tracing.end');
      await done;
      const seen = new Set(events.map((e) => e.name));
      return { ns, hit: seen.has('v8.wasm.moduleCacheHit') && !seen.has('v8.wasm.moduleCacheInvalid'), cached: seen.has('v8.wasm.cachedModule') };
    } finally {
      await ctx.close();
    }
  };
  for (const m of MODULES) {
    for (let r = 0; r < count; r++) {
      const dir = mkdtempSync(join(tmpdir(), 'vexil-codecache-'));
      try {
        const first = await visit(dir, m.file, true);
        line(`Compile/chromium/${m.id}/streaming-cold`, 1, [[first.ns, 'ns/op']]);
        const second = await visit(dir, m.file, false);
        if (second.hit) line(`Compile/chromium/${m.id}/code-cache`, 1, [[second.ns, 'ns/op']]);
        else console.error(`lifecycle: ${m.file}: no code cache hit on the second visit (cache written on the first: ${first.cached}); not reported`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  server.close();
}
