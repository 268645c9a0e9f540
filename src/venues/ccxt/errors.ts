/**
 * ccxt's exception tree translated at the venue boundary into a few coded kinds, each with
 * one handling rule (see `CcxtVenue`):
 *
 * | kind            | from ccxt                                                   | rule |
 * | --------------- | ----------------------------------------------------------- | ---- |
 * | `network`       | NetworkError, ExchangeNotAvailable, bare OperationFailed    | reads: retry with backoff; writes: outcome unknown, look up |
 * | `timeout`       | RequestTimeout (client timeout, Binance -1007)              | as `network` |
 * | `rate-limit`    | DDoSProtection, RateLimitExceeded (429/418)                 | wait Retry-After, then retry (writes: look up first) |
 * | `nonce`         | InvalidNonce (-1021)                                        | loadTimeDifference, then retry (writes: look up first) |
 * | `duplicate`     | InvalidOrder "Duplicate order sent."                        | writes: the id is in use, look up |
 * | `not-found`     | OrderNotFound                                               | lookups: the order is unknown (for now) |
 * | `rejected`      | InvalidOrder, InsufficientFunds, BadSymbol, BadRequest      | final: a rejected OrderReport with the reason |
 * | `auth`          | AuthenticationError, PermissionDenied                       | halt: throw VenueHaltError |
 * | `exchange`      | any other ExchangeError (NotSupported, unknown answers)     | final: throw VenueError |
 *
 * Catch order matters: OrderNotFound is an InvalidOrder, InvalidNonce and DDoSProtection are
 * NetworkErrors, so the specific classes are tested first.
 */
import ccxt from 'ccxt';
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import { redactText } from '../../core/redact.js';

export const VenueErrorKind = {
  network: 'network',
  timeout: 'timeout',
  rateLimit: 'rate-limit',
  nonce: 'nonce',
  duplicate: 'duplicate',
  notFound: 'not-found',
  rejected: 'rejected',
  auth: 'auth',
  exchange: 'exchange',
  unknownOutcome: 'unknown-outcome',
} as const;
export type VenueErrorKind = (typeof VenueErrorKind)[keyof typeof VenueErrorKind];

/**
 * A venue failure with its kind. `retryAfterMs` is set for rate limits when the exchange sent
 * Retry-After; `bannedUntil` when that wait is longer than the venue waits (a ban: the code is
 * E_BANNED, exit status 6).
 */
export class VenueError extends ProcuraError {
  readonly kind: VenueErrorKind;
  readonly retryAfterMs: number | undefined;
  readonly bannedUntil: number | undefined;
  constructor(kind: VenueErrorKind, detail: string, options: { retryAfterMs?: number | undefined; bannedUntil?: number | undefined; cause?: unknown } = {}) {
    super(options.bannedUntil === undefined ? ErrorCode.venue : ErrorCode.banned, detail);
    this.name = 'VenueError';
    this.kind = kind;
    this.retryAfterMs = options.retryAfterMs;
    this.bannedUntil = options.bannedUntil;
    if (options.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}

/** Authentication failed: trading must stop until an operator fixes the credentials. */
export class VenueHaltError extends VenueError {
  constructor(detail: string, cause?: unknown) {
    super(VenueErrorKind.auth, detail, { cause });
    this.name = 'VenueHaltError';
  }
}

/** Binance's answer to a reused client order id while the first order is still open. */
export const DUPLICATE_ORDER_MESSAGE = 'Duplicate order sent.';

/** The kind of a thrown value (ccxt exception or anything else). */
export function classifyError(error: unknown): VenueErrorKind {
  if (error instanceof VenueError) return error.kind;
  if (error instanceof ccxt.AuthenticationError) return VenueErrorKind.auth;
  if (error instanceof ccxt.InvalidNonce) return VenueErrorKind.nonce;
  if (error instanceof ccxt.DDoSProtection || error instanceof ccxt.RateLimitExceeded) return VenueErrorKind.rateLimit;
  if (error instanceof ccxt.RequestTimeout) return VenueErrorKind.timeout;
  if (error instanceof ccxt.NetworkError) return VenueErrorKind.network;
  if (error instanceof ccxt.OrderNotFound) return VenueErrorKind.notFound;
  if (error instanceof ccxt.InsufficientFunds) return VenueErrorKind.rejected;
  if (error instanceof ccxt.InvalidOrder) {
    return messageOf(error).includes(DUPLICATE_ORDER_MESSAGE) ? VenueErrorKind.duplicate : VenueErrorKind.rejected;
  }
  if (error instanceof ccxt.BadSymbol || error instanceof ccxt.BadRequest) return VenueErrorKind.rejected;
  if (error instanceof ccxt.ExchangeError) return VenueErrorKind.exchange;
  // Bare OperationFailed (Binance -1000 on HTTP 500): the server failed; the outcome is unknown.
  if (error instanceof ccxt.OperationFailed) return VenueErrorKind.network;
  return VenueErrorKind.exchange;
}

/** Wraps any thrown value as a VenueError (VenueHaltError for authentication failures). */
export function toVenueError(error: unknown, context: string, retryAfterMs?: number): VenueError {
  if (error instanceof VenueError) return error;
  const kind = classifyError(error);
  const detail = `${context}: ${reasonOf(error)}`;
  if (kind === VenueErrorKind.auth) return new VenueHaltError(`${detail} (trading halted: check the API key and secret)`, error);
  return new VenueError(kind, detail, { retryAfterMs, cause: error });
}

/**
 * A short reason in words: ccxt messages look like `binance {"code":-2010,"msg":"..."}`; the
 * exchange's `msg` is kept with its code, anything else as is, with signatures and secrets
 * redacted and HTML pages shortened (core/redact.ts).
 */
export function reasonOf(error: unknown): string {
  return redactText(rawReasonOf(error));
}

function rawReasonOf(error: unknown): string {
  const message = messageOf(error);
  const json = /\{.*\}/s.exec(message);
  if (json) {
    try {
      const body = JSON.parse(json[0]) as { code?: unknown; msg?: unknown };
      if (typeof body.msg === 'string') return body.code === undefined ? body.msg : `${body.msg} (code ${String(body.code)})`;
    } catch {
      // not JSON: fall through
    }
  }
  return message;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Retry-After (seconds or an HTTP date) from response headers, in milliseconds; undefined when absent. */
export function retryAfterMs(headers: Readonly<Record<string, string>> | undefined, nowMs: number): number | undefined {
  if (!headers) return undefined;
  const entry = Object.entries(headers).find(([key]) => key.toLowerCase() === 'retry-after');
  if (!entry) return undefined;
  const raw = entry[1].trim();
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.round(Number(raw) * 1000);
  const at = Date.parse(raw);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}
