// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core; never a downloaded
// browser) running the demo page against a real daemon and Redis: the golden vectors in the
// browser, live flips, the daemon stopped (STALE, values kept), a reload while it is down
// (values from IndexedDB), the daemon back (converges). Saves test-artifacts/demo*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { serveDemo } from '../demo/server.mjs';
import { nativeVectors, renderResult, repo, wasmPath, wasmBytes } from './helpers.js';
import { seed, startDaemon, startRedis } from './daemon.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.js';

const artifacts = new URL('../test-artifacts/', import.meta.url).pathname;

let redis, daemon, demo, browser;

before(async () => {
  wasmBytes(); // fails when dist/vexil.wasm is missing
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: make js-deps installs Debian's chromium`);
  redis = await startRedis();
  daemon = await startDaemon(redis.url);
  mkdirSync(artifacts, { recursive: true });
  // playwright gives the browser a fresh, empty profile of its own.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await demo?.close();
  await daemon?.stop();
  await redis?.stop();
});

/** Waits (≤ ms) until the page's flag row for key has the value (JSON text) and reason. */
async function waitRow(page, key, value, reason, ms = 5000) {
  await page.waitForFunction(
    ([k, v, r]) => {
      const tr = document.querySelector(`tr[data-key="${k}"]`);
      return tr && tr.dataset.value === v && (!r || tr.dataset.reason === r);
    },
    [key, value, reason],
    { timeout: ms },
  );
}

const statusIs = (page, s, ms = 10_000) => page.waitForFunction((s) => document.getElementById('status').dataset.status === s, s, { timeout: ms });

test('the golden vectors in Chromium, byte-identical to the native core', async () => {
  const file = JSON.parse(readFileSync(repo + 'core/testdata/vectors.json', 'utf8'));
  const suites = nativeVectors().map((s, si) => ({ snapshot: s.snapshot, problems: s.problems ?? [], suite: s.suite, native: s.cases.map((c) => c.native), cases: file.suites[si].cases }));
  demo ??= await serveDemo({ daemon: daemon.url, clientKey: 'unused', wasm: wasmPath });
  const page = await browser.newPage();
  try {
    await page.goto(demo.url + '/config.json');
    // The page evaluates every case with the package's default module URL (/vexil.wasm).
    const details = await page.evaluate(async (suites) => {
      const { createClient } = await import('/src/index.js');
      const out = [];
      for (const s of suites) {
        const c = await createClient({ bootstrap: s.snapshot, storage: false });
        out.push({ problems: c.problems, details: s.cases.map((v) => {
          c.setContext(v.context ?? {}, { now: v.now ?? 0, random: v.random ?? 0 });
          return c.detail(v.flag, v.default ?? null, v.type || undefined);
        }) });
        c.close();
      }
      return out;
    }, suites.map(({ snapshot, cases }) => ({ snapshot, cases })));
    let n = 0;
    for (const [si, s] of suites.entries()) {
      assert.deepEqual(details[si].problems, s.problems, s.suite);
      for (const [ci, v] of s.cases.entries()) {
        assert.equal(renderResult(v.flag, details[si].details[ci]), s.native[ci], `${s.suite}: ${v.name}`);
        n++;
      }
    }
    assert.ok(n > 600, `${n} cases`);
  } finally {
    await page.close();
  }
});

test('localStorage as the store, in Chromium: the snapshot is kept under the client key and read back offline', async () => {
  const key = await seed(daemon, 'ls');
  demo ??= await serveDemo({ daemon: daemon.url, clientKey: key, wasm: wasmPath });
  const page = await browser.newPage();
  try {
    await page.goto(demo.url + '/config.json');
    const got = await page.evaluate(async ([url, key]) => {
      const { createClient } = await import('/src/index.js');
      const c = await createClient({ url, clientKey: key, storage: 'localStorage', context: { targetingKey: 'user-1' } });
      const online = { status: c.status, version: c.version, value: c.bool('new-checkout', false) };
      await new Promise((r) => setTimeout(r, 100)); // the write is asynchronous
      c.close();
      const stored = JSON.parse(localStorage.getItem('vexil.snapshot.' + key));
      // Offline: a daemon address nobody answers on; the stored snapshot serves.
      const off = await createClient({ url: 'http://127.0.0.1:9', clientKey: key, storage: 'localStorage', context: { targetingKey: 'user-1' } });
      const offline = { status: off.status, version: off.version, value: off.bool('new-checkout', false) };
      off.close();
      return { online, storedVersion: stored.version, offline };
    }, [daemon.url, key]);
    assert.deepEqual(got.online, { status: 'READY', version: got.storedVersion, value: true });
    assert.deepEqual(got.offline, { status: 'STALE', version: got.storedVersion, value: true });
  } finally {
    await page.close();
  }
});

