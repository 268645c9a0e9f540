/**
 * The live runner's configuration (YAML, validated by zod with unknown keys rejected) and its
 * consistency checks. Loading checks everything that can be checked without the network
 * (plant, strategy, cron, exchange id, mode, credentials present in the environment); the
 * runner then loads the exchange's markets and checks every symbol before any order. Every
 * refusal is a ConfigError naming the file, the line and the field. Paths inside the file are
 * relative to it. Secrets never come from this file: credentials are read from the
 * environment only (PROCURA_<EXCHANGE>_API_KEY / _SECRET).
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { Decimal } from '../core/decimal.js';
import { ConfigError } from '../core/errors.js';
import { DAY_MS, type EpochMs } from '../core/time.js';
import { loadYamlConfig, type ConfigPath, type LoadedConfig } from '../config/load.js';
import { DateSchema, DecimalSchema, NonNegativeDecimalSchema, PositiveDecimalSchema } from '../config/schemas.js';
import type { Plant } from '../ledger/index.js';
import { ProductionPlan, loadPlan, planFromRate } from '../costfeed/index.js';
import { RiskConfigSchema, parseRiskConfig, type RiskLimits } from '../pipeline/index.js';
import { CronSchedule } from '../engine/schedule.js';
import { parseStoreAddress, type StoreAddress } from '../store/address.js';
import { resolveDesk } from '../engine/scenario.js';
import type { StrategyDefinition, StrategyNeeds } from '../engine/strategy.js';

const HedgeSchema = z.strictObject({
  /** Instrument id used in intents, orders and the ledger (e.g. gold-hedge). */
  instrument: z.string().min(1),
  /** Exchange symbol the hedge trades (e.g. PAXG/USDT). */
  symbol: z.string().min(1),
  /** Material units per hedge instrument unit (default: the material's factor). */
  factor: PositiveDecimalSchema.optional(),
});

const MaterialSchema = z.strictObject({
  /** Exchange symbol, ccxt spelling (e.g. PAXG/USDT). */
  symbol: z.string().min(1),
  /** Quoted units per material unit: price per material unit = quoted price x factor (1 PAXG = 1 troy oz: 1). */
  factor: PositiveDecimalSchema.prefault('1'),
  leadTimeDays: z.int().min(0).max(365).default(2),
  serviceLevel: DecimalSchema.refine((v) => v.greaterThanOrEqualTo('0.5') && v.lessThan(1), 'must be at least 0.5 and below 1').prefault('0.95'),
  /** Coefficient of variation of daily demand the cost feed uses until it has 30 days of consumption against the plan (default 0.1). */
  demandCv: DecimalSchema.refine((v) => v.greaterThanOrEqualTo(0) && v.lessThanOrEqualTo(5), 'must be between 0 and 5').optional(),
  /** Coefficient of variation of the lead time until the desk has 5 receipts; the desk books deliveries leadTimeDays after the order, so 0 by default (as in backtests). */
  leadTimeCv: DecimalSchema.refine((v) => v.greaterThanOrEqualTo(0) && v.lessThanOrEqualTo(5), 'must be between 0 and 5').prefault('0'),
  hedge: HedgeSchema.optional(),
});

const ProductionSchema = z.strictObject({
  product: z.string().min(1),
  /** A plan file (CSV: date, product, quantity)... */
  plan: z.string().min(1).optional(),
  /** ...or a constant rate per day from `from` (simulated production for desks without an ERP feed). */
  ratePerDay: PositiveDecimalSchema.optional(),
  from: DateSchema.optional(),
  /** Days the constant-rate plan runs (default ten years). */
  days: z.int().min(1).max(36_500).default(3650),
  /** Simulate production, backflush and emergency purchases from the plan (otherwise the ledger is fed by `procura ledger post`). */
  simulate: z.boolean().default(false),
  targetUnitCost: PositiveDecimalSchema.optional(),
});

