// `npm run schemas`: writes schemas/*.schema.json from the zod schemas (src/cli/json-schemas.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
const { jsonSchemas } = await import('../dist/src/cli/json-schemas.js');
const dir = new URL('../schemas/', import.meta.url);
mkdirSync(dir, { recursive: true });
for (const [file, text] of Object.entries(jsonSchemas())) {
  writeFileSync(new URL(file, dir), text);
  process.stdout.write(`schemas/${file}\n`);
}
