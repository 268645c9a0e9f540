/**
 * Live runner benchmark, against the Binance emulator with the real ccxt client.
 *
 * 1. Tick latency: from the tick firing (what node-cron's callback calls) to the exchange's
 *    answer to the order request, over 1,000 ticks of the jit desk (an order nearly every
 *    tick): p50 and p99. No latency is injected, so there is none to exclude. Reference, same
 *    run: one bare order round trip through the ccxt venue (lookup by client order id, then
 *    POST), the floor a tick cannot beat.
 * 2. Memory: heap used after 10,000 ticks against heap used after 100 (a desk that stops
 *    trading once covered, no simulated production, so the ledger itself stays small); a
 *    ratio near 1 means no growth beyond noise.
 * The emulator runs in a worker thread, so its order book and request log are not on the
 * measured heap. Nothing reaches the internet.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { Decimal } from '../src/core/decimal.js';
import { SimClock } from '../src/core/time.js';
import { loadLiveConfig } from '../src/live/config.js';
import { LiveRunner } from '../src/live/runner.js';
import { CcxtVenue, credentialVariables } from '../src/venues/ccxt/index.js';
import { costRow, type Bench, type Timing } from './harness.js';

const DAY = 86_400_000;
const START = Date.UTC(2021, 0, 1);
const API_KEY = 'bench-key';
const SECRET = 'bench-secret';

interface EmulatorHandle {
  readonly url: string;
  advance(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a BinanceEmulator with `count` daily candles in a worker thread. */
async function startEmulator(count: number, startIndex: number): Promise<EmulatorHandle> {
  const module = new URL('../test/support/binance-emulator.js', import.meta.url).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.module).then(async ({ BinanceEmulator, makeCandles }) => {
      const closes = Array.from({ length: workerData.count }, (_, i) => (2600 + Math.sin(i / 6) * 40 + (i % 400) * 0.5).toFixed(2));
      const emulator = new BinanceEmulator({
        apiKey: workerData.apiKey, secret: workerData.secret,
        candles: { PAXGUSDT: makeCandles(workerData.start, 86400000, closes, '2') },
        startIndex: workerData.startIndex, balances: { USDT: '1000000000' },
      });
      const url = await emulator.start();
      setInterval(() => emulator.clearRequests(), 1000);
      parentPort.postMessage(url);
    });`;
  const worker = new Worker(code, { eval: true, workerData: { module, count, startIndex, start: START, apiKey: API_KEY, secret: SECRET } });
  const url = await new Promise<string>((done) => worker.once('message', done));
  return {
    url,
    advance: async () => {
      const response = await fetch(`${url}/__control`, { method: 'POST', body: JSON.stringify({ action: 'advance' }) });
      await response.text();
    },
    stop: async () => {
      await worker.terminate();
    },
  };
}

function writeConfig(url: string, dir: string, strategy: string, simulate: boolean): string {
  const file = join(dir, `${strategy}.yaml`);
  writeFileSync(
    file,
    `name: bench
