/** Scenario files for tests, written into a test's own directory. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ROOT } from './cli.js';

/**
 * The main job's scenario (ammonia on Henry Hub, with its hedge, so with all three baselines)
 * cut to 18 months, 2019-01 to 2020-06, its plant and data still read from backtests/; returns
 * the file's path in `dir`.
 */
export function shortAmmoniaFile(dir: string): string {
  const source = resolve(ROOT, 'backtests');
  const yaml = readFileSync(join(source, 'ammonia-henry-hub.yaml'), 'utf8')
    .replace(/^from: .*$/m, 'from: "2019-01-01"')
    .replace(/^to: .*$/m, 'to: "2020-06-30"')
    .replace(/^plant: (.*)$/m, (_, p: string) => `plant: ${join(source, p)}`)
    .replace(/file: (data\/[^ ,}]+)/g, (_, p: string) => `file: ${join(source, p)}`);
  const file = join(dir, 'ammonia-short.yaml');
  writeFileSync(file, yaml);
  return file;
}
