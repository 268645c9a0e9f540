/**
 * Webhook alerts over ticks: a lasting condition (a halt) is sent when it starts, held back while
 * it lasts until `repeatMinutes` have passed, sent again as "still", and once as "resolved" when a
 * tick comes without it; events (stockouts) are sent every tick. Against an HTTP receiver on
 * 127.0.0.1 with a hand-moved clock: the ticks are counted, not timed.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { WebhookAlerter } from '../../src/live/alerts.js';
import type { TickEvent } from '../../src/live/runner.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())));
  server = undefined;
});

async function receiver(): Promise<{ url: string; texts: string[] }> {
  const texts: string[] = [];
  server = createServer((request, response) => {
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString('utf8')));
    request.on('end', () => {
      texts.push((JSON.parse(raw) as { text: string }).text);
      response.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, texts };
}

const MINUTE = 60_000;
const halt: TickEvent = { kind: 'halt', text: 'trading halted this tick (fail closed): PAXG differs' };
const stockout: TickEvent = { kind: 'stockout', text: 'gold ran short by 2 oz' };

function alerter(url: string, clock: { now: number }, repeatMinutes?: number): WebhookAlerter {
  return new WebhookAlerter({ url, logger: pino({ level: 'silent' }), timeoutMs: 10_000, on: ['halt', 'stockout', 'ban'], label: 'desk', now: () => clock.now, ...(repeatMinutes === undefined ? {} : { repeatMinutes }) });
}

describe('webhook alerts over ticks', () => {
  it('a halt lasting 90 one-minute ticks: sent when it starts, once more after 60 minutes, then resolved; stockouts every time', async () => {
    const { url, texts } = await receiver();
    const clock = { now: Date.UTC(2026, 0, 5, 9) };
    const alerts = alerter(url, clock);
    await alerts.tick([]);
    expect(texts).toHaveLength(0);
    for (let tick = 0; tick < 90; tick += 1) {
      await alerts.tick(tick === 30 ? [halt, stockout] : [halt]);
      clock.now += MINUTE;
    }
    expect(texts).toHaveLength(3);
    expect(texts[0]).toBe(`procura live desk: halt\n• halt: ${halt.text}`);
    expect(texts[1]).toBe(`procura live desk: stockout\n• stockout: ${stockout.text}`);
    expect(texts[2]).toBe(`procura live desk: halt still\n• halt (still, 61 ticks since 2026-01-05T09:00:00.000Z): ${halt.text}`);
    await alerts.tick([]);
    expect(texts).toHaveLength(4);
    expect(texts[3]).toBe('procura live desk: halt resolved\n• halt resolved: it lasted 90 tick(s) since 2026-01-05T09:00:00.000Z');
    await alerts.tick([]);
    expect(texts).toHaveLength(4);
    // It comes back: a new condition, sent at once.
    await alerts.tick([halt]);
    expect(texts).toHaveLength(5);
    expect(texts[4]).toBe(`procura live desk: halt\n• halt: ${halt.text}`);
  });

  it('repeatMinutes 0 sends a lasting condition every tick; kinds not in `on` are never sent', async () => {
    const { url, texts } = await receiver();
    const clock = { now: Date.UTC(2026, 0, 5, 9) };
    const alerts = alerter(url, clock, 0);
    for (let tick = 0; tick < 3; tick += 1) await alerts.tick([halt, { kind: 'tick-failed', text: 'exchange unreachable' }]);
    expect(texts).toEqual([`procura live desk: halt\n• halt: ${halt.text}`, `procura live desk: halt still\n• halt (still, 2 ticks since 2026-01-05T09:00:00.000Z): ${halt.text}`, `procura live desk: halt still\n• halt (still, 3 ticks since 2026-01-05T09:00:00.000Z): ${halt.text}`]);
  });
});
