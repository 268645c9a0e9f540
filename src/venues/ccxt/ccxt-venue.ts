/**
 * The pipeline's Venue port on any ccxt exchange (spot first). This directory is the only
 * place in procura that imports ccxt.
 *
 * Safety: sandbox mode is on by default; a real exchange needs `mode: 'live'` AND
 * PROCURA_ALLOW_REAL_TRADING=yes in the environment. Credentials come only from environment
 * variables (`credentialVariables`). ccxt's own retries (`maxRetriesOnFailure`) are never
 * enabled: order creation is never re-sent blindly. `submit` sends the pipeline's client order
 * id; after an unknown outcome (timeout, dropped connection, 5xx, Binance -1007, "Duplicate
 * order sent.") it looks the order up by that id, several times over a grace window because
 * an exchange may report a new order as missing for a while, and only then sends again with
 * the SAME id. Errors are classified once (errors.ts) and each kind has one rule.
 */
import ccxt from 'ccxt';
import type { Exchange, Order as CcxtOrder, Trade as CcxtTrade, MarketInterface as CcxtMarket } from 'ccxt';
import { Decimal, ZERO } from '../../core/decimal.js';
import { ConfigError } from '../../core/errors.js';
import { didYouMean } from '../../core/did-you-mean.js';
import { registerSecret } from '../../core/redact.js';
import { systemClock, type Clock, type EpochMs } from '../../core/time.js';
import type { Fill, MarketRules, OrderReport, OrderRequest, OrderStatus, Side, SubmitOptions, Venue } from '../../pipeline/types.js';
import { VenueError, VenueErrorKind, VenueHaltError, classifyError, reasonOf, retryAfterMs, toVenueError } from './errors.js';

/**
 * - `sandbox` (default): `setSandboxMode(true)` (Binance: testnet.binance.vision).
 * - `demo`: `enableDemoTrading(true)` where the exchange has it (Binance: demo-api.binance.com).
 * - `live`: the real exchange; needs PROCURA_ALLOW_REAL_TRADING=yes.
 * - `market-data`: the real exchange's public endpoints only, without credentials; every
 *   private call is refused. Used by `procura data fetch`.
 */
export type CcxtMode = 'sandbox' | 'demo' | 'live' | 'market-data';

/** Structured log sink (pino's `logger.warn(fields, message)` fits). Secrets are never passed to it. */
export interface VenueLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

const silentLogger: VenueLogger = { info: () => {}, warn: () => {}, error: () => {} };

export interface CcxtVenueOptions {
  /** ccxt exchange id, e.g. `binance`. */
  readonly exchange: string;
  readonly mode?: CcxtMode;
  /** Environment to read credentials and PROCURA_ALLOW_REAL_TRADING from (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base URL of a Binance emulator (http://127.0.0.1:PORT): replaces urls.api after sandbox mode. */
  readonly emulatorUrl?: string;
  /** Instrument id -> exchange symbol (e.g. `paxg: 'PAXG/USDT'`). Instruments not listed are taken as symbols. */
  readonly instruments?: Readonly<Record<string, string>>;
  readonly clock?: Clock;
  /** Backoff sleeper (tests pass a fast one). Default: setTimeout. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** ccxt request timeout (default 10000 ms). */
  readonly timeoutMs?: number;
  /** Binance recvWindow (default 5000 ms, Binance's recommendation). */
  readonly recvWindowMs?: number;
  /** Retries of a read after its first attempt (default 4). */
  readonly readRetries?: number;
  /** First backoff delay, doubled per retry (default 500 ms), capped at `backoffMaxMs` (default 30000 ms). */
  readonly backoffBaseMs?: number;
  readonly backoffMaxMs?: number;
  /** Lookups by client order id after an unknown outcome (default 6), `lookupIntervalMs` apart (default 5000 ms). */
  readonly lookupAttempts?: number;
  readonly lookupIntervalMs?: number;
  /** Times `submit` may send the same order (same client order id) in one call (default 2). */
  readonly maxSendAttempts?: number;
  /**
   * Look the client order id up before the first send and adopt an order the exchange already
   * knows (default true). One extra read per order; it keeps a repeated submit (a restart, a
   * caller's retry) from placing a second order, which Binance would accept once the first filled.
   */
  readonly lookupBeforeSend?: boolean;
  /**
   * Longest Retry-After (429, or a 418 IP ban) waited for in process (default 60000 ms). A
   * longer one is a ban: no request is sent before it ends, every call throws VenueError
   * `rate-limit` with `bannedUntil`, and the caller ends its work (the live runner stores the
   * time, so later runs exit at once until it passes).
   */
  readonly maxWaitMs?: number;
  readonly logger?: VenueLogger;
}

/** A candle from the exchange; prices and volume as exact decimals. */
export interface VenueCandle {
  readonly openAt: EpochMs;
  readonly open: Decimal;
  readonly high: Decimal;
  readonly low: Decimal;
  readonly close: Decimal;
  readonly volume: Decimal;
}

export interface VenueBalance {
  readonly free: Decimal;
  readonly used: Decimal;
  readonly total: Decimal;
}

