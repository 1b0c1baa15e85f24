// The client's API without a daemon: bootstrap, getters, detail, all, setContext, errors,
// events, storage, close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createClient, fileStore } from '../src/index.js';
import { wasmBytes } from './helpers.js';
import { demoFlags, freePort, waitFor } from './daemon.js';

const wasm = wasmBytes();
const snap = (version, flags = demoFlags) => ({ environment: 'test', version, flags });

test('getters, detail and all against a bootstrap snapshot', async () => {
  const c = await createClient({ bootstrap: snap(3), wasm, storage: false, context: { targetingKey: 'user-9', plan: 'pro' } });
  try {
    assert.equal(c.status, 'READY');
    assert.equal(c.version, 3);
    assert.equal(c.bool('new-checkout', false), true);
    assert.equal(c.string('theme', 'x'), 'dark');
    assert.equal(c.number('upload-limit-mb', 1), 10);
    assert.deepEqual(c.json('layout', null), { cols: 2 });
    assert.ok(Object.isFrozen(c.json('layout', null)), 'shared values are frozen');
    assert.deepEqual(c.detail('new-checkout', false, 'boolean'), { key: 'new-checkout', value: true, variation: 1, reason: 'TARGETING_MATCH', ruleId: 'pro-users', inExperiment: false, version: 3, valueJSON: 'true' });
    // Type mismatch and unknown flags: the caller's default, and why.
    assert.equal(c.string('new-checkout', 'dflt'), 'dflt');
    const tm = c.detail('new-checkout', 'dflt', 'string');
    assert.equal(tm.errorCode, 'TYPE_MISMATCH');
    assert.equal(tm.reason, 'ERROR');
    assert.equal(tm.variation, -1);
    assert.equal(c.bool('nope', true), true);
    assert.equal(c.detail('nope', 1).errorCode, 'FLAG_NOT_FOUND');
    assert.equal(c.detail('theme', 'x', 'colour').errorCode, 'TYPE_MISMATCH');
    // all(): every flag in one call.
    assert.deepEqual(c.all(), { 'new-checkout': true, theme: 'dark', 'upload-limit-mb': 10, 'rollout-25': c.bool('rollout-25', null), layout: { cols: 2 }, 'server-only': true });
    assert.equal(c.allDetails().layout.reason, 'DEFAULT');
    // setContext: the next checks see the new context.
    c.setContext({ targetingKey: 'user-1', beta: true, country: 'DE', signup: new Date(0), groups: ['a'] });
    assert.equal(c.detail('new-checkout', false).reason, 'TARGETING_MATCH');
    assert.equal(c.detail('new-checkout', false).ruleId, undefined);
    assert.equal(c.number('upload-limit-mb', 1), 100);
    assert.deepEqual(c.json('layout', null), { cols: 3, dense: true });
  } finally {
    c.close();
  }
});

test('a context the engine cannot use: defaults with INVALID_CONTEXT naming the attribute, until the next setContext', async () => {
  const c = await createClient({ bootstrap: snap(1), wasm, storage: false });
  const errors = [];
  c.on('error', (e) => errors.push(e.message));
  try {
    c.setContext({ targetingKey: 'u', address: { city: 'x' } });
    assert.equal(c.bool('new-checkout', true), true);
    const d = c.detail('new-checkout', true);
    assert.equal(d.errorCode, 'INVALID_CONTEXT');
    assert.match(d.errorMessage, /context\.address: unsupported type object/);
    assert.match(errors.join('\n'), /context\.address: unsupported type object/);
    c.setContext({ targetingKey: 7 });
    assert.match(c.detail('theme', 'x').errorMessage, /context\.targetingKey: must be a string/);
    c.setContext({ targetingKey: 'u', tags: ['a', 1] });
    assert.match(c.detail('theme', 'x').errorMessage, /arrays must hold only strings/);
    c.setContext({ targetingKey: 'u', plan: 'pro' });
    assert.equal(c.bool('new-checkout', false), true);
    c.setContext({ targetingKey: 'u' }, { random: -1 });
    assert.match(c.detail('theme', 'x').errorMessage, /options\.random/);
  } finally {
    c.close();
  }
});

test('non-ASCII context strings encode as UTF-8 (the ASCII fast path falls back)', async () => {
  const flags = [{ key: 'f', enabled: true, variations: [false, true], offVariation: 0, rules: [{ id: 'r', clauses: [{ attribute: 'city', op: 'in', values: ['Zürich', '東京', 'a👩‍💻b'] }], variation: 1 }], fallthrough: { variation: 0 } }];
  const c = await createClient({ bootstrap: snap(1, flags), wasm, storage: false });
  try {
    for (const city of ['Zürich', '東京', 'a👩‍💻b']) {
      c.setContext({ targetingKey: 'ü', city });
      assert.equal(c.bool('f', false), true, city);
    }
    c.setContext({ targetingKey: 'u', city: 'Zurich' });
    assert.equal(c.bool('f', true), false);
  } finally {
    c.close();
  }
});

