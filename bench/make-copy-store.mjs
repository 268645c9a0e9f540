// A SQLite store for timing `procura db copy` (bench/db-copy.sh): N events of the benchmark's cycle
// (makeEvents in bench/ledger.ts), posted in files of 1,000. Run after `npm run build`:
//   node bench/make-copy-store.mjs /tmp/100k.db 100000
import { makeEvents, PLANT } from '../dist/bench/ledger.js';
import { Ledger } from '../dist/src/ledger/index.js';

const [path, count] = [process.argv[2], Number(process.argv[3] ?? 100_000)];
if (!path || !Number.isSafeInteger(count) || count <= 0) throw new Error('usage: node bench/make-copy-store.mjs FILE [EVENTS]');
const events = makeEvents(count);
const store = Ledger.openSqlite(path, PLANT);
for (let i = 0; i < count; i += 1000) store.post(events.slice(i, i + 1000), { file: `events-${i / 1000}.jsonl` });
const verified = store.verify();
store.close();
process.stdout.write(`${path}: ${verified.entries} entries, ${verified.head.events} events, head ${verified.head.seq}:${verified.head.hash}\n`);
