#!/usr/bin/env node
// Serves the demo page: the page, the package's ES modules (/src/…) and the engine module
// (/vexil.wasm, application/wasm for streaming compilation, gzip when asked), and
// /config.json telling the page which daemon and client key to use.
//
//   node hosts/js/demo/server.mjs --daemon http://127.0.0.1:8470 --client-key vx_client_… [--listen 127.0.0.1:8480]
//
// Environment: VEXIL_DAEMON_URL, VEXIL_CLIENT_KEY, VEXIL_DEMO_LISTEN, VEXIL_WASM (default dist/vexil.wasm).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = fileURLToPath(new URL('.', import.meta.url));
const pkg = fileURLToPath(new URL('..', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.wasm': 'application/wasm', '.json': 'application/json' };

/**
 * Starts the demo server; resolves with {url, close()}.
 * @param {{daemon: string, clientKey: string, listen?: string, wasm?: string}} o
 */
export async function serveDemo(o) {
  const wasmPath = o.wasm || process.env.VEXIL_WASM || pkg + '../../dist/vexil.wasm';
  const wasm = await readFile(wasmPath);
  const wasmGz = gzipSync(wasm, { level: 9 });
  const [host, port] = (o.listen || '127.0.0.1:0').split(/:(?=\d+$)/);
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    try {
      if (path === '/config.json') {
        return send(res, 200, '.json', JSON.stringify({ url: o.daemon, clientKey: o.clientKey }));
      }
      if (path === '/vexil.wasm') {
        if (/\bgzip\b/.test(req.headers['accept-encoding'] || '')) return send(res, 200, '.wasm', wasmGz, { 'Content-Encoding': 'gzip' });
        return send(res, 200, '.wasm', wasm);
      }
      if (path === '/' || path === '/index.html') return send(res, 200, '.html', await readFile(here + 'index.html'));
      if (path === '/demo.js') return send(res, 200, '.js', await readFile(here + 'demo.js'));
      const m = /^\/(src|bench)\/([a-z]+\.m?js)$/.exec(path);
      if (m && !(m[1] === 'bench' && m[2] === 'bench.mjs')) return send(res, 200, '.js', await readFile(pkg + m[1] + '/' + m[2]));
      send(res, 404, '.json', '{"error":"not found"}');
    } catch (e) {
      send(res, e.code === 'ENOENT' ? 404 : 500, '.json', JSON.stringify({ error: e.message }));
    }
  });
  await new Promise((resolve) => server.listen(Number(port), host, resolve));
  const a = server.address();
  return {
    url: `http://${a.address}:${a.port}`,
    wasmBytes: wasm.length,
    wasmGzipBytes: wasmGz.length,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

function send(res, status, ext, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': TYPES[ext], 'Cache-Control': 'no-cache', ...headers });
  res.end(body);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({ options: { daemon: { type: 'string' }, 'client-key': { type: 'string' }, listen: { type: 'string' } } });
  const daemon = values.daemon || process.env.VEXIL_DAEMON_URL || 'http://127.0.0.1:8470';
  const clientKey = values['client-key'] || process.env.VEXIL_CLIENT_KEY;
  if (!clientKey) {
    console.error('demo: give --client-key vx_client_… (vexil env keys ENV) or VEXIL_CLIENT_KEY');
    process.exit(2);
  }
  const s = await serveDemo({ daemon, clientKey, listen: values.listen || process.env.VEXIL_DEMO_LISTEN || '127.0.0.1:8480' });
  console.log(`Vexil demo on ${s.url} (daemon ${daemon}; module ${s.wasmBytes} bytes, ${s.wasmGzipBytes} gzip)`);
}
