/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` in a temporary directory,
 * `pg_ctl start` on a free loopback port, `pg_ctl stop` and the directory removed at the end.
 * Debian's `postgresql` package puts the binaries under /usr/lib/postgresql/<version>/bin;
 * initdb and the server refuse to run as root, so as root they run as the `postgres` user the
 * package creates (through `runuser`).
 *
 * Authentication: trust on loopback for every role except `procura_pw`, which must give a
 * password (scram-sha-256). The tests that check that credentials never reach an output use it.
 * `-A trust` is for a loopback-only test server; never copy it into a deployment.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

/** How to install what is missing, for the message of a test that cannot start a server. */
export const INSTALL_HINT =
  'install Debian\'s PostgreSQL (apt-get install -y postgresql) so the tests can start a throwaway server, or point PROCURA_TEST_PG at a server you run (postgres://user@127.0.0.1:5432/postgres, a role allowed to CREATE DATABASE); see docs/scaling.md';

export interface PostgresServer {
  /** Superuser URL of the `postgres` database, e.g. postgres://postgres@127.0.0.1:54321/postgres. */
  readonly url: string;
  readonly port: number;
  /** Stops the server and removes its directory. */
  stop(): void;
}

/** The newest /usr/lib/postgresql/<version>/bin, or undefined when the package is not installed. */
export function postgresBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(a) - Number(b));
  const newest = versions[versions.length - 1];
  return newest === undefined ? undefined : join(root, newest, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * Starts a server. `fsync` stays on by default (the benchmarks measure durable posting); the
 * test suite turns it off, since no test crashes the server itself, only its clients.
 */
export async function startPostgres(options: { fsync?: boolean; maxConnections?: number } = {}): Promise<PostgresServer> {
  const bin = postgresBinaries();
  if (bin === undefined) throw new Error(`PostgreSQL is not installed: ${INSTALL_HINT}`);
  const asRoot = userInfo().uid === 0;
  const run = (command: string, args: string[]): void => {
    const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, command), ...args]] : [join(bin, command), args];
    const result = spawnSync(file, argv, { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`${command} failed (${result.error?.message ?? `exit ${result.status}`}): ${(result.stderr || result.stdout).trim().slice(-2000)}`);
  };
  const dir = mkdtempSync(join(tmpdir(), 'procura-pg-'));
  chmodSync(dir, 0o755);
  const home = join(dir, 'pg');
  mkdirSync(home);
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(home, uid, gid);
  }
  const data = join(home, 'data');
  const port = await freePort();
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    // The password-only role first: pg_hba.conf is read top down.
    const hba = ['local all all trust', 'host all procura_pw 127.0.0.1/32 scram-sha-256', 'host all all 127.0.0.1/32 trust', ''].join('\n');
    writeFileSync(join(data, 'pg_hba.conf'), hba);
    const settings = [
      `-p ${port}`,
      `-k ${home}`,
      '-c listen_addresses=127.0.0.1',
      `-c fsync=${options.fsync === false ? 'off' : 'on'}`,
      `-c max_connections=${options.maxConnections ?? 200}`,
      '-c shared_buffers=64MB',
    ].join(' ');
    run('pg_ctl', ['-D', data, '-o', settings, '-l', join(home, 'server.log'), '-w', '-t', '120', 'start']);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    stop: () => {
      if (stopped) return;
      stopped = true;
      try {
        run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
