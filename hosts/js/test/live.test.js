// The Node client against a real daemon and Redis: live changes over SSE, a daemon stopped
// (STALE, values kept), changes made meanwhile through another daemon on the same Redis, the
// daemon back (converges, READY); the OpenFeature provider through @openfeature/web-sdk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { OpenFeature, ProviderEvents as OFEvents } from '@openfeature/web-sdk';
import { createClient } from '../src/index.js';
import { VexilProvider } from '../src/openfeature.js';
import { wasmBytes } from './helpers.js';
import { seed, startDaemon, startRedis, waitFor } from './daemon.js';

const wasm = wasmBytes();
let redis, daemon, dir;

before(async () => {
  redis = await startRedis();
  daemon = await startDaemon(redis.url);
  dir = mkdtempSync(tmpdir() + '/vexil-js-live-');
});

after(async () => {
  await daemon?.stop();
  await redis?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Resolves with the first event of type for which pred holds. */
function next(client, type, pred = () => true, ms = 5000) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      off();
      reject(new Error(`no '${type}' event within ${ms} ms (status ${client.status}: ${client.statusReason})`));
    }, ms);
    const off = client.on(type, (e) => {
      if (!pred(e)) return;
      clearTimeout(t);
      off();
      resolve(e);
    });
  });
}

test('live: snapshot, patches over SSE, stale while the daemon is down, converges when it is back', async () => {
  const key = await seed(daemon, 'live');
  const c = await createClient({ url: daemon.url, clientKey: key, wasm, storage: dir, context: { targetingKey: 'user-1' }, backoff: { min: 200, max: 1000 }, eventSource: false });
  try {
    assert.equal(c.status, 'READY', c.statusReason);
    const v0 = c.version;
    assert.ok(v0 >= 6, `version ${v0}`);
    // Browser-safe: only client-side flags, the targeting key matched through its hash.
    assert.deepEqual(c.keys.sort(), ['layout', 'new-checkout', 'rollout-25', 'theme', 'upload-limit-mb']);
    assert.equal(c.detail('new-checkout', false).reason, 'TARGETING_MATCH');
    assert.equal(c.detail('server-only', false).errorCode, 'FLAG_NOT_FOUND');

    // A flag flipped through the admin API arrives as a patch.
    let change = next(c, 'change');
    await daemon.admin('POST', '/environments/live/flags/new-checkout/disable');
    let e = await change;
    assert.deepEqual(e.keys, ['new-checkout']);
    assert.equal(e.previousVersion, v0);
    assert.equal(e.version, v0 + 1);
    assert.equal(c.detail('new-checkout', true).reason, 'DISABLED');
    assert.equal(c.bool('new-checkout', true), false);

    // A new flag, then a changed one.
    change = next(c, 'change', (e) => e.keys.includes('fresh'));
    await daemon.admin('POST', '/environments/live/flags', { key: 'fresh', clientSide: true, enabled: true, variations: ['a', 'b'], fallthrough: { variation: 1 } });
    await change;
    assert.equal(c.string('fresh', ''), 'b');

    // Daemon stopped: STALE, values kept.
    const stale = next(c, 'stale');
    await daemon.stop();
    await stale;
    assert.equal(c.status, 'STALE');
    assert.equal(c.string('fresh', ''), 'b');
    assert.equal(c.bool('new-checkout', true), false);

    // Changes while it is down, through a second daemon on the same Redis.
    const other = await startDaemon(redis.url);
    try {
      await other.admin('POST', '/environments/live/flags/new-checkout/enable');
      await other.admin('PUT', '/environments/live/flags/fresh', { key: 'fresh', clientSide: true, enabled: true, variations: ['a', 'b'], fallthrough: { variation: 0 } });
    } finally {
      await other.stop();
    }
    // The daemon back on its address: the client reconnects (Last-Event-ID) and converges.
    const ready = next(c, 'ready', () => true, 10_000);
    await daemon.start();
    await ready;
    await waitFor('convergence', () => c.string('fresh', '') === 'a' && c.bool('new-checkout', false) === true, 5000);
    assert.equal(c.version, v0 + 4);
    assert.equal(c.status, 'READY');
  } finally {
    c.close();
  }
});

test('resume: a dropped stream reconnects with Last-Event-ID and gets the missed patches, not a snapshot', async () => {
  const key = await seed(daemon, 'resume');
  const c = await createClient({ url: daemon.url, clientKey: key, wasm, storage: false, context: { targetingKey: 'user-1' }, backoff: { min: 1500, max: 1500 }, eventSource: false });
  // The daemon keeps browser-safe patches for resumption only while some client listens.
  const other = await createClient({ url: daemon.url, clientKey: key, wasm, storage: false });
  try {
    assert.equal(c.status, 'READY');
    const v0 = c.version;
    const seen = [];
    const load = c._fromDaemon.bind(c);
    c._fromDaemon = (text, patch) => (seen.push(patch ? 'patch' : 'snapshot'), load(text, patch));
    // Drop the connection as a network failure would; the reconnect waits 1.1–1.9 s.
    const stale = next(c, 'stale');
    c._source.conn.close();
    c._source.fail(new Error('test: connection dropped'));
    await stale;
    await daemon.admin('POST', '/environments/resume/flags/theme/disable');
    await daemon.admin('POST', '/environments/resume/flags/layout/disable');
    await next(c, 'ready');
    await waitFor('both patches', () => c.version === v0 + 2, 5000);
    assert.deepEqual(seen, ['patch', 'patch']);
    assert.equal(c.detail('theme', 'x').reason, 'DISABLED');
    assert.equal(c.detail('layout', null).reason, 'DISABLED');
  } finally {
    c.close();
    other.close();
  }
});