export const LiveConfigSchema = z.strictObject({
  name: z.string().min(1).default('live'),
  /** Stable across restarts: part of every client order id (change it and earlier decisions are not recognised). */
  runId: z.string().regex(/^[A-Za-z0-9_.:-]{1,40}$/, 'letters, digits and . _ : - only, at most 40').optional(),
  /** ccxt exchange id (binance). */
  exchange: z.string().min(1),
  /** sandbox (default: the exchange testnet), demo (Binance demo trading), live (real money; needs PROCURA_ALLOW_REAL_TRADING=yes). */
  mode: z.enum(['sandbox', 'demo', 'live']).default('sandbox'),
  /** Base URL of a Binance emulator on 127.0.0.1 (tests and demos only; replaces the exchange URLs). */
  emulatorUrl: z.string().regex(/^http:\/\/(127\.0\.0\.1|localhost):\d+\/?$/, 'must be http://127.0.0.1:PORT').optional(),
  /** Candle timeframe, ccxt spelling (1d; 1h for faster desks). One decision per closed candle. */
  timeframe: z.string().min(1).default('1d'),
  schedule: z.strictObject({ cron: z.string().min(1), timezone: z.string().min(1).default('UTC') }),
  /** SQLite file holding the ledger and the live state (orders, fills, deliveries, candles, runs, lock). */
  store: z.string().min(1),
  plant: z.string().min(1),
  production: ProductionSchema,
  materials: z.record(z.string().min(1), MaterialSchema),
  strategy: z.strictObject({ name: z.string().min(1), params: z.record(z.string(), z.unknown()).default({}) }),
  /** The pipeline's limits; a live desk splits an order above maxOrderNotional into up to 10 child orders unless told otherwise. */
  risk: RiskConfigSchema.partial().extend({ maxChildOrders: z.int().min(1).max(100).default(10) }).prefault({}),
  horizonDays: z.int().min(1).max(730).default(30),
  actualWindowDays: z.int().min(1).max(3650).default(90),
  emergencyPremium: NonNegativeDecimalSchema.prefault('0.25'),
  /** Closed candles replayed to warm the averages at start (the persisted history's newest ones; fetched on the first run). */
  warmupCandles: z.int().min(2).max(1000).default(500),
  reconciliation: z
    .strictObject({
      /** Largest tolerated difference between the exchange's base-asset balance and the local book (base units). */
      tolerance: NonNegativeDecimalSchema.prefault('0.00000001'),
      /** A local order the exchange still does not know this long after it was recorded is marked lost. */
      graceSeconds: z.int().min(0).max(86_400).default(300),
      /**
       * A trade on the account with a client order id procura did not make: set-aside (recorded,
       * counted in the balance check, kept out of the ledger), book (a buy of a material goes to
       * the ledger as a purchase) or halt (wait for \`procura live resolve\`).
       */
      foreignTrades: z.enum(['set-aside', 'book', 'halt']).default('set-aside'),
    })
    .prefault({}),
  venue: z
    .strictObject({
      timeoutMs: z.int().min(100).max(120_000).default(10_000),
      recvWindowMs: z.int().min(100).max(60_000).default(5000),
      lookupAttempts: z.int().min(1).max(20).default(6),
      lookupIntervalMs: z.int().min(0).max(120_000).default(5000),
      /** Longest Retry-After (429 / 418) waited in process; a longer one ends the tick (exit 6) and is stored, so later runs exit at once until it passes. */
      maxWaitSeconds: z.int().min(0).max(3600).default(60),
    })
    .prefault({}),
  /** Service mode: a health endpoint (/healthz) and Prometheus metrics (/metrics) on host:port; off without a port. */
  monitoring: z
    .strictObject({
      port: z.int().min(0).max(65_535),
      /** 127.0.0.1 by default: the endpoints have no authentication; expose them through a proxy or a container port mapping. */
      host: z.string().min(1).default('127.0.0.1'),
    })
    .optional(),
  /** Webhook alerts (Slack-compatible JSON); the URL only from the environment (PROCURA_ALERT_WEBHOOK_URL). */
  alerts: z
    .strictObject({
      /** true: PROCURA_ALERT_WEBHOOK_URL must be set; the run refuses to start without it. */
      webhook: z.boolean().default(false),
      on: z.array(z.enum(['halt', 'reconciliation-difference', 'ban', 'forced-reorder-denied', 'stockout', 'tick-failed', 'fatal'])).default(['halt', 'reconciliation-difference', 'ban', 'forced-reorder-denied', 'stockout', 'tick-failed', 'fatal']),
      timeoutMs: z.int().min(100).max(60_000).default(5000),
      /** A lasting condition (halt, reconciliation-difference, ban, tick-failed) is sent when it starts, again every this many minutes while it lasts (0: every tick), and when it resolves. */
      repeatMinutes: z.number().min(0).max(10_080).default(60),
    })
    .prefault({}),
  /** The simulated venue of `--paper` runs (live market data, simulated fills). */
  paper: z.strictObject({ feeBps: NonNegativeDecimalSchema.prefault('10'), slippageBps: NonNegativeDecimalSchema.prefault('0') }).prefault({}),
});
export type LiveConfigInput = z.output<typeof LiveConfigSchema>;

