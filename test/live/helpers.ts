/** Shared fixtures for the live runner tests: an emulator on 127.0.0.1, a config file in a temp dir, a runner on a SimClock, captured pino lines. */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { SimClock } from '../../src/core/time.js';
import { BinanceEmulator, makeCandles, type EmulatorCandle, type EmulatorOptions } from '../support/binance-emulator.js';
import { credentialVariables } from '../../src/venues/ccxt/ccxt-venue.js';
import { loadLiveConfig, type LiveConfig } from '../../src/live/config.js';
import { createLiveLogger, LiveRunner, type LiveRunnerOptions } from '../../src/live/runner.js';

export const DAY = 86_400_000;
export const START = Date.UTC(2024, 0, 1);
export const PLANT = resolve('config/jewellery-plant.yaml');

/** A daily PAXG path: flat, a rise (fast crosses slow), a dip, a rise again; `count` candles. */
export function goldCloses(count = 120): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const wave = Math.sin(i / 6) * 40 + i * 0.8;
    out.push((2600 + wave).toFixed(2));
  }
  return out;
}

export function goldCandles(count = 120): EmulatorCandle[] {
  return makeCandles(START, DAY, goldCloses(count), '2');
}

/** Lines a pino logger wrote, parsed. */
export class LogCapture {
  readonly lines: Array<Record<string, any>> = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, callback) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, any>);
      callback();
    },
  });
  readonly logger = createLiveLogger(this.stream, 'debug');
  messages(): string[] {
    return this.lines.map((l) => String(l['msg']));
  }
  text(): string {
    return this.lines.map((l) => JSON.stringify(l)).join('\n');
  }
}

export interface ConfigOverrides {
  readonly strategy?: string;
  readonly params?: Record<string, unknown>;
  readonly extra?: string;
  readonly exchange?: string;
  readonly symbol?: string;
  readonly cron?: string;
  readonly ratePerDay?: string;
  readonly warmupCandles?: number;
  readonly dir?: string;
  readonly tolerance?: string;
  readonly graceSeconds?: number;
  readonly lookupIntervalMs?: number;
  readonly runId?: string;
  readonly planFrom?: string;
  /** The risk block, YAML flow text (default: generous notional limits). */
  readonly risk?: string;
  /** The venue block, YAML flow text. */
  readonly venue?: string;
  /** production.simulate (default true): false when the ledger is fed by `procura ledger post`. */
  readonly simulate?: boolean;
}

/** Writes a live config for the emulator at `url` into a temp dir; returns its path. */
export function writeConfig(url: string, overrides: ConfigOverrides = {}): string {
  const dir = overrides.dir ?? mkdtempSync(join(tmpdir(), 'procura-live-'));
  const params = JSON.stringify(overrides.params ?? { fast: 3, slow: 8, orderUpToDays: 5, maxCoverDays: 20, trendBars: 2 });
  const text = `
name: test-desk
runId: ${overrides.runId ?? 'test-desk'}
exchange: ${overrides.exchange ?? 'binance'}
mode: sandbox
emulatorUrl: ${url}
timeframe: 1d
schedule: { cron: ${JSON.stringify(overrides.cron ?? '5 0 * * *')}, timezone: UTC }
store: store.sqlite
plant: ${PLANT}
production: { product: ring, ratePerDay: "${overrides.ratePerDay ?? '20'}", from: "${overrides.planFrom ?? '2024-01-01'}", days: 400, simulate: ${overrides.simulate ?? true} }
materials:
  gold: { symbol: ${overrides.symbol ?? 'PAXG/USDT'}, leadTimeDays: 2 }
strategy: { name: ${overrides.strategy ?? 'ma-procurement'}, params: ${params} }
risk: ${overrides.risk ?? '{ maxOrderNotional: "100000", maxDailyNotional: "300000" }'}
warmupCandles: ${overrides.warmupCandles ?? 60}
reconciliation: { tolerance: "${overrides.tolerance ?? '0.00000001'}", graceSeconds: ${overrides.graceSeconds ?? 300} }
venue: ${overrides.venue ?? `{ timeoutMs: 1500, lookupAttempts: 2, lookupIntervalMs: ${overrides.lookupIntervalMs ?? 0} }`}
${overrides.extra ?? ''}
`;
  const file = join(dir, 'live.yaml');
  writeFileSync(file, text);
  return file;
}

export function envFor(emulator: BinanceEmulator): Record<string, string> {
  const names = credentialVariables('binance');
  return { [names.apiKey]: emulator.apiKey, [names.secret]: emulator.secret };
}

export interface LiveRig {
  readonly emulator: BinanceEmulator;
  readonly url: string;
  readonly configFile: string;
  readonly config: LiveConfig;
  readonly clock: SimClock;
  readonly logs: LogCapture;
  /** Opens a runner (a "process"); each call is a restart. */
  open(extra?: Partial<LiveRunnerOptions>): Promise<LiveRunner>;
  /** Moves the emulator to its next candle and the clock to that candle's close. */
  advance(): boolean;
  stop(): Promise<void>;
}

/** An emulator at candle `startIndex` of the gold path and a config pointing at it; the clock sits at the current candle's close. */
export async function startLiveRig(options: { emulator?: EmulatorOptions; config?: ConfigOverrides; startIndex?: number } = {}): Promise<LiveRig> {
  const candles = goldCandles();
  const startIndex = options.startIndex ?? 30;
  const emulator = new BinanceEmulator({ candles: { PAXGUSDT: candles }, startIndex, balances: { USDT: '1000000' }, ...options.emulator });
  const url = await emulator.start();
  const configFile = writeConfig(url, options.config);
  const config = loadLiveConfig(configFile);
  const clock = new SimClock(candles[startIndex]!.openAt + DAY);
  const logs = new LogCapture();
  const env = envFor(emulator);
  return {
    emulator,
    url,
    configFile,
    config,
    clock,
    logs,
    open: (extra = {}) => LiveRunner.open({ config, clock, env, logger: logs.logger, sleep: async () => undefined, ...extra }),
    advance: () => {
      const moved = emulator.advance();
      if (moved) clock.advanceTo(emulator.currentCandle('PAXGUSDT').openAt + DAY);
      return moved;
    },
    stop: () => emulator.stop(),
  };
}

/** Runs the built CLI without blocking this process (the emulator answers from here). */
export function runCli(args: string[], env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/procura.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}
