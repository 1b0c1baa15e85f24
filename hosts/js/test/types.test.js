// index.d.ts compiles, strictly, with the documented usage (test/types-check.ts).
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('index.d.ts type-checks the documented usage', () => {
  const dir = fileURLToPath(new URL('..', import.meta.url));
  execFileSync(process.execPath, [dir + 'node_modules/typescript/bin/tsc', '--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--lib', 'es2022,dom', 'test/types-check.ts'], { cwd: dir, stdio: 'pipe' });
});
