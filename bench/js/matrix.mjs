#!/usr/bin/env node
// Runs the benchmark matrix (bench/scenarios.json) on the JS host's engine (hosts/js/src) with
// the TinyGo module, or with --module go the standard-Go one (WASI through wasi.mjs), in Node
// and in Debian's headless Chromium (through hosts/js's playwright-core), and prints the
// results in the Go benchmark format for benchreport (engine ids node and chromium, or
// node-go and chromium-go):
//
//   node bench/js/matrix.mjs [--count 5] [--min-ms 200] [--no-browser] [--module go] > bench/out/js.txt
//
// Needs bench/scenarios.json (go run ./bench/cmd/scenarios), the module in dist/ ($VEXIL_WASM
// overrides the path) and, for Chromium, `make js-deps`. A wrong answer in either engine
// exits 1.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runMatrix } from './cases.mjs';

const { values } = parseArgs({ options: { count: { type: 'string', default: '5' }, 'min-ms': { type: 'string', default: '200' }, 'no-browser': { type: 'boolean' }, module: { type: 'string', default: 'tinygo' } } });
const repo = fileURLToPath(new URL('../../', import.meta.url));
const count = Number(values.count), minMs = Number(values['min-ms']);
const MODULES = { tinygo: { file: 'vexil.wasm', suffix: '' }, go: { file: 'vexil-go.wasm', suffix: '-go' } };
const mod = MODULES[values.module];
if (!mod) throw new Error(`--module ${values.module}: want tinygo or go`);
const wasmPath = process.env.VEXIL_WASM || repo + 'dist/' + mod.file;
const matrixText = readFileSync(repo + 'bench/scenarios.json', 'utf8');
const wasm = readFileSync(wasmPath);

const engine = await import(pathToFileURL(repo + 'hosts/js/src/engine.js'));
console.log(`node: ${process.version}`);
for (const l of await runMatrix(engine, wasm, JSON.parse(matrixText), { engine: 'node' + mod.suffix, count, minMs })) console.log(l);

if (!values['no-browser']) {
  const { chromium } = await import(pathToFileURL(repo + 'hosts/js/node_modules/playwright-core/index.mjs'));
  const { CHROMIUM, CHROMIUM_ARGS } = await import(pathToFileURL(repo + 'hosts/js/test/chromium.js'));
  const files = {
    '/': ['text/html', '<!doctype html><title>vexil bench</title>'],
    '/cases.mjs': ['text/javascript', readFileSync(repo + 'bench/js/cases.mjs')],
    '/wasi.mjs': ['text/javascript', readFileSync(repo + 'bench/js/wasi.mjs')],
    // cases.mjs imports ../../hosts/js/bench/measure.mjs, which resolves here from /cases.mjs.
    '/hosts/js/bench/measure.mjs': ['text/javascript', readFileSync(repo + 'hosts/js/bench/measure.mjs')],
    '/scenarios.json': ['application/json', matrixText],
    '/vexil.wasm': ['application/wasm', wasm],
  };
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    let f = files[path];
    if (!f && /^\/src\/[a-z]+\.js$/.test(path)) f = ['text/javascript', readFileSync(repo + 'hosts/js' + path)];
    if (!f) { res.writeHead(404).end(); return; }
    res.writeHead(200, { 'Content-Type': f[0] }).end(f[1]);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    console.log(`chromium: ${browser.version()}`);
    const lines = await page.evaluate(async ([count, minMs, id]) => {
      const engine = await import('/src/engine.js');
      const { runMatrix } = await import('/cases.mjs');
      const matrix = await (await fetch('/scenarios.json')).json();
      const wasm = new Uint8Array(await (await fetch('/vexil.wasm')).arrayBuffer());
      return runMatrix(engine, wasm, matrix, { engine: id, count, minMs });
    }, [count, minMs, 'chromium' + mod.suffix]);
    for (const l of lines) console.log(l);
  } finally {
    await browser.close();
    server.close();
  }
}