runId: bench-${strategy}
exchange: binance
emulatorUrl: ${url}
schedule: { cron: "5 0 * * *" }
store: ${strategy}.sqlite
plant: ${resolve('config/jewellery-plant.yaml')}
production: { product: ring, ratePerDay: "20", from: "2021-01-01", days: 36500, simulate: ${simulate} }
materials: { gold: { symbol: PAXG/USDT, leadTimeDays: 2 } }
strategy: { name: ${strategy} }
risk: { maxOrderNotional: "1000000", maxDailyNotional: "10000000" }
warmupCandles: 100
venue: { lookupAttempts: 2, lookupIntervalMs: 0 }
`,
  );
  return file;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

export const bench: Bench = async (report) => {
  const dir = mkdtempSync(join(tmpdir(), 'procura-bench-live-'));
  const names = credentialVariables('binance');
  const env = { [names.apiKey]: API_KEY, [names.secret]: SECRET };

  // 1. Latency over 1,000 ticks.
  {
    const emulator = await startEmulator(1200, 120);
    const config = loadLiveConfig(writeConfig(emulator.url, dir, 'jit', true));
    const clock = new SimClock(START + 121 * DAY);
    let firedAt = 0;
    let answeredAt = 0;
    const runner = await LiveRunner.open({ config, clock, env, onOrderSubmitted: () => (answeredAt = answeredAt === 0 ? performance.now() : answeredAt) });
    const latencies: number[] = [];
    // CPU of the process (the runner and the emulator it talks to) over the whole loop, per tick.
    const ticksCpu = process.cpuUsage();
    const ticksStart = performance.now();
    for (let i = 0; i < 1000; i += 1) {
      answeredAt = 0;
      firedAt = performance.now();
      const summary = await runner.tick();
      if (!summary.ok) throw new Error(`bench tick failed: ${summary.error}`);
      if (answeredAt !== 0) latencies.push(answeredAt - firedAt);
      await emulator.advance();
      clock.advanceTo(clock.now() + DAY);
    }
    const ticksUsed = process.cpuUsage(ticksCpu);
    const ticks: Timing = { wallMs: performance.now() - ticksStart, cpuMs: (ticksUsed.user + ticksUsed.system) / 1000 };
    runner.close();
    // Reference: one bare order round trip through the ccxt venue, same emulator.
    const venue = new CcxtVenue({ exchange: 'binance', emulatorUrl: emulator.url, env, instruments: { gold: 'PAXG/USDT' } });
    await venue.init();
    const bare: number[] = [];
    const bareCpu = process.cpuUsage();
    const bareStart = performance.now();
    for (let i = 0; i < 300; i += 1) {
      const t0 = performance.now();
      await venue.submit({ clientOrderId: `bench-bare-${i}`, instrument: 'gold', symbol: 'PAXG/USDT', side: 'buy', type: 'market', qty: new Decimal('0.01'), at: 0, reason: 'procure' });
      bare.push(performance.now() - t0);
    }
    const bareUsed = process.cpuUsage(bareCpu);
    const bareTiming: Timing = { wallMs: performance.now() - bareStart, cpuMs: (bareUsed.user + bareUsed.system) / 1000 };
    await emulator.stop();
    latencies.sort((a, b) => a - b);
    bare.sort((a, b) => a - b);
    const note = `${latencies.length} of 1,000 ticks sent an order; no injected latency`;
    report({ name: 'live tick latency p50, firing -> order answered by the emulator', value: percentile(latencies, 50), unit: 'ms', better: 'lower', reference: { name: 'bare ccxt order round trip p50 (lookup + POST)', value: percentile(bare, 50) }, note });
    report({ name: 'live tick latency p99, firing -> order answered by the emulator', value: percentile(latencies, 99), unit: 'ms', better: 'lower', reference: { name: 'bare ccxt order round trip p99 (lookup + POST)', value: percentile(bare, 99) }, note });
    report(
      costRow({
        name: 'live tick, mean per tick (1,000 ticks; the emulator runs in this process)',
        unit: 'ms',
        per: 1000,
        timing: ticks,
        reference: { name: 'bare ccxt order round trip (lookup + POST), mean of 300', per: 300, timing: bareTiming },
      }),
    );
  }

  // 2. Memory after 10,000 ticks against after 100.
  {
    const emulator = await startEmulator(10_300, 120);
    const config = loadLiveConfig(writeConfig(emulator.url, dir, 'ma-procurement', false));
    const clock = new SimClock(START + 121 * DAY);
    const runner = await LiveRunner.open({ config, clock, env });
    let after100 = 0;
    let orders = 0;
    const t0 = performance.now();
    for (let i = 1; i <= 10_000; i += 1) {
      const summary = await runner.tick();
      if (!summary.ok) throw new Error(`bench tick failed: ${summary.error}`);
      orders += summary.orders;
      if (i === 100) after100 = heapAfterGc();
      await emulator.advance();
      clock.advanceTo(clock.now() + DAY);
    }
    const after10k = heapAfterGc();
    const seconds = (performance.now() - t0) / 1000;
    const entries = runner.ledger().journal.size;
    runner.close();
    await emulator.stop();
    const mb = (bytes: number): number => Math.round((bytes / 1_048_576) * 10) / 10;
    report({
      name: 'live heap used after 10,000 ticks',
      value: mb(after10k),
      unit: 'MB',
      better: 'lower',
      reference: { name: 'heap used after 100 ticks', value: mb(after100) },
      target: 'no growth beyond noise (measured/reference near 1)',
      note: `${orders} orders, ${entries} ledger entries, ${(10_000 / seconds).toFixed(0)} ticks/s`,
    });
  }
};
