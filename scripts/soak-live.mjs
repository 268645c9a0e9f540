#!/usr/bin/env node
/**
 * Soak test of the live runner under faults (longer than the test suite's):
 *
 *   npm run soak -- [cycles=300] [seed=1]
 *
 * Starts the Binance emulator on 127.0.0.1 (in this process), then runs `procura live --once`
 * (the built CLI) `cycles` times, advancing the emulator by one daily candle most of the time,
 * killing most runs with SIGKILL at a counted point of their progress (the k-th exchange
 * request, the session line, or right after "order recorded: sending it": a crash between the
 * record and the send, sometimes followed by a run after the grace period, the cron case), and
 * injecting the live faults between runs:
 *   - commissions in the base asset, in quote, or in BNB (switched every 25 cycles);
 *   - a manual buy with a foreign client order id (set aside by the default policy);
 *   - an executed order invisible to lookups by id past the lookup window (drop-connection on
 *     the order, order-not-found on lookups), sometimes left out of the order lists too;
 *   - a 418 ban with a Retry-After longer than venue.maxWaitSeconds (the run exits 6, later runs
 *     exit 6 at once, without a request, until it passes);
 *   - 5xx, timeouts after execution, 429s within the cap.
 * Then clean runs until one exits 0, and the checks: no client order id twice at the exchange,
 * every trade of procura's orders a local fill exactly once, every external trade recorded
 * once, every procurement fill booked once (received in the ledger or in transit), `ledger
 * verify`, and the book (local fills as received + external trades) equal to the emulator's
 * PAXG balance. Exits 1 on the first violated check. Nothing reaches the internet.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BinanceEmulator, makeCandles } from '../dist/test/support/binance-emulator.js';
import { Random } from '../dist/src/core/random.js';
import { Decimal } from '../dist/src/core/decimal.js';
import { Ledger } from '../dist/src/ledger/index.js';
import { baseMoved } from '../dist/src/pipeline/index.js';
import { LiveStore, SqliteOrderStore } from '../dist/src/live/store.js';

const cycles = Number(process.argv[2] ?? 300);
const random = new Random(Number(process.argv[3] ?? 1));
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const GRACE_SECONDS = 2;
const closes = Array.from({ length: cycles + 100 }, (_, i) => (2600 + Math.sin(i / 6) * 40 + (i % 300) * 0.8).toFixed(2));
const emulator = new BinanceEmulator({
  candles: { PAXGUSDT: makeCandles(START, DAY, closes, '2') },
  markets: [
    { symbol: 'PAXGUSDT', base: 'PAXG', quote: 'USDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5' },
    { symbol: 'BNBUSDT', base: 'BNB', quote: 'USDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5', price: '612.5' },
  ],
  startIndex: 40,
  balances: { USDT: '100000000', BNB: '1000' },
});
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
reconciliation: { graceSeconds: ${GRACE_SECONDS} }
venue: { timeoutMs: 2000, lookupAttempts: 2, lookupIntervalMs: 0, maxWaitSeconds: 1 }
`);
const env = { ...process.env, PROCURA_BINANCE_API_KEY: emulator.apiKey, PROCURA_BINANCE_SECRET: emulator.secret };
const ORDER = { method: 'POST', path: '/api/v3/order' };
const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

/** One `procura live --once` run; `kill`: { afterRequests } | { atLine: text }. */
function runOnce(kill) {
  return new Promise((done) => {
    const requestsBefore = emulator.requests().length;
    const child = spawn(process.execPath, ['bin/procura.js', 'live', '--config', configFile, '--once', '--log-level', 'debug'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let firstRequestAt;
    const watch = setInterval(() => {
      const sent = emulator.requests().length - requestsBefore;
      if (sent > 0 && firstRequestAt === undefined) firstRequestAt = Date.now();
      if (kill?.afterRequests !== undefined && sent >= kill.afterRequests) child.kill('SIGKILL');
    }, 1);
    child.stdout.on('data', (c) => {
      out += c;
      if (kill?.atLine !== undefined && out.includes(kill.atLine)) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c) => (out += c));
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      done({ code, signal, out, requests: emulator.requests().length - requestsBefore, firstRequestAt });
    });
  });
}

function fail(message) {
  process.stderr.write(`SOAK FAILED: ${message}\n`);
  process.exit(1);
}

const counts = { runs: 0, killed: 0, killedBeforeSend: 0, runsAfterGrace: 0, exit: {}, foreignTrades: 0, invisible: 0, hidden: 0, bans: 0, refusedDuringBan: 0, startedAfterBan: 0, otherFaults: 0 };
const seen = { neverSent: 0, adoptedFromHistory: 0, notResent: 0, setAside: 0, bannedTicks: 0, partial: 0 };
let bannedUntil = 0;
let previous;
const commissionModes = ['received', 'quote', { asset: 'BNB' }];

