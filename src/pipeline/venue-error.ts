/**
 * How the pipeline tells a venue failure it can recover from from one it must not repeat.
 * Every venue adapter translates its own errors (ccxt's tree, an HTTP status) into one of
 * these kinds at its boundary; the pipeline has exactly one handling rule per kind:
 *
 * - `network`: the outcome is unknown (timeout, dropped connection). Look the order up by its
 *   client order id before ever sending it again.
 * - `rate-limit`: the request was refused for now. Leave the order pending; `sync` looks it up
 *   and re-sends later, never in a tight loop.
 * - `rejected`: the venue refused the order for good (bad parameters, insufficient funds). The
 *   order is recorded as rejected and never re-sent.
 * - `authentication`: credentials are wrong or revoked. The order is rejected and the
 *   pipeline halts (kill switch) until someone resumes it.
 *
 * Anything thrown that is not classified is treated as `network`: an unknown outcome, the
 * safe assumption (look up first, never double-send).
 */
import { ErrorCode, ProcuraError } from '../core/errors.js';

export const VenueErrorKind = {
  network: 'network',
  rateLimit: 'rate-limit',
  rejected: 'rejected',
  authentication: 'authentication',
} as const;
export type VenueErrorKind = (typeof VenueErrorKind)[keyof typeof VenueErrorKind];

/**
 * Kinds other adapters use, mapped onto the pipeline's rules (the ccxt venue's catalog has
 * finer kinds: `timeout`, `nonce`, `duplicate`, `not-found` and `unknown-outcome` all mean
 * "look it up first"; `auth` halts; `exchange` is final, like a rejection).
 */
const ALIASES: Readonly<Record<string, VenueErrorKind>> = {
  network: 'network',
  timeout: 'network',
  nonce: 'network',
  duplicate: 'network',
  'not-found': 'network',
  'unknown-outcome': 'network',
  'rate-limit': 'rate-limit',
  rejected: 'rejected',
  exchange: 'rejected',
  authentication: 'authentication',
  auth: 'authentication',
};

/** A classified venue failure. `kind` decides what the pipeline does next (see the module comment). */
export class VenueError extends ProcuraError {
  readonly kind: VenueErrorKind;
  constructor(kind: VenueErrorKind, detail: string) {
    super(ErrorCode.venue, `${kind}: ${detail}`);
    this.name = 'VenueError';
    this.kind = kind;
  }
}

/**
 * The kind of any thrown value: a VenueError's own kind, or the `kind` property of an error
 * shaped like one (so an adapter may use its own class; see ALIASES), otherwise `network`
 * (unknown outcome: the safe assumption).
 */
export function venueErrorKindOf(error: unknown): VenueErrorKind {
  if (error instanceof VenueError) return error.kind;
  if (error !== null && typeof error === 'object' && 'kind' in error) {
    const kind = (error as { kind: unknown }).kind;
    if (typeof kind === 'string' && Object.hasOwn(ALIASES, kind)) return ALIASES[kind]!;
  }
  return VenueErrorKind.network;
}

/** The message of any thrown value, for decisions and logs. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