test('demo page: evaluates, live flip, daemon down → STALE, reload → storage, daemon back → converges', async () => {
  const key = await seed(daemon, 'web');
  await demo?.close();
  demo = await serveDemo({ daemon: daemon.url, clientKey: key, wasm: wasmPath });
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 760 } });
  const page = await ctx.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  try {
    await page.goto(demo.url);
    await page.waitForSelector('body[data-loaded=true]', { timeout: 10_000 });
    await statusIs(page, 'READY');
    // user-1 is a pinned target: matched through its hash in the browser-safe snapshot.
    await waitRow(page, 'new-checkout', 'true', 'TARGETING_MATCH');
    await waitRow(page, 'theme', '"dark"', 'STATIC');
    assert.equal(await page.locator('tr[data-key="server-only"]').count(), 0, 'server-only flags never reach the browser');
    // The context form: plan pro, country DE, beta.
    await page.selectOption('select[name=targetingKey]', 'user-42');
    await waitRow(page, 'new-checkout', 'false', 'DEFAULT');
    await page.selectOption('select[name=plan]', 'pro');
    await waitRow(page, 'new-checkout', 'true', 'TARGETING_MATCH');
    await page.selectOption('select[name=country]', 'DE');
    await waitRow(page, 'layout', '{"cols":3,"dense":true}', 'TARGETING_MATCH');
    await page.check('input[name=beta]');
    await waitRow(page, 'upload-limit-mb', '100', 'TARGETING_MATCH');

    // A flag flipped through the admin API shows within 5 s.
    await daemon.admin('POST', '/environments/web/flags/theme/disable');
    await waitRow(page, 'theme', '"light"', 'DISABLED', 5000);
    await page.screenshot({ path: artifacts + 'demo.png', fullPage: true });

    // The daemon stopped: the page keeps its values and reports STALE.
    const version = await page.evaluate(() => window.demo.client.version);
    await daemon.stop();
    await statusIs(page, 'STALE');
    await waitRow(page, 'theme', '"light"', 'DISABLED', 100);
    await waitRow(page, 'layout', '{"cols":3,"dense":true}', 'TARGETING_MATCH', 100);
    await page.screenshot({ path: artifacts + 'demo-stale.png', fullPage: true });

    // Reloaded with the daemon still down: values from storage (IndexedDB), STALE.
    await page.reload();
    await page.waitForSelector('body[data-loaded=true]', { timeout: 10_000 });
    await statusIs(page, 'STALE');
    assert.equal(await page.evaluate(() => window.demo.client.version), version);
    await waitRow(page, 'theme', '"light"', 'DISABLED', 100);
    await waitRow(page, 'new-checkout', 'true', 'TARGETING_MATCH', 100); // user-1 after reload

    // Changes while it is down (another daemon, same Redis), then the daemon back: converges.
    const other = await startDaemon(redis.url);
    try {
      await other.admin('POST', '/environments/web/flags/theme/enable');
      await other.admin('POST', '/environments/web/flags/new-checkout/disable');
    } finally {
      await other.stop();
    }
    await daemon.start();
    await statusIs(page, 'READY', 15_000);
    await waitRow(page, 'theme', '"dark"', 'STATIC', 5000);
    await waitRow(page, 'new-checkout', 'false', 'DISABLED', 5000);
    assert.equal(await page.evaluate(() => window.demo.client.version), version + 2);
    await page.screenshot({ path: artifacts + 'demo-converged.png', fullPage: true });
    assert.deepEqual(pageErrors, []);
  } finally {
    await ctx.close();
  }
});
