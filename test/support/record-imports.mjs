// `node --import ./test/support/record-imports.mjs ...`: appends every module URL the process
// resolves to the file named by PROCURA_RECORD_IMPORTS (tests of what a command loads).
import { register } from 'node:module';
register(new URL('./record-imports-hooks.mjs', import.meta.url), { data: { file: process.env.PROCURA_RECORD_IMPORTS } });
