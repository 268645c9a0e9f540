/**
 * The live runner: the backtester's Desk driven by the wall clock, candles fetched through
 * ccxt, the ccxt venue (or the simulated venue for `--paper`), and a SQLite store holding the
 * ledger and the live state. Only this composition differs from a backtest; the desk, the
 * pipeline, the strategies and the cost feed are the same code.
 *
 * One tick (a cron firing, or `--once`):
 *   1. fetch the latest candles of every symbol; keep the CLOSED ones (open + timeframe <=
 *      now) and store them;
 *   2. reconcile with the exchange (reconcile.ts); on a difference beyond the tolerance the
 *      tick trades nothing (the pipeline runs halted for this tick; fills are still booked);
 *   3. for each closed candle of the first material not yet stepped, oldest first: feed every
 *      symbol's candles closed by then to the desk (streaming averages), then
 *      `desk.step(close time)`, then commit the step's state in one transaction (store.ts).
 *      The decision time is the candle's close time, exactly as in a backtest (a daily bar is
 *      decided at the next midnight), so the same bars give the same intents and the same
 *      client order ids, and a step re-run after a crash re-derives the same ids;
 *   4. log one summary line with the run id.
 * Between candles a tick only reconciles (read only): fills are booked at the next step.
 *
 * Warm-up: the store keeps every closed candle. On start the desk is fed the newest
 * `warmupCandles` stored candles up to the last stepped one (the first run fetches that much
 * history from the exchange), so the averages are warmed deterministically from stored data
 * and never fed a candle twice. Simple moving averages are exact once `slow` candles are
 * fed; exponential ones carry the weight of candles older than the window as (1 - alpha)^N.
 *
 * The desk and the in-memory ledger live across ticks (one session); a failed tick, an order
 * marked lost, a change of the fail-closed state, or a ledger posted to by another process
 * (`procura ledger post`) rebuilds the session from the store, exactly as a restart does.
 */
import { Writable } from 'node:stream';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { createTask, type ScheduledTask } from 'node-cron';
import { Decimal } from '../core/decimal.js';
import { ConfigError, ErrorCode, ProcuraError } from '../core/errors.js';
import { redactSecrets, redactText } from '../core/redact.js';
import { formatTime, systemClock, type Clock, type EpochMs } from '../core/time.js';
import { Ledger } from '../ledger/index.js';
import { openLedger } from '../store/open.js';
import { seriesFromOhlcv, type PriceSeries } from '../market/index.js';
import { CostFeed, type MaterialPriceInput } from '../costfeed/index.js';
import { Positions, toPlainJson, type Decision, type Fill, type Venue } from '../pipeline/index.js';
import { CcxtVenue, VenueError, credentialVariables, ALLOW_REAL_TRADING, type VenueCandle } from '../venues/ccxt/index.js';
import { SimVenue, type SimBar } from '../venues/sim/sim-venue.js';
import { Desk } from '../engine/desk.js';
import { type LiveConfig, timeframeMs } from './config.js';
import { LiveStore, SqliteDeskState, SqliteOrderStore, type StoredCandle } from './store.js';
import { NEVER_SENT, formatReconcile, reconcile, type ReconcileReport } from './reconcile.js';

export interface LiveRunnerOptions {
  readonly config: LiveConfig;
  readonly clock?: Clock;
  /** Environment for credentials and PROCURA_ALLOW_REAL_TRADING (default process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly logger?: Logger;
  /** Live market data, simulated fills (its own store file: `<store>.paper`). */
  readonly paper?: boolean;
  /** Backoff sleeper of the ccxt venue (tests pass a fast one). */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pid?: number;
  /**
   * Test hook, called at named points: `after-candles`, `after-session`, `before-step`,
   * `after-step` (posted, not committed), `after-commit`, and around each order request
   * `before-send` (recorded, not sent) and `after-send` (answered, not yet applied). Throwing
   * CrashError, or returning a promise that never settles (the process froze there: abandon
   * the runner), is a crash at that point.
   */
  readonly crashPoint?: (name: string) => void | Promise<void>;
  /** Take no lock and change nothing (--reconcile-only). */
  readonly readOnly?: boolean;
  /** Called when the exchange has answered an order request (the benchmark's probe). */
  readonly onOrderSubmitted?: (clientOrderId: string) => void;
  /** Called after every tick with its summary and what an operator should hear about (metrics, alerts). */
  readonly onTick?: (summary: TickSummary, events: readonly TickEvent[]) => void;
}

/** Something a tick met that an operator should hear about (webhook alerts, metrics). */
export interface TickEvent {
  readonly kind: 'halt' | 'reconciliation-difference' | 'ban' | 'forced-reorder-denied' | 'stockout' | 'tick-failed';
  readonly text: string;
}

/** What one tick did (also the summary logged and stored in live_runs). */
export interface TickSummary {
  readonly tick: string;
  readonly ok: boolean;
  readonly startedAt: EpochMs;
  readonly steps: number;
  readonly decidedAt: readonly string[];
  readonly intents: number;
  readonly orders: number;
  readonly fills: number;
  readonly denials: number;
  readonly reconciliation: 'ok' | 'differences' | 'skipped';
  readonly tradingHalted: boolean;
  readonly error?: string | undefined;
  /** The tick ended because the exchange banned or rate-limited us until then (ISO time; stored, exit status 6). */
  readonly bannedUntil?: string | undefined;
  readonly ms: number;
}

