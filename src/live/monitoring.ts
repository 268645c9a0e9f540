/**
 * The service's health endpoint and Prometheus metrics (prom-client), served on
 * `monitoring.host:monitoring.port` (127.0.0.1 by default) while `procura live` runs on its
 * schedule:
 *
 *   GET /healthz  200 {"status":"ok",...} while the last tick completed (or none has run yet);
 *                 503 {"status":"halted"|"failed"|"banned",...} when the last tick halted,
 *                 failed or ended by a ban, and 503 {"status":"banned",...} while the service waits
 *                 out a ban stored by an earlier run (before its first tick: no request is
 *                 made until the ban ends). The body says when the last and next ticks are.
 *   GET /metrics  the Prometheus text format: procura_live_* and Node's process metrics.
 *
 * Every other path answers 404. The server reads the runner's state only; it never calls the
 * exchange or writes the store.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TickEvent, TickSummary } from './runner.js';

/** The metrics one live process exports; `observe` is the runner's `onTick`. */
export class LiveMetrics {
  readonly registry = new Registry();
  readonly #ticks: Counter<'outcome'>;
  readonly #orders: Counter;
  readonly #fills: Counter;
  readonly #denials: Counter;
  readonly #events: Counter<'kind'>;
  readonly #lastTick: Gauge;
  readonly #nextTick: Gauge;
  readonly #halted: Gauge;
  readonly #bannedUntil: Gauge;
  readonly #differences: Gauge;
  readonly #duration: Histogram;
  #last: { summary: TickSummary; events: readonly TickEvent[] } | undefined;
  /** A stored ban the service is waiting out before it opens the runner. */
  #storedBan: { until: number; reason: string } | undefined;
  readonly #nextTickAt: () => number | undefined;

  /** `nextTickAt`: the scheduler's next firing (epoch ms), read when scraped. */
  constructor(labels: { runId: string }, nextTickAt: () => number | undefined) {
    this.#nextTickAt = nextTickAt;
    const next = nextTickAt;
    const registers = [this.registry];
    this.registry.setDefaultLabels({ run_id: labels.runId });
    collectDefaultMetrics({ register: this.registry });
    this.#ticks = new Counter({ name: 'procura_live_ticks_total', help: 'Ticks run, by outcome (ok, halted, failed, banned)', labelNames: ['outcome'], registers });
    this.#orders = new Counter({ name: 'procura_live_orders_total', help: 'Orders sent to the exchange', registers });
    this.#fills = new Counter({ name: 'procura_live_fills_total', help: 'Fills booked', registers });
    this.#denials = new Counter({ name: 'procura_live_denials_total', help: 'Decisions denied by a risk limit', registers });
    this.#events = new Counter({ name: 'procura_live_alert_events_total', help: 'Events an operator hears about, by kind (halt, reconciliation-difference, ban, forced-reorder-denied, stockout, tick-failed)', labelNames: ['kind'], registers });
    this.#lastTick = new Gauge({ name: 'procura_live_last_tick_timestamp_seconds', help: 'When the last tick started (Unix time)', registers });
    this.#nextTick = new Gauge({
      name: 'procura_live_next_tick_timestamp_seconds',
      help: 'When the scheduler fires next (Unix time), 0 when unknown',
      registers,
      collect() {
        this.set((next() ?? 0) / 1000);
      },
    });
    this.#halted = new Gauge({ name: 'procura_live_halted', help: '1 when the last tick traded nothing because reconciliation found differences or something waits for the operator', registers });
    this.#bannedUntil = new Gauge({ name: 'procura_live_banned_until_timestamp_seconds', help: 'End of the exchange ban met by the last tick (Unix time), 0 when none', registers });
    this.#differences = new Gauge({ name: 'procura_live_reconciliation_differences', help: 'Problems the last reconciliation found (balance differences, orders in doubt, trades waiting for the operator)', registers });
    this.#duration = new Histogram({ name: 'procura_live_tick_duration_seconds', help: 'Tick duration', buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300], registers });
    for (const outcome of ['ok', 'halted', 'failed', 'banned']) this.#ticks.inc({ outcome }, 0);
    this.#bannedUntil.set(0);
    this.#halted.set(0);
  }

  /** The service waits out a ban stored by an earlier run (`until` epoch ms), or stopped waiting (undefined). */
  waitingOutBan(ban: { until: number; reason: string } | undefined): void {
    this.#storedBan = ban;
    if (ban !== undefined) this.#bannedUntil.set(ban.until / 1000);
    else this.#bannedUntil.set(this.#last?.summary.bannedUntil === undefined ? 0 : Date.parse(this.#last.summary.bannedUntil) / 1000);
  }

  /** Records one tick (the runner's `onTick`); `problems` is the count the reconciliation found. */
  observe(summary: TickSummary, events: readonly TickEvent[], problems: number): void {
    this.#last = { summary, events };
    this.#ticks.inc({ outcome: outcomeOf(summary) });
    this.#orders.inc(summary.orders);
    this.#fills.inc(summary.fills);
    this.#denials.inc(summary.denials);
    for (const event of events) this.#events.inc({ kind: event.kind });
    this.#lastTick.set(summary.startedAt / 1000);
    this.#halted.set(summary.tradingHalted ? 1 : 0);
    this.#bannedUntil.set(summary.bannedUntil === undefined ? 0 : Date.parse(summary.bannedUntil) / 1000);
    this.#differences.set(problems);
    this.#duration.observe(summary.ms / 1000);
  }

  /** The health endpoint's answer. */
  health(): { status: number; body: Record<string, unknown> } {
    const last = this.#last?.summary;
    const next = this.#nextTickAt();
    const ban = this.#storedBan;
    const outcome = ban !== undefined ? 'banned' : last === undefined ? 'ok' : outcomeOf(last);
    const body = {
      status: outcome,
      ...(ban === undefined ? {} : { bannedUntil: new Date(ban.until).toISOString(), reason: `waiting out a ban stored by an earlier run: ${ban.reason}` }),
      lastTick: last === undefined ? null : { tick: last.tick, startedAt: new Date(last.startedAt).toISOString(), ok: last.ok, halted: last.tradingHalted, orders: last.orders, fills: last.fills, denials: last.denials, error: last.error ?? null, bannedUntil: last.bannedUntil ?? null },
      nextTick: next === undefined ? null : new Date(next).toISOString(),
      events: (this.#last?.events ?? []).map((e) => `${e.kind}: ${e.text}`),
    };
    return { status: outcome === 'ok' ? 200 : 503, body };
  }
}

function outcomeOf(summary: TickSummary): 'ok' | 'halted' | 'failed' | 'banned' {
  if (summary.bannedUntil !== undefined) return 'banned';
  if (!summary.ok) return 'failed';
  return summary.tradingHalted ? 'halted' : 'ok';
}

/** Serves /healthz and /metrics on host:port (port 0: any free port); resolves with the URL once listening. */
export async function serveMonitoring(metrics: LiveMetrics, host: string, port: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (path === '/healthz') {
      const { status, body } = metrics.health();
      response.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
      return;
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error instanceof Error ? error.message : String(error)}\n`),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /healthz or /metrics\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
