/**
 * Client order ids, derived before the request is sent so that after a crash or a timeout
 * the same decision yields the same id, and the pipeline (and the venue) can recognise an
 * order it already placed. The id satisfies Binance's rule ^[.A-Za-z0-9:/_-]{1,36}$.
 */
import { sha256Hex } from '../core/hash.js';
import type { EpochMs } from '../core/time.js';
import type { Side } from './types.js';

export interface ClientOrderIdInput {
  readonly runId: string;
  readonly at: EpochMs;
  readonly instrument: string;
  readonly side: Side;
  /** 0 for the first order with this (run, time, instrument, side), 1 for the second, ... */
  readonly sequence: number;
}

export const CLIENT_ORDER_ID_PATTERN = /^[.A-Za-z0-9:/_-]{1,36}$/;

/** Every client order id procura derives starts with this; an exchange order whose id does not was placed by someone else. */
export const CLIENT_ORDER_ID_PREFIX = 'pc-';

/**
 * `pc-` followed by 96 bits of SHA-256 over the inputs in base 36 (at most 22 characters).
 * The same inputs give the same id in any process; any change to an input changes it.
 */
export function deriveClientOrderId(input: ClientOrderIdInput): string {
  return clientOrderIdOf(input.runId, input.at, input.instrument, input.side, input.sequence);
}

/**
 * deriveClientOrderId of the five inputs themselves (the pipeline's path: no input object per
 * order). The id is joined, not concatenated: V8 makes a concatenation of 13 characters or
 * more a cons string (a 32-byte pair pointing at both parts, each a string of its own), and an
 * id lives as long as the run keeps its order, decision and trades; a join writes one flat
 * string.
 */
export function clientOrderIdOf(runId: string, at: EpochMs, instrument: string, side: Side, sequence: number): string {
  const text = inputText(runId, at, instrument, side, sequence);
  return [CLIENT_ORDER_ID_PREFIX, BigInt(`0x${sha256Hex(text).slice(0, 24)}`).toString(36)].join('');
}

/** Characters JSON.stringify writes as escapes in a string: quote, backslash, controls, surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The text's two halves as last written: `["runId",at,"` for a run and a time, and
 * `instrument","side",sequence]` for the rest. A run derives its ids time after time, most of
 * them the first of their time, instrument and side: the halves repeat, and each id's text is
 * then one concatenation instead of nine pieces and the time's digits (about 200 bytes an order).
 */
let headRunId: string | undefined;
let headAt: EpochMs = Number.NaN;
let head = '';
let tailInstrument: string | undefined;
let tailSide: Side | undefined;
let tailSequence = Number.NaN;
let tail = '';

/**
 * `JSON.stringify([runId, at, instrument, side, sequence])`, the text the id hashes. Written
 * directly when no string needs an escape and the numbers are finite (the same characters
 * JSON.stringify writes: a string in quotes, a finite number as String gives it); otherwise by
 * JSON.stringify itself.
 */
function inputText(runId: string, at: EpochMs, instrument: string, side: Side, sequence: number): string {
  if (!Number.isFinite(at) || !Number.isFinite(sequence)) return JSON.stringify([runId, at, instrument, side, sequence]);
  if (runId !== headRunId) {
    if (NEEDS_ESCAPE.test(runId)) return JSON.stringify([runId, at, instrument, side, sequence]);
    headRunId = runId;
    headAt = Number.NaN;
  }
  // A run's id is tested for escapes once; only its time changes from one intent time to the next.
  if (at !== headAt) {
    head = `["${runId}",${at},"`;
    headAt = at;
  }
  if (instrument !== tailInstrument || side !== tailSide || sequence !== tailSequence) {
    if (NEEDS_ESCAPE.test(instrument) || NEEDS_ESCAPE.test(side)) return JSON.stringify([runId, at, instrument, side, sequence]);
    tail = `${instrument}","${side}",${sequence}]`;
    tailInstrument = instrument;
    tailSide = side;
    tailSequence = sequence;
  }
  return head + tail;
}