/** An order as the exchange lists it (reconciliation): the report plus what was asked. */
export interface ExchangeOrder extends OrderReport {
  readonly symbol: string;
  readonly side: Side;
  readonly type: string;
  readonly qty: Decimal;
  readonly limitPrice: Decimal | undefined;
  readonly at: EpochMs;
}

/** A fee valued in the quote currency; `feeBase` when it was taken from the base asset; `feeCharged` when not paid in quote. */
export interface FeeValue {
  readonly fee: Decimal;
  readonly feeBase: Decimal | undefined;
  readonly feeCharged: { readonly amount: Decimal; readonly asset: string } | undefined;
}

/** One execution from the account's trade history. `fee` is valued in the quote currency (see `valueFee`). */
export interface ExchangeTrade {
  readonly symbol: string;
  readonly venueOrderId: string;
  readonly tradeId: string;
  readonly side: Side;
  readonly at: EpochMs;
  readonly qty: Decimal;
  readonly price: Decimal;
  readonly fee: Decimal;
  /** The part of the fee taken from the base asset (see Fill.feeBase). */
  readonly feeBase: Decimal | undefined;
  /** The fee as charged: amount and asset (Binance charges the asset received, or BNB). */
  readonly feeCharged: { readonly cost: Decimal; readonly currency: string } | undefined;
}

/** What a search of the exchange's order history says about a client order id (see `proveAbsent`). */
export type AbsenceProof =
  | { readonly kind: 'found'; readonly report: OrderReport; readonly where: string }
  | { readonly kind: 'absent' }
  | { readonly kind: 'unproven'; readonly reason: string };

/** Orders read from the history in one request when proving an order absent (Binance's maximum). */
const ORDER_HISTORY_LIMIT = 1000;

