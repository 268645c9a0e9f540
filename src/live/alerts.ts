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
 */
import type { Logger } from 'pino';
import { registerSecret, redactText } from '../core/redact.js';
import type { TickEvent } from './runner.js';

export const ALERT_WEBHOOK_ENV = 'PROCURA_ALERT_WEBHOOK_URL';
export const ALERT_KINDS = ['halt', 'reconciliation-difference', 'ban', 'forced-reorder-denied', 'stockout', 'tick-failed', 'fatal'] as const;
export type AlertKind = (typeof ALERT_KINDS)[number];

export class WebhookAlerter {
  readonly #url: string;
  readonly #logger: Logger;
  readonly #timeoutMs: number;
  readonly #on: ReadonlySet<AlertKind>;
  readonly #label: string;

  constructor(options: { url: string; logger: Logger; timeoutMs: number; on: readonly AlertKind[]; label: string }) {
    registerSecret(options.url);
    this.#url = options.url;
    this.#logger = options.logger;
    this.#timeoutMs = options.timeoutMs;
    this.#on = new Set(options.on);
    this.#label = options.label;
  }

  /** One message for a tick's events of the configured kinds (none: nothing is sent). */
  async tick(events: readonly TickEvent[]): Promise<void> {
    const chosen = events.filter((e) => this.#on.has(e.kind));
    if (chosen.length === 0) return;
    const kinds = [...new Set(chosen.map((e) => e.kind))];
    await this.send(kinds, chosen.map((e) => `• ${e.kind}: ${e.text}`).join('\n'));
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
