#!/usr/bin/env node
/**
 * Soak test of the live runner's crash safety (longer than the test suite's):
 *
 *   npm run soak -- [cycles=300] [seed=1]
 *
 * Starts the Binance emulator on 127.0.0.1 (in this process), then runs `procura live --once`
 * (the built CLI) `cycles` times, killing most runs with SIGKILL after a random delay (from the
 * start, or shortly after the session is built, i.e. mid-tick), advancing the emulator by one
 * daily candle most of the time. Then two clean runs, and the checks: no client order id twice at
 * the exchange, every exchange trade a local fill exactly once, every procurement fill booked
 * once (received in the ledger or in transit), `ledger verify`, and the local book equal to the
 * emulator's PAXG balance. Exits 1 on the first violated check. Nothing reaches the internet.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BinanceEmulator, makeCandles } from '../dist/test/support/binance-emulator.js';
import { Random } from '../dist/src/core/random.js';
import { Decimal } from '../dist/src/core/decimal.js';
import { Ledger } from '../dist/src/ledger/index.js';
import { LiveStore, SqliteOrderStore } from '../dist/src/live/store.js';

const cycles = Number(process.argv[2] ?? 300);
const random = new Random(Number(process.argv[3] ?? 1));
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const closes = Array.from({ length: cycles + 100 }, (_, i) => (2600 + Math.sin(i / 6) * 40 + (i % 300) * 0.8).toFixed(2));
const emulator = new BinanceEmulator({ candles: { PAXGUSDT: makeCandles(START, DAY, closes, '2') }, startIndex: 40, balances: { USDT: '100000000' } });
const url = await emulator.start();
const dir = mkdtempSync(join(tmpdir(), 'procura-soak-'));
const configFile = join(dir, 'live.yaml');
writeFileSync(configFile, `name: soak
runId: soak
exchange: binance
emulatorUrl: ${url}
schedule: { cron: "5 0 * * *" }
store: store.sqlite
plant: ${resolve('config/jewellery-plant.yaml')}
production: { product: ring, ratePerDay: "20", from: "2024-01-01", days: ${cycles + 200}, simulate: true }
materials: { gold: { symbol: PAXG/USDT, leadTimeDays: 2 } }
strategy: { name: jit }
risk: { maxOrderNotional: "1000000", maxDailyNotional: "3000000" }
warmupCandles: 60
venue: { timeoutMs: 2000, lookupAttempts: 2, lookupIntervalMs: 0 }
`);
const env = { ...process.env, PROCURA_BINANCE_API_KEY: emulator.apiKey, PROCURA_BINANCE_SECRET: emulator.secret };

function runOnce(kill) {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['bin/procura.js', 'live', '--config', configFile, '--once'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let timer;
    const arm = () => { if (kill && timer === undefined) timer = setTimeout(() => child.kill('SIGKILL'), kill.afterMs); };
    child.stdout.on('data', (c) => { out += c; if (kill?.fromSession && out.includes('session built from the store')) arm(); });
    child.stderr.on('data', (c) => (out += c));
    if (kill && !kill.fromSession) arm();
    child.on('exit', (code, signal) => { clearTimeout(timer); done({ code, signal, out }); });
  });
}

function fail(message) {
  process.stderr.write(`SOAK FAILED: ${message}\n`);
  process.exit(1);
}

let killed = 0;
const started = Date.now();
for (let cycle = 1; cycle <= cycles; cycle += 1) {
  if (random.float() < 0.8) emulator.advance();
  const fromSession = random.float() < 0.6;
  const kill = random.float() < 0.85 ? { fromSession, afterMs: fromSession ? random.int(0, 80) : random.int(100, 1800) } : undefined;
  const run = await runOnce(kill);
  if (run.signal === 'SIGKILL') killed += 1;
  else if (run.code !== 0) fail(`cycle ${cycle}: exit ${run.code}\n${run.out}`);
  if (cycle % 25 === 0) process.stdout.write(`cycle ${cycle}/${cycles}: ${killed} killed, ${emulator.orders().length} orders, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
for (let i = 0; i < 2; i += 1) {
  const run = await runOnce(undefined);
  if (run.code !== 0) fail(`final clean run: exit ${run.code}\n${run.out}`);
}

const store = new LiveStore(join(dir, 'store.sqlite'), { now: () => 0 });
const local = new SqliteOrderStore(store).allOrders();
const ids = emulator.orders().map((o) => o.clientOrderId);
if (new Set(ids).size !== ids.length) fail('a client order id was sent twice');
for (const id of ids) if (!local.some((o) => o.request.clientOrderId === id)) fail(`exchange order ${id} is unknown locally`);
const fills = local.flatMap((o) => o.fills.map((f) => ({ order: o, fill: f })));
const localTrades = fills.map((f) => f.fill.tradeId).sort();
const exchangeTrades = emulator.trades().map((t) => String(t.id)).sort();
if (new Set(localTrades).size !== localTrades.length) fail('a fill is recorded twice');
if (JSON.stringify(localTrades) !== JSON.stringify(exchangeTrades)) fail(`local fills ${localTrades.length} != exchange trades ${exchangeTrades.length}`);
for (const { order, fill } of fills) {
  const id = `fill:${order.request.instrument}:${fill.tradeId}`;
  const inLedger = store.ledgerHasEvent(id);
  const inTransit = store.db.prepare('SELECT 1 FROM live_deliveries WHERE id = ?').get(id) !== undefined;
  if (inLedger === inTransit) fail(`${id}: in the ledger ${inLedger}, in transit ${inTransit}`);
}
let book = new Decimal(0);
for (const { order, fill } of fills) book = order.request.side === 'buy' ? book.plus(fill.qty) : book.minus(fill.qty);
const fees = emulator.trades().reduce((s, t) => (t.commissionAsset === 'PAXG' ? s.plus(t.commission) : s), new Decimal(0));
const balance = emulator.balance('PAXG');
if (!book.minus(fees).equals(balance.free.plus(balance.locked))) fail(`book ${book.minus(fees).toFixed()} != balance ${balance.free.plus(balance.locked).toFixed()}`);
store.close();
const ledger = Ledger.openSqlite(join(dir, 'store.sqlite'));
const verified = ledger.verify();
ledger.journal.close();
if (!verified.ok) fail(`ledger verify: ${verified.fault}`);
await emulator.stop();
process.stdout.write(`soak ok: ${cycles} runs (${killed} killed with SIGKILL), ${ids.length} orders, ${fills.length} fills, ${verified.entries} ledger entries verified, book = balance = ${balance.free.plus(balance.locked).toFixed()} PAXG (${((Date.now() - started) / 1000).toFixed(0)} s, store ${dir})\n`);
