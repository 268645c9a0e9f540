/**
 * An in-process Binance spot exchange (REST /api/v3) on 127.0.0.1, for tests, benchmarks and
 * soak scripts. It is test infrastructure, not a mocked ccxt: the real ccxt client talks to it
 * over a real socket, so signatures, timeouts, HTTP statuses and ccxt's own error mapping are
 * all exercised. It keeps balances (free/locked), matches market and limit orders against its
 * own candle path with a finite depth per candle, enforces Binance's duplicate client order id
 * rule, and injects faults on command (`inject`, or `POST /__control`). Every request is logged
 * so tests can assert the exact wire traffic.
 *
 * Wire facts follow /work/shared/notes/ccxt-offline.md (captured from ccxt 4.5.84).
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Decimal, ZERO, floorToStep } from '../../src/core/decimal.js';
import { systemClock, type Clock, type EpochMs } from '../../src/core/time.js';

/** One market the emulator lists (filters as Binance spells them, decimal strings). */
export interface EmulatorMarket {
  readonly symbol: string;
  readonly base: string;
  readonly quote: string;
  readonly tickSize: string;
  readonly stepSize: string;
  readonly minQty: string;
  readonly maxQty?: string;
  readonly minNotional: string;
  /** Price of a flat candle path for a market given no candles (default 1). */
  readonly price?: string;
}

/** One candle of the emulator's price path. `depth` overrides the default depth for that candle. */
export interface EmulatorCandle {
  readonly openAt: EpochMs;
  readonly open: string;
  readonly high: string;
  readonly low: string;
  readonly close: string;
  readonly volume: string;
  readonly depth?: string;
}

export interface EmulatorOptions {
  readonly apiKey?: string;
  readonly secret?: string;
  readonly markets?: readonly EmulatorMarket[];
  /** Price path per exchange symbol (e.g. PAXGUSDT). Defaults to a flat 3000 path for PAXGUSDT. */
  readonly candles?: Readonly<Record<string, readonly EmulatorCandle[]>>;
  /** Candle interval, as Binance spells it (`1m`, `1h`, `1d`). Default `1d`. */
  readonly interval?: string;
  /** Index of the current candle at start (default 0). Candles after it are the future. */
  readonly startIndex?: number;
  /** Starting free balances by asset. */
  readonly balances?: Readonly<Record<string, string>>;
  /** Base quantity that can trade per symbol per candle (default 1000000). */
  readonly depthPerCandle?: string;
  /** Commission rate per fill (default 0.001). */
  readonly feeRate?: string;
  /** Where commissions are charged; see `setCommission`. Default `received`. */
  readonly commissionIn?: CommissionMode;
  readonly clock?: Clock;
}

/**
 * Where a trade's commission is charged: `received` (Binance's rule: the asset received, so a
 * buy pays in the base asset), `quote` (always the quote currency), or a third asset such as
 * BNB (an account paying fees with BNB), converted at the current close of `<asset><quote>`,
 * which must be listed.
 */
export type CommissionMode = 'received' | 'quote' | { readonly asset: string };

/** Which requests a fault applies to. Omitted fields match anything. */
export interface FaultMatch {
  readonly method?: string;
  readonly path?: string;
  /** How many matching requests the fault applies to (default 1). */
  readonly times?: number;
}

/**
 * A fault the emulator injects on the next matching request(s).
 * - latency: wait `ms` before handling (`before`) or after executing, before answering (`after`: the client times out after the order exists).
 * - http: answer with this status, body and headers without handling (5xx before execution);
 *   `html: true` answers an HTML error page instead, as a proxy in front of an exchange does,
 *   echoing the request line and headers (API key included), as a misconfigured one does.
 * - rate-limit: 429 or 418 with a Retry-After header (seconds), without handling.
 * - unknown-status: execute, then answer 503 -1007 "execution status unknown".
 * - drop-connection: execute, then destroy the socket without answering.
 * - insufficient-balance: refuse with -2010 "Account has insufficient balance for requested action.".
 * - order-not-found: answer -2013 "Order does not exist." even when the order exists (an exchange that lags).
 * - hide-latest-order: a list of orders (openOrders, allOrders) leaves out the newest order, as
 *   a lagging exchange does; its trades stay in myTrades.
 */
export type Fault =
  | { readonly kind: 'latency'; readonly ms: number; readonly phase?: 'before' | 'after' }
  | { readonly kind: 'http'; readonly status: number; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>>; readonly html?: boolean }
  | { readonly kind: 'rate-limit'; readonly status: 429 | 418; readonly retryAfterSeconds: number }
  | { readonly kind: 'unknown-status' }
  | { readonly kind: 'drop-connection' }
  | { readonly kind: 'insufficient-balance' }
  | { readonly kind: 'order-not-found' }
  | { readonly kind: 'hide-latest-order' };