interface Feed {
  readonly symbol: string;
  /** Desk material id (procurement bars) or hedge instrument (hedge bars). */
  readonly target: string;
  readonly hedge: boolean;
}

interface Session {
  readonly ledger: Ledger;
  readonly desk: Desk;
  readonly costFeed: CostFeed;
  /** Candles in memory per symbol (the warm window plus what this session added). */
  readonly candles: Map<string, StoredCandle[]>;
  readonly series: Map<string, PriceSeries>;
  /** Open time of the last candle fed to the desk, per symbol. */
  readonly fed: Map<string, EpochMs>;
  readonly halted: boolean;
  ledgerEntries: number;
  /** The store's operator decision count when the session was built (a `procura live resolve` since then rebuilds it). */
  readonly operatorSeq: number;
}

const noopLogger = pino({ level: 'silent' });

/** Credential and secret fields pino never prints. */
export const REDACT_PATHS = ['apiKey', 'secret', 'password', '*.apiKey', '*.secret', '*.password', 'headers["X-MBX-APIKEY"]', '*.headers["X-MBX-APIKEY"]', 'env', '*.env'];

/** How log lines are written: `json` (one JSON object a line, for journald, files and log shippers) or `pretty` (pino-pretty, for a terminal). */
export type LogFormat = 'json' | 'pretty';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];

/**
 * A pino logger for live runs. Credential fields are redacted by path, and every line is passed
 * through `redactSecrets` as it is written: registered secret values and request signatures
 * never reach the destination, wherever they hide in a message. `pretty` turns each redacted
 * JSON line into pino-pretty's one-line text (in the same synchronous write: no worker thread,
 * nothing lost when the process exits); `colorize` adds colours (a terminal).
 */
