#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('procura: dist/ is missing; run `npm run build` (npm ci does it for you)\n');
  process.exit(2);
}
// V8's inlining budget first (src/core/v8-tuning.ts), so every function of procura is compiled under it.
await import(new URL('../dist/src/core/v8-tuning.js', import.meta.url).href);
await import(entry.href);