/** One request as the emulator saw it. `params` merges the query string and the form body. */
export interface LoggedRequest {
  readonly seq: number;
  readonly method: string;
  readonly path: string;
  readonly params: Readonly<Record<string, string>>;
  readonly apiKey: string | undefined;
  status: number;
  /** The fault applied to this request, if any. */
  fault?: Fault['kind'];
}

export type EmulatorOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELED' | 'EXPIRED';

/** An order held by the emulator (exposed read-only for assertions). */
export interface EmulatorOrder {
  readonly orderId: number;
  readonly symbol: string;
  readonly clientOrderId: string;
  readonly side: 'BUY' | 'SELL';
  readonly type: 'MARKET' | 'LIMIT';
  readonly price: Decimal;
  readonly origQty: Decimal;
  executedQty: Decimal;
  cumulativeQuoteQty: Decimal;
  status: EmulatorOrderStatus;
  readonly time: EpochMs;
  updateTime: EpochMs;
  /** Quote (buy) or base (sell) still locked for the unfilled part of a resting order. */
  lockedRemaining: Decimal;
}

/** One execution held by the emulator. */
export interface EmulatorTrade {
  readonly id: number;
  readonly orderId: number;
  readonly symbol: string;
  readonly price: Decimal;
  readonly qty: Decimal;
  readonly quoteQty: Decimal;
  readonly commission: Decimal;
  readonly commissionAsset: string;
  readonly time: EpochMs;
  readonly isBuyer: boolean;
  readonly isMaker: boolean;
}

class BinanceError {
  constructor(readonly status: number, readonly code: number, readonly msg: string) {}
}

const DEFAULT_MARKETS: readonly EmulatorMarket[] = [
  { symbol: 'PAXGUSDT', base: 'PAXG', quote: 'USDT', tickSize: '0.01', stepSize: '0.0001', minQty: '0.0001', maxQty: '9000', minNotional: '5' },
];

const INTERVAL_MS: Record<string, number> = {
  '1m': 60_000, '3m': 180_000, '5m': 300_000, '15m': 900_000, '30m': 1_800_000, '1h': 3_600_000, '2h': 7_200_000,
  '4h': 14_400_000, '6h': 21_600_000, '8h': 28_800_000, '12h': 43_200_000, '1d': 86_400_000, '3d': 259_200_000, '1w': 604_800_000,
};

const SIGNED_PATHS = new Set(['/api/v3/account', '/api/v3/order', '/api/v3/openOrders', '/api/v3/allOrders', '/api/v3/myTrades']);

/** Builds a flat or gently trending candle path for tests: `count` candles from `startAt`. */
export function makeCandles(startAt: EpochMs, intervalMs: number, closes: readonly string[], spread = '1'): EmulatorCandle[] {
  const half = new Decimal(spread);
  let previous = closes[0] ?? '0';
  return closes.map((close, index) => {
    const open = previous;
    previous = close;
    const hi = Decimal.max(new Decimal(open), new Decimal(close)).plus(half);
    const lo = Decimal.max(Decimal.min(new Decimal(open), new Decimal(close)).minus(half), ZERO);
    return { openAt: startAt + index * intervalMs, open, high: hi.toFixed(), low: lo.toFixed(), close, volume: '100' };
  });
}

export class BinanceEmulator {
  readonly apiKey: string;
  readonly secret: string;
  readonly intervalMs: number;
  readonly #interval: string;
  readonly #clock: Clock;
  readonly #markets = new Map<string, EmulatorMarket>();
  readonly #candles = new Map<string, readonly EmulatorCandle[]>();
  readonly #balances = new Map<string, { free: Decimal; locked: Decimal }>();
  readonly #orders: EmulatorOrder[] = [];
  readonly #trades: EmulatorTrade[] = [];
  readonly #depthUsed = new Map<string, Decimal>();
  readonly #defaultDepth: Decimal;
  readonly #feeRate: Decimal;
  #commissionIn: CommissionMode;
  readonly #faults: Array<{ fault: Fault; match: FaultMatch; left: number }> = [];
  readonly #log: LoggedRequest[] = [];
  readonly #sockets = new Set<Socket>();
  #cursor: number;
  #skewMs = 0;
  #nextOrderId = 1000;
  #nextTradeId = 5000;
  #server: Server | undefined;
  #baseUrl = '';

