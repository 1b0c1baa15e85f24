// Real servers for the tests: redis-server and `vexil serve` on free ports in a temporary
// directory, plus the admin API calls the tests make. Nothing is mocked. A missing
// redis-server or daemon binary fails the test (never skips it).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import { repo } from './helpers.js';

/** The daemon binary: dist/vexil (./build.sh), or $VEXIL_BIN. */
export const vexilBin = process.env.VEXIL_BIN || repo + 'dist/vexil';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitFor(what, f, ms = 10_000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      if (await f()) return;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not come up within ${ms} ms${last ? ': ' + last.message : ''}`);
}

function stopProcess(p, signal = 'SIGTERM') {
  if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    p.kill(signal);
  });
}

/** Starts redis-server in a temporary directory; stop() ends it and removes the directory. */
export async function startRedis() {
  try {
    execFileSync('redis-server', ['--version']);
  } catch (e) {
    assert.fail('redis-server is not installed (apt-get install redis-server): ' + e.message);
  }
  const dir = mkdtempSync(tmpdir() + '/vexil-js-redis-');
  const port = await freePort();
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no', '--logfile', dir + '/redis.log'], { stdio: 'ignore' });
  await waitFor('redis-server', () => new Promise((resolve) => {
    const s = new net.Socket();
    s.once('error', () => resolve(false));
    s.connect(port, '127.0.0.1', () => {
      s.write('PING\r\n');
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('+PONG'));
      });
    });
  }));
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      await stopProcess(p);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts `vexil serve` against redisURL on port (free when omitted). The returned handle can
 * stop() and start() it again on the same port.
 */
export async function startDaemon(redisURL, port) {
  assert.ok(existsSync(vexilBin), `${vexilBin} is missing: run ./build.sh (make build) first`);
  port ??= await freePort();
  const d = {
    url: `http://127.0.0.1:${port}`,
    proc: null,
    log: '',
    async start() {
      this.proc = spawn(vexilBin, ['serve', '--redis', redisURL, '--listen', `127.0.0.1:${port}`, '--drain', '1s'], {
        env: { ...process.env, VEXIL_ADMIN_TOKEN: ADMIN_TOKEN },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      this.proc.stderr.on('data', (b) => (this.log = (this.log + b).slice(-20000)));
      const proc = this.proc;
      await waitFor('vexil serve', async () => {
        if (proc.exitCode !== null) throw new Error('exited: ' + this.log);
        return (await fetch(this.url + '/healthz')).ok;
      });
    },
    async stop() {
      await stopProcess(this.proc);
      this.proc = null;
    },
    /** An admin API call; throws on a non-2xx answer. */
    async admin(method, path, body) {
      const r = await fetch(this.url + '/api/v1' + path, {
        method,
        headers: { Authorization: 'Bearer ' + ADMIN_TOKEN, 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status}: ${text}`);
      return text ? JSON.parse(text) : null;
    },
  };
  await d.start();
  return d;
}

/** The demo environment: a few client-side flags (and one server-only flag). */
export const demoFlags = [
  { key: 'new-checkout', clientSide: true, enabled: true, variations: [false, true], offVariation: 0, targets: [{ variation: 1, values: ['user-1'] }], rules: [{ id: 'pro-users', clauses: [{ attribute: 'plan', op: 'in', values: ['pro'] }], variation: 1 }], fallthrough: { variation: 0 } },
  { key: 'theme', clientSide: true, enabled: true, variations: ['light', 'dark', 'solarized'], offVariation: 0, fallthrough: { variation: 1 } },
  { key: 'upload-limit-mb', clientSide: true, enabled: true, variations: [10, 100], offVariation: 0, rules: [{ id: 'beta', clauses: [{ attribute: 'beta', op: 'equals', values: [true] }], variation: 1 }], fallthrough: { variation: 0 } },
  { key: 'rollout-25', clientSide: true, enabled: true, variations: [false, true], offVariation: 0, fallthrough: { rollout: { variations: [{ variation: 1, weight: 25000 }, { variation: 0, weight: 75000 }] } } },
  { key: 'layout', clientSide: true, enabled: true, variations: [{ cols: 2 }, { cols: 3, dense: true }], offVariation: 0, rules: [{ id: 'de', clauses: [{ attribute: 'country', op: 'in', values: ['DE'] }], variation: 1 }], fallthrough: { variation: 0 } },
  { key: 'server-only', enabled: true, variations: [false, true], offVariation: 0, fallthrough: { variation: 1 } },
];

/** Creates environment env with the demo flags; returns its client key. */
export async function seed(d, env) {
  const created = await d.admin('POST', '/environments', { key: env });
  for (const f of demoFlags) await d.admin('POST', `/environments/${env}/flags`, f);
  return created.sdkKeys.client;
}

export { waitFor };
