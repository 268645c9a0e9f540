import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { procura, ROOT } from '../support/cli.js';
import { COMMANDS, commandNamed } from '../../src/cli/commands.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The module URLs a procura command line resolves. */
function loaded(args: readonly string[], name: string): string[] {
  const file = join(dir, `${name}.txt`);
  const r = spawnSync(process.execPath, ['--import', join(ROOT, 'test', 'support', 'record-imports.mjs'), join(ROOT, 'bin', 'procura.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, PROCURA_RECORD_IMPORTS: file },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

describe('start-up loads only what the command uses', () => {
  it('the command list main.ts shows matches what each command module registers', async () => {
    const real = new Command();
    for (const entry of Object.values(COMMANDS)) (await entry.load()).register(real);
    const help = real.createHelp();
    expect(real.commands.map((c) => c.name())).toEqual(Object.keys(COMMANDS));
    for (const command of real.commands) {
      expect(COMMANDS[command.name()]!.description, command.name()).toBe(command.description());
      expect(COMMANDS[command.name()]!.term, command.name()).toBe(help.subcommandTerm(command));
    }
    expect(commandNamed(['--help'])).toBeUndefined();
    expect(commandNamed(['ledger', 'verify', '--db', 'x'])).toBe('ledger');
    expect(commandNamed(['help', 'backtest'])).toBe('backtest');
  });

  it('procura --help and procura ledger verify load neither ccxt, danfojs-node, node-postgres nor the backtester; verify neither YAML nor zod', () => {
    const db = join(dir, 'small.sqlite');
    const post = procura(['ledger', 'post', '--db', db, '--plant', join(ROOT, 'config', 'ammonia-plant.yaml'), '--events', join(ROOT, 'config', 'ammonia-events.jsonl')]);
    expect(post.status, post.stderr).toBe(0);
    const heavy = (urls: string[]): string[] => urls.filter((u) => /node_modules\/(ccxt|danfojs-node|@tensorflow|pg|pg-copy-streams)\/|\/src\/(engine|venues|live)\//.test(u));
    const help = loaded(['--help'], 'help');
    expect(help.some((u) => u.includes('/commander/'))).toBe(true);
    expect(heavy(help)).toEqual([]);
    const verify = loaded(['ledger', 'verify', '--db', db], 'verify');
    expect(verify.some((u) => u.includes('/node_modules/better-sqlite3/'))).toBe(true);
    expect(heavy(verify)).toEqual([]);
    // verify reads the bare store: no plant is parsed, so neither its YAML parser nor zod loads
    // (together about 150 ms of a cold start); a command that parses the plant still loads both.
    expect(verify.filter((u) => /node_modules\/(zod|yaml)\//.test(u))).toEqual([]);
    expect(verify.some((u) => u.endsWith('/src/ledger/verify.js'))).toBe(true);
    const balances = loaded(['ledger', 'balances', '--db', db], 'balances');
    expect(balances.some((u) => u.includes('/node_modules/zod/'))).toBe(true);
    expect(balances.some((u) => u.includes('/node_modules/yaml/'))).toBe(true);
    // The commands that use ccxt still load it.
    expect(loaded(['data', 'fetch', '--help'], 'fetch-help').length).toBeGreaterThan(0);
    // CommonJS packages are seen too (what the check above relies on for pg): commander is one.
    expect(verify.some((u) => /node_modules\/commander\/lib\/command\.js$/.test(u))).toBe(true);
  });

  it('a backtest with its report loads neither danfojs-node nor better-sqlite3 (it opens no store) nor technicalindicators; with --export it loads danfojs-node', () => {
    const small = join(ROOT, 'test', 'engine', 'fixtures', 'small.yaml');
    const danfo = (urls: string[]): string[] => urls.filter((u) => /node_modules\/(danfojs-node|@tensorflow)\//.test(u));
    const report = loaded(['backtest', small, '--report', join(dir, 'small.html'), '--workers', '1', '--no-progress'], 'report');
    expect(report.some((u) => u.endsWith('/src/report/periods.js'))).toBe(true);
    expect(danfo(report)).toEqual([]);
    expect(report.some((u) => u.endsWith('/src/ledger/sqlite-store.js'))).toBe(true);
    expect(report.filter((u) => u.includes('/node_modules/better-sqlite3/'))).toEqual([]);
    // Nor what only other paths use: the reference moving averages (technicalindicators), and
    // csv-parse (its price files have no double quote).
    expect(report.filter((u) => /node_modules\/(technicalindicators|csv-parse)\//.test(u))).toEqual([]);
    // Nor the sweep's engine (the report prints its note from a module of its own).
    expect(report.filter((u) => /\/src\/engine\/(sweep|screen)\.js$/.test(u))).toEqual([]);
    const exported = loaded(['backtest', small, '--no-report', '--export', join(dir, 'export'), '--workers', '1', '--no-progress'], 'export');
    expect(danfo(exported).length).toBeGreaterThan(0);
  });

  it('procura --version prints the package version; the help lists every command', () => {
    const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
    const r = procura(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
    const help = procura(['--help']);
    expect(help.status).toBe(0);
    for (const entry of Object.values(COMMANDS)) expect(help.stdout).toContain(entry.term);
    const typo = procura(['ledgr']);
    expect(typo.status).toBe(2);
    expect(typo.stderr).toContain('Did you mean ledger?');
  });
});