/** The environment variables holding an exchange's credentials: PROCURA_<ID>_API_KEY, _SECRET, _PASSWORD. */
export function credentialVariables(exchangeId: string): { apiKey: string; secret: string; password: string } {
  const prefix = `PROCURA_${exchangeId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return { apiKey: `${prefix}_API_KEY`, secret: `${prefix}_SECRET`, password: `${prefix}_PASSWORD` };
}

/** The variable that must be `yes` for `mode: 'live'`. */
export const ALLOW_REAL_TRADING = 'PROCURA_ALLOW_REAL_TRADING';

type ExchangeConstructor = new (config: Record<string, unknown>) => Exchange;

export class CcxtVenue implements Venue {
  readonly name: string;
  readonly mode: CcxtMode;
  readonly #exchange: Exchange;
  readonly #instruments: Readonly<Record<string, string>>;
  readonly #clock: Clock;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #logger: VenueLogger;
  readonly #readRetries: number;
  readonly #backoffBaseMs: number;
  readonly #backoffMaxMs: number;
  readonly #lookupAttempts: number;
  readonly #lookupIntervalMs: number;
  readonly #maxSendAttempts: number;
  readonly #lookupBeforeSend: boolean;
  readonly #maxWaitMs: number;
  #loaded = false;
  #ban: { until: EpochMs; reason: string } | undefined;
  readonly #rates = new Map<string, { rate: Decimal; at: EpochMs }>();

  constructor(options: CcxtVenueOptions) {
    const id = options.exchange;
    const mode = options.mode ?? 'sandbox';
    const env = options.env ?? process.env;
    const ctor = (ccxt as unknown as Record<string, unknown>)[id];
    if (!ccxt.exchanges.includes(id) || typeof ctor !== 'function') {
      throw new ConfigError(`unknown ccxt exchange id ${JSON.stringify(id)}${didYouMean(id, ccxt.exchanges)}`, { field: 'exchange' });
    }
    if (mode === 'live' && env[ALLOW_REAL_TRADING] !== 'yes') {
      throw new ConfigError(`mode "live" trades real money on ${id}: set ${ALLOW_REAL_TRADING}=yes in the environment to allow it`, { field: 'mode' });
    }
    const names = credentialVariables(id);
    const config: Record<string, unknown> = {
      enableRateLimit: options.emulatorUrl === undefined,
      timeout: options.timeoutMs ?? 10_000,
      options: {
        recvWindow: options.recvWindowMs ?? 5000,
        ...(options.emulatorUrl !== undefined ? { fetchMarkets: { types: ['spot'] }, fetchCurrencies: false, fetchMargins: false } : {}),
      },
    };
    if (mode !== 'market-data') {
      const apiKey = env[names.apiKey];
      const secret = env[names.secret];
      const password = env[names.password];
      // Redacted from every log line and error message from now on (core/redact.ts).
      for (const value of [apiKey, secret, password]) registerSecret(value);
      if (apiKey) config['apiKey'] = apiKey;
      if (secret) config['secret'] = secret;
      if (password) config['password'] = password;
    }
    const exchange = new (ctor as ExchangeConstructor)(config);
    // Never let ccxt re-send a request on its own (it would re-POST an order after a timeout).
    exchange.options['maxRetriesOnFailure'] = 0;
    // ccxt 4.5 does not always throw for an exchange without test URLs: it leaves urls.api empty.
    const noSandbox = (detail: string): ConfigError =>
      new ConfigError(`${id} has no ${mode} mode in ccxt (${detail}); choose another exchange or mode`, { field: 'mode' });
    if (mode === 'sandbox' || mode === 'demo') {
      if (mode === 'sandbox' && !exchange.urls['test']) throw noSandbox('no test URLs');
      try {
        if (mode === 'sandbox') exchange.setSandboxMode(true);
        else exchange.enableDemoTrading(true);
      } catch (error) {
        throw noSandbox(reasonOf(error));
      }
      const api = exchange.urls['api'] as unknown;
      if (!api || (typeof api === 'object' && Object.keys(api).length === 0)) throw noSandbox('no API URLs');
    }
    // Order matters: sandbox/demo replace urls.api, so the emulator override comes after.
    if (options.emulatorUrl !== undefined) {
      const base = options.emulatorUrl.replace(/\/+$/, '');
      exchange.urls['api'] = { public: `${base}/api/v3`, private: `${base}/api/v3` };
    }
    this.#exchange = exchange;
    this.name = `ccxt:${id}`;
    this.mode = mode;
    this.#instruments = options.instruments ?? {};
    this.#clock = options.clock ?? systemClock;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#logger = options.logger ?? silentLogger;
    this.#readRetries = options.readRetries ?? 4;
    this.#backoffBaseMs = options.backoffBaseMs ?? 500;
    this.#backoffMaxMs = options.backoffMaxMs ?? 30_000;
    this.#lookupAttempts = Math.max(1, options.lookupAttempts ?? 6);
    this.#lookupIntervalMs = options.lookupIntervalMs ?? 5000;
    this.#maxSendAttempts = Math.max(1, options.maxSendAttempts ?? 2);
    this.#lookupBeforeSend = options.lookupBeforeSend ?? true;
    this.#maxWaitMs = options.maxWaitMs ?? 60_000;
    if (mode === 'live') {
      this.#logger.warn({ exchange: id, mode }, `LIVE TRADING on the real ${id} exchange: orders spend real money`);
    }
  }

  /** The base URL requests go to (sandbox, demo, live or emulator): say it at start-up. */
  get apiBaseUrl(): string {
    const api = this.#exchange.urls['api'] as Record<string, unknown> | string;
    return String(typeof api === 'string' ? api : api['public']);
  }

  /** The ban the exchange imposed in this process (a Retry-After beyond `maxWaitMs`), while it lasts. */
  get ban(): { readonly until: EpochMs; readonly reason: string } | undefined {
    const ban = this.#ban;
    return ban !== undefined && ban.until > this.#clock.now() ? ban : undefined;
  }

  /** Whether both the API key and the secret were found in the environment. */
  get hasCredentials(): boolean {
    return Boolean(this.#exchange.apiKey) && Boolean(this.#exchange.secret);
  }

  /** Loads markets (one GET exchangeInfo against the emulator) and checks every configured instrument is listed. */
  async init(): Promise<void> {
    await this.#read('loadMarkets', () => this.#exchange.loadMarkets());
    this.#loaded = true;
    for (const [instrument, symbol] of Object.entries(this.#instruments)) {
      if (!this.#listed(symbol)) {
        throw new ConfigError(`${this.#exchange.id} does not list symbol ${JSON.stringify(symbol)}`, { field: `instruments.${instrument}` });
      }
    }
  }

  /** The exchange symbol of an instrument id (or the id itself when it is a listed symbol). */
  symbolOf(instrument: string): string {
    const mapped = this.#instruments[instrument];
    if (mapped !== undefined) return mapped;
    if (this.#loaded && !this.#listed(instrument)) {
      throw new ConfigError(`${this.#exchange.id} does not list ${JSON.stringify(instrument)} and no instrument maps to it`, { field: 'instrument' });
    }
    return instrument;
  }

  /** Lot step, tick size, minimum quantity and minimum notional from loadMarkets. */
  rules(instrument: string): MarketRules {
    const market = this.#market(this.symbolOf(instrument));
    const tickMode = this.#exchange.precisionMode === ccxt.TICK_SIZE;
    const step = (value: number | undefined): Decimal => {
      if (value === undefined) return ZERO;
      return tickMode ? decimalOf(value) : new Decimal(10).pow(-value);
    };
    const lotStep = step(market.precision.amount);
    return {
      symbol: market.symbol,
      lotStep,
      tickSize: step(market.precision.price),
      minQty: market.limits.amount?.min !== undefined ? decimalOf(market.limits.amount.min) : lotStep,
      minNotional: market.limits.cost?.min !== undefined ? decimalOf(market.limits.cost.min) : ZERO,
    };
  }

  /**
   * Sends an order with the pipeline's client order id. Rejections come back as `rejected`
   * reports with the exchange's reason; authentication failures throw VenueHaltError; an
   * outcome that stays unknown after the lookups throws VenueError `unknown-outcome` (the
   * pipeline keeps the order pending and calls `lookup` later; it must not re-send).
   *
   * With `lookupBeforeSend` (the default) a client order id the exchange already knows is
   * adopted instead of sent: Binance accepts a reused id once the earlier order has filled.
   */
  async submit(order: OrderRequest, options: SubmitOptions = {}): Promise<OrderReport> {
    this.#assertPrivate('submit');
    const symbol = order.symbol || this.symbolOf(order.instrument);
    const clientOrderId = order.clientOrderId;
    if (order.type === 'limit' && order.limitPrice === undefined) {
      return rejected(clientOrderId, 'a limit order needs a limit price');
    }
    // Market orders never carry a price: ccxt would turn a priced market buy into quoteOrderQty.
    const price = order.type === 'limit' ? Number(order.limitPrice!.toFixed()) : undefined;
    const amount = Number(order.qty.toFixed());
    if (this.#lookupBeforeSend) {
      let known: OrderReport | undefined;
      try {
        known = await this.#lookupOnce(clientOrderId, symbol);
      } catch (error) {
        // A symbol the exchange does not list fails here already: the same final rejection.
        if (classifyError(error) === VenueErrorKind.rejected) return rejected(clientOrderId, reasonOf(error));
        throw toVenueError(error, `submit ${clientOrderId}: lookup before sending`);
      }
      if (known) {
        this.#logger.info({ clientOrderId, status: known.status }, 'client order id already known to the exchange: adopted, not sent again');
        return known;
      }
    }
    if (options.resend === true) {
      const found = await this.#absentOrThrow(clientOrderId, symbol, order.at, this.#lookupBeforeSend);
      if (found !== undefined) return found;
    }
    for (let send = 1; send <= this.#maxSendAttempts; send += 1) {
      this.#refuseWhileBanned(`submit ${clientOrderId}`);
      let failure: unknown;
      let raw: CcxtOrder | undefined;
      try {
        raw = await this.#exchange.createOrder(symbol, order.type, order.side, amount, price, { clientOrderId });
      } catch (error) {
        failure = error;
      }
      if (raw !== undefined) {
        try {
          return await this.#report(raw, clientOrderId, symbol);
        } catch (error) {
          // The exchange took the order; only its report is incomplete (a fee that cannot be valued yet): never re-send.
          throw new VenueError(VenueErrorKind.unknownOutcome, `submit ${clientOrderId}: the exchange accepted the order, but its report is incomplete (${reasonOf(error)}); look it up later`, { cause: error });
        }
      }
      const kind = classifyError(failure);
      const reason = reasonOf(failure);
      const fields = { clientOrderId, symbol, kind, reason, send };
      if (kind === VenueErrorKind.rejected) {
        this.#logger.warn(fields, 'order rejected by the exchange');
        return rejected(clientOrderId, reason);
      }
      if (kind === VenueErrorKind.auth) throw toVenueError(failure, `submit ${clientOrderId}`);
      if (kind === VenueErrorKind.exchange) throw toVenueError(failure, `submit ${clientOrderId}`);

      // The outcome is unknown, or the exchange refused before executing (rate limit, clock):
      // either way, look the order up by its client order id before any re-send.
      let attempts = this.#lookupAttempts;
      if (kind === VenueErrorKind.rateLimit) {
        await this.#waitOrBan(failure, `submit ${clientOrderId}`, 0);
        attempts = 1;
      } else if (kind === VenueErrorKind.nonce) {
        await this.#resyncTime();
        attempts = 1;
      }
      this.#logger.warn(fields, 'order outcome unknown: looking it up by client order id before any re-send');
      let found: OrderReport | undefined;
      try {
        found = await this.#lookupWithGrace(clientOrderId, symbol, attempts);
      } catch (error) {
        if (error instanceof VenueHaltError || (error instanceof VenueError && error.bannedUntil !== undefined)) throw error;
        throw new VenueError(VenueErrorKind.unknownOutcome, `submit ${clientOrderId}: outcome unknown and the lookup failed: ${reasonOf(error)}`, { cause: error });
      }
      if (found) {
        this.#logger.info({ clientOrderId, status: found.status }, 'order found by client order id: adopted, not re-sent');
        return found;
      }
      if (send < this.#maxSendAttempts) {
        // Not found by id is not proof: an executed order can stay invisible to lookups longer than the window.
        const adopted = await this.#absentOrThrow(clientOrderId, symbol, order.at, true);
        if (adopted !== undefined) return adopted;
        this.#logger.warn({ clientOrderId, symbol }, 'order not found after the grace window: sending again with the same client order id');
      }
    }
    throw new VenueError(VenueErrorKind.unknownOutcome, `submit ${clientOrderId}: outcome still unknown after ${this.#maxSendAttempts} sends; look it up later, do not re-send`);
  }

  /**
   * Whether an order is provably absent from the exchange, which a lookup by client order id
   * alone does not show (an exchange may report an executed order missing for a while, and
   * Binance accepts a reused id once the first order has filled). Looks it up by id, then in the
   * open orders and in all orders since `since` (by client order id), then checks the trades
   * since `since`: each must belong to an order those lists show, or the lists lag and the
   * absence is not proven.
   */
  async proveAbsent(clientOrderId: string, instrument: string, since: EpochMs): Promise<AbsenceProof> {
    this.#assertPrivate('proveAbsent');
    return this.#proveAbsent(clientOrderId, this.symbolOf(instrument), since);
  }

  async #proveAbsent(clientOrderId: string, symbol: string, since: EpochMs, lookedUp = false): Promise<AbsenceProof> {
    const byId = lookedUp ? undefined : await this.#lookupOnce(clientOrderId, symbol);
    if (byId !== undefined) return { kind: 'found', report: byId, where: 'lookup by client order id' };
    const open = await this.#read(`fetchOpenOrders ${symbol}`, () => this.#exchange.fetchOpenOrders(symbol));
    const all = await this.#read(`fetchOrders ${symbol}`, () => this.#exchange.fetchOrders(symbol, since, ORDER_HISTORY_LIMIT));
    for (const [where, list] of [['open orders', open], ['all orders', all]] as const) {
      const match = list.find((o) => o.clientOrderId === clientOrderId);
      if (match !== undefined) return { kind: 'found', report: await this.#report(match, clientOrderId, symbol), where };
    }
    if (all.length >= ORDER_HISTORY_LIMIT) return { kind: 'unproven', reason: `more than ${ORDER_HISTORY_LIMIT} orders since ${new Date(since).toISOString()}` };
    const listed = new Set([...open, ...all].map((o) => String(o.id)));
    const trades = await this.fetchMyTrades(symbol, since);
    const orphan = trades.find((t) => !listed.has(t.venueOrderId));
    if (orphan !== undefined) return { kind: 'unproven', reason: `trade ${orphan.tradeId} belongs to exchange order ${orphan.venueOrderId}, which the order lists do not show yet` };
    return { kind: 'absent' };
  }

  /** Before a re-send: the order found (adopted), undefined when provably absent; throws `unknown-outcome` when not proven. */
  async #absentOrThrow(clientOrderId: string, symbol: string, since: EpochMs, lookedUp = false): Promise<OrderReport | undefined> {
    let proof: AbsenceProof;
    try {
      proof = await this.#proveAbsent(clientOrderId, symbol, since, lookedUp);
    } catch (error) {
      if (error instanceof VenueHaltError || (error instanceof VenueError && error.bannedUntil !== undefined)) throw error;
      throw new VenueError(VenueErrorKind.unknownOutcome, `submit ${clientOrderId}: not re-sent, the check that it is absent failed: ${reasonOf(error)}`, { cause: error });
    }
    if (proof.kind === 'found') {
      this.#logger.info({ clientOrderId, status: proof.report.status, where: proof.where }, proof.where === 'all orders' || proof.where === 'open orders' ? "order found in the exchange's order history: adopted, not re-sent" : 'order found by client order id: adopted, not re-sent');
      return proof.report;
    }
    if (proof.kind === 'unproven') {
      this.#logger.warn({ clientOrderId, symbol, reason: proof.reason }, `order not re-sent: its absence cannot be proven (${proof.reason}); it stays in doubt and is looked up again`);
      throw new VenueError(VenueErrorKind.unknownOutcome, `submit ${clientOrderId}: not re-sent, its absence cannot be proven (${proof.reason})`);
    }
    return undefined;
  }

  /** The order's state by client order id (one lookup, reads retried), or undefined if the exchange does not know it. */
  async lookup(clientOrderId: string, instrument: string): Promise<OrderReport | undefined> {
    this.#assertPrivate('lookup');
    return this.#lookupOnce(clientOrderId, this.symbolOf(instrument));
  }

  /** Looks an order up several times, `lookupIntervalMs` apart, for exchanges that report a new order missing for a while. */
  async lookupWithGrace(clientOrderId: string, instrument: string, attempts = this.#lookupAttempts): Promise<OrderReport | undefined> {
    this.#assertPrivate('lookup');
    return this.#lookupWithGrace(clientOrderId, this.symbolOf(instrument), attempts);
  }

  /**
   * Cancels by client order id. An order the exchange no longer knows as open (filled,
   * already cancelled, never placed) is looked up instead; undefined when it does not exist.
   */
  async cancel(clientOrderId: string, instrument: string): Promise<OrderReport | undefined> {
    this.#assertPrivate('cancel');
    const symbol = this.symbolOf(instrument);
    try {
      const raw = await this.#read(`cancel ${clientOrderId}`, () => this.#exchange.cancelOrder('', symbol, { origClientOrderId: clientOrderId }));
      // The cancel answer's clientOrderId is the cancel request's own id: keep ours.
      return await this.#report(raw, clientOrderId, symbol);
    } catch (error) {
      if (classifyError(error) !== VenueErrorKind.notFound) throw toVenueError(error, `cancel ${clientOrderId}`);
      return this.#lookupOnce(clientOrderId, symbol);
    }
  }

  /** OHLCV candles, oldest first. */
  async fetchCandles(symbol: string, timeframe: string, since?: EpochMs, limit?: number): Promise<VenueCandle[]> {
    const rows = await this.#read(`fetchOHLCV ${symbol}`, () => this.#exchange.fetchOHLCV(symbol, timeframe, since, limit));
    return rows.map((row) => ({
      openAt: Number(row[0]),
      open: decimalOf(row[1] ?? 0),
      high: decimalOf(row[2] ?? 0),
      low: decimalOf(row[3] ?? 0),
      close: decimalOf(row[4] ?? 0),
      volume: decimalOf(row[5] ?? 0),
    }));
  }

  /** Milliseconds in a ccxt timeframe (`1d` -> 86400000). */
  timeframeMs(timeframe: string): number {
    const listed = this.#exchange.timeframes as Record<string, unknown> | undefined;
    const seconds = listed && !(timeframe in listed) ? Number.NaN : safeParseTimeframe(this.#exchange, timeframe);
    if (!Number.isFinite(seconds) || seconds <= 0) {
      throw new ConfigError(`${this.#exchange.id} has no ${JSON.stringify(timeframe)} candles (it has ${Object.keys(listed ?? {}).join(', ')})`, { field: 'timeframe' });
    }
    return seconds * 1000;
  }

  /** Balances by asset (assets with a zero total are left out). */
  async fetchBalances(): Promise<Record<string, VenueBalance>> {
    this.#assertPrivate('fetchBalances');
    const balance = await this.#read('fetchBalance', () => this.#exchange.fetchBalance());
    const out: Record<string, VenueBalance> = {};
    const totals = (balance.total ?? {}) as unknown as Record<string, number | undefined>;
    for (const asset of Object.keys(totals)) {
      const account = balance[asset] as { free?: number; used?: number; total?: number } | undefined;
      const total = decimalOf(account?.total ?? 0);
      if (total.isZero()) continue;
      out[asset] = { free: decimalOf(account?.free ?? 0), used: decimalOf(account?.used ?? 0), total };
    }
    return out;
  }

  /** The order the exchange knows by its own id (undefined when it does not), with its client order id. */
  async orderByVenueId(venueOrderId: string, instrument: string): Promise<{ clientOrderId: string; side: Side; status: OrderStatus } | undefined> {
    this.#assertPrivate('orderByVenueId');
    const symbol = this.symbolOf(instrument);
    try {
      const raw = await this.#read(`fetchOrder ${venueOrderId}`, () => this.#exchange.fetchOrder(venueOrderId, symbol));
      return { clientOrderId: raw.clientOrderId ?? '', side: raw.side === 'sell' ? 'sell' : 'buy', status: statusOf(raw.status, decimalOf(raw.filled ?? 0)) };
    } catch (error) {
      if (classifyError(error) === VenueErrorKind.notFound) return undefined;
      throw toVenueError(error, `fetchOrder ${venueOrderId}`);
    }
  }

  /** Open orders of one instrument (or symbol), with their fills so far. */
  async fetchOpenOrders(instrument: string): Promise<ExchangeOrder[]> {
    this.#assertPrivate('fetchOpenOrders');
    const symbol = this.symbolOf(instrument);
    const raw = await this.#read(`fetchOpenOrders ${symbol}`, () => this.#exchange.fetchOpenOrders(symbol));
    const out: ExchangeOrder[] = [];
    for (const order of raw) {
      const report = await this.#report(order, order.clientOrderId ?? '', symbol);
      out.push({
        ...report,
        symbol,
        side: order.side === 'sell' ? 'sell' : 'buy',
        type: order.type ?? 'unknown',
        qty: decimalOf(order.amount ?? 0),
        limitPrice: order.price === undefined || order.price === 0 ? undefined : decimalOf(order.price),
        at: order.timestamp ?? this.#clock.now(),
      });
    }
    return out;
  }

  /** The account's trades on one instrument (or symbol) since `since`, oldest first, paged until exhausted. */
  async fetchMyTrades(instrument: string, since?: EpochMs, pageLimit = 1000): Promise<ExchangeTrade[]> {
    this.#assertPrivate('fetchMyTrades');
    const symbol = this.symbolOf(instrument);
    const seen = new Set<string>();
    const out: ExchangeTrade[] = [];
    let cursor = since;
    for (;;) {
      const page = await this.#read(`fetchMyTrades ${symbol}`, () => this.#exchange.fetchMyTrades(symbol, cursor, pageLimit));
      let added = 0;
      for (const trade of page) {
        const id = String(trade.id);
        if (seen.has(id)) continue;
        seen.add(id);
        added += 1;
        out.push(await this.#exchangeTrade(trade, symbol));
      }
      const last = page[page.length - 1];
      if (page.length < pageLimit || added === 0 || last?.timestamp === undefined) break;
      cursor = last.timestamp;
    }
    return out.sort((a, b) => a.at - b.at);
  }

  /**
   * A fee as the exchange charged it, valued once in the quote currency. Binance charges the
   * asset received: on a buy that is the base asset (`feeBase`, valued at the fill price); an
   * account paying fees with BNB is charged BNB, valued at the exchange's last BNB/quote price
   * (its ticker, else its last candle; the inverse market when only that is listed). A fee that
   * cannot be valued is never taken as zero: VenueError `network` (look the order up later).
   */
  async valueFee(symbol: string, fee: { cost?: number | undefined; currency?: string | undefined } | undefined, price: Decimal): Promise<FeeValue> {
    if (!fee || fee.cost === undefined || fee.cost === 0) return { fee: ZERO, feeBase: undefined, feeCharged: undefined };
    const market = this.#market(symbol);
    const amount = decimalOf(fee.cost);
    if (fee.currency === undefined || fee.currency === market.quote) return { fee: amount, feeBase: undefined, feeCharged: undefined };
    const feeCharged = { amount, asset: fee.currency };
    if (fee.currency === market.base) return { fee: amount.times(price), feeBase: amount, feeCharged };
    const rate = await this.#priceIn(fee.currency, market.quote);
    return { fee: amount.times(rate), feeBase: undefined, feeCharged };
  }

  /** The last price of `asset` in `quote` (cached for a minute of the injected clock). */
  async #priceIn(asset: string, quote: string): Promise<Decimal> {
    const key = `${asset}/${quote}`;
    const now = this.#clock.now();
    const cached = this.#rates.get(key);
    if (cached !== undefined && now - cached.at < 60_000) return cached.rate;
    let rate: Decimal | undefined;
    for (const [symbol, inverse] of [[key, false], [`${quote}/${asset}`, true]] as const) {
      if (!this.#listed(symbol)) continue;
      const ticker = await this.#read(`fetchTicker ${symbol}`, () => this.#exchange.fetchTicker(symbol));
      let last = ticker.last ?? ticker.close;
      if (last === undefined || last === 0) {
        const rows = await this.#read(`fetchOHLCV ${symbol}`, () => this.#exchange.fetchOHLCV(symbol, '1m', undefined, 1));
        last = rows[rows.length - 1]?.[4];
      }
      if (last !== undefined && last > 0) rate = inverse ? new Decimal(1).dividedBy(decimalOf(last)) : decimalOf(last);
      break;
    }
    if (rate === undefined) {
      throw new VenueError(VenueErrorKind.network, `a fee was charged in ${asset}, which cannot be valued in ${quote}: ${this.#exchange.id} lists no ${key} price`);
    }
    this.#rates.set(key, { rate, at: now });
    return rate;
  }

  // ---------------------------------------------------------------- internals

  #market(symbol: string): CcxtMarket {
    if (!this.#loaded) throw new Error('CcxtVenue: call init() before using markets');
    const market = this.#listed(symbol);
    if (!market) throw new ConfigError(`${this.#exchange.id} does not list symbol ${JSON.stringify(symbol)}`, { field: 'symbol' });
    return market;
  }

  #listed(symbol: string): CcxtMarket | undefined {
    return (this.#exchange.markets as Record<string, CcxtMarket | undefined> | undefined)?.[symbol];
  }

  #assertPrivate(what: string): void {
    if (this.mode === 'market-data') {
      throw new ConfigError(`${what} needs an account: this venue was opened in market-data mode (public data only)`, { field: 'mode' });
    }
  }

  #backoff(attempt: number): number {
    return Math.min(this.#backoffMaxMs, this.#backoffBaseMs * 2 ** attempt);
  }

  #retryAfter(attempt: number): number {
    const headers = this.#exchange.last_response_headers as Record<string, string> | undefined;
    return retryAfterMs(headers, this.#clock.now()) ?? this.#backoff(attempt);
  }

  async #resyncTime(): Promise<void> {
    const difference = await this.#exchange.loadTimeDifference();
    this.#logger.warn({ timeDifferenceMs: difference }, 'clock outside the exchange recvWindow: time difference reloaded');
  }

  /** Runs a read with the read rules: network/timeout backoff, rate limits honour Retry-After, nonce resyncs. */
  async #read<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      this.#refuseWhileBanned(what);
      try {
        return await call();
      } catch (error) {
        const kind = classifyError(error);
        const retryable = kind === VenueErrorKind.network || kind === VenueErrorKind.timeout || kind === VenueErrorKind.rateLimit || kind === VenueErrorKind.nonce;
        if (!retryable || attempt >= this.#readRetries) {
          if (kind === VenueErrorKind.rateLimit) this.#banIfLong(error, what, attempt);
          throw toVenueError(error, what, kind === VenueErrorKind.rateLimit ? this.#retryAfter(attempt) : undefined);
        }
        this.#logger.warn({ what, kind, reason: reasonOf(error), attempt: attempt + 1 }, 'read failed: retrying');
        if (kind === VenueErrorKind.nonce) await this.#resyncTime();
        else if (kind === VenueErrorKind.rateLimit) await this.#waitOrBan(error, what, attempt);
        else await this.#sleep(this.#backoff(attempt));
      }
    }
  }

  /** A rate limit: waits its Retry-After when it is within `maxWaitMs`, otherwise records the ban and throws. */
  async #waitOrBan(error: unknown, what: string, attempt: number): Promise<void> {
    this.#banIfLong(error, what, attempt);
    await this.#sleep(this.#retryAfter(attempt));
  }

  #banIfLong(error: unknown, what: string, attempt: number): void {
    const waitMs = this.#retryAfter(attempt);
    if (waitMs <= this.#maxWaitMs) return;
    const until = this.#clock.now() + waitMs;
    const reason = `${what}: ${reasonOf(error)} (Retry-After ${Math.round(waitMs / 1000)} s, longer than the ${Math.round(this.#maxWaitMs / 1000)} s the venue waits)`;
    this.#ban = { until, reason };
    this.#logger.error({ what, bannedUntil: new Date(until).toISOString(), retryAfterSeconds: Math.round(waitMs / 1000) }, `the exchange banned or rate-limited us until ${new Date(until).toISOString()}: no request is sent before then`);
    throw new VenueError(VenueErrorKind.rateLimit, `banned or rate-limited until ${new Date(until).toISOString()}: ${reason}`, { retryAfterMs: waitMs, bannedUntil: until, cause: error });
  }

  /** Every call while a ban lasts throws without a request. */
  #refuseWhileBanned(what: string): void {
    const ban = this.ban;
    if (ban === undefined) return;
    throw new VenueError(VenueErrorKind.rateLimit, `${what}: not sent, the exchange banned or rate-limited us until ${new Date(ban.until).toISOString()}`, { retryAfterMs: ban.until - this.#clock.now(), bannedUntil: ban.until });
  }

  async #lookupOnce(clientOrderId: string, symbol: string): Promise<OrderReport | undefined> {
    try {
      const raw = await this.#read(`lookup ${clientOrderId}`, () => this.#exchange.fetchOrderWithClientOrderId(clientOrderId, symbol));
      return await this.#report(raw, clientOrderId, symbol);
    } catch (error) {
      if (classifyError(error) === VenueErrorKind.notFound) return undefined;
      throw toVenueError(error, `lookup ${clientOrderId}`);
    }
  }

  async #lookupWithGrace(clientOrderId: string, symbol: string, attempts: number): Promise<OrderReport | undefined> {
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      const found = await this.#lookupOnce(clientOrderId, symbol);
      if (found) return found;
      if (attempt < attempts) await this.#sleep(this.#lookupIntervalMs);
    }
    return undefined;
  }

  /** A ccxt order as an OrderReport, with every fill so far (fetched when the order answer lacks them). */
  async #report(order: CcxtOrder, clientOrderId: string, symbol: string): Promise<OrderReport> {
    const filledQty = decimalOf(order.filled ?? 0);
    let fills: Fill[] = [];
    if (filledQty.gt(0)) {
      let trades: CcxtTrade[] = order.trades ?? [];
      const tradedQty = trades.reduce((total, t) => total.plus(decimalOf(t.amount ?? 0)), ZERO);
      if (!tradedQty.eq(filledQty)) {
        trades = await this.#read(`fetchOrderTrades ${order.id}`, () => this.#exchange.fetchOrderTrades(String(order.id), symbol));
      }
      fills = [];
      for (const t of trades) {
        const price = decimalOf(t.price ?? 0);
        const { fee, feeBase, feeCharged } = await this.valueFee(symbol, t.fee, price);
        fills.push({
          clientOrderId,
          venueOrderId: String(order.id),
          tradeId: String(t.id),
          at: t.timestamp ?? order.lastTradeTimestamp ?? order.timestamp ?? this.#clock.now(),
          qty: decimalOf(t.amount ?? 0),
          price,
          fee,
          ...(feeBase === undefined ? {} : { feeBase }),
          ...(feeCharged === undefined ? {} : { feeCharged }),
        });
      }
    }
    const report: OrderReport = { clientOrderId, venueOrderId: String(order.id), status: statusOf(order.status, filledQty), filledQty, fills };
    return report;
  }

  async #exchangeTrade(trade: CcxtTrade, symbol: string): Promise<ExchangeTrade> {
    const price = decimalOf(trade.price ?? 0);
    const { fee, feeBase } = await this.valueFee(symbol, trade.fee, price);
    return {
      symbol,
      venueOrderId: String(trade.order ?? ''),
      tradeId: String(trade.id),
      side: trade.side === 'sell' ? 'sell' : 'buy',
      at: trade.timestamp ?? this.#clock.now(),
      qty: decimalOf(trade.amount ?? 0),
      price,
      fee,
      feeBase,
      feeCharged: trade.fee?.cost !== undefined ? { cost: decimalOf(trade.fee.cost), currency: trade.fee.currency ?? '' } : undefined,
    };
  }
}

function safeParseTimeframe(exchange: Exchange, timeframe: string): number {
  try {
    return exchange.parseTimeframe(timeframe);
  } catch {
    return Number.NaN;
  }
}

function statusOf(status: string | undefined, filledQty: Decimal): OrderStatus {
  switch (status) {
    case 'open':
      return filledQty.gt(0) ? 'partially-filled' : 'open';
    case 'closed':
      return 'filled';
    case 'canceled':
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      return 'new';
  }
}

function rejected(clientOrderId: string, reason: string): OrderReport {
  return { clientOrderId, status: 'rejected', filledQty: ZERO, fills: [], reason };
}

/** ccxt hands numbers; their shortest decimal text is what the exchange sent. */
function decimalOf(value: number | string): Decimal {
  return new Decimal(typeof value === 'number' ? String(value) : value);
}
