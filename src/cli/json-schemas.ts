/**
 * JSON Schemas of procura's configuration files, generated from the zod schemas that
 * validate them (`z.toJSONSchema`), so an editor with the YAML language server completes and
 * checks a plant, a scenario, a live config or an import mapping as it is typed
 * (`# yaml-language-server: $schema=...` on the first line). `npm run schemas` writes them to
 * schemas/; a test checks that the files there match these. The schemas describe the input
 * as written (before defaults and transforms); the loaders stay the authority: consistency
 * checks across fields (a fast window shorter than the slow one, a BOM naming a known
 * material) are theirs alone.
 */
import { z } from 'zod';
import { PlantSchema } from '../ledger/plant.js';
import { ImportMapSchema } from '../ledger/csv-import.js';
import { ScenarioSchema } from '../engine/scenario.js';
import { LiveConfigSchema } from '../live/config.js';

/** File name in schemas/ -> the zod schema and a title. */
const SOURCES: Record<string, { schema: z.ZodType; title: string; description: string }> = {
  'plant.schema.json': { schema: PlantSchema, title: 'procura plant', description: 'Materials, products, BOMs, standard costs and the backflush trigger of a plant (docs/ledger.md).' },
  'scenario.schema.json': { schema: ScenarioSchema, title: 'procura backtest scenario', description: 'A backtest: plant, production, price series, strategy, venue and risk (docs/backtesting.md).' },
  'live.schema.json': { schema: LiveConfigSchema, title: 'procura live config', description: 'A live or paper run against an exchange through ccxt (docs/live.md).' },
  'import-map.schema.json': { schema: ImportMapSchema, title: 'procura import mapping', description: 'How an ERP CSV export becomes ledger events (docs/your-data.md).' },
};

const DECIMAL_TEXT = '^[-+]?\\d+(\\.\\d+)?$';

/** Every schema as the JSON text written to schemas/ (2-space indent, trailing newline). */
export function jsonSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, source] of Object.entries(SOURCES)) {
    const schema = z.toJSONSchema(source.schema, {
      io: 'input',
      unrepresentable: 'any',
      override: (ctx) => {
        const def = (ctx.zodSchema as unknown as { _zod: { def: { type: string; options?: { _zod: { def: { type: string } } }[] } } })._zod.def;
        // core's decimals: a string in plain notation, a number, or (in code) a Decimal.
        if (def.type === 'union' && def.options?.some((o) => o._zod.def.type === 'custom')) {
          const json = ctx.jsonSchema as Record<string, unknown>;
          delete json.anyOf;
          json.anyOf = [{ type: 'string', pattern: DECIMAL_TEXT }, { type: 'number' }];
          json.description ??= 'a decimal in plain notation, best quoted: "3.50"';
        }
      },
    }) as Record<string, unknown>;
    const ordered = { $schema: schema.$schema, title: source.title, description: source.description, ...schema };
    out[file] = `${JSON.stringify(ordered, null, 2)}\n`;
  }
  return out;
}
