/**
 * Client order ids, derived before the request is sent so that after a crash or a timeout
 * the same decision yields the same id, and the pipeline (and the venue) can recognise an
 * order it already placed. The id satisfies Binance's rule ^[.A-Za-z0-9:/_-]{1,36}$.
 */
import { sha256Hex } from '../core/hash.js';
import type { EpochMs } from '../core/time.js';
import { addInteger, addText, finishText, startText } from './sha256-head.js';
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
 * order). A time that is a safe integer (every backtest's) and texts that need no escape give
 * the text from its kept parts (see keepParts) and the time's digits, written straight into the
 * hash (sha256-head.ts: the same 96 bits in the same base-36 text, without building the text,
 * node:crypto's call, the hex text and the BigInt; a text beyond ASCII goes to node:crypto);
 * any other by JSON.stringify and node:crypto. Either way the id is one flat string, not a
 * concatenation: V8 makes a concatenation of 13 characters or more a cons string (a 32-byte
 * pair pointing at both parts, each a string of its own), and an id lives as long as the run
 * keeps its order, decision and trades.
 */
export function clientOrderIdOf(runId: string, at: EpochMs, instrument: string, side: Side, sequence: number): string {
  if (!Number.isSafeInteger(at) || !keepParts(runId, instrument, side, sequence)) return cryptoIdOf(JSON.stringify([runId, at, instrument, side, sequence]));
  startText();
  addText(head);
  addInteger(at);
  addText(tail);
  return finishText(CLIENT_ORDER_ID_PREFIX) ?? cryptoIdOf(`${head}${at}${tail}`);
}

/** The id of an input text by node:crypto: `pc-` and the first 24 hex digits of its SHA-256 as a number in base 36. */
function cryptoIdOf(text: string): string {
  return [CLIENT_ORDER_ID_PREFIX, BigInt(`0x${sha256Hex(text).slice(0, 24)}`).toString(36)].join('');
}

/** Characters JSON.stringify writes as escapes in a string: quote, backslash, controls, surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * The text's parts around the time as last written: `["runId",` for a run, and
 * `,"instrument","side",sequence]` for the rest. A run derives its ids time after time, most of
 * them the first of their time, instrument and side: the parts repeat, and each id's text is
 * then written from them and the time's digits instead of nine pieces joined.
 */
let headRunId: string | undefined;
let head = '';
let tailInstrument: string | undefined;
let tailSide: Side | undefined;
let tailSequence = Number.NaN;
let tail = '';

/**
 * Makes `head + String(at) + tail` the text the id hashes, `JSON.stringify([runId, at,
 * instrument, side, sequence])` for a safe integer `at`, and says true; false (the parts then
 * unchanged) when a string needs an escape or the sequence is not finite, for which the caller
 * takes JSON.stringify itself. The parts hold the same characters JSON.stringify writes: a
 * string in quotes, a finite number as String gives it (a safe integer's digits, as addInteger
 * writes them).
 */
function keepParts(runId: string, instrument: string, side: Side, sequence: number): boolean {
  if (!Number.isFinite(sequence)) return false;
  // A run's id is tested for escapes once.
  if (runId !== headRunId) {
    if (NEEDS_ESCAPE.test(runId)) return false;
    head = `["${runId}",`;
    headRunId = runId;
  }
  if (instrument !== tailInstrument || side !== tailSide || sequence !== tailSequence) {
    if (NEEDS_ESCAPE.test(instrument) || NEEDS_ESCAPE.test(side)) return false;
    tail = `,"${instrument}","${side}",${sequence}]`;
    tailInstrument = instrument;
    tailSide = side;
    tailSequence = sequence;
  }
  return true;
}
