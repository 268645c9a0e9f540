// `node --import ./test/support/record-imports.mjs ...`: appends every module URL the process
// resolves to the file named by PROCURA_RECORD_IMPORTS (tests of what a command loads): ES
// modules as they resolve (the hooks), and at exit every CommonJS module in require's cache,
// which also holds what a `createRequire` loaded (Node 20's resolve hooks do not see those).
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { pathToFileURL } from 'node:url';
const file = process.env.PROCURA_RECORD_IMPORTS;
register(new URL('./record-imports-hooks.mjs', import.meta.url), { data: { file } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  if (file) appendFileSync(file, Object.keys(cache).map((path) => `${pathToFileURL(path).href}\n`).join(''));
});