  constructor(options: EmulatorOptions = {}) {
    this.apiKey = options.apiKey ?? 'emulator-api-key';
    this.secret = options.secret ?? 'emulator-secret';
    this.#interval = options.interval ?? '1d';
    const intervalMs = INTERVAL_MS[this.#interval];
    if (intervalMs === undefined) throw new Error(`emulator: unknown interval ${this.#interval}`);
    this.intervalMs = intervalMs;
    this.#clock = options.clock ?? systemClock;
    for (const market of options.markets ?? DEFAULT_MARKETS) this.#markets.set(market.symbol, market);
    const start = Date.UTC(2024, 0, 1);
    const candles = options.candles ?? { PAXGUSDT: makeCandles(start, intervalMs, Array.from({ length: 10 }, () => '3000')) };
    for (const [symbol, path] of Object.entries(candles)) {
      if (!this.#markets.has(symbol)) throw new Error(`emulator: candles for unlisted symbol ${symbol}`);
      if (path.length === 0) throw new Error(`emulator: empty candle path for ${symbol}`);
      this.#candles.set(symbol, path);
    }
    // A listed market without a path trades flat at its `price`.
    for (const market of this.#markets.values()) {
      if (!this.#candles.has(market.symbol)) this.#candles.set(market.symbol, makeCandles(start, intervalMs, [market.price ?? '1'], '0'));
    }
    this.#cursor = options.startIndex ?? 0;
    this.#defaultDepth = new Decimal(options.depthPerCandle ?? '1000000');
    this.#feeRate = new Decimal(options.feeRate ?? '0.001');
    this.#commissionIn = options.commissionIn ?? 'received';
    for (const [asset, free] of Object.entries(options.balances ?? { USDT: '100000', PAXG: '10' })) {
      this.#balances.set(asset, { free: new Decimal(free), locked: ZERO });
    }
  }

  // ---------------------------------------------------------------- lifecycle

  /** Listens on 127.0.0.1 (`port` 0: any free port, the tests' choice); resolves with the base URL. */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      void this.#handle(req, res);
    });
    server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    this.#baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.#baseUrl;
  }

  /** Closes the server and every open connection. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get url(): string {
    return this.#baseUrl;
  }

  // ---------------------------------------------------------------- control API

  /** Queues a fault for the next `match.times` (default 1) requests that match. */
  inject(fault: Fault, match: FaultMatch = {}): void {
    this.#faults.push({ fault, match, left: match.times ?? 1 });
  }

  clearFaults(): void {
    this.#faults.length = 0;
  }

  /** Moves the server clock `ms` ahead of the injected clock (negative: behind). */
  setClockSkew(ms: number): void {
    this.#skewMs = ms;
  }

  serverTime(): EpochMs {
    return this.#clock.now() + this.#skewMs;
  }

