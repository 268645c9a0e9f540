import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ROOT } from '../support/cli.js';
import { jsonSchemas } from '../../src/cli/json-schemas.js';

const SCHEMAS = join(ROOT, 'schemas');

/** Every YAML file in the repository's examples that names a schema on its first line. */
function examples(): { file: string; schema: string }[] {
  const out: { file: string; schema: string }[] = [];
  for (const dir of ['config', 'backtests', 'backtests/plants', 'backtests/held-out', 'backtests/held-out/plants', 'examples/import']) {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (!name.endsWith('.yaml')) continue;
      const file = join(ROOT, dir, name);
      const first = readFileSync(file, 'utf8').split('\n')[0]!;
      const match = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
      if (match) out.push({ file, schema: resolve(dirname(file), match[1]!.trim()) });
    }
  }
  return out;
}

describe('JSON Schemas (schemas/, generated from the zod schemas)', () => {
  it('the files in schemas/ are what `npm run schemas` writes from the current zod schemas', () => {
    const generated = jsonSchemas();
    expect(readdirSync(SCHEMAS).sort()).toEqual(Object.keys(generated).sort());
    for (const [file, text] of Object.entries(generated)) expect(readFileSync(join(SCHEMAS, file), 'utf8'), `schemas/${file} is stale: run npm run schemas`).toBe(text);
  });

  it('every example YAML names its schema, and passes it', () => {
    const found = examples();
    const names = found.map((e) => e.file.slice(ROOT.length + 1)).sort();
    for (const expected of ['config/ammonia-plant.yaml', 'config/live.example.yaml', 'backtests/ammonia-henry-hub.yaml', 'backtests/plants/ammonia.yaml', 'examples/import/sap-mb51.yaml', 'examples/import/erpnext-stock-ledger.yaml']) {
      expect(names).toContain(expected);
    }
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    for (const { file, schema } of found) {
      const validate = ajv.compile(JSON.parse(readFileSync(schema, 'utf8')) as object);
      const ok = validate(parse(readFileSync(file, 'utf8')));
      expect(ok, `${file}: ${JSON.stringify(validate.errors)}`).toBe(true);
      ajv.removeSchema();
    }
  });

  it('the schemas catch what the loaders catch: an unknown key, a wrong enum, a decimal in exponent notation', () => {
    const ajv = new Ajv2020({ strict: false });
    const plant = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, 'plant.schema.json'), 'utf8')) as object);
    const good = parse(readFileSync(join(ROOT, 'config', 'ammonia-plant.yaml'), 'utf8')) as Record<string, unknown>;
    expect(plant(good)).toBe(true);
    expect(plant({ ...good, curency: 'USD' })).toBe(false);
    expect(plant({ ...good, backflush: 'sometimes' })).toBe(false);
    expect(plant({ ...good, carrying: { annualRate: '1e3' } })).toBe(false);
  });
});
