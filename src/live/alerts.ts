/**
 * Webhook alerts: a Slack-compatible JSON body (`{"text": "..."}`, which Slack incoming
 * webhooks, Mattermost and most chat bridges accept) POSTed when a tick meets something an
 * operator should hear about (a halt, a reconciliation difference, a ban, a denied forced
 * reorder, a stockout, a failed tick) and when the process stops on a fatal error.
 *
 * The URL is a secret (a Slack webhook URL carries its token), so it comes only from the
 * environment (PROCURA_ALERT_WEBHOOK_URL), is registered for redaction and never logged. A
 * webhook that fails or does not answer within `timeoutMs` is logged at warn and never fails
 * the tick.
 *
 * Repeats: a halt, a reconciliation difference, a ban or a failing tick is a condition that lasts
 * for as many ticks as it takes the operator to act, and a runner on a one-minute schedule would
 * otherwise page them every minute until they mute the channel. A condition is sent when it
 * starts, again while it lasts only every `repeatMinutes` (0: every tick), and once more as
 * "resolved" on the first tick without it. Stockouts and denied forced reorders are events, not
 * conditions: each tick's are news (money lost that day) and always sent.
 */
import type { Logger } from 'pino';
import { registerSecret, redactText } from '../core/redact.js';
import type { TickEvent } from './runner.js';

export const ALERT_WEBHOOK_ENV = 'PROCURA_ALERT_WEBHOOK_URL';
export const ALERT_KINDS = ['halt', 'reconciliation-difference', 'ban', 'forced-reorder-denied', 'stockout', 'tick-failed', 'fatal'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];
/** Kinds that last over ticks until resolved: sent when they start, repeated every `repeatMinutes`, and resolved. */
export const CONDITION_KINDS: ReadonlySet<AlertKind> = new Set(['halt', 'reconciliation-difference', 'ban', 'tick-failed']);

export class WebhookAlerter {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #on: ReadonlySet<AlertKind>;
  readonly #label: string;
  readonly #repeatMs: number;
  readonly #now: () => number;
  /** Conditions active at the last tick: when they started, when they were last sent, ticks seen. */
  readonly #active = new Map<AlertKind, { since: number; sentAt: number; ticks: number }>();

  /** `repeatMinutes`: how often a lasting condition is sent again (0: every tick); `now`: the clock (tests). */
  constructor(options: { url: string; logger: Logger; timeoutMs: number; on: readonly AlertKind[]; label: string; repeatMinutes?: number; now?: () => number }) {
    registerSecret(options.url);
    this.#url = options.url;
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs;
    this.#on = new Set(options.on);
    this.#label = options.label;
    this.#repeatMs = (options.repeatMinutes ?? 60) * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /**
   * One message for a tick's events of the configured kinds: new conditions and events, lasting
   * conditions due for a repeat (marked "still"), and conditions that cleared ("resolved").
   * Nothing is sent when none of these is present.
   */
  async tick(events: readonly TickEvent[]): Promise<void> {
    const now = this.#now();
    const chosen = events.filter((e) => this.#on.has(e.kind));
    const present = new Set<AlertKind>(chosen.map((e) => e.kind));
    const lines: string[] = [];
    const kinds: string[] = [];
    for (const [kind, state] of [...this.#active]) {
      if (present.has(kind)) continue;
      this.#active.delete(kind);
      kinds.push(`${kind} resolved`);
      lines.push(`• ${kind} resolved: it lasted ${state.ticks} tick(s) since ${new Date(state.since).toISOString()}`);
    }
    for (const kind of present) {
      const texts = chosen.filter((e) => e.kind === kind).map((e) => e.text);
      if (!CONDITION_KINDS.has(kind)) {
        kinds.push(kind);
        for (const text of texts) lines.push(`• ${kind}: ${text}`);
        continue;
      }
      const state = this.#active.get(kind);
      if (state === undefined) {
        this.#active.set(kind, { since: now, sentAt: now, ticks: 1 });
        kinds.push(kind);
        for (const text of texts) lines.push(`• ${kind}: ${text}`);
        continue;
      }
      state.ticks += 1;
      if (now - state.sentAt < this.#repeatMs) continue;
      state.sentAt = now;
      kinds.push(`${kind} still`);
      for (const text of texts) lines.push(`• ${kind} (still, ${state.ticks} ticks since ${new Date(state.since).toISOString()}): ${text}`);
    }
    if (lines.length === 0) return;
    await this.send(kinds, lines.join('\n'));
  }

  /** The process stops on an error. */
  async fatal(message: string): Promise<void> {
    if (!this.#on.has('fatal')) return;
    await this.send(['fatal'], `• fatal: ${message}`);
  }

  /** POSTs `{ text }`; never throws (a failure is logged at warn). */
  async send(kinds: readonly string[], body: string): Promise<void> {
    const text = redactText(`procura live ${this.#label}: ${kinds.join(', ')}\n${body}`);
    try {
      const response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text }),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      await response.body?.cancel();
      if (!response.ok) this.#logger.warn({ status: response.status, kinds }, `alert webhook answered ${response.status}: the alert was not delivered`);
      else this.#logger.info({ kinds }, `alert sent (${kinds.join(', ')})`);
    } catch (error) {
      this.#logger.warn({ kinds, err: { message: redactText(error instanceof Error ? error.message : String(error)) } }, 'alert webhook failed: the alert was not delivered');
    }
  }
}
