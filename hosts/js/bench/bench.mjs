#!/usr/bin/env node
// Benchmarks of the JS host, in Node and in headless Chromium (Debian's, via playwright-core):
// one evaluation after setContext, all() per flag, setContext, compile and instantiate, and
// the module's bytes over the wire (gzip -9). Input: the 1,000-flag snapshot the Go
// benchmarks generate (internal/gen, through bench/gen). Prints medians and ranges of 5 runs.
//
//   node hosts/js/bench/bench.mjs [--flags 1000] [--rounds 5] [--no-browser]
// Needs dist/vexil.wasm (or $VEXIL_WASM) and Go (to generate the snapshot).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { createClient } from '../src/index.js';
import { runBench } from './cases.mjs';

const { values } = parseArgs({ options: { flags: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '5' }, 'no-browser': { type: 'boolean' } } });
const repo = fileURLToPath(new URL('../../../', import.meta.url));
const wasmPath = process.env.VEXIL_WASM || repo + 'dist/vexil.wasm';
const wasmBytes = readFileSync(wasmPath);
const input = JSON.parse(execFileSync('go', ['run', './hosts/js/bench/gen', '-flags', values.flags], { cwd: repo, encoding: 'utf8', maxBuffer: 256 << 20 }));
const rounds = Number(values.rounds);

function report(title, results) {
  console.log(`\n${title}`);
  for (const [name, xs] of Object.entries(results)) {
    const s = [...xs].sort((a, b) => a - b);
    const med = s[Math.floor(s.length / 2)];
    const fmt = (x) => (x >= 1e6 ? (x / 1e6).toFixed(2) + ' ms' : x >= 1e4 ? (x / 1e3).toFixed(1) + ' µs' : x.toFixed(1) + ' ns');
    console.log(`  ${name.padEnd(72)} median ${fmt(med).padStart(10)}   range ${fmt(s[0])} – ${fmt(s.at(-1))}`);
  }
}

console.log(`module ${wasmPath}: ${wasmBytes.length} bytes, ${gzipSync(wasmBytes, { level: 9 }).length} bytes gzip -9 (over the wire)`);
console.log(`snapshot: ${values.flags} generated flags, ${input.snapshot.length} bytes; context of ${Object.keys(input.context).length} attributes`);
console.log(`node ${process.version}`);
const node = await runBench(createClient, input, { rounds, wasm: wasmBytes, wasmBytes });
report('Node', node.results);

if (!values['no-browser']) {
  const { chromium } = await import('playwright-core');
  const { serveDemo } = await import('../demo/server.mjs');
  const { CHROMIUM, CHROMIUM_ARGS } = await import('../test/chromium.js');
  const demo = await serveDemo({ daemon: 'http://127.0.0.1:1', clientKey: 'unused', wasm: wasmPath });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  try {
    const page = await browser.newPage();
    await page.goto(demo.url + '/config.json');
    console.log(`\nChromium ${browser.version()}`);
    // Streaming compile + instantiate of the served module, as a page does it.
    const streaming = await page.evaluate(async (rounds) => {
      const out = [];
      for (let r = 0; r < rounds; r++) {
        const t0 = performance.now();
        const { instance } = await WebAssembly.instantiateStreaming(fetch('/vexil.wasm?' + r), {});
        instance.exports._initialize();
        out.push((performance.now() - t0) * 1e6);
      }
      return out;
    }, rounds);
    const res = await page.evaluate(async ([input, rounds]) => {
      const { createClient } = await import('/src/index.js');
      const { runBench } = await import('/bench/cases.mjs');
      const bytes = new Uint8Array(await (await fetch('/vexil.wasm')).arrayBuffer());
      return (await runBench(createClient, input, { rounds, wasmBytes: bytes })).results;
    }, [input, rounds]);
    res['fetch + instantiateStreaming + _initialize (localhost, gzip)'] = streaming;
    report('Chromium (performance.now() is coarsened to 0.1 ms in pages: loops run ≥ 200 ms)', res);
  } finally {
    await browser.close();
    await demo.close();
  }
}
