/**
 * Runs once before any test:
 *
 * 1. builds dist/ (unless `npm test` has just built it and says so with PROCURA_BUILT=1), so
 *    tests that spawn `node bin/procura.js` run the code under test. Tests never build
 *    themselves: concurrent builds would rewrite dist/ while other tests execute it.
 * 2. finds PostgreSQL for the tests that need it (test/support/pg.ts): PROCURA_TEST_PG when set,
 *    otherwise a throwaway server started here (test/support/postgres-server.ts) and stopped at
 *    the end. When none can be started, the PostgreSQL tests fail with a message saying how to
 *    install it (never skip); under CI the whole run fails at once.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { INSTALL_HINT, startPostgres, type PostgresServer } from './postgres-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Superuser URL of the test server's `postgres` database, or '' when none could be had. */
    procuraTestPg: string;
    /** Why no server could be had (empty when one is). */
    procuraTestPgError: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  if (process.env.PROCURA_BUILT !== '1') {
    const root = join(import.meta.dirname, '..', '..');
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  }
  let server: PostgresServer | undefined;
  let url = process.env.PROCURA_TEST_PG ?? '';
  let error = '';
  if (url === '') {
    try {
      server = await startPostgres({ fsync: false });
      url = server.url;
    } catch (cause) {
      error = `no PostgreSQL for the tests: ${(cause as Error).message}`;
      if (!error.includes(INSTALL_HINT)) error += `\n${INSTALL_HINT}`;
      if (process.env.CI) throw new Error(error);
    }
  }
  project.provide('procuraTestPg', url);
  project.provide('procuraTestPgError', error);
  return () => server?.stop();
}