test('gap: a patch that does not follow the version held, or a heartbeat ahead of it, refetches the snapshot', async () => {
  const key = await seed(daemon, 'gap');
  const c = await createClient({ url: daemon.url, clientKey: key, wasm, storage: false, eventSource: false });
  const realFetch = globalThis.fetch;
  const gets = [];
  globalThis.fetch = (url, init) => (gets.push(new URL(url).pathname), realFetch(url, init));
  try {
    const v0 = c.version;
    const errors = [];
    c.on('error', (e) => errors.push(e.message));
    // What a daemon that lost changes would send (the stream parser hands events here).
    const deliver = (type, data) => {
      try {
        c._source.event(type, JSON.stringify(data));
      } catch (e) {
        c._source.broken(e);
      }
    };
    deliver('patch', { environment: 'gap', previousVersion: v0 + 3, version: v0 + 4, flags: { theme: null }, segments: {} });
    assert.ok(c.keys.includes('theme'), 'the gapped patch was not applied');
    assert.match(errors.join('\n'), /gap \(hold version \d+, patch turns \d+ into \d+\): refetching/);
    await waitFor('refetch and stream again', () => gets.join() === '/sdk/v1/snapshot,/sdk/v1/stream' && c.status === 'READY', 5000);
    // A heartbeat announcing a newer version than held: the same.
    gets.length = 0;
    deliver('heartbeat', { version: c.version + 1 });
    assert.match(errors.join('\n'), /heartbeat says version \d+, we hold \d+: refetching/);
    await waitFor('refetch after heartbeat', () => gets.join() === '/sdk/v1/snapshot,/sdk/v1/stream' && c.status === 'READY', 5000);
    // An old patch (version ≤ held) is ignored; a current heartbeat too.
    gets.length = 0;
    deliver('patch', { environment: 'gap', previousVersion: v0 - 1, version: v0, flags: { theme: null }, segments: {} });
    deliver('heartbeat', { version: c.version });
    assert.ok(c.keys.includes('theme'));
    assert.deepEqual(gets, []);
    // And the stream still works.
    await daemon.admin('POST', '/environments/gap/flags/theme/disable');
    await waitFor('the change', () => c.detail('theme', 'x').reason === 'DISABLED', 5000);
    assert.equal(c.version, v0 + 1);
  } finally {
    globalThis.fetch = realFetch;
    c.close();
  }
});

test('OpenFeature web provider: typed resolutions with variants and metadata, context changes, configuration-changed, stale and ready events', async () => {
  const key = await seed(daemon, 'of');
  const provider = new VexilProvider({ url: daemon.url, clientKey: key, wasm, storage: false, eventSource: false, backoff: { min: 200, max: 1000 } });
  await OpenFeature.setProviderAndWait(provider, { targetingKey: 'user-9', plan: 'pro' });
  try {
    const of = OpenFeature.getClient();
    const d = of.getBooleanDetails('new-checkout', false);
    assert.equal(d.value, true);
    assert.equal(d.variant, '1');
    assert.equal(d.reason, 'TARGETING_MATCH');
    assert.equal(d.flagMetadata.ruleId, 'pro-users');
    assert.equal(of.getStringValue('theme', 'x'), 'dark');
    assert.equal(of.getNumberValue('upload-limit-mb', 0), 10);
    assert.deepEqual(of.getObjectValue('layout', {}), { cols: 2 });
    const tm = of.getStringDetails('new-checkout', 'd');
    assert.equal(tm.value, 'd');
    assert.equal(tm.errorCode, 'TYPE_MISMATCH');
    assert.equal(of.getBooleanDetails('missing', true).errorCode, 'FLAG_NOT_FOUND');

    // Static context: a context change is evaluated locally.
    await OpenFeature.setContext({ targetingKey: 'user-9', plan: 'free', beta: true });
    assert.equal(of.getBooleanValue('new-checkout', true), false);
    assert.equal(of.getNumberValue('upload-limit-mb', 0), 100);

    // A change in the daemon: PROVIDER_CONFIGURATION_CHANGED with the changed keys.
    const changed = new Promise((resolve) => of.addHandler(OFEvents.ConfigurationChanged, (e) => e.flagsChanged?.includes('theme') && resolve(e)));
    await daemon.admin('POST', '/environments/of/flags/theme/disable');
    const ev = await Promise.race([changed, new Promise((_, rej) => setTimeout(() => rej(new Error('no configuration-changed event')), 5000))]);
    assert.ok(ev.flagsChanged.includes('theme'));
    assert.equal(of.getStringDetails('theme', 'x').reason, 'DISABLED');
    assert.equal(of.getStringValue('theme', 'x'), 'light');

    // The daemon stopped: PROVIDER_STALE, values kept; back: PROVIDER_READY.
    const event = (type) => new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${type} event`)), 10_000);
      const h = (e) => (clearTimeout(t), of.removeHandler(type, h), resolve(e));
      of.addHandler(type, h);
    });
    const stale = event(OFEvents.Stale);
    await daemon.stop();
    await stale;
    assert.equal(of.providerStatus, 'STALE');
    assert.equal(of.getStringValue('theme', 'x'), 'light');
    const ready = event(OFEvents.Ready);
    await daemon.start();
    await ready;
    assert.equal(of.providerStatus, 'READY');
  } finally {
    await OpenFeature.close();
  }
});