export function createLiveLogger(destination: NodeJS.WritableStream | Writable = process.stdout, level = 'info', format: LogFormat = 'json', colorize = false): Logger {
  const prettify = format === 'pretty' ? prettyFactory({ colorize, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l o', ignore: 'pid,hostname,app,runId', singleLine: true, errorLikeObjectKeys: [] }) : undefined;
  const redacting = {
    write: (line: string): void => {
      const safe = redactSecrets(line);
      destination.write(prettify === undefined ? safe : prettify(safe));
    },
  };
  return pino({ level, base: { app: 'procura-live' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, timestamp: pino.stdTimeFunctions.isoTime }, redacting);
}

/** The live runner; see the module comment. */
export class LiveRunner {
  readonly config: LiveConfig;
  readonly store: LiveStore;
  readonly orders: SqliteOrderStore;
  readonly state: SqliteDeskState;
  readonly logger: Logger;
  readonly venue: Venue;
  /** The exchange connection (candles, reconciliation); also the venue unless paper. */
  readonly exchange: CcxtVenue;
  readonly paper: boolean;
  readonly frameMs: number;
  readonly #clock: Clock;
  readonly #pid: number;
  readonly #feeds: Feed[];
  readonly #symbols: string[];
  readonly #crashPoint: (name: string) => void | Promise<void>;
  readonly #readOnly: boolean;
  #session: Session | undefined;
  #tickCount = 0;
  #simFed = new Map<string, EpochMs>();
  #closed = false;
  readonly #onTick: ((summary: TickSummary, events: readonly TickEvent[]) => void) | undefined;
  /** Problems the last reconciliation found (0 before the first; the metrics). */
  lastReconcileProblems = 0;
  /** The last tick's summary and events (the health endpoint). */
  lastTick: { readonly summary: TickSummary; readonly events: readonly TickEvent[] } | undefined;

  private constructor(options: LiveRunnerOptions, exchange: CcxtVenue, store: LiveStore, frameMs: number) {
    const config = options.config;
    this.config = config;
    this.exchange = exchange;
    this.store = store;
    this.frameMs = frameMs;
    this.paper = options.paper === true;
    this.logger = (options.logger ?? noopLogger).child({ runId: config.runId });
    this.#clock = options.clock ?? systemClock;
    this.#pid = options.pid ?? process.pid;
    this.#crashPoint = options.crashPoint ?? (() => undefined);
    this.#readOnly = options.readOnly === true;
    this.#onTick = options.onTick;
    this.orders = new SqliteOrderStore(store);
    this.state = new SqliteDeskState(store, config.product);
    const feeds: Feed[] = [];
    for (const m of config.materials) {
      feeds.push({ symbol: m.symbol, target: m.id, hedge: false });
      if (m.hedge !== undefined) feeds.push({ symbol: m.hedge.symbol, target: m.hedge.instrument, hedge: true });
    }
    this.#feeds = feeds;
    this.#symbols = [...new Set(feeds.map((f) => f.symbol))];
    if (this.paper) {
      const instruments: Record<string, { symbol: string; lotStep: Decimal; tickSize: Decimal; minQty: Decimal; minNotional: Decimal }> = {};
      for (const [instrument] of Object.entries(config.instruments)) {
        const rules = exchange.rules(instrument);
        instruments[instrument] = { symbol: rules.symbol, lotStep: rules.lotStep, tickSize: rules.tickSize, minQty: rules.minQty, minNotional: rules.minNotional };
      }
      this.venue = new SimVenue({ instruments, marketFill: 'next-open', feeBps: config.raw.paper.feeBps, slippageBps: config.raw.paper.slippageBps, feePlaces: config.plant.moneyPlaces }, 'paper');
    } else {
      this.venue = withSendHooks(exchange, this.#crashPoint, options.onOrderSubmitted, this.logger.child({ component: 'venue' }));
    }
  }

  /**
   * Checks the configuration against the environment and the exchange, takes the store's lock
   * and loads the markets. Every refusal happens here, before any order: an unknown exchange
   * id, live mode without PROCURA_ALLOW_REAL_TRADING=yes, missing credentials (not paper), a
   * symbol or timeframe the exchange does not list, a store held by another live run.
   */
  static async open(options: LiveRunnerOptions): Promise<LiveRunner> {
    const config = options.config;
    const env = options.env ?? process.env;
    const logger = (options.logger ?? noopLogger).child({ runId: config.runId });
    const paper = options.paper === true;
    const frameMs = timeframeMs(config.timeframe);
    if (frameMs === undefined) throw config.fail(['timeframe'], `not a ccxt timeframe: ${JSON.stringify(config.timeframe)} (like 1m, 1h, 1d)`);
    let exchange: CcxtVenue;
    try {
      exchange = new CcxtVenue({
        exchange: config.exchange,
        mode: paper ? (config.mode === 'live' ? 'market-data' : config.mode) : config.mode,
        env: paper ? {} : env,
        ...(config.emulatorUrl === undefined ? {} : { emulatorUrl: config.emulatorUrl }),
        instruments: config.instruments,
        clock: options.clock ?? systemClock,
        ...(options.sleep === undefined ? {} : { sleep: options.sleep }),
        timeoutMs: config.raw.venue.timeoutMs,
        recvWindowMs: config.raw.venue.recvWindowMs,
        lookupAttempts: config.raw.venue.lookupAttempts,
        lookupIntervalMs: config.raw.venue.lookupIntervalMs,
        maxWaitMs: config.raw.venue.maxWaitSeconds * 1000,
        logger: logger.child({ component: 'venue' }),
      });
    } catch (error) {
      throw anchor(config, error, { exchange: ['exchange'], mode: ['mode'] });
    }
    if (!paper && !exchange.hasCredentials) {
      const names = credentialVariables(config.exchange);
      throw config.fail(['exchange'], `no credentials for ${config.exchange} (${config.mode} mode): set ${names.apiKey} and ${names.secret} in the environment (credentials are never read from the config file), or run with --paper`);
    }
    if (config.mode === 'live' && !paper) {
      const message = `LIVE TRADING on the real ${config.exchange} exchange: ${ALLOW_REAL_TRADING}=yes is set and orders spend real money`;
      logger.warn({ mode: 'live' }, message);
      process.stderr.write(`\n!!! ${message} !!!\n\n`);
    }
    if (paper && config.store.kind === 'postgres') {
      throw config.fail(['store'], `--paper keeps its own books beside the real ones, and a PostgreSQL database holds one ledger: run paper with a SQLite store (store: desk.sqlite) or against a database of its own`);
    }
    const storePath = paper ? `${config.storePath}.paper` : config.storePath;
    // The store's folder (var/ in the examples) is created on the first run; a read-only run creates nothing.
    if (config.store.kind !== 'postgres' && options.readOnly !== true) mkdirSync(dirname(storePath), { recursive: true });
    const store = config.store.kind === 'postgres' ? new LiveStore({ address: config.store, runId: config.runId }, options.clock ?? systemClock) : new LiveStore(storePath, options.clock ?? systemClock);
    try {
      // A stored ban: not one request (markets included) before it ends.
      const ban = store.ban();
      if (ban !== undefined) throw new StoredBanError(ban, storePath);
      try {
        await exchange.init();
      } catch (error) {
        if (error instanceof VenueError && error.bannedUntil !== undefined) store.setBan(error.bannedUntil, error.detail);
        if (error instanceof ProcuraError && error.where.field?.startsWith('instruments.')) {
          const instrument = error.where.field.slice('instruments.'.length);
          throw config.fail(config.symbolFields[instrument] ?? ['materials'], error.detail);
        }
        throw error;
      }
      try {
        exchange.timeframeMs(config.timeframe);
      } catch (error) {
        throw anchor(config, error, { timeframe: ['timeframe'] });
      }
      if (options.readOnly !== true) {
        const pid = options.pid ?? process.pid;
        const { takenOver } = store.acquireLock(pid, isAlive);
        if (takenOver !== undefined) logger.warn({ stalePid: takenOver.pid, host: takenOver.host, heartbeat: formatTime(takenOver.heartbeatAt) }, `took over the lock of a live run that is no longer running (pid ${takenOver.pid})`);
      }
      // The ledger commands read it on a store whose ledger has nothing posted yet (storedLivePlant).
      if (options.readOnly !== true) store.setMetaNow('plant', JSON.stringify({ file: config.plant.file, text: config.plant.text }));
      const runner = new LiveRunner(options, exchange, store, frameMs);
      logger.info({ exchange: config.exchange, mode: paper ? 'paper' : config.mode, api: exchange.apiBaseUrl, store: storePath, timeframe: config.timeframe, strategy: config.strategy.definition.name }, 'live runner ready');
      return runner;
    } catch (error) {
      store.close();
      throw error;
    }
  }

  /** One tick; see the module comment. Never throws for a failed tick: the summary says so. */
  async tick(): Promise<TickSummary> {
    const events: TickEvent[] = [];
    const summary = await this.#tick(events);
    if (summary.bannedUntil !== undefined) events.push({ kind: 'ban', text: `the exchange banned or rate-limited us until ${summary.bannedUntil}: ${summary.error ?? ''}` });
    else if (!summary.ok) events.push({ kind: 'tick-failed', text: `tick failed: ${summary.error ?? ''}` });
    this.lastTick = { summary, events };
    try {
      this.#onTick?.(summary, events);
    } catch (error) {
      this.logger.warn({ err: { message: error instanceof Error ? error.message : String(error) } }, 'a tick observer failed (metrics or alerts); the tick itself is unaffected');
    }
    return summary;
  }

  async #tick(events: TickEvent[]): Promise<TickSummary> {
    const startedAt = this.#clock.now();
    this.#tickCount += 1;
    const tick = `${this.config.runId}:${formatTime(startedAt)}:${this.#pid}:${this.#tickCount}`;
    const log = this.logger.child({ tick });
    const runSeq = this.store.startRun(tick, this.#pid);
    this.store.heartbeat(this.#pid);
    const counters = { steps: 0, intents: 0, orders: 0, fills: 0, denials: 0 };
    const decidedAt: string[] = [];
    let reconciliation: TickSummary['reconciliation'] = 'skipped';
    let halted = false;
    const finish = (ok: boolean, error?: string, bannedUntil?: EpochMs): TickSummary => ({
      tick, ok, startedAt, steps: counters.steps, decidedAt, intents: counters.intents, orders: counters.orders, fills: counters.fills, denials: counters.denials,
      reconciliation, tradingHalted: halted, error, ...(bannedUntil === undefined ? {} : { bannedUntil: formatTime(bannedUntil) }), ms: this.#clock.now() - startedAt,
    });
    const endBanned = (until: EpochMs, reason: string): TickSummary => {
      const summary = finish(false, reason, until);
      this.store.finishRunNow(runSeq, summary);
      log.error(summary, `tick ended: the exchange banned or rate-limited us until ${formatTime(until)}: no request is sent before then, and runs until then exit at once (status 6); ${reason}`);
      return summary;
    };
    const stored = this.store.ban();
    if (stored !== undefined) return endBanned(stored.until, stored.reason);
    try {
      const now = this.#clock.now();
      await this.#fetchCandles(now);
      await this.#crashPoint('after-candles');
      let report: ReconcileReport | undefined;
      if (!this.paper) {
        report = await this.reconcile(true);
        reconciliation = report.ok ? 'ok' : 'differences';
        this.lastReconcileProblems = report.problems.length;
        if (!report.ok) {
          log.warn({ problems: report.problems }, `reconciliation found differences: trading refused this tick (fail closed)\n${formatReconcile(report)}`);
          events.push({ kind: 'halt', text: `trading halted this tick (fail closed): ${report.problems.join('; ')}` });
          const differing = report.positions.filter((p) => !p.ok);
          if (differing.length > 0) events.push({ kind: 'reconciliation-difference', text: `the exchange balance differs from the book: ${differing.map((p) => `${p.asset} difference ${p.difference}`).join(', ')}` });
        }
        for (const order of report.neverSent) log.warn({ clientOrderId: order.clientOrderId, ageSeconds: order.ageSeconds }, `order ${order.clientOrderId} ${NEVER_SENT} (absent from its open orders, all orders and trades ${order.ageSeconds} s after it was recorded): cancelled locally, the desk decides afresh`);
        for (const order of report.adopted) log.warn({ clientOrderId: order.clientOrderId, where: order.where }, `order ${order.clientOrderId} was not found by its client order id but in the exchange's ${order.where}: adopted`);
        for (const trade of report.newExternalTrades) {
          log.warn({ trade: trade.key, side: trade.side, qty: trade.qty, price: trade.price, clientOrderId: trade.clientOrderId, origin: trade.origin, status: trade.status }, `external trade ${trade.key} (${trade.side} ${trade.qty} at ${trade.price}, client order id ${trade.clientOrderId || '(none)'}): ${trade.status === 'pending' ? 'waiting for the operator (procura live resolve trade)' : trade.resolution ?? trade.status}`);
        }
        // The pipeline must forget orders given up or adopted, and the desk must see deliveries booked.
        if (report.neverSent.length > 0 || report.adopted.length > 0 || report.newExternalTrades.some((t) => t.status === 'booked')) this.#session = undefined;
        this.store.setMetaNow('reconcile.last', JSON.stringify(toPlainJson(report)));
      }
      halted = report !== undefined && !report.ok;
      const session = this.#sessionFor(halted);
      await this.#crashPoint('after-session');
      const primary = this.#feeds[0]!.symbol;
      const primaryTarget = this.#feeds[0]!.target;
      const candles = session.candles.get(primary)!;
      for (const candle of [...candles]) {
        // Candles fed already were stepped (or are warm-up before the first step).
        if (candle.openAt <= (session.fed.get(primaryTarget) ?? Number.NEGATIVE_INFINITY)) continue;
        const at = candle.openAt + this.frameMs;
        if (at > now) break;
        this.#feedUpTo(session, at);
        await this.#crashPoint('before-step');
        const before = session.desk.pipeline.counters();
        const deniedBefore = session.desk.denials.length;
        const stockoutsBefore = session.desk.stockouts.length;
        const step = await session.desk.step(at);
        // A ban met inside the step (the pipeline keeps the order in doubt): nothing of it is committed.
        const ban = this.exchange.ban;
        if (ban !== undefined) throw new VenueError('rate-limit', ban.reason, { bannedUntil: ban.until });
        await this.#crashPoint('after-step');
        const after = session.desk.pipeline.counters();
        counters.steps += 1;
        counters.intents += step.intents.length;
        counters.orders += after.orders - before.orders;
        counters.fills += after.fills - before.fills;
        counters.denials += session.desk.denials.length - deniedBefore;
        for (const denied of session.desk.denials.slice(deniedBefore)) {
          const reason = denied.intent.reason;
          if (reason === 'forced-reorder' || reason === 'emergency') events.push({ kind: 'forced-reorder-denied', text: `decision denied on ${formatTime(at)}: ${denied.intent.side} ${denied.intent.instrument} (${reason}): the plant will run out unless it is bought; ${denied.risk.filter((r) => !r.allowed).map((r) => r.reason).join('; ')}` });
        }
        for (const stockout of session.desk.stockouts.slice(stockoutsBefore)) events.push({ kind: 'stockout', text: `stockout on ${formatTime(stockout.at)}: ${stockout.qty.toFixed()} ${stockout.material} short, bought at an emergency premium (${stockout.emergencyCost.toFixed()})` });
        decidedAt.push(formatTime(at));
        if (this.#session === session && session.desk.denials.length > 1000) session.desk.denials.splice(0, session.desk.denials.length - 1000);
        if (session.desk.trades.length > 1000) session.desk.trades.splice(0, session.desk.trades.length - 1000);
        this.store.stageRunSummary(runSeq, finish(true));
        this.store.commit(() => this.store.setMetaNow('stepped.openAt', String(candle.openAt)));
        this.orders.afterCommit();
        session.ledgerEntries = session.ledger.journal.size;
        await this.#crashPoint('after-commit');
      }
      const summary = finish(true);
      this.store.finishRunNow(runSeq, summary);
      this.logger.info(summary, `tick ok: ${summary.steps} step(s) ${decidedAt.join(', ') || '(no new closed candle)'}, ${summary.intents} intent(s), ${summary.orders} order(s), ${summary.fills} fill(s), ${summary.denials} denial(s), reconciliation ${reconciliation}${halted ? ', trading halted this tick' : ''}`);
      // Keep the in-memory candle window bounded: rebuild from the store now and then.
      const window = session.candles.get(primary)!.length;
      if (window > 2 * this.config.raw.warmupCandles) this.#session = undefined;
      return summary;
    } catch (error) {
      if (error instanceof CrashError) throw error; // a simulated crash: nothing more happens in this "process"
      this.store.discard();
      this.#session = undefined;
      const bannedUntil = error instanceof VenueError && error.bannedUntil !== undefined ? error.bannedUntil : this.exchange.ban?.until;
      if (bannedUntil !== undefined) {
        const reason = redactText(error instanceof Error ? error.message : String(error));
        this.store.setBan(bannedUntil, reason);
        return endBanned(bannedUntil, reason);
      }
      const text = redactText(error instanceof Error ? error.message : String(error));
      const summary = finish(false, text);
      try {
        this.store.finishRunNow(runSeq, summary);
      } catch {
        // the store itself failed; the log line below still says what happened
      }
      this.logger.error({ ...summary, err: error instanceof ProcuraError ? { code: error.code, message: text } : { message: text } }, `tick failed: ${text}; nothing of the unfinished step was committed, the next tick re-runs it`);
      return summary;
    }
  }

  /** Reconciles with the exchange; `apply` marks lost orders and records fees and baselines. */
  async reconcile(apply = false): Promise<ReconcileReport> {
    return reconcile({
      venue: this.exchange,
      store: this.store,
      orders: this.orders,
      instruments: this.config.instruments,
      tolerance: this.config.raw.reconciliation.tolerance,
      graceMs: this.config.raw.reconciliation.graceSeconds * 1000,
      now: this.#clock.now(),
      apply: apply && !this.#readOnly,
      foreignTrades: this.config.raw.reconciliation.foreignTrades,
      materials: Object.fromEntries(this.config.materials.map((m) => [m.id, m.id])),
    });
  }

  /** Runs ticks on the cron schedule until `stop()` (or SIGINT/SIGTERM through the CLI). */
  schedule(): { stop: () => Promise<void>; done: Promise<void> } {
    let current: Promise<unknown> = Promise.resolve();
    let resolveDone!: () => void;
    const done = new Promise<void>((resolve) => (resolveDone = resolve));
    const task: ScheduledTask = createTask(
      this.config.schedule.expression,
      async () => {
        const run = this.tick();
        current = run;
        await run;
        this.#logNextTick(task);
      },
      { timezone: this.config.schedule.timezone, noOverlap: true, name: `procura-live-${this.config.runId}` },
    );
    void task.start();
    const heartbeat = setInterval(() => {
      if (!this.#closed) this.store.heartbeat(this.#pid);
    }, 30_000);
    heartbeat.unref();
    this.logger.info({ cron: this.config.schedule.expression, timezone: this.config.schedule.timezone }, 'schedule started');
    this.#logNextTick(task);
    const stop = async (): Promise<void> => {
      await task.stop();
      await task.destroy();
      clearInterval(heartbeat);
      await current.catch(() => undefined); // finish the current tick
      resolveDone();
    };
    return { stop, done };
  }

  /** The scheduler's next firing, logged (and kept for the health endpoint and metrics). */
  #logNextTick(task: ScheduledTask): void {
    const next = task.getNextRun();
    this.nextTickAt = next === null ? undefined : next.getTime();
    this.logger.info({ nextTick: next === null ? null : next.toISOString(), cron: this.config.schedule.expression, timezone: this.config.schedule.timezone }, `next tick at ${next === null ? '(none)' : next.toISOString()}`);
  }

  /** When the scheduler fires next (service mode), epoch ms. */
  nextTickAt: EpochMs | undefined;

  /** Closes the connections WITHOUT releasing the lock: what a killed process leaves behind (crash tests). */
  abandon(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#session?.ledger.journal.close();
    this.store.close();
  }

  /** Releases the lock and closes the store. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#session?.ledger.journal.close();
    if (!this.#readOnly) this.store.releaseLock(this.#pid);
    this.store.close();
  }

  /** The ledger as the current session sees it (tests and reports). */
  ledger(): Ledger {
    return this.#sessionFor(this.#session?.halted ?? false).ledger;
  }

  /** The desk of the current session (tests). */
  desk(): Desk {
    return this.#sessionFor(this.#session?.halted ?? false).desk;
  }

  // ---------------------------------------------------------------- internals

  #steppedAt(): EpochMs | undefined {
    const text = this.store.meta('stepped.openAt');
    return text === undefined ? undefined : Number(text);
  }

  /** Fetches each symbol's candles since the last stored one (or the warm-up history) and stores the closed ones. */
  async #fetchCandles(now: EpochMs): Promise<void> {
    const warmup = this.config.raw.warmupCandles;
    for (const symbol of this.#symbols) {
      const last = this.store.lastCandleAt(symbol);
      // First run: the newest candles (warm-up plus the one to decide on); then everything after the last stored.
      const fetched = last === undefined
        ? await this.exchange.fetchCandles(symbol, this.config.timeframe, undefined, Math.min(1000, warmup + 2))
        : await this.exchange.fetchCandles(symbol, this.config.timeframe, last + this.frameMs, 1000);
      const closed = fetched.filter((c) => c.openAt + this.frameMs <= now && (last === undefined || c.openAt > last));
      this.store.saveCandles(symbol, closed.map(storedCandle));
      const session = this.#session;
      if (session !== undefined && closed.length > 0) {
        session.candles.get(symbol)!.push(...closed.map(storedCandle));
        session.series.set(symbol, seriesOf(symbol, session.candles.get(symbol)!));
      }
    }
  }

  /** The current session, or a new one built from the store (a restart does exactly this). */
  #sessionFor(halted: boolean): Session {
    const current = this.#session;
    if (current !== undefined && current.halted === halted && this.store.ledgerEntryCount() === current.ledgerEntries && this.store.operatorSeq() === current.operatorSeq) return current;
    if (current !== undefined) current.ledger.journal.close();
    this.#session = undefined;
    this.store.discard();
    this.orders.overrideControl(halted ? { state: 'halted', reason: 'reconciliation found differences (fail closed for this tick)', at: this.#clock.now() } : undefined);
    const session = this.#build(halted);
    this.#session = session;
    return session;
  }

  #build(halted: boolean): Session {
    const config = this.config;
    const stepped = this.#steppedAt();
    const candles = new Map<string, StoredCandle[]>();
    const series = new Map<string, PriceSeries>();
    for (const symbol of this.#symbols) {
      const warm = this.store.candles(symbol, config.raw.warmupCandles, stepped ?? Number.MAX_SAFE_INTEGER);
      // Before the first step, everything but the newest closed candle is warm-up.
      const base = stepped === undefined ? warm.slice(0, -1) : warm;
      const later = this.store.candlesAfter(symbol, base.length === 0 ? Number.NEGATIVE_INFINITY : base[base.length - 1]!.openAt);
      const all = [...base, ...later];
      if (all.length === 0) throw new ProcuraError(ErrorCode.venue, `${config.exchange} returned no closed ${config.timeframe} candles for ${symbol} yet: nothing to decide on`);
      candles.set(symbol, all);
      series.set(symbol, seriesOf(symbol, all));
    }
    const ledger = config.store.kind === 'postgres' ? openLedger(config.store, config.plant, { applicationName: `procura live ${config.runId}` }) : Ledger.openSqlite(this.store.path, config.plant);
    const positions = new Positions();
    const fills: Array<{ instrument: string; side: 'buy' | 'sell'; fill: Fill }> = [];
    for (const order of this.orders.allOrders()) for (const fill of order.fills) fills.push({ instrument: order.request.instrument, side: order.request.side, fill });
    fills.sort((a, b) => a.fill.at - b.fill.at);
    for (const f of fills) positions.applyFill(f.instrument, f.side, f.fill);
    this.state.reload();
    let desk: Desk | undefined;
    const prices = new Map<string, MaterialPriceInput>();
    for (const m of config.materials) {
      const symbol = m.symbol;
      prices.set(m.id, { get series() { return series.get(symbol)!; }, factor: m.factor });
    }
    const hedgeInstruments: Record<string, { material: string; factor: Decimal }> = {};
    for (const m of config.materials) if (m.hedge !== undefined) hedgeInstruments[m.hedge.instrument] = { material: m.id, factor: new Decimal(1) };
    const costFeed = new CostFeed({
      plant: config.plant,
      ledger,
      plan: config.plan,
      prices,
      horizonDays: config.raw.horizonDays,
      actualWindowDays: config.raw.actualWindowDays,
      policy: Object.fromEntries(
        config.materials.map((m) => [m.id, { leadTimeDays: m.leadTimeDays, serviceLevel: m.serviceLevel, leadTimeCv: m.leadTimeCv, ...(m.demandCv === undefined ? {} : { demandCv: m.demandCv }) }]),
      ),
      onOrder: (material) => desk!.onOrder(material),
      leadTimes: (material) => desk!.leadTimes(material),
      hedgeInstruments,
    });
    const decisionLog = this.logger.child({ component: 'desk' });
    desk = new Desk({
      runId: config.runId,
      venue: this.venue,
      limits: config.risk,
      orderStore: this.orders,
      ledger,
      plant: config.plant,
      product: config.product,
      materials: config.materials.map((m) => ({ id: m.id, unit: m.unit, factor: m.factor, leadTimeDays: m.leadTimeDays, hedge: m.hedge === undefined ? undefined : { instrument: m.hedge.instrument, factor: m.hedge.factor } })),
      strategy: config.strategy.definition.create(config.strategy.params),
      needs: config.strategy.needs,
      snapshot: (at) => costFeed.snapshot(at),
      schedule: config.schedule,
      plan: config.simulateProduction ? config.plan : undefined,
      emergencyPremium: config.raw.emergencyPremium,
      targetUnitCost: config.targetUnitCost,
      state: this.state,
      eventIds: true,
      positions,
      journalLimit: 100,
      keepOrdersInDoubt: true,
      onDecision: (decision: Decision) => logDecision(decisionLog, decision),
    });
    const session: Session = { ledger, desk, costFeed, candles, series, fed: new Map(), halted, ledgerEntries: ledger.journal.size, operatorSeq: this.store.operatorSeq() };
    // Warm the averages with every candle up to the last stepped one.
    if (stepped !== undefined) this.#feedUpTo(session, stepped + this.frameMs);
    else for (const feed of this.#feeds) this.#feedCandles(session, feed, candles.get(feed.symbol)!.length === 0 ? [] : candles.get(feed.symbol)!.filter((c) => c.openAt + this.frameMs <= this.#clock.now()).slice(0, -1));
    // A paper run's simulated venue lives in this process only: the orders the store still holds
    // as working (sent by an earlier --once run) go back to it, after the warm-up bars, so they
    // fill on the next bar as they would have in a long-running service. Partly filled ones are
    // left as they are (the venue would count their fills again).
    if (this.venue instanceof SimVenue) {
      for (const order of desk.pipeline.openOrders()) if (order.filledQty.isZero()) this.venue.restore(order.request);
    }
    this.logger.info({ ledgerEntries: ledger.journal.size, openOrders: desk.pipeline.openOrderCount, lastDay: this.state.lastDay() === undefined ? null : formatTime(this.state.lastDay()!), stepped: stepped === undefined ? null : formatTime(stepped + this.frameMs), halted }, 'session built from the store');
    return session;
  }

  /** Feeds every candle closed by `at` and not fed yet, per feed, to the desk (and the paper venue). */
  #feedUpTo(session: Session, at: EpochMs): void {
    for (const feed of this.#feeds) {
      const fed = session.fed.get(feed.target) ?? Number.NEGATIVE_INFINITY;
      const list = session.candles.get(feed.symbol)!.filter((c) => c.openAt > fed && c.openAt + this.frameMs <= at);
      this.#feedCandles(session, feed, list);
    }
  }

  #feedCandles(session: Session, feed: Feed, list: readonly StoredCandle[]): void {
    for (const c of list) {
      const close = Number(c.close);
      if (this.venue instanceof SimVenue) {
        const simFed = this.#simFed.get(feed.target) ?? Number.NEGATIVE_INFINITY;
        if (c.openAt > simFed) {
          const bar: SimBar = { at: c.openAt, open: Number(c.open), high: Number(c.high), low: Number(c.low), close, volume: Number(c.volume) };
          this.venue.onBar(bar, feed.target);
          this.#simFed.set(feed.target, c.openAt);
        }
      }
      if (feed.hedge) session.desk.onHedgeBar(feed.target, close);
      else session.desk.onBar(feed.target, c.openAt, close);
      session.fed.set(feed.target, c.openAt);
    }
  }
}

/** Thrown by test crash points to simulate a process dying at that point (not caught as a failed tick). */
export class CrashError extends Error {
  constructor(point: string) {
    super(`simulated crash at ${point}`);
    this.name = 'CrashError';
  }
}

function storedCandle(c: VenueCandle): StoredCandle {
  return { openAt: c.openAt, open: c.open.toFixed(), high: c.high.toFixed(), low: c.low.toFixed(), close: c.close.toFixed(), volume: c.volume.toFixed() };
}

function seriesOf(symbol: string, candles: readonly StoredCandle[]): PriceSeries {
  const rows = candles.map((c) => [c.openAt, Number(c.open), Number(c.high), Number(c.low), Number(c.close), Number(c.volume)]);
  return seriesFromOhlcv(rows, symbol, `${symbol} (exchange candles)`);
}

/**
 * One log line per decision. Warn where an operator should look: an order that filled only in
 * part (the rest expired or was cancelled), and a denied forced reorder or emergency buy (the
 * plant will run out); everything else at info.
 */
function logDecision(log: Logger, decision: Decision): void {
  const fields = decisionFields(decision);
  const intent = decision.intent;
  const filled = decision.firstReport?.filledQty;
  const qty = decision.request?.qty;
  const status = decision.status;
  if (filled !== undefined && qty !== undefined && filled.greaterThan(0) && filled.lessThan(qty) && (status === 'expired' || status === 'cancelled')) {
    log.warn({ ...fields, filled: filled.toFixed() }, `decision partially filled: ${intent.side} ${intent.instrument} ${filled.toFixed()} of ${qty.toFixed()} filled, the rest ${status} (${intent.reason})`);
    return;
  }
  if (decision.outcome === 'denied' && (intent.reason === 'forced-reorder' || intent.reason === 'emergency')) {
    const why = decision.risk.filter((r) => !r.allowed).map((r) => r.reason).join('; ');
    log.warn(fields, `decision denied: ${intent.side} ${intent.instrument} (${intent.reason}): the plant will run out unless it is bought; ${why}`);
    return;
  }
  log.info(fields, `decision ${decision.outcome}: ${intent.side} ${intent.instrument} (${intent.reason})`);
}

function decisionFields(decision: Decision): object {
  return {
    outcome: decision.outcome,
    at: formatTime(decision.at),
    instrument: decision.intent.instrument,
    side: decision.intent.side,
    reason: decision.intent.reason,
    qty: decision.sizing.kind === 'skipped' ? null : decision.request?.qty.toFixed() ?? null,
    clientOrderId: decision.clientOrderId ?? null,
    status: decision.status ?? null,
    denied: decision.risk.filter((r) => !r.allowed).map((r) => r.reason),
    error: decision.error ?? null,
  };
}

/** The exchange venue with the crash points around each order request and the benchmark's probe. */
function withSendHooks(venue: CcxtVenue, crashPoint: (name: string) => void | Promise<void>, sent: ((clientOrderId: string) => void) | undefined, log: Logger): Venue {
  return {
    name: venue.name,
    rules: (instrument) => venue.rules(instrument),
    submit: async (order, options) => {
      log.debug({ clientOrderId: order.clientOrderId, symbol: order.symbol, side: order.side, qty: order.qty.toFixed(), resend: options?.resend === true }, 'order recorded: sending it');
      await crashPoint('before-send');
      const report = await venue.submit(order, options);
      sent?.(order.clientOrderId);
      await crashPoint('after-send');
      return report;
    },
    lookup: (id, instrument) => venue.lookup(id, instrument),
    cancel: (id, instrument) => venue.cancel(id, instrument),
  };
}

/** The refusal of a run while a stored ban lasts (code E_BANNED, exit status 6). */
export class StoredBanError extends ProcuraError {
  readonly until: EpochMs;
  constructor(ban: { until: EpochMs; reason: string; at: EpochMs }, store: string) {
    super(ErrorCode.banned, `the exchange banned or rate-limited us until ${formatTime(ban.until)} (stored at ${formatTime(ban.at)}: ${ban.reason}); no request is sent before then`, { file: store });
    this.name = 'StoredBanError';
    this.until = ban.until;
  }
}

/** Whether a process with this pid exists on this host. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Re-anchors a venue ConfigError (field `exchange`, `mode`, ...) at the config file's line. */
function anchor(config: LiveConfig, error: unknown, fields: Record<string, readonly (string | number)[]>): unknown {
  if (error instanceof ConfigError && error.where.field !== undefined && fields[error.where.field] !== undefined) return config.fail(fields[error.where.field]!, error.detail);
  if (error instanceof ProcuraError && error.code === ErrorCode.config) return config.fail(Object.values(fields)[0]!, error.detail);
  return error;
}
