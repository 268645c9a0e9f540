/**
 * Crash safety: the runner is killed at random points across many ticks and restarted.
 * After each series: no duplicate order at the emulator, no lost fill (every exchange trade is
 * a local fill once, and every procurement fill is booked exactly once: received in the
 * ledger or in transit), `ledger verify` passes, and the local book equals the emulator's
 * balance.
 *
 * Part 1 kills real child processes (`procura live --once`, built CLI) with SIGKILL at
 * random points of their progress, counted, never timed: once the emulator has received the
 * child's k-th request (exchange info, candles, open orders, trades, account, the order
 * lookup, the order itself), or as soon as the child reports its session built. So the kill
 * lands at the same stage of the tick however busy the machine is (a wall-clock delay lands
 * before the first request on a loaded machine, and nothing is tested). Part 2 crashes in
 * process at named points of the tick, many more times, cheaply. Points come from a seeded
 * generator. Part 1 runs as three series of ten processes, each its own test with a timeout a
 * machine at load average 30 on 2 cores cannot trip (a spawned node process can take tens of
 * seconds there; measured: a series of ten took 451 s at load 26).
 * The children run dist/, built once by test/support/global-setup.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Decimal } from '../../src/core/decimal.js';
import { Random } from '../../src/core/random.js';
import { Ledger } from '../../src/ledger/index.js';
import { LiveStore, SqliteOrderStore } from '../../src/live/store.js';
import { CrashError, type LiveRunner } from '../../src/live/runner.js';
import type { BinanceEmulator } from '../support/binance-emulator.js';
import { envFor, startLiveRig, type LiveRig } from './helpers.js';

let rig: LiveRig | undefined;
afterEach(async () => {
  await rig?.stop();
  rig = undefined;
});

/** The invariants after a series of crashes; see the module comment. */
function checkInvariants(storePath: string, emulator: BinanceEmulator): { orders: number; fills: number } {
  const store = new LiveStore(storePath, { now: () => 0 });
  try {
    const local = new SqliteOrderStore(store).allOrders();
    const ids = emulator.orders().map((o) => o.clientOrderId);
    expect(new Set(ids).size, 'a client order id sent twice').toBe(ids.length);
    for (const id of ids) expect(local.some((o) => o.request.clientOrderId === id), `exchange order ${id} unknown locally`).toBe(true);
    const fills = local.flatMap((o) => o.fills.map((f) => ({ order: o, fill: f })));
    const localTrades = fills.map((f) => f.fill.tradeId);
    expect(new Set(localTrades).size, 'a fill recorded twice').toBe(localTrades.length);
    expect([...localTrades].sort(), 'every exchange trade is a local fill').toEqual(emulator.trades().map((t) => String(t.id)).sort());
    // Every procurement fill booked exactly once: received (ledger purchase) or in transit.
    for (const { order, fill } of fills) {
      const id = `fill:${order.request.instrument}:${fill.tradeId}`;
      const inLedger = store.ledgerHasEvent(id);
      const inTransit = store.db.prepare('SELECT 1 FROM live_deliveries WHERE id = ?').get(id) !== undefined;
      expect(inLedger !== inTransit, `${id}: in the ledger ${inLedger}, in transit ${inTransit}`).toBe(true);
    }
    const fees = emulator.trades().reduce((s, t) => (t.commissionAsset === 'PAXG' ? s.plus(t.commission) : s), new Decimal(0));
    let book = new Decimal(0);
    for (const { order, fill } of fills) book = order.request.side === 'buy' ? book.plus(fill.qty) : book.minus(fill.qty);
    const balance = emulator.balance('PAXG');
    expect(book.minus(fees).toFixed(), 'local book vs exchange balance').toBe(balance.free.plus(balance.locked).toFixed());
    return { orders: local.length, fills: fills.length };
  } finally {
    store.close();
    const ledger = Ledger.openSqlite(storePath);
    try {
      const verified = ledger.verify();
      expect(verified.ok, verified.fault).toBe(true);
    } finally {
      ledger.journal.close();
    }
  }
}

interface ChildRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
}

/** Where to kill a child: after the emulator has received its `afterRequests`-th request, or when it reports its session built. */
type KillPoint = { readonly afterRequests: number } | { readonly atSession: true };

/** Runs `procura live --config F --once`; kills it with SIGKILL at `kill`, if given (see the module comment). */
function runOnce(configFile: string, env: Record<string, string>, emulator: BinanceEmulator, kill?: KillPoint): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const requestsBefore = emulator.requests().length;
    const child = spawn(process.execPath, ['bin/procura.js', 'live', '--config', configFile, '--once'], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let watch: NodeJS.Timeout | undefined;
    if (kill !== undefined && 'afterRequests' in kill) {
      // Polled, but the kill point is a count of requests: a slow poll only lets the child get a little further.
      watch = setInterval(() => {
        if (emulator.requests().length - requestsBefore >= kill.afterRequests) child.kill('SIGKILL');
      }, 1);
    }
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      if (kill !== undefined && 'atSession' in kill && stdout.includes('session built from the store')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (watch !== undefined) clearInterval(watch);
      resolve({ code, signal, stdout });
    });
  });
}

