// The context encoding, byte for byte as wasm/ABI.md § Context gives it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeContext, ContextError } from '../src/context.js';

const hex = (b) => Buffer.from(b).toString('hex').replace(/(..)/g, '$1 ').trim();

test('the ABI.md example, byte for byte', () => {
  const ids = new Map([['targetingKey', 0], ['age', 3]]);
  const got = encodeContext({ targetingKey: 'u1', age: 25, unused: 'x' }, ids, 1795435200000, 0);
  assert.equal(hex(got), [
    '00 fe 46 08 a2 01 00 00', '00 00 00 00', '02 00 00 00',
    '00 00 00 00 01 02 00 00 00 75 31',
    '03 00 00 00 02 00 00 00 00 00 00 39 40',
  ].join(' '));
});

test('negative now, random, every value type, UTF-8 past the ASCII fast path', () => {
  const ids = new Map([['targetingKey', 0], ['b', 1], ['l', 2], ['s', 3], ['d', 4]]);
  const got = encodeContext({ targetingKey: 'aé', b: true, l: ['x', '€'], d: new Date(-2) }, ids, -1, 0xfffffffe);
  assert.equal(hex(got), [
    'ff ff ff ff ff ff ff ff', 'fe ff ff ff', '04 00 00 00',
    '00 00 00 00 01 03 00 00 00 61 c3 a9',
    '01 00 00 00 03 01',
    '02 00 00 00 04 02 00 00 00 01 00 00 00 78 03 00 00 00 e2 82 ac',
    '04 00 00 00 02 ' + hex(new Uint8Array(new Float64Array([-2]).buffer)),
  ].join(' '));
  // Large times split into halves exactly (no BigInt).
  const t = encodeContext({}, ids, 2 ** 53 - 1, 0);
  assert.equal(new DataView(t.buffer, t.byteOffset).getBigInt64(0, true), 2n ** 53n - 1n);
  const big = encodeContext({ targetingKey: 'k'.repeat(5000) }, ids, 0, 0);
  assert.equal(big.length, 16 + 9 + 5000);
});

test('unusable values name the attribute, as the core does', () => {
  const ids = new Map([['targetingKey', 0]]);
  for (const [ctx, msg] of [
    [{ targetingKey: 1 }, 'context.targetingKey: must be a string'],
    [{ a: null }, 'context.a: unsupported type null'],
    [{ a: { b: 1 } }, 'context.a: unsupported type object'],
    [{ a: ['x', 2] }, 'context.a: arrays must hold only strings'],
    [[], 'context: must be an object'],
  ]) {
    assert.throws(() => encodeContext(ctx, ids, 0, 0), (e) => e instanceof ContextError && e.message === msg, msg);
  }
});