test('bad options are refused naming the option', async () => {
  await assert.rejects(createClient({ wasm }), /options\.url: give url/);
  await assert.rejects(createClient({ url: 'ftp://x', clientKey: 'k', wasm }), /options\.url: must be an http/);
  await assert.rejects(createClient({ url: 'http://127.0.0.1:1', wasm }), /options\.clientKey: required/);
  await assert.rejects(createClient({ url: 'http://127.0.0.1:1', clientKey: 'vx_server_abc', wasm }), /options\.clientKey: is a server key/);
  await assert.rejects(createClient({ bootstrap: snap(1), storage: 42, wasm }), /options\.storage/);
  await assert.rejects(createClient({ bootstrap: snap(1), timeout: -1, wasm }), /options\.timeout/);
  await assert.rejects(createClient({ bootstrap: snap(1), context: [], wasm }), /options\.context/);
  await assert.rejects(createClient({ bootstrap: snap(1), wasm: '/nonexistent/vexil.wasm' }), /cannot load the engine module \(options\.wasm\): ENOENT/);
  await assert.rejects(createClient({ bootstrap: snap(1), wasm: new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]) }), /cannot load the engine module/);
});

test('an unusable bootstrap: status ERROR, checks answer PROVIDER_NOT_READY, the reason is reported', async () => {
  const errors = [];
  const c = await createClient({ bootstrap: '{"flags": []}', wasm, storage: false });
  try {
    assert.equal(c.status, 'ERROR');
    assert.equal(c.version, -1);
    assert.equal(c.bool('x', true), true);
    assert.equal(c.detail('x', true).errorCode, 'PROVIDER_NOT_READY');
    assert.deepEqual(c.all(), {});
    c.on('error', (e) => errors.push(e));
  } finally {
    c.close();
  }
  // A snapshot with a rejected flag loads; that flag answers PARSE_ERROR with its problem.
  const bad = { environment: 't', version: 1, flags: [{ key: 'ok', enabled: true, variations: [1], fallthrough: { variation: 0 } }, { key: 'bad', enabled: true, variations: [1], fallthrough: { variation: 5 } }] };
  const c2 = await createClient({ bootstrap: bad, wasm, storage: false });
  try {
    assert.equal(c2.number('ok', 0), 1);
    const d = c2.detail('bad', 0);
    assert.equal(d.errorCode, 'PARSE_ERROR');
    assert.match(d.errorMessage, /^the flag was rejected when the snapshot loaded: flags\[1\]/);
    assert.equal(c2.problems.length, 1);
  } finally {
    c2.close();
  }
});

test('pinned now and random; the clock otherwise', async () => {
  const flags = [
    { key: 'sched', enabled: true, variations: ['off', 'on'], offVariation: 0, schedule: { notBefore: '2030-01-01T00:00:00Z' }, fallthrough: { variation: 1 } },
    { key: 'pot', enabled: true, variations: ['off', 'on'], offVariation: 0, percentageOfTime: 50000, fallthrough: { variation: 1 } },
  ];
  const c = await createClient({ bootstrap: snap(1, flags), wasm, storage: false });
  try {
    assert.equal(c.string('sched', ''), 'off', 'now is the clock: before 2030');
    c.setContext({}, { now: Date.parse('2030-06-01T00:00:00Z') });
    assert.equal(c.string('sched', ''), 'on');
    c.setContext({}, { now: new Date('2029-06-01T00:00:00Z'), random: 0 });
    assert.equal(c.string('sched', ''), 'off');
    assert.equal(c.string('pot', ''), 'on');
    c.setContext({}, { random: 0xffffffff });
    assert.equal(c.string('pot', ''), 'off');
  } finally {
    c.close();
  }
});

