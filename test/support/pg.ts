/**
 * PostgreSQL for tests: the server the global setup found or started (global-setup.ts), and a
 * fresh database per test file, so files run in parallel without sharing state. A test that
 * needs PostgreSQL when none could be had fails with the message saying how to install it.
 */
import pg from 'pg';
import { inject } from 'vitest';

/** The superuser URL of the test server's `postgres` database. */
export function testServerUrl(): string {
  const url = inject('procuraTestPg');
  if (!url) throw new Error(inject('procuraTestPgError') || 'no PostgreSQL for the tests');
  return url;
}

/** `url` with another database (and, optionally, another user). */
export function withDatabase(url: string, database: string, user?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (user !== undefined) u.username = user;
  return u.toString();
}

export interface TestDatabase {
  readonly name: string;
  /** Superuser URL of the new database. */
  readonly url: string;
  /** Drops the database (disconnecting whoever is still connected). */
  drop(): Promise<void>;
}

/** Runs SQL on the test server's `postgres` database as the superuser. */
export async function adminQuery(sql: string, values: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: testServerUrl() });
  await client.connect();
  try {
    return await client.query(sql, values);
  } finally {
    await client.end();
  }
}

/** Runs SQL (several statements allowed) on the database at `url`, as that URL's user. */
export async function queryAt(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** A new, empty database named after `label`. */
export async function freshDatabase(label: string): Promise<TestDatabase> {
  const name = `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase().slice(0, 30)}_${Math.random().toString(36).slice(2, 10)}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  return {
    name,
    url: withDatabase(testServerUrl(), name),
    drop: async () => {
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