  /** Changes where commissions are charged from the next trade on (see CommissionMode). */
  setCommission(mode: CommissionMode): void {
    if (typeof mode === 'object' && ![...this.#markets.values()].some((m) => m.base === mode.asset)) throw new Error(`emulator: commission in ${mode.asset} needs a listed ${mode.asset} market`);
    this.#commissionIn = mode;
  }

  /** Sets a free balance (locked amounts are kept). */
  setBalance(asset: string, free: string): void {
    this.#wallet(asset).free = new Decimal(free);
  }

  balance(asset: string): { free: Decimal; locked: Decimal } {
    const wallet = this.#wallet(asset);
    return { free: wallet.free, locked: wallet.locked };
  }

  /** Index of the current candle. */
  get cursor(): number {
    return this.#cursor;
  }

  /** The current candle of a symbol (its close is the last price). */
  currentCandle(symbol: string): EmulatorCandle {
    const path = this.#candles.get(symbol);
    if (!path) throw new Error(`emulator: no candles for ${symbol}`);
    return path[Math.min(this.#cursor, path.length - 1)]!;
  }

  /**
   * Moves every symbol to its next candle, resets the per-candle depth and fills resting limit
   * orders the new candle crosses (buy when low <= price, sell when high >= price), at the limit
   * price, as far as the depth allows. Returns false when there is no next candle.
   */
  advance(): boolean {
    const longest = Math.max(...[...this.#candles.values()].map((path) => path.length));
    if (this.#cursor + 1 >= longest) return false;
    this.#cursor += 1;
    this.#depthUsed.clear();
    for (const order of this.#orders) {
      if (order.type !== 'LIMIT' || (order.status !== 'NEW' && order.status !== 'PARTIALLY_FILLED')) continue;
      const candle = this.currentCandle(order.symbol);
      const crosses = order.side === 'BUY' ? new Decimal(candle.low).lte(order.price) : new Decimal(candle.high).gte(order.price);
      if (crosses) this.#execute(order, order.price, true);
    }
    return true;
  }

  /**
   * Places a market order on the account as someone else would (by hand on the web site, or
   * another bot): it trades at once, with this client order id, and is not in the request log.
   */
  placeOrder(order: { symbol: string; side: 'BUY' | 'SELL'; quantity: string; clientOrderId: string }): EmulatorOrder {
    this.#newOrder({ symbol: order.symbol, side: order.side, type: 'MARKET', quantity: order.quantity, newClientOrderId: order.clientOrderId });
    return this.#orders[this.#orders.length - 1]!;
  }

  /** Every request seen so far, oldest first. */
  requests(): readonly LoggedRequest[] {
    return this.#log;
  }

  clearRequests(): void {
    this.#log.length = 0;
  }

  /** Every order ever accepted, oldest first. */
  orders(): readonly EmulatorOrder[] {
    return this.#orders;
  }

  trades(): readonly EmulatorTrade[] {
    return this.#trades;
  }

  // ---------------------------------------------------------------- HTTP

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const rawBody = await readBody(req);
    const rawQuery = url.search.startsWith('?') ? url.search.slice(1) : url.search;
    const params: Record<string, string> = {};
    for (const [key, value] of url.searchParams) params[key] = value;
    if (rawBody && !(req.headers['content-type'] ?? '').includes('json')) {
      for (const [key, value] of new URLSearchParams(rawBody)) params[key] = value;
    }
    const apiKeyHeader = req.headers['x-mbx-apikey'];
    const entry: LoggedRequest = {
      seq: this.#log.length + 1,
      method,
      path: url.pathname,
      params,
      apiKey: typeof apiKeyHeader === 'string' ? apiKeyHeader : undefined,
      status: 0,
    };

    if (url.pathname === '/__control') {
      this.#handleControl(method, rawBody, res);
      return;
    }
    this.#log.push(entry);

    const fault = this.#takeFault(method, url.pathname);
    if (fault) entry.fault = fault.kind;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      entry.status = status;
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };

    if (fault?.kind === 'latency' && (fault.phase ?? 'before') === 'before') await delay(fault.ms);
    if (fault?.kind === 'http' && fault.html === true) {
      entry.status = fault.status;
      const echoed = Object.entries(req.headers).map(([name, value]) => `<tr><td>${name}</td><td>${String(value)}</td></tr>`).join('');
      const page = `<!DOCTYPE html><html><head><title>${fault.status} Bad Gateway</title></head><body><h1>${fault.status} Bad Gateway</h1><p>${method} ${req.url ?? ''}</p><table>${echoed}</table>${'<p>upstream unavailable</p>'.repeat(40)}</body></html>`;
      res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers });
      res.end(page);
      return;
    }
    if (fault?.kind === 'http') {
      send(fault.status, fault.body ?? { code: -1000, msg: 'An unknown error occurred while processing the request.' }, { ...fault.headers });
      return;
    }
    if (fault?.kind === 'rate-limit') {
      const msg = fault.status === 418 ? 'Way too many requests; IP banned.' : 'Too many requests; please use the websocket for live updates.';
      send(fault.status, { code: -1003, msg }, { 'Retry-After': String(fault.retryAfterSeconds) });
      return;
    }

    let status = 200;
    let body: unknown;
    try {
      if (SIGNED_PATHS.has(url.pathname)) this.#authenticate(entry.apiKey, rawQuery, rawBody, params);
      if (fault?.kind === 'insufficient-balance') throw new BinanceError(400, -2010, 'Account has insufficient balance for requested action.');
      if (fault?.kind === 'order-not-found') throw new BinanceError(400, -2013, 'Order does not exist.');
      body = this.#route(method, url.pathname, params);
      if (fault?.kind === 'hide-latest-order' && Array.isArray(body)) {
        const newest = this.#orders[this.#orders.length - 1];
        body = (body as Array<{ orderId: number }>).filter((o) => o.orderId !== newest?.orderId);
      }
    } catch (error) {
      if (!(error instanceof BinanceError)) {
        status = 500;
        body = { code: -1000, msg: `emulator internal error: ${error instanceof Error ? error.message : String(error)}` };
      } else {
        status = error.status;
        body = { code: error.code, msg: error.msg };
      }
    }

    // Faults that strike after the request has been executed: the answer is lost.
    if (fault?.kind === 'latency' && fault.phase === 'after') await delay(fault.ms);
    if (fault?.kind === 'drop-connection') {
      entry.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'unknown-status') {
      send(503, { code: -1007, msg: 'Timeout waiting for response from backend server. Send status unknown; execution status unknown.' });
      return;
    }
    send(status, body);
  }

  #handleControl(method: string, rawBody: string, res: ServerResponse): void {
    const reply = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (method !== 'POST') return reply(405, { code: -1, msg: 'POST /__control only' });
    let command: { action?: string; fault?: Fault; match?: FaultMatch; ms?: number; asset?: string; free?: string; commission?: CommissionMode; order?: { symbol: string; side: 'BUY' | 'SELL'; quantity: string; clientOrderId: string } };
    try {
      command = JSON.parse(rawBody || '{}') as typeof command;
    } catch {
      return reply(400, { code: -1, msg: 'control body must be JSON' });
    }
    switch (command.action) {
      case 'inject':
        if (!command.fault) return reply(400, { code: -1, msg: 'inject needs a fault' });
        this.inject(command.fault, command.match ?? {});
        return reply(200, { ok: true });
      case 'clear-faults':
        this.clearFaults();
        return reply(200, { ok: true });
      case 'skew':
        this.setClockSkew(command.ms ?? 0);
        return reply(200, { ok: true });
      case 'advance':
        return reply(200, { ok: true, advanced: this.advance(), cursor: this.#cursor });
      case 'commission':
        if (command.commission === undefined) return reply(400, { code: -1, msg: 'commission needs "received", "quote" or {"asset": ...}' });
        this.setCommission(command.commission);
        return reply(200, { ok: true });
      case 'order':
        if (!command.order) return reply(400, { code: -1, msg: 'order needs {symbol, side, quantity, clientOrderId}' });
        try {
          return reply(200, { ok: true, orderId: this.placeOrder(command.order).orderId });
        } catch (error) {
          return reply(400, { code: -1, msg: error instanceof BinanceError ? error.msg : String(error) });
        }
      case 'balance':
        if (!command.asset || command.free === undefined) return reply(400, { code: -1, msg: 'balance needs asset and free' });
        this.setBalance(command.asset, command.free);
        return reply(200, { ok: true });
      default:
        return reply(400, { code: -1, msg: `unknown control action ${JSON.stringify(command.action)}` });
    }
  }

  #takeFault(method: string, path: string): Fault | undefined {
    const index = this.#faults.findIndex(
      ({ match }) => (match.method === undefined || match.method.toUpperCase() === method) && (match.path === undefined || match.path === path),
    );
    if (index < 0) return undefined;
    const slot = this.#faults[index]!;
    slot.left -= 1;
    if (slot.left <= 0) this.#faults.splice(index, 1);
    return slot.fault;
  }

  /** Binance's rule: HMAC-SHA256 over query string + body (signature removed), compared lower-cased; then the timing check. */
  #authenticate(apiKey: string | undefined, rawQuery: string, rawBody: string, params: Record<string, string>): void {
    if (apiKey === undefined || apiKey === '') throw new BinanceError(401, -2014, 'API-key format invalid.');
    if (apiKey !== this.apiKey) throw new BinanceError(401, -2015, 'Invalid API-key, IP, or permissions for action.');
    const signature = params['signature'];
    if (!signature) throw new BinanceError(400, -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.");
    const payload = stripSignature(rawQuery) + stripSignature(rawBody);
    const expected = createHmac('sha256', this.secret).update(payload).digest('hex');
    if (expected.toLowerCase() !== signature.toLowerCase()) throw new BinanceError(400, -1022, 'Signature for this request is not valid.');
    const timestamp = Number(params['timestamp']);
    if (!Number.isFinite(timestamp)) throw new BinanceError(400, -1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.");
    const recvWindow = params['recvWindow'] === undefined ? 5000 : Number(params['recvWindow']);
    if (!Number.isFinite(recvWindow) || recvWindow > 60_000) throw new BinanceError(400, -1131, 'recvWindow must be less than 60000');
    const serverTime = this.serverTime();
    if (!(timestamp < serverTime + 1000 && serverTime - timestamp <= recvWindow)) {
      throw new BinanceError(400, -1021, 'Timestamp for this request is outside of the recvWindow.');
    }
  }

  #route(method: string, path: string, params: Record<string, string>): unknown {
    const key = `${method} ${path}`;
    switch (key) {
      case 'GET /api/v3/ping':
        return {};
      case 'GET /api/v3/time':
        return { serverTime: this.serverTime() };
      case 'GET /api/v3/exchangeInfo':
        return this.#exchangeInfo();
      case 'GET /api/v3/klines':
        return this.#klines(params);
      case 'GET /api/v3/ticker/24hr':
        return this.#ticker(params);
      case 'GET /api/v3/account':
        return this.#account();
      case 'POST /api/v3/order':
        return this.#newOrder(params);
      case 'GET /api/v3/order':
        return orderJson(this.#findOrder(params, -2013, 'Order does not exist.'));
      case 'DELETE /api/v3/order':
        return this.#cancelOrder(params);
      case 'GET /api/v3/openOrders':
        return this.#orders
          .filter((o) => (params['symbol'] === undefined || o.symbol === params['symbol']) && isOpen(o))
          .map(orderJson);
      case 'GET /api/v3/allOrders': {
        const symbol = this.#market(params).symbol;
        const startTime = params['startTime'] === undefined ? undefined : Number(params['startTime']);
        const endTime = params['endTime'] === undefined ? undefined : Number(params['endTime']);
        const limit = Math.min(Number(params['limit'] ?? 500), 1000);
        const rows = this.#orders.filter((o) => o.symbol === symbol && (startTime === undefined || o.time >= startTime) && (endTime === undefined || o.time <= endTime));
        return (startTime === undefined ? rows.slice(-limit) : rows.slice(0, limit)).map(orderJson);
      }
      case 'GET /api/v3/myTrades':
        return this.#myTrades(params);
      default:
        throw new BinanceError(404, -1, `not emulated: ${method} ${path}`);
    }
  }

  #exchangeInfo(): unknown {
    return {
      timezone: 'UTC',
      serverTime: this.serverTime(),
      rateLimits: [{ rateLimitType: 'REQUEST_WEIGHT', interval: 'MINUTE', intervalNum: 1, limit: 6000 }],
      exchangeFilters: [],
      symbols: [...this.#markets.values()].map((m) => ({
        symbol: m.symbol,
        status: 'TRADING',
        baseAsset: m.base,
        baseAssetPrecision: 8,
        quoteAsset: m.quote,
        quotePrecision: 8,
        quoteAssetPrecision: 8,
        orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS_LIMIT', 'TAKE_PROFIT_LIMIT'],
        icebergAllowed: true,
        ocoAllowed: true,
        quoteOrderQtyMarketAllowed: true,
        isSpotTradingAllowed: true,
        isMarginTradingAllowed: false,
        filters: [
          { filterType: 'PRICE_FILTER', minPrice: m.tickSize, maxPrice: '1000000.00', tickSize: m.tickSize },
          { filterType: 'LOT_SIZE', minQty: m.minQty, maxQty: m.maxQty ?? '9000000', stepSize: m.stepSize },
          { filterType: 'NOTIONAL', minNotional: m.minNotional, applyMinToMarket: true, maxNotional: '9000000.00', applyMaxToMarket: false, avgPriceMins: 5 },
        ],
        permissions: [],
        permissionSets: [['SPOT']],
        defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
        allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
      })),
    };
  }

