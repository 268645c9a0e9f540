/**
 * Builds dist/ once before any test runs, so tests that spawn `node bin/procura.js` run the
 * code under test. Tests never build themselves: concurrent builds would rewrite dist/ while
 * other tests execute it. `npm test` has just built, and says so with PROCURA_BUILT=1.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  if (process.env.PROCURA_BUILT === '1') return;
  const root = join(import.meta.dirname, '..', '..');
  execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
}
