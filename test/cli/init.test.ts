import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { procura, ROOT } from '../support/cli.js';
import { loadLiveConfig } from '../../src/live/config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'procura-init-'));
  // The user's own price file: three years of Henry Hub, with the CRLF endings EIA ships.
  const lines = readFileSync(join(ROOT, 'backtests', 'data', 'natural-gas', 'daily.csv'), 'utf8').split('\r\n').filter((l) => l !== '');
  writeFileSync(join(dir, 'my-gas.csv'), [lines[0], ...lines.slice(-760)].join('\r\n') + '\r\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('procura init', () => {
  it('scaffolds a plant, a scenario and a live config that run as written: the backtest runs on the result', () => {
    const desk = join(dir, 'desk');
    const init = procura(['init', desk, '--prices', join(dir, 'my-gas.csv'), '--material', 'natgas', '--unit', 'MMBtu', '--product', 'ammonia']);
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(init.stdout).toContain(`procura backtest ${join(desk, 'scenario.yaml')}`);
    for (const name of ['plant.yaml', 'scenario.yaml', 'live.yaml']) {
      const text = readFileSync(join(desk, name), 'utf8');
      expect(text.split('\n')[0]).toMatch(/^# yaml-language-server: \$schema=.*schemas\/(plant|scenario|live)\.schema\.json$/);
      expect(text.split('\n').filter((l) => l.includes('#')).length).toBeGreaterThan(5);
      const schema = /\$schema=(.+)$/.exec(text.split('\n')[0]!)![1]!;
      expect(existsSync(join(desk, schema))).toBe(true);
    }
    const scenario = parse(readFileSync(join(desk, 'scenario.yaml'), 'utf8')) as { materials: { natgas: { prices: { file: string } } } };
    expect(scenario.materials.natgas.prices.file).toBe('../my-gas.csv');

    const run = procura(['backtest', join(desk, 'scenario.yaml'), '--json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const result = JSON.parse(run.stdout) as { report: string };
    expect(result.report).toBe(join(desk, 'report.html'));
    expect(existsSync(result.report)).toBe(true);

    const live = loadLiveConfig(join(desk, 'live.yaml'));
    expect(live.materials.map((m) => m.symbol)).toEqual(['PAXG/USDT']);
    expect(live.product).toBe('ammonia');
  }, 240_000);

  it('never overwrites without --force, and writes nothing when it refuses', () => {
    const desk = join(dir, 'again');
    expect(procura(['init', desk, '--prices', join(dir, 'my-gas.csv')]).status).toBe(0);
    writeFileSync(join(desk, 'plant.yaml'), 'mine\n');
    rmSync(join(desk, 'live.yaml'));
    const refused = procura(['init', desk, '--prices', join(dir, 'my-gas.csv')]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toBe(`procura: ${desk}: would overwrite plant.yaml, scenario.yaml (use --force to replace them)\n`);
    expect(readFileSync(join(desk, 'plant.yaml'), 'utf8')).toBe('mine\n');
    expect(existsSync(join(desk, 'live.yaml'))).toBe(false);
    expect(procura(['init', desk, '--prices', join(dir, 'my-gas.csv'), '--force']).status).toBe(0);
    expect(readFileSync(join(desk, 'plant.yaml'), 'utf8')).toContain('materials:');

    const bad = procura(['init', desk, '--prices', join(dir, 'nope.csv')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('nope.csv');
  });
});
