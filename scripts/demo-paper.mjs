#!/usr/bin/env node
/**
 * A paper live run with no keys and no network, for the README's tour:
 *
 *   npm run demo:paper -- [ticks=3]
 *
 * Starts the Binance emulator (test/support/binance-emulator.ts, built into dist/) on 127.0.0.1
 * with 600 synthetic daily PAXG/USDT candles (a deterministic wave around 2,600 USDT: the
 * bundled gold series is monthly, and a live desk decides on daily candles), writes the example
 * live config (config/live.example.yaml, unchanged but for `emulatorUrl` and a scratch store)
 * into a temporary directory, and runs `procura live --config ... --paper --once` `ticks`
 * times, one emulated day apart. `--paper` takes the prices from the exchange and fills on the
 * simulated venue, exactly as it does against Binance. It prints each run's output; it exits
 * with the first non-zero status of a run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BinanceEmulator, makeCandles } from '../dist/test/support/binance-emulator.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const ticks = Number(process.argv[2] ?? 3);
if (!Number.isInteger(ticks) || ticks < 1) {
  process.stderr.write(`demo-paper: ticks: ${process.argv[2]} is not a whole number >= 1\n`);
  process.exit(2);
}
const DAY = 86_400_000;
const START = Date.UTC(2024, 0, 1);
const CANDLES = 600;
const closes = Array.from({ length: CANDLES }, (_, i) => (2600 + Math.sin(i / 9) * 60 + i * 0.5).toFixed(2));
const emulator = new BinanceEmulator({
  candles: { PAXGUSDT: makeCandles(START, DAY, closes, '2') },
  markets: [{ symbol: 'PAXGUSDT', base: 'PAXG', quote: 'USDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5' }],
  startIndex: CANDLES - ticks - 1,
  balances: { USDT: '1000000' },
});
const url = await emulator.start();
const dir = mkdtempSync(join(tmpdir(), 'procura-demo-paper-'));
let status = 0;
try {
  const example = readFileSync(join(ROOT, 'config', 'live.example.yaml'), 'utf8');
  const config = example
    .replace(/^exchange: binance\b.*$/m, `exchange: binance\nemulatorUrl: ${url}   # demo: the local Binance emulator`)
    .replace(/^store: .*$/m, `store: ${join(dir, 'live.sqlite')}`)
    .replace(/^plant: .*$/m, `plant: ${join(ROOT, 'config', 'jewellery-plant.yaml')}`);
  if (!config.includes(`emulatorUrl: ${url}`) || !config.includes(join(dir, 'live.sqlite'))) throw new Error('config/live.example.yaml: no top-level exchange: or store: line to adapt');
  const file = join(dir, 'live.yaml');
  writeFileSync(file, config);
  for (let tick = 1; tick <= ticks; tick += 1) {
    if (tick > 1) emulator.advance();
    process.stdout.write(`-- tick ${tick} of ${ticks}: procura live --config live.yaml --paper --once (the emulator at ${url})\n`);
    // Asynchronously: the emulator answers from this process's event loop.
    const code = await new Promise((done) => {
      const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'live', '--config', file, '--paper', '--once'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
      child.on('exit', (c, signal) => done(c ?? (signal !== null ? 1 : 0)));
    });
    if (code !== 0) {
      status = code;
      break;
    }
  }
} finally {
  await emulator.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = status;