test('offline start: daemon unreachable → the stored snapshot (file store), STALE, values kept', async () => {
  const dir = mkdtempSync(tmpdir() + '/vexil-js-store-');
  try {
    const store = fileStore(dir);
    const key = 'vx_client_offline';
    await store.set('vexil.snapshot.' + key, JSON.stringify(snap(7)));
    const port = await freePort(); // nothing listens there
    const stale = [];
    const t0 = Date.now();
    const c = await createClient({ url: `http://127.0.0.1:${port}`, clientKey: key, wasm, storage: dir, context: { targetingKey: 'user-1' }, timeout: 10_000 });
    try {
      assert.ok(Date.now() - t0 < 5000, 'returns after the first failed attempt, not the timeout');
      c.on('stale', (e) => stale.push(e));
      assert.equal(c.status, 'STALE');
      assert.equal(c.version, 7);
      assert.equal(c.bool('new-checkout', false), true);
      assert.match(c.statusReason, /serving version 7/);
    } finally {
      c.close();
    }
    // No snapshot anywhere and no daemon: NOT ready, defaults.
    const c2 = await createClient({ url: `http://127.0.0.1:${port}`, clientKey: 'other', wasm, storage: dir, timeout: 10_000 });
    try {
      assert.equal(c2.status, 'ERROR');
      assert.equal(c2.detail('theme', 'x').errorCode, 'PROVIDER_NOT_READY');
    } finally {
      c2.close();
    }
    assert.equal(JSON.parse(readFileSync(dir + '/vexil.snapshot.vx_client_offline.json', 'utf8')).version, 7);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('closed client answers defaults with GENERAL', async () => {
  const c = await createClient({ bootstrap: snap(1), wasm, storage: false });
  c.close();
  assert.equal(c.status, 'CLOSED');
  assert.equal(c.string('theme', 'x'), 'x');
  assert.equal(c.detail('theme', 'x').errorCode, 'GENERAL');
});

test('many snapshot loads: memory stays bounded (the instance is renewed), answers stay right', async () => {
  const { execFileSync } = await import('node:child_process');
  const { repo } = await import('./helpers.js');
  const input = JSON.parse(execFileSync('go', ['run', './hosts/js/bench/gen', '-flags', '1000'], { cwd: repo, encoding: 'utf8', maxBuffer: 256 << 20 }));
  const base = JSON.parse(input.snapshot);
  const c = await createClient({ bootstrap: input.snapshot, wasm, storage: false, context: input.context });
  try {
    const want = JSON.stringify(c.all());
    let peak = 0;
    for (let v = 1; v <= 40; v++) {
      // What the daemon source does with each snapshot it receives.
      assert.ok(c._fromDaemon(JSON.stringify({ ...base, version: base.version + v }), null));
      await new Promise((r) => setImmediate(r));
      peak = Math.max(peak, c._engine._mem.buffer.byteLength);
      assert.equal(c.version, base.version + v);
    }
    assert.ok(peak < 96 << 20, `memory peaked at ${peak >> 20} MiB`);
    assert.equal(JSON.stringify(c.all()), want);
    // Renewal itself (whether the module's memory grows past the threshold depends on its
    // allocator): forced, it swaps in fresh instances that answer the same.
    c._renewAt = 0;
    const before = c.renewals ?? 0;
    for (let v = 41; v <= 45; v++) {
      assert.ok(c._fromDaemon(JSON.stringify({ ...base, version: base.version + v }), null));
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok((c.renewals ?? 0) > before, 'the instance was renewed');
    assert.equal(c.version, base.version + 45);
    assert.equal(JSON.stringify(c.all()), want);
  } finally {
    c.close();
  }
});

test('flag keys that are Object.prototype names stay plain entries of all()', async () => {
  const flags = ['__proto__', 'constructor', 'toString'].map((key, i) => ({ key, enabled: true, variations: [i], fallthrough: { variation: 0 } }));
  const c = await createClient({ bootstrap: snap(1, flags), wasm, storage: false });
  try {
    const all = c.all();
    assert.deepEqual(Object.keys(all), ['__proto__', 'constructor', 'toString']);
    assert.equal(Object.getPrototypeOf(all), Object.prototype);
    assert.equal(JSON.stringify(all), '{"__proto__":0,"constructor":1,"toString":2}');
    assert.equal(c.allDetails()['__proto__'].value, 0);
    assert.equal(c.number('constructor', -1), 1);
    assert.equal(c.detail('hasOwnProperty', -1).errorCode, 'FLAG_NOT_FOUND');
  } finally {
    c.close();
  }
});

test('all() is frozen and the same object while no result changes', async () => {
  const c = await createClient({ bootstrap: snap(1), wasm, storage: false, context: { targetingKey: 'user-9' } });
  try {
    const a = c.all();
    assert.ok(Object.isFrozen(a));
    assert.equal(c.all(), a, 'same results: same object');
    c.setContext({ targetingKey: 'user-9' });
    assert.equal(c.all(), a, 'a context with the same answers: same object');
    c.setContext({ targetingKey: 'user-9', plan: 'pro' });
    const b = c.all();
    assert.notEqual(b, a);
    assert.equal(b['new-checkout'], true);
    assert.equal(a['new-checkout'], false, 'an earlier result is not changed');
    c._fromDaemon(JSON.stringify(snap(2)), null);
    assert.notEqual(c.all(), b, 'a new snapshot: a new object');
    assert.deepEqual(c.all(), b);
  } finally {
    c.close();
  }
});

test('a trapped instance: checks answer defaults with GENERAL, never throw, and a fresh instance takes over', async () => {
  const c = await createClient({ bootstrap: snap(4), wasm, storage: false, context: { targetingKey: 'user-9', plan: 'pro' } });
  try {
    const e = c._engine;
    // What a trap looks like from JS: the export throws a WebAssembly.RuntimeError.
    e.evaluateTyped = () => {
      throw new WebAssembly.RuntimeError('unreachable');
    };
    assert.equal(c.bool('new-checkout', false), false);
    assert.equal(c.detail('new-checkout', false).errorCode, 'GENERAL');
    assert.match(c.detail('new-checkout', false).errorMessage, /wasm instance failed/);
    assert.deepEqual(c.all(), {});
    await waitFor('a fresh instance', () => c._engine !== e, 2000);
    assert.equal(c.bool('new-checkout', false), true);
    assert.equal(c.version, 4);
  } finally {
    c.close();
  }
});