/** Ten killed (or finished) runs at seeded kill points and two clean ones against a fresh emulator, then the invariants. */
async function killSeries(seed: number): Promise<void> {
  expect(existsSync('dist/src/cli/main.js'), 'dist/ is built by test/support/global-setup.ts').toBe(true);
  rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
  const env = envFor(rig.emulator);
  const random = new Random(seed);
  let killed = 0;
  let completed = 0;
  let takeovers = 0;
  for (let cycle = 0; cycle < 10; cycle += 1) {
    if (random.float() < 0.8) rig.emulator.advance();
    // A tick makes about 7 requests (the order POST last); 8 lets some runs finish.
    const kill: KillPoint = random.float() < 0.2 ? { atSession: true } : { afterRequests: random.int(1, 8) };
    const run = await runOnce(rig.configFile, env, rig.emulator, kill);
    if (run.signal === 'SIGKILL') killed += 1;
    else {
      expect(run.code, run.stdout).toBe(0);
      completed += 1;
    }
    if (run.stdout.includes('took over the lock of a live run that is no longer running')) takeovers += 1;
  }
  // Two clean runs finish whatever the last kill interrupted.
  for (let i = 0; i < 2; i += 1) {
    const run = await runOnce(rig.configFile, env, rig.emulator);
    expect(run.code, run.stdout).toBe(0);
  }
  expect(killed).toBeGreaterThanOrEqual(4);
  expect(takeovers).toBeGreaterThan(0);
  const { orders } = checkInvariants(rig.config.storePath, rig.emulator);
  expect(orders).toBeGreaterThanOrEqual(2);
  expect(completed + killed).toBe(10);
}

/** Generous: a spawned node process can take tens of seconds on a machine at load average 30. */
const SLOW_TEST_MS = 900_000;

describe('crash safety', () => {
  for (const seed of [20_240_101, 20_240_202, 20_240_303]) {
    it(`10 real processes killed with SIGKILL at seeded points of their progress, then restarted (seed ${seed})`, () => killSeries(seed), SLOW_TEST_MS);
  }

  it('45 in-process crashes at named points (throwing, or freezing mid-request), each followed by a restart', async () => {
    rig = await startLiveRig({ config: { strategy: 'jit', params: {} } });
    const random = new Random(7);
    const points = ['after-candles', 'after-session', 'before-step', 'before-send', 'after-send', 'after-step', 'after-commit'];
    const hits = new Map<string, number>();
    let crashes = 0;
    let armed: string | undefined;
    let crashed: (point: string) => void = () => undefined;
    const open = async (): Promise<LiveRunner> =>
      rig!.open({
        crashPoint: (name) => {
          if (name !== armed) return undefined;
          armed = undefined;
          // Half the crashes throw; the other half freeze the "process" right there, mid-await.
          if (random.float() < 0.5) throw new CrashError(name);
          crashed(name);
          return new Promise<void>(() => undefined);
        },
      });
    let runner = await open();
    for (let tick = 0; tick < 70; tick += 1) {
      if (random.float() < 0.85) rig.advance();
      armed = crashes < 45 ? points[random.int(0, points.length - 1)] : undefined;
      const frozen = new Promise<string>((resolve) => (crashed = resolve));
      let point: string | undefined;
      try {
        const outcome = await Promise.race([runner.tick(), frozen]);
        if (typeof outcome === 'string') point = outcome;
        else expect(outcome.ok, outcome.error).toBe(true);
      } catch (error) {
        expect(error).toBeInstanceOf(CrashError);
        point = (error as Error).message.replace('simulated crash at ', '');
      }
      armed = undefined;
      if (point !== undefined) {
        hits.set(point, (hits.get(point) ?? 0) + 1);
        crashes += 1;
        runner.abandon(); // the "process" dies: connections gone, the lock left behind
        runner = await open(); // restart
      }
    }
    expect((await runner.tick()).ok).toBe(true);
    runner.close();
    expect(crashes).toBeGreaterThanOrEqual(40);
    for (const point of points) expect(hits.get(point) ?? 0, `crashes at ${point}`).toBeGreaterThan(0);
    const { orders } = checkInvariants(rig.config.storePath, rig.emulator);
    expect(orders).toBeGreaterThan(20);
  }, SLOW_TEST_MS);
});
