// Test support: paths of the repository's artifacts, and the native core's renderings.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const repo = fileURLToPath(new URL('../../../', import.meta.url));
/** The module under test: dist/vexil.wasm, or $VEXIL_WASM. */
export const wasmPath = process.env.VEXIL_WASM || repo + 'dist/vexil.wasm';
export const vexilBin = repo + 'dist/vexil';

/** dist/vexil.wasm's bytes; fails (never skips) when the module has not been built. */
export function wasmBytes() {
  assert.ok(existsSync(wasmPath), `${wasmPath} is missing: run ./build.sh (make build) first`);
  return readFileSync(wasmPath);
}

/**
 * Every golden vector suite with the native core's rendering of each case, from
 * test/native (go run): [{suite, snapshot, problems, cases: [{name, native}]}].
 */
export function nativeVectors() {
  const out = execFileSync('go', ['run', './hosts/js/test/native'], { cwd: repo, encoding: 'utf8', maxBuffer: 64 << 20 });
  const suites = [];
  for (const line of out.split('\n')) {
    if (!line) continue;
    const o = JSON.parse(line);
    if ('snapshot' in o) suites.push({ ...o, cases: [] });
    else suites.at(-1).cases.push(o);
  }
  return suites;
}

/** core.AppendResultJSON's rendering of a detail: the byte-level contract of every host. */
export function renderResult(key, d) {
  let s = `{"flag":${jsonString(key)},"value":${d.valueJSON},"variation":${d.variation},"reason":"${d.reason}"`;
  if (d.ruleId) s += `,"ruleId":${jsonString(d.ruleId)}`;
  if (d.errorCode) s += `,"errorCode":"${d.errorCode}"`;
  return s + `,"inExperiment":${d.inExperiment}}`;
}

/** core.AppendJSONString: escapes only what JSON requires (Go's encoder would escape <, >, &). */
function jsonString(s) {
  return '"' + s.replace(/["\\\u0000-\u001f]/g, (c) => {
    switch (c) {
      case '"': return '\\"';
      case '\\': return '\\\\';
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: return '\\u00' + c.charCodeAt(0).toString(16).padStart(2, '0');
    }
  }) + '"';
}