  #market(params: Record<string, string>): EmulatorMarket {
    const symbol = params['symbol'];
    if (!symbol) throw new BinanceError(400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.");
    const market = this.#markets.get(symbol);
    if (!market) throw new BinanceError(400, -1121, 'Invalid symbol.');
    return market;
  }

  #klines(params: Record<string, string>): unknown {
    const market = this.#market(params);
    if (params['interval'] !== this.#interval) throw new BinanceError(400, -1120, 'Invalid interval.');
    const limit = Math.min(Number(params['limit'] ?? 500), 1000);
    const startTime = params['startTime'] === undefined ? undefined : Number(params['startTime']);
    const endTime = params['endTime'] === undefined ? undefined : Number(params['endTime']);
    const path = (this.#candles.get(market.symbol) ?? []).slice(0, this.#cursor + 1);
    let rows = path.filter((c) => (startTime === undefined || c.openAt >= startTime) && (endTime === undefined || c.openAt <= endTime));
    rows = startTime === undefined ? rows.slice(-limit) : rows.slice(0, limit);
    return rows.map((c) => [c.openAt, c.open, c.high, c.low, c.close, c.volume, c.openAt + this.intervalMs - 1, '0', 0, '0', '0', '0']);
  }

  #ticker(params: Record<string, string>): unknown {
    const market = this.#market(params);
    const c = this.currentCandle(market.symbol);
    const change = new Decimal(c.close).minus(c.open);
    return {
      symbol: market.symbol, priceChange: change.toFixed(), priceChangePercent: new Decimal(c.open).isZero() ? '0' : change.dividedBy(c.open).times(100).toFixed(3),
      weightedAvgPrice: c.close, prevClosePrice: c.open, lastPrice: c.close, lastQty: '0', bidPrice: c.close, bidQty: '1', askPrice: c.close, askQty: '1',
      openPrice: c.open, highPrice: c.high, lowPrice: c.low, volume: c.volume, quoteVolume: '0',
      openTime: c.openAt, closeTime: c.openAt + this.intervalMs - 1, firstId: 0, lastId: 0, count: 0,
    };
  }

