// The timing loop every JS benchmark of Vexil uses (hosts/js/bench and the repository's
// bench/js), in Node and in browsers alike.

const now = () => performance.now();

/**
 * Runs f(n) with n doubled (from 64) until one call takes at least minMs, then `count` timed
 * calls of that n.
 * @param {(n: number) => void} f runs the measured operation n times
 * @returns {{n: number, ns: number}[]} per timed call: n and the nanoseconds per operation
 */
export function measure(f, count, minMs) {
  let n = 64;
  for (;;) {
    const t0 = now();
    f(n);
    if (now() - t0 >= minMs || n >= 1 << 28) break;
    n *= 2;
  }
  const out = [];
  for (let r = 0; r < count; r++) {
    const t0 = now();
    f(n);
    out.push({ n, ns: ((now() - t0) * 1e6) / n });
  }
  return out;
}
