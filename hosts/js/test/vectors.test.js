// The golden vectors (core/testdata/vectors.json) through the public API, rendered as
// core.AppendResultJSON renders, byte-identical to the native core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClient } from '../src/index.js';
import { nativeVectors, renderResult, repo, wasmBytes } from './helpers.js';

const expected = JSON.parse(readFileSync(repo + 'core/testdata/vectors.json', 'utf8'));

test('golden vectors: every case byte-identical to the native core', async (t) => {
  const wasm = wasmBytes();
  const suites = nativeVectors();
  assert.equal(suites.length, expected.suites.length, 'suites from the native helper');
  let cases = 0;
  for (const [si, s] of suites.entries()) {
    await t.test(s.suite, async () => {
      const errors = [];
      const client = await createClient({ bootstrap: s.snapshot, wasm, storage: false });
      client.on('error', (e) => errors.push(e.message));
      try {
        if (s.loadError) {
          assert.equal(client.status, 'ERROR');
          return;
        }
        assert.equal(client.status, 'READY', client.statusReason);
        assert.deepEqual(client.problems, s.problems ?? []);
        const want = expected.suites[si];
        assert.equal(s.cases.length, want.cases.length);
        for (const [ci, c] of s.cases.entries()) {
          const v = want.cases[ci];
          assert.equal(c.case, v.name);
          assert.ok(c.native, `${v.name}: native error ${c.error}`);
          client.setContext(v.context ?? {}, { now: v.now ?? 0, random: v.random ?? 0 });
          const d = client.detail(v.flag, v.default ?? null, v.type || undefined);
          const got = renderResult(v.flag, d);
          assert.equal(got, c.native, `${v.name} (flag ${v.flag})`);
          // And the expectation itself, field by field.
          const e = v.expect;
          assert.deepEqual(d.value, e.value ?? null, `${v.name}: value`);
          assert.equal(d.variation, e.variation, `${v.name}: variation`);
          assert.equal(d.reason, e.reason, `${v.name}: reason`);
          assert.equal(d.ruleId, e.ruleId, `${v.name}: ruleId`);
          assert.equal(d.errorCode, e.errorCode, `${v.name}: errorCode`);
          assert.equal(d.inExperiment, e.inExperiment, `${v.name}: inExperiment`);
          assert.equal(d.version, client.version);
          cases++;
        }
        assert.deepEqual(errors.filter((m) => !m.includes('rejected')), [], 'no other errors');
      } finally {
        client.close();
      }
    });
  }
  assert.ok(cases > 600, `only ${cases} cases ran`);
});