  #account(): unknown {
    return {
      makerCommission: 10, takerCommission: 10, buyerCommission: 0, sellerCommission: 0,
      canTrade: true, canWithdraw: true, canDeposit: true, brokered: false, requireSelfTradePrevention: false, preventSor: false,
      updateTime: this.serverTime(), accountType: 'SPOT',
      balances: [...this.#balances.entries()].map(([asset, b]) => ({ asset, free: b.free.toFixed(), locked: b.locked.toFixed() })),
      permissions: ['SPOT'], uid: 1,
    };
  }

  #wallet(asset: string): { free: Decimal; locked: Decimal } {
    let wallet = this.#balances.get(asset);
    if (!wallet) {
      wallet = { free: ZERO, locked: ZERO };
      this.#balances.set(asset, wallet);
    }
    return wallet;
  }

  #newOrder(params: Record<string, string>): unknown {
    const market = this.#market(params);
    const side = params['side'];
    if (side !== 'BUY' && side !== 'SELL') throw new BinanceError(400, -1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.");
    const type = params['type'];
    if (type !== 'MARKET' && type !== 'LIMIT') throw new BinanceError(400, -1116, 'Invalid orderType.');
    const clientOrderId = params['newClientOrderId'] ?? `emu-${this.#nextOrderId}`;
    if (!/^[.A-Z:/a-z0-9_-]{1,36}$/.test(clientOrderId)) {
      throw new BinanceError(400, -1100, "Illegal characters found in parameter 'newClientOrderId'; legal range is '^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.");
    }
    if (this.#orders.some((o) => o.symbol === market.symbol && o.clientOrderId === clientOrderId && isOpen(o))) {
      throw new BinanceError(400, -2010, 'Duplicate order sent.');
    }
    const last = new Decimal(this.currentCandle(market.symbol).close);
    let qty: Decimal;
    if (params['quantity'] !== undefined) qty = decimalParam(params, 'quantity');
    else if (type === 'MARKET' && params['quoteOrderQty'] !== undefined) qty = floorToStep(decimalParam(params, 'quoteOrderQty').dividedBy(last), new Decimal(market.stepSize));
    else throw new BinanceError(400, -1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.");
    let price = last;
    if (type === 'LIMIT') {
      price = decimalParam(params, 'price');
      if (params['timeInForce'] !== 'GTC') throw new BinanceError(400, -1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.");
      if (price.lte(0) || !price.mod(market.tickSize).isZero()) throw new BinanceError(400, -1013, 'Filter failure: PRICE_FILTER');
    }
    if (qty.lt(market.minQty) || qty.gt(market.maxQty ?? '9000000') || !qty.mod(market.stepSize).isZero()) {
      throw new BinanceError(400, -1013, 'Filter failure: LOT_SIZE');
    }
    if (qty.times(price).lt(market.minNotional)) throw new BinanceError(400, -1013, 'Filter failure: NOTIONAL');

    // Reserve what the whole order could cost; market orders reserve at the last price.
    const lockAsset = side === 'BUY' ? market.quote : market.base;
    const lockAmount = side === 'BUY' ? qty.times(price) : qty;
    const wallet = this.#wallet(lockAsset);
    if (wallet.free.lt(lockAmount)) throw new BinanceError(400, -2010, 'Account has insufficient balance for requested action.');
    wallet.free = wallet.free.minus(lockAmount);
    wallet.locked = wallet.locked.plus(lockAmount);

    const now = this.serverTime();
    const order: EmulatorOrder = {
      orderId: this.#nextOrderId++, symbol: market.symbol, clientOrderId, side, type, price: type === 'LIMIT' ? price : ZERO,
      origQty: qty, executedQty: ZERO, cumulativeQuoteQty: ZERO, status: 'NEW', time: now, updateTime: now, lockedRemaining: lockAmount,
    };
    this.#orders.push(order);
    const firstTrade = this.#trades.length;
    const marketable = type === 'MARKET' || (side === 'BUY' ? price.gte(last) : price.lte(last));
    // A marketable order takes the last price (at least as good as a limit price it crosses).
    if (marketable) this.#execute(order, last, false);
    if (type === 'MARKET' && isOpen(order)) {
      // Not enough depth: a market order never rests; the rest expires (Binance: EXPIRED).
      order.status = 'EXPIRED';
      this.#release(order);
    }
    const fills = this.#trades.slice(firstTrade).map((t) => ({
      price: t.price.toFixed(), qty: t.qty.toFixed(), commission: t.commission.toFixed(), commissionAsset: t.commissionAsset, tradeId: t.id,
    }));
    return { ...orderJson(order), transactTime: now, fills };
  }

  /** Fills as much of `order` as the candle's remaining depth allows, at `price`. */
  #execute(order: EmulatorOrder, price: Decimal, isMaker: boolean): void {
    const market = this.#markets.get(order.symbol)!;
    const candle = this.currentCandle(order.symbol);
    const depth = new Decimal(candle.depth ?? this.#defaultDepth);
    const used = this.#depthUsed.get(order.symbol) ?? ZERO;
    const available = floorToStep(Decimal.max(depth.minus(used), ZERO), new Decimal(market.stepSize));
    const qty = Decimal.min(order.origQty.minus(order.executedQty), available);
    if (qty.lte(0)) return;
    this.#depthUsed.set(order.symbol, used.plus(qty));
    const quoteQty = qty.times(price);
    const buy = order.side === 'BUY';
    const mode = this.#commissionIn;
    let commissionAsset: string;
    let commission: Decimal;
    if (typeof mode === 'object') {
      // Paid in a third asset: the quote value of the commission, at that asset's last price.
      commissionAsset = mode.asset;
      const rate = new Decimal(this.currentCandle(`${mode.asset}${market.quote}`).close);
      commission = quoteQty.times(this.#feeRate).dividedBy(rate).toDecimalPlaces(8, Decimal.ROUND_UP);
    } else {
      commissionAsset = mode === 'quote' || !buy ? market.quote : market.base;
      commission = (commissionAsset === market.base ? qty : quoteQty).times(this.#feeRate);
    }
    const now = this.serverTime();
    this.#trades.push({
      id: this.#nextTradeId++, orderId: order.orderId, symbol: order.symbol, price, qty, quoteQty, commission, commissionAsset, time: now, isBuyer: buy, isMaker,
    });
    const base = this.#wallet(market.base);
    const quote = this.#wallet(market.quote);
    if (buy) {
      // The lock was taken at the order's price (limit) or the last price (market): release it pro rata.
      const lockedForPart = order.type === 'LIMIT' ? qty.times(order.price) : Decimal.min(order.lockedRemaining, quoteQty);
      quote.locked = quote.locked.minus(lockedForPart);
      order.lockedRemaining = order.lockedRemaining.minus(lockedForPart);
      quote.free = quote.free.plus(lockedForPart).minus(quoteQty);
      base.free = base.free.plus(qty);
    } else {
      base.locked = base.locked.minus(qty);
      order.lockedRemaining = order.lockedRemaining.minus(qty);
      quote.free = quote.free.plus(quoteQty);
    }
    const feeWallet = this.#wallet(commissionAsset);
    feeWallet.free = feeWallet.free.minus(commission);
    order.executedQty = order.executedQty.plus(qty);
    order.cumulativeQuoteQty = order.cumulativeQuoteQty.plus(quoteQty);
    order.status = order.executedQty.eq(order.origQty) ? 'FILLED' : 'PARTIALLY_FILLED';
    order.updateTime = now;
    if (order.status === 'FILLED') this.#release(order);
  }

  /** Hands back whatever is still locked for an order that will not trade any more. */
  #release(order: EmulatorOrder): void {
    const market = this.#markets.get(order.symbol)!;
    const wallet = this.#wallet(order.side === 'BUY' ? market.quote : market.base);
    wallet.locked = wallet.locked.minus(order.lockedRemaining);
    wallet.free = wallet.free.plus(order.lockedRemaining);
    order.lockedRemaining = ZERO;
  }

  #findOrder(params: Record<string, string>, code: number, msg: string): EmulatorOrder {
    const market = this.#market(params);
    const orderId = params['orderId'];
    const clientOrderId = params['origClientOrderId'];
    if (orderId === undefined && clientOrderId === undefined) {
      throw new BinanceError(400, -1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!");
    }
    // The latest order with this client order id (an id may be reused once the earlier order is done).
    for (let i = this.#orders.length - 1; i >= 0; i -= 1) {
      const o = this.#orders[i]!;
      if (o.symbol !== market.symbol) continue;
      if (orderId !== undefined ? String(o.orderId) === orderId : o.clientOrderId === clientOrderId) return o;
    }
    throw new BinanceError(400, code, msg);
  }

  #cancelOrder(params: Record<string, string>): unknown {
    const order = this.#findOrder(params, -2011, 'Unknown order sent.');
    if (!isOpen(order)) throw new BinanceError(400, -2011, 'Unknown order sent.');
    order.status = 'CANCELED';
    order.updateTime = this.serverTime();
    this.#release(order);
    return {
      ...orderJson(order),
      origClientOrderId: order.clientOrderId,
      clientOrderId: params['newClientOrderId'] ?? `cancel-${order.orderId}`,
      transactTime: order.updateTime,
    };
  }

  #myTrades(params: Record<string, string>): unknown {
    const market = this.#market(params);
    const limit = Math.min(Number(params['limit'] ?? 500), 1000);
    const startTime = params['startTime'] === undefined ? undefined : Number(params['startTime']);
    const endTime = params['endTime'] === undefined ? undefined : Number(params['endTime']);
    const fromId = params['fromId'] === undefined ? undefined : Number(params['fromId']);
    const orderId = params['orderId'] === undefined ? undefined : Number(params['orderId']);
    let rows = this.#trades.filter(
      (t) =>
        t.symbol === market.symbol &&
        (orderId === undefined || t.orderId === orderId) &&
        (fromId === undefined || t.id >= fromId) &&
        (startTime === undefined || t.time >= startTime) &&
        (endTime === undefined || t.time <= endTime),
    );
    rows = startTime === undefined && fromId === undefined ? rows.slice(-limit) : rows.slice(0, limit);
    return rows.map((t) => ({
      symbol: t.symbol, id: t.id, orderId: t.orderId, orderListId: -1, price: t.price.toFixed(), qty: t.qty.toFixed(), quoteQty: t.quoteQty.toFixed(),
      commission: t.commission.toFixed(), commissionAsset: t.commissionAsset, time: t.time, isBuyer: t.isBuyer, isMaker: t.isMaker, isBestMatch: true,
    }));
  }
}

function isOpen(order: EmulatorOrder): boolean {
  return order.status === 'NEW' || order.status === 'PARTIALLY_FILLED';
}

function orderJson(o: EmulatorOrder): Record<string, unknown> {
  return {
    symbol: o.symbol, orderId: o.orderId, orderListId: -1, clientOrderId: o.clientOrderId, price: o.price.toFixed(), origQty: o.origQty.toFixed(),
    executedQty: o.executedQty.toFixed(), cummulativeQuoteQty: o.cumulativeQuoteQty.toFixed(), status: o.status,
    timeInForce: 'GTC', type: o.type, side: o.side, stopPrice: '0.00000000', icebergQty: '0.00000000',
    time: o.time, updateTime: o.updateTime, isWorking: true, workingTime: o.time, origQuoteOrderQty: '0.00000000', selfTradePreventionMode: 'EXPIRE_MAKER',
  };
}

function decimalParam(params: Record<string, string>, name: string): Decimal {
  const raw = params[name];
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw)) {
    throw new BinanceError(400, -1102, `Mandatory parameter '${name}' was not sent, was empty/null, or malformed.`);
  }
  return new Decimal(raw);
}

function stripSignature(raw: string): string {
  return raw.replace(/(^|&)signature=[^&]*/, '');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