function tally(run) {
  counts.runs += 1;
  if (run.signal === 'SIGKILL') counts.killed += 1;
  else counts.exit[run.code] = (counts.exit[run.code] ?? 0) + 1;
  seen.neverSent += run.out.split('never reached the exchange (absent').length - 1;
  seen.adoptedFromHistory += run.out.split("order found in the exchange's order history").length - 1;
  seen.notResent += run.out.split('order not re-sent: its absence cannot be proven').length - 1;
  seen.setAside += run.out.split('set aside by policy').length - 1;
  seen.bannedTicks += run.out.split('tick ended: the exchange banned or rate-limited us').length - 1;
  if (run.signal !== 'SIGKILL' && ![0, 1, 5, 6].includes(run.code)) fail(`exit ${run.code}\n${run.out}`);
}

const started = Date.now();
for (let cycle = 1; cycle <= cycles; cycle += 1) {
  if (cycle % 25 === 1) emulator.setCommission(commissionModes[Math.floor(cycle / 25) % 3]);
  if (random.float() < 0.8) emulator.advance();
  if (Date.now() < bannedUntil - 200) {
    // During a ban every run exits 6 at once, without a request.
    const run = await runOnce(undefined);
    tally(run);
    // A process that starts slowly on a loaded machine may send its first request after the ban
    // has passed: that is allowed; a request before the ban's end is not.
    const late = run.code !== 6 && run.firstRequestAt !== undefined && run.firstRequestAt >= bannedUntil;
    if (late) counts.startedAfterBan += 1;
    else if (run.code !== 6 || run.requests !== 0) fail(`cycle ${cycle}: a run during the ban (until ${new Date(bannedUntil).toISOString()}) exited ${run.code} after ${run.requests} request(s)\n${run.out}\nthe run before it:\n${previous?.out}`);
    else counts.refusedDuringBan += 1;
    await sleep(Math.max(0, bannedUntil - Date.now()) + 50);
    continue;
  }
  const fault = random.float();
  if (fault < 0.05) {
    emulator.placeOrder({ symbol: 'PAXGUSDT', side: 'BUY', quantity: (0.01 + random.int(0, 50) / 1000).toFixed(3), clientOrderId: `web_${cycle}` });
    counts.foreignTrades += 1;
  } else if (fault < 0.12) {
    emulator.inject({ kind: 'drop-connection' }, ORDER);
    emulator.inject({ kind: 'order-not-found' }, { method: 'GET', path: '/api/v3/order', times: random.int(3, 12) });
    counts.invisible += 1;
    if (random.float() < 0.4) {
      emulator.inject({ kind: 'hide-latest-order' }, { path: '/api/v3/allOrders', times: random.int(1, 4) });
      counts.hidden += 1;
    }
  } else if (fault < 0.15) {
    emulator.inject({ kind: 'rate-limit', status: 418, retryAfterSeconds: 3 }, { path: ['/api/v3/klines', '/api/v3/account', '/api/v3/order'][random.int(0, 2)] });
    counts.bans += 1;
  } else if (fault < 0.25) {
    const pick = random.int(0, 3);
    if (pick === 0) emulator.inject({ kind: 'http', status: 503 }, ORDER);
    else if (pick === 1) emulator.inject({ kind: 'latency', ms: 2500, phase: 'after' }, ORDER);
    else if (pick === 2) emulator.inject({ kind: 'rate-limit', status: 429, retryAfterSeconds: 1 }, { path: '/api/v3/myTrades' });
    else emulator.inject({ kind: 'unknown-status' }, ORDER);
    counts.otherFaults += 1;
  }
  const k = random.float();
  const kill = k < 0.15 ? undefined : k < 0.35 ? { atLine: 'order recorded: sending it' } : k < 0.5 ? { atLine: 'session built from the store' } : { afterRequests: random.int(1, 9) };
  const run = await runOnce(kill);
  tally(run);
  previous = run;
  if (run.code === 6) {
    // The stored ban's end, as the run says it (a ban stored by an earlier, killed run ends sooner).
    const until = /until (\d{4}-\d\d-\d\dT[\d:.]+Z)/.exec(run.out);
    if (until === null) fail(`cycle ${cycle}: exit 6 without the ban's end\n${run.out}`);
    bannedUntil = Date.parse(until[1]);
  }
  if (run.signal === 'SIGKILL' && kill?.atLine === 'order recorded: sending it' && run.out.includes('order recorded: sending it')) {
    counts.killedBeforeSend += 1;
    // Half the time the next run comes after the grace period (the next day's cron run).
    if (random.float() < 0.5) {
      await sleep(GRACE_SECONDS * 1000 + 300);
      counts.runsAfterGrace += 1;
    }
  }
  emulator.clearFaults();
  if (cycle % 25 === 0) process.stdout.write(`cycle ${cycle}/${cycles}: ${counts.killed} killed, exits ${JSON.stringify(counts.exit)}, ${emulator.orders().length} exchange orders, ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
}
// Clean runs until one exits 0 (a ban or an order in doubt may need a moment).
emulator.clearFaults();
let clean;
for (let i = 0; i < 10; i += 1) {
  if (Date.now() < bannedUntil) await sleep(bannedUntil - Date.now() + 50);
  clean = await runOnce(undefined);
  tally(clean);
  if (clean.code === 0) break;
  await sleep(GRACE_SECONDS * 1000 + 300);
}
if (clean.code !== 0) fail(`the final clean runs did not end with exit 0: ${clean.code}\n${clean.out}`);

const store = new LiveStore(join(dir, 'store.sqlite'), { now: () => 0 });
const local = new SqliteOrderStore(store).allOrders();
const ours = emulator.orders().filter((o) => o.clientOrderId.startsWith('pc-'));
const ids = ours.map((o) => o.clientOrderId);
const duplicates = ids.length - new Set(ids).size;
if (duplicates !== 0) fail(`${duplicates} client order id(s) sent twice`);
for (const id of ids) if (!local.some((o) => o.request.clientOrderId === id)) fail(`exchange order ${id} is unknown locally`);
const fills = local.flatMap((o) => o.fills.map((f) => ({ order: o, fill: f })));
const localTrades = fills.map((f) => f.fill.tradeId).sort();
const ourOrderIds = new Set(ours.map((o) => o.orderId));
const exchangeTrades = emulator.trades().filter((t) => ourOrderIds.has(t.orderId)).map((t) => String(t.id)).sort();
if (new Set(localTrades).size !== localTrades.length) fail('a fill is recorded twice');
const lostFills = exchangeTrades.filter((t) => !localTrades.includes(t)).length;
if (JSON.stringify(localTrades) !== JSON.stringify(exchangeTrades)) fail(`local fills ${localTrades.length} != exchange trades of procura's orders ${exchangeTrades.length} (${lostFills} lost)`);
const foreignTrades = emulator.trades().filter((t) => !ourOrderIds.has(t.orderId)).map((t) => `PAXG/USDT:${t.id}`).sort();
const external = store.externalTrades();
if (JSON.stringify(external.map((t) => t.key).sort()) !== JSON.stringify(foreignTrades)) fail(`external trades recorded ${external.length} != foreign trades at the exchange ${foreignTrades.length}`);
for (const { order, fill } of fills) {
  const id = `fill:${order.request.instrument}:${fill.tradeId}`;
  const inLedger = store.ledgerHasEvent(id);
  const inTransit = store.db.prepare('SELECT 1 FROM live_deliveries WHERE id = ?').get(id) !== undefined;
  if (inLedger === inTransit) fail(`${id}: in the ledger ${inLedger}, in transit ${inTransit}`);
}
let book = new Decimal(0);
for (const { order, fill } of fills) {
  const moved = baseMoved(order.request.side, fill);
  book = order.request.side === 'buy' ? book.plus(moved) : book.minus(moved);
}
book = book.plus(store.externalNet('PAXG'));
const balance = emulator.balance('PAXG');
const held = balance.free.plus(balance.locked);
if (!book.equals(held)) fail(`book ${book.toFixed()} != balance ${held.toFixed()}`);
const statuses = local.reduce((acc, o) => ({ ...acc, [o.status]: (acc[o.status] ?? 0) + 1 }), {});
store.close();
const ledger = Ledger.openSqlite(join(dir, 'store.sqlite'));
const verified = ledger.verify();
ledger.close();
if (!verified.ok) fail(`ledger verify: ${verified.fault}`);
await emulator.stop();
const bnbFees = emulator.trades().filter((t) => t.commissionAsset === 'BNB').length;
process.stdout.write(
  [
    `soak ok in ${((Date.now() - started) / 1000).toFixed(0)} s (store ${dir}):`,
    `  runs ${counts.runs}: ${counts.killed} killed with SIGKILL (${counts.killedBeforeSend} between the record and the send, ${counts.runsAfterGrace} of them followed by a run after the grace period), exits ${JSON.stringify(counts.exit)}`,
    `  faults: ${counts.foreignTrades} manual trades, ${counts.invisible} orders invisible past the lookup window (${counts.hidden} left out of all orders too), ${counts.bans} bans (${counts.refusedDuringBan} runs refused during a ban, without a request; ${counts.startedAfterBan} started too slowly to meet it), ${counts.otherFaults} other (5xx, timeout after execution, 429, -1007); commissions in PAXG, USDT and BNB (${bnbFees} trades paid in BNB)`,
    `  seen in the logs: ${seen.neverSent} orders never sent cancelled locally, ${seen.adoptedFromHistory} adopted from the order history, ${seen.notResent} re-sends refused (absence not proven), ${seen.setAside} external trades set aside, ${seen.bannedTicks} ticks ended by a ban`,
    `  orders: ${local.length} local (${JSON.stringify(statuses)}), ${ours.length} at the exchange; fills ${fills.length}; duplicates ${duplicates}; lost fills ${lostFills}; external trades ${external.length} recorded once`,
    `  ledger: ${verified.entries} entries verified; book = exchange = ${held.toFixed()} PAXG (local fills as received + external trades)`,
  ].join('\n') + '\n',
);
