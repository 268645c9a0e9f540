#!/usr/bin/env node
/**
 * The Binance-protocol emulator (test/support/binance-emulator.ts) as a standalone server, for
 * trying `procura live` without an exchange account:
 *
 *   npm run emulator -- [port=18080] [days=120]
 *
 * Serves PAXG/USDT and BNB/USDT on http://127.0.0.1:PORT with a synthetic daily gold path of
 * DAYS candles from 2025-01-01 (all closed), 1,000,000 USDT to spend, and the fixed credentials
 * PROCURA_BINANCE_API_KEY=emulator-key PROCURA_BINANCE_SECRET=emulator-secret. Orders fill at
 * the current close with a 0.1 % commission in the asset received, as Binance spot charges it.
 * config/live.emulator.yaml points at port 18080. Stops on Ctrl-C (SIGINT) or SIGTERM. Nothing
 * here reaches the internet.
 */
import { BinanceEmulator, makeCandles } from '../dist/test/support/binance-emulator.js';

const port = Number(process.argv[2] ?? 18080);
const days = Number(process.argv[3] ?? 120);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  process.stderr.write(`emulator: port must be 1-65535, got ${process.argv[2]}\n`);
  process.exit(2);
}
const closes = Array.from({ length: days }, (_, i) => (2600 + Math.sin(i / 6) * 40 + i * 0.8).toFixed(2));
const emulator = new BinanceEmulator({
  apiKey: 'emulator-key',
  secret: 'emulator-secret',
  candles: { PAXGUSDT: makeCandles(Date.UTC(2025, 0, 1), 86_400_000, closes, '2') },
  markets: [
    { symbol: 'PAXGUSDT', base: 'PAXG', quote: 'USDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5' },
    { symbol: 'BNBUSDT', base: 'BNB', quote: 'USDT', tickSize: '0.01', stepSize: '0.001', minQty: '0.001', minNotional: '5', price: '612.5' },
  ],
  startIndex: days - 1,
  balances: { USDT: '1000000' },
});
const url = await emulator.start(port);
process.stdout.write(`Binance emulator on ${url}: PAXG/USDT, ${days} daily candles from 2025-01-01; credentials PROCURA_BINANCE_API_KEY=emulator-key PROCURA_BINANCE_SECRET=emulator-secret\n`);
const stop = async () => {
  await emulator.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