export interface LiveMaterial {
  readonly id: string;
  readonly unit: string;
  readonly symbol: string;
  readonly factor: Decimal;
  readonly leadTimeDays: number;
  readonly serviceLevel: Decimal;
  readonly demandCv: Decimal | undefined;
  readonly leadTimeCv: Decimal;
  readonly hedge: { readonly instrument: string; readonly symbol: string; readonly factor: Decimal } | undefined;
}

/** A live configuration with everything loaded and checked that can be checked offline. */
export interface LiveConfig {
  readonly file: string;
  readonly hash: string;
  readonly raw: LiveConfigInput;
  readonly runId: string;
  readonly exchange: string;
  readonly mode: 'sandbox' | 'demo' | 'live';
  readonly emulatorUrl: string | undefined;
  readonly timeframe: string;
  readonly schedule: CronSchedule;
  /** The SQLite file (resolved), or for a `postgres://` store its display URL (no credentials). */
  readonly storePath: string;
  /** Where the ledger and the live state live: a SQLite file, or a PostgreSQL database (state in the schema `live_<runId>`). */
  readonly store: StoreAddress;
  readonly plant: Plant;
  readonly product: string;
  readonly plan: ProductionPlan;
  readonly simulateProduction: boolean;
  readonly targetUnitCost: Decimal | undefined;
  readonly materials: readonly LiveMaterial[];
  readonly strategy: { readonly definition: StrategyDefinition<unknown>; readonly params: unknown; readonly needs: StrategyNeeds };
  readonly risk: RiskLimits;
  /** Instrument id -> exchange symbol (materials and hedges). */
  readonly instruments: Readonly<Record<string, string>>;
  /** Instrument id -> the config path naming its symbol (for error messages). */
  readonly symbolFields: Readonly<Record<string, ConfigPath>>;
  /** A ConfigError for a field of this file (file, line, field). */
  fail(path: ConfigPath, message: string): ConfigError;
}

/** Loads and checks a live configuration file; see the module comment. */
export function loadLiveConfig(file: string): LiveConfig {
  return prepareLiveConfig(loadYamlConfig(file, LiveConfigSchema));
}

export function prepareLiveConfig(loaded: LoadedConfig<LiveConfigInput>): LiveConfig {
  const config = loaded.value;
  const file = loaded.file;
  const path = loaded.resolvePath;
  const fail = loaded.fail;
  const within = loaded.within;

  const { plant, product, definition, params, needs, bomMaterials } = resolveDesk(loaded, { plant: config.plant, product: config.production.product, strategy: config.strategy.name, params: config.strategy.params });
  const instruments: Record<string, string> = {};
  const symbolFields: Record<string, ConfigPath> = {};
  const materials: LiveMaterial[] = [];
  for (const [id, setup] of Object.entries(config.materials)) {
    const material = plant.materials.get(id);
    if (material === undefined) throw fail(['materials', id], `unknown material "${id}" (the plant has: ${[...plant.materials.keys()].join(', ')})`);
    if (!setup.factor.equals(1)) {
      // The exchange trades its base asset: a factor other than 1 would send material units as base units.
      throw fail(['materials', id, 'factor'], `live orders are sized in the exchange's base units: give ${id} the unit of ${setup.symbol}'s base asset in the plant (factor 1), got ${setup.factor.toFixed()}`);
    }
    instruments[id] = setup.symbol;
    symbolFields[id] = ['materials', id, 'symbol'];
    let hedge: LiveMaterial['hedge'];
    if (setup.hedge !== undefined) {
      if (setup.hedge.instrument in config.materials || setup.hedge.instrument in instruments) throw fail(['materials', id, 'hedge', 'instrument'], `hedge instrument "${setup.hedge.instrument}" clashes with another instrument id`);
      const factor = setup.hedge.factor ?? setup.factor;
      if (!factor.equals(1)) throw fail(['materials', id, 'hedge', 'factor'], `live hedge orders are sized in the exchange's base units: factor must be 1, got ${factor.toFixed()}`);
      hedge = { instrument: setup.hedge.instrument, symbol: setup.hedge.symbol, factor };
      instruments[hedge.instrument] = hedge.symbol;
      symbolFields[hedge.instrument] = ['materials', id, 'hedge', 'symbol'];
    }
    materials.push({ id, unit: material.unit, symbol: setup.symbol, factor: setup.factor, leadTimeDays: setup.leadTimeDays, serviceLevel: setup.serviceLevel, demandCv: setup.demandCv, leadTimeCv: setup.leadTimeCv, hedge });
  }
  for (const id of bomMaterials) if (!(id in config.materials)) throw fail(['materials'], `material "${id}" is in the ${product} BOM but has no symbol here`);
  if (needs.hedging === true && !materials.some((m) => m.hedge !== undefined)) throw fail(['materials'], `strategy ${definition.name} hedges, but no material names a hedge`);

  const production = config.production;
  let plan: ProductionPlan;
  if (production.plan !== undefined) {
    const planFile = path(production.plan);
    if (!existsSync(planFile)) throw fail(['production', 'plan'], `plan file not found: ${planFile}`);
    plan = within(['production', 'plan'], () => loadPlan(planFile, plant));
  } else if (production.ratePerDay !== undefined) {
    if (production.from === undefined) throw fail(['production', 'from'], 'a constant-rate plan needs the date it starts (from)');
    plan = planFromRate({ product, from: production.from, days: production.days, ratePerDay: production.ratePerDay, file: `${file} (production)` }, plant);
  } else {
    throw fail(['production'], 'give either plan (a CSV file) or ratePerDay with from');
  }

  const schedule = within(['schedule', 'cron'], () => CronSchedule.create(config.schedule.cron, config.schedule.timezone, {}));
  const risk = within(['risk'], () =>
    parseRiskConfig(
      { maxOrderNotional: config.risk.maxOrderNotional ?? '1000000000', maxDailyNotional: config.risk.maxDailyNotional ?? '1000000000', ...Object.fromEntries(Object.entries(config.risk).filter(([, v]) => v !== undefined)) },
      { file },
    ),
  );
  // An exchange may report a new order missing for a while (Binance: 20 to 60 s); a lookup
  // window shorter than that proves nothing before a re-send. The emulator's lag is counted in
  // requests, not seconds, so a window of 0 is fine against it.
  const venue = config.venue;
  const lookupWindowMs = (venue.lookupAttempts - 1) * venue.lookupIntervalMs;
  if (config.emulatorUrl === undefined && lookupWindowMs < MIN_LOOKUP_WINDOW_MS) {
    throw fail(
      ['venue', venue.lookupAttempts < 2 ? 'lookupAttempts' : 'lookupIntervalMs'],
      `a lookup window of ${lookupWindowMs / 1000} s (lookupAttempts ${venue.lookupAttempts}, lookupIntervalMs ${venue.lookupIntervalMs} apart) is too short to mean anything: an exchange may report a new order missing for 20 to 60 s; make (lookupAttempts - 1) x lookupIntervalMs at least ${MIN_LOOKUP_WINDOW_MS / 1000} s`,
    );
  }
  if (config.reconciliation.graceSeconds * 1000 < lookupWindowMs) {
    throw fail(['reconciliation', 'graceSeconds'], `${config.reconciliation.graceSeconds} s is shorter than the venue's lookup window (${lookupWindowMs / 1000} s): an order would be given up before the venue stops looking for it`);
  }
  let parsedStore: StoreAddress;
  try {
    parsedStore = parseStoreAddress(config.store, { file, field: 'store' });
  } catch (error) {
    throw fail(['store'], (error as ConfigError).detail);
  }
  const store: StoreAddress = parsedStore.kind === 'sqlite' ? { kind: 'sqlite', path: path(config.store), display: path(config.store) } : parsedStore;
  const runId = config.runId ?? (config.name.replace(/[^A-Za-z0-9_.:-]+/g, '-').slice(0, 40) || 'live');
  return {
    file,
    hash: loaded.hash,
    raw: config,
    runId,
    exchange: config.exchange,
    mode: config.mode,
    emulatorUrl: config.emulatorUrl,
    timeframe: config.timeframe,
    schedule,
    storePath: store.kind === 'sqlite' ? store.path : store.display,
    store,
    plant,
    product,
    plan,
    simulateProduction: production.simulate,
    targetUnitCost: production.targetUnitCost,
    materials,
    strategy: { definition, params, needs },
    risk,
    instruments,
    symbolFields,
    fail,
  };
}

/** The shortest lookup window ((lookupAttempts - 1) x lookupIntervalMs) accepted against a real exchange. */
export const MIN_LOOKUP_WINDOW_MS = 20_000;

/** Milliseconds of the common ccxt timeframes (the venue checks the exchange lists it). */
export function timeframeMs(timeframe: string): number | undefined {
  const match = /^(\d+)([mhdw])$/.exec(timeframe);
  if (!match) return undefined;
  const unit = { m: 60_000, h: 3_600_000, d: DAY_MS, w: 7 * DAY_MS }[match[2] as 'm' | 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}

/** The decision time of a candle: when it closed (open time + timeframe). */
export function candleCloseAt(openAt: EpochMs, frameMs: number): EpochMs {
  return openAt + frameMs;
}
