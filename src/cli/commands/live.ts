/**
 * `procura live --config C [--once] [--paper] [--reconcile-only] [--json]`: scheduled (or
 * single) live runs of the desk against an exchange sandbox, demo account or, with
 * `mode: live` and PROCURA_ALLOW_REAL_TRADING=yes, the real exchange. Logs are JSON lines
 * (pino) on stdout, credentials redacted. SIGINT and SIGTERM finish the current tick, persist
 * and exit 0. Exit statuses come from the catalog in core/errors.ts: 0 ok; 1 a tick failed;
 * 2 bad configuration; 4 the store is held by another live run; 5 the tick halted (or
 * --reconcile-only found differences); 6 banned or rate-limited until a stored time.
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { loadLiveConfig, type LiveConfig } from '../../live/config.js';
import type { LiveStore, SqliteOrderStore } from '../../live/store.js';
import { ConfigError, ExitStatus, InputError, ProcuraError, exitStatusOf } from '../../core/errors.js';
import type { LiveRunner, LogFormat, TickEvent, TickSummary } from '../../live/runner.js';
import type { Logger } from 'pino';
import { redactText } from '../../core/redact.js';
import { didYouMean } from '../../core/did-you-mean.js';
import { formatTime, systemClock } from '../../core/time.js';
import { action, printJson } from '../run.js';

interface LiveOptions {
  config?: string;
  once?: boolean;
  paper?: boolean;
  reconcileOnly?: boolean;
  json?: boolean;
  logLevel?: string;
  logFormat?: string;
}

export function register(program: Command): void {
  // `live status` and `live resolve` take their own --config: the group's options stop at its subcommand.
  program.enablePositionalOptions();
  const live = program
    .command('live')
    .enablePositionalOptions()
    .description('run the desk live on the config\'s cron schedule (or once) against an exchange sandbox or demo account')
    .option('--config <file>', 'live configuration (YAML), e.g. config/live.example.yaml (required)')
    .option('--once', 'run a single tick and exit (for system cron or a container job)')
    .option('--paper', 'live market data, simulated fills (store: <store>.paper; no credentials needed)')
    .option('--reconcile-only', 'print local vs exchange differences and exit (5 when they disagree beyond the tolerance)')
    .option('--json', 'with --reconcile-only: print the report as JSON')
    .option('--log-level <level>', 'log level: fatal, error, warn, info, debug, trace, silent (default: $LOG_LEVEL, else info)')
    .option('--log-format <format>', 'json (one JSON object a line) or pretty (for reading in a terminal); default: pretty on a terminal, json otherwise')
    .action(action((options: LiveOptions) => runLive(options)));

  live
    .command('status')
    .description('what the live desk waits for (external trades, orders in doubt, balance differences, a ban); reads the store only. Exit 0 ok, 5 waiting, 6 banned')
    .requiredOption('--config <file>', 'live configuration (YAML)')
    .option('--json', 'machine output')
    .action(action((options: { config: string; json?: boolean }) => runStatus(options)));

  const resolve = live.command('resolve').description("the operator's answer to what a halted live desk waits for (see procura live status)");
  resolve
    .command('trade <key>')
    .description('an external trade (KEY as procura live status shows it, e.g. PAXG/USDT:5003): --book it as a purchase, or --set-aside')
    .requiredOption('--config <file>', 'live configuration (YAML)')
    .option('--book', "book a buy of a material in the ledger (received at the desk's next day)")
    .option('--set-aside', 'not the plant\'s: counted in the balance check only')
    .option('--note <text>', 'why (kept with the decision)')
    .action(action((key: string, options: { config: string; book?: boolean; setAside?: boolean; note?: string }) => runResolveTrade(key, options)));
  resolve
    .command('order <clientOrderId>')
    .description('an order in doubt that you have checked is not at the exchange: --cancelled')
    .requiredOption('--config <file>', 'live configuration (YAML)')
    .option('--cancelled', 'record it as cancelled (it never reached the exchange)')
    .option('--note <text>', 'why (kept with the order)')
    .action(action((clientOrderId: string, options: { config: string; cancelled?: boolean; note?: string }) => runResolveOrder(clientOrderId, options)));
  resolve
    .command('difference <asset>')
    .description('accept the difference the exchange shows now for ASSET (a deposit, a withdrawal); asks the exchange')
    .requiredOption('--config <file>', 'live configuration (YAML)')
    .requiredOption('--note <text>', 'why the account changed (kept with the adjustment)')
    .action(action((asset: string, options: { config: string; note: string }) => runResolveDifference(asset, options)));
}

async function openStoreOnly(file: string): Promise<{ config: LiveConfig; store: LiveStore; orders: SqliteOrderStore; operator: typeof import('../../live/operator.js') }> {
  const config = loadLiveConfig(file);
  const { LiveStore, SqliteOrderStore } = await import('../../live/store.js');
  const operator = await import('../../live/operator.js');
  if (config.store.kind === 'sqlite' && !existsSync(config.storePath)) throw new InputError(`no live store yet at ${config.storePath}: run procura live --once first`, { file: config.file, field: 'store' });
  const store = config.store.kind === 'postgres' ? new LiveStore({ address: config.store, runId: config.runId }, systemClock) : new LiveStore(config.storePath, systemClock);
  return { config, store, orders: new SqliteOrderStore(store), operator };
}

async function runStatus(options: { config: string; json?: boolean }): Promise<void> {
  const { config, store, orders, operator } = await openStoreOnly(options.config);
  try {
    const status = operator.liveStatus(config, store, orders);
    if (options.json) printJson(status);
    else process.stdout.write(`${operator.formatStatus(status)}\n`);
    process.exitCode = status.exitStatus;
  } finally {
    store.close();
  }
}

async function runResolveTrade(key: string, options: { config: string; book?: boolean; setAside?: boolean; note?: string }): Promise<void> {
  if (options.book === options.setAside) throw new InputError('give exactly one of --book or --set-aside', { field: 'trade' });
  const { config, store, operator } = await openStoreOnly(options.config);
  try {
    process.stdout.write(`${operator.resolveTrade(config, store, key, options.book ? 'book' : 'set-aside', options.note)}\n`);
  } finally {
    store.close();
  }
}

async function runResolveOrder(clientOrderId: string, options: { config: string; cancelled?: boolean; note?: string }): Promise<void> {
  if (options.cancelled !== true) throw new InputError('say what happened to the order: --cancelled (it never reached the exchange)', { field: 'order' });
  const { store, orders, operator } = await openStoreOnly(options.config);
  try {
    process.stdout.write(`${operator.resolveOrder(store, orders, clientOrderId, options.note)}\n`);
  } finally {
    store.close();
  }
}

async function runResolveDifference(asset: string, options: { config: string; note: string }): Promise<void> {
  const config = loadLiveConfig(options.config);
  const { LiveRunner, createLiveLogger } = await import('../../live/runner.js');
  const operator = await import('../../live/operator.js');
  const runner = await LiveRunner.open({ config, logger: createLiveLogger(process.stderr, 'warn'), readOnly: true });
  try {
    const report = await runner.reconcile(false);
    process.stdout.write(`${operator.acceptDifference(runner.store, report, asset, options.note)}\n`);
  } finally {
    runner.close();
  }
}

/** pino's levels, checked before anything starts (pino itself throws a stack trace on a typo). */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The log level: --log-level, else $LOG_LEVEL, else info; a typo is refused naming where it came from. */
function logLevelOf(options: LiveOptions): string {
  const fromEnv = process.env['LOG_LEVEL'];
  const level = options.logLevel ?? (fromEnv === undefined || fromEnv === '' ? 'info' : fromEnv.toLowerCase());
  if (!LOG_LEVELS.includes(level)) {
    throw new InputError(`expected one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(level)}${didYouMean(level, LOG_LEVELS)}`, { field: options.logLevel === undefined ? 'LOG_LEVEL (environment)' : '--log-level' });
  }
  return level;
}

/** json or pretty: --log-format, else pretty when stdout is a terminal, json otherwise (files, pipes, journald). */
function logFormatOf(options: LiveOptions): LogFormat {
  const formats = ['json', 'pretty'];
  const format = options.logFormat ?? (process.stdout.isTTY === true ? 'pretty' : 'json');
  if (!formats.includes(format)) throw new InputError(`expected json or pretty, got ${JSON.stringify(format)}${didYouMean(format, formats)}`, { field: '--log-format' });
  return format as LogFormat;
}

async function runLive(options: LiveOptions): Promise<void> {
  const level = logLevelOf(options);
  const format = logFormatOf(options);
  if (options.config === undefined) throw new InputError("required option '--config <file>' not specified", { field: '--config' });
  const config = loadLiveConfig(options.config);
  // Loaded here, not at start: the runner brings ccxt, which costs every other command ~1 s of start-up.
  const { LiveRunner, StoredBanError, createLiveLogger } = await import('../../live/runner.js');
  const { WebhookAlerter, ALERT_WEBHOOK_ENV } = await import('../../live/alerts.js');
  const { formatReconcile } = await import('../../live/reconcile.js');
  if (options.reconcileOnly) {
    const runner = await LiveRunner.open({ config, logger: createLiveLogger(process.stderr, 'warn'), readOnly: true });
    try {
      const report = await runner.reconcile(false);
      if (options.json) printJson(report);
      else process.stdout.write(`${formatReconcile(report)}\n`);
      process.exitCode = report.ok ? ExitStatus.ok : ExitStatus.halted;
    } finally {
      runner.close();
    }
    return;
  }
  const logger = createLiveLogger(process.stdout, level, format, format === 'pretty' && process.stdout.isTTY === true);
  let alerter: InstanceType<typeof WebhookAlerter> | undefined;
  if (config.raw.alerts.webhook) {
    const url = process.env[ALERT_WEBHOOK_ENV];
    if (url === undefined || url === '') throw new ConfigError(`alerts.webhook is true but ${ALERT_WEBHOOK_ENV} is not set (the webhook URL is a secret: it comes only from the environment)`, { file: config.file, field: 'alerts.webhook' });
    if (!/^https?:\/\//.test(url)) throw new ConfigError(`${ALERT_WEBHOOK_ENV} must be an http(s) URL`, { file: config.file, field: 'alerts.webhook' });
    alerter = new WebhookAlerter({ url, logger: logger.child({ component: 'alerts' }), timeoutMs: config.raw.alerts.timeoutMs, on: config.raw.alerts.on, label: config.runId, repeatMinutes: config.raw.alerts.repeatMinutes });
  }
  const sending = new Set<Promise<void>>();
  const track = (promise: Promise<void>): void => {
    sending.add(promise);
    void promise.finally(() => sending.delete(promise));
  };
  // A fatal error (one that stops the process) goes through the logger and the webhook too.
  const fatal = async (error: unknown): Promise<void> => {
    const message = redactText(error instanceof Error ? error.message : String(error));
    const code = error instanceof ProcuraError ? error.code : 'E_INTERNAL';
    const exitStatus = exitStatusOf(error);
    logger.fatal({ err: { code, message, ...(error instanceof ProcuraError ? {} : { stack: redactText(error instanceof Error ? (error.stack ?? '') : '') }) }, exitStatus }, `stopped: ${message} (exit status ${exitStatus})`);
    await alerter?.fatal(message);
  };
  const onUncaught = (error: unknown): void => {
    void fatal(error).finally(() => process.exit(ExitStatus.failed));
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
  let metrics: InstanceType<typeof import('../../live/monitoring.js').LiveMetrics> | undefined;
  let monitoring: { url: string; close: () => Promise<void> } | undefined;
  let current: LiveRunner | undefined;
  try {
    if (!options.once && config.raw.monitoring !== undefined) {
      const { LiveMetrics, serveMonitoring } = await import('../../live/monitoring.js');
      metrics = new LiveMetrics({ runId: config.runId }, () => current?.nextTickAt);
      monitoring = await serveMonitoring(metrics, config.raw.monitoring.host, config.raw.monitoring.port);
      logger.info({ url: monitoring.url }, `health on ${monitoring.url}/healthz, Prometheus metrics on ${monitoring.url}/metrics`);
    }
    const onTick = (summary: TickSummary, events: readonly TickEvent[]): void => {
      metrics?.observe(summary, events, current?.lastReconcileProblems ?? 0);
      if (alerter !== undefined) track(alerter.tick(events));
    };
    await runTicks(options, config, logger, onTick, (runner) => (current = runner), (ban) => metrics?.waitingOutBan(ban));
  } catch (error) {
    if (error instanceof StoredBanError) logger.error({ bannedUntil: formatTime(error.until), exitStatus: ExitStatus.banned }, `stopped: ${error.message} (exit status ${ExitStatus.banned})`);
    else await fatal(error);
    throw error;
  } finally {
    await Promise.all([...sending]);
    await monitoring?.close();
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUncaught);
  }
}

async function runTicks(
  options: LiveOptions,
  config: LiveConfig,
  logger: Logger,
  onTick: (summary: TickSummary, events: readonly TickEvent[]) => void,
  opened: (runner: LiveRunner) => void,
  waiting: (ban: { until: number; reason: string } | undefined) => void,
): Promise<void> {
  const { LiveRunner, StoredBanError } = await import('../../live/runner.js');
  let signalled: string | undefined;
  let wake: () => void = () => undefined;
  let onSignal: (signal: string) => void = (signal) => {
    signalled = signal;
    wake();
  };
  const handler = (signal: NodeJS.Signals): void => onSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  let runner: LiveRunner;
  for (;;) {
    try {
      runner = await LiveRunner.open({ config, logger, paper: options.paper === true, onTick });
      waiting(undefined);
      opened(runner);
      break;
    } catch (error) {
      // The service waits out a stored ban (no request before it ends); --once exits 6.
      if (options.once || !(error instanceof StoredBanError)) {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
        throw error;
      }
      logger.error({ bannedUntil: formatTime(error.until) }, `${error.detail}: waiting until then`);
      waiting({ until: error.until, reason: error.detail });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, error.until - systemClock.now()) + 1000);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      if (signalled !== undefined) {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
        logger.info({ signal: signalled }, 'stopped');
        process.exitCode = ExitStatus.ok;
        return;
      }
    }
  }
  try {
    if (options.once) {
      const summary = await runner.tick();
      if (signalled !== undefined) logger.info({ signal: signalled }, 'signal received during the tick: the tick finished and was persisted');
      process.exitCode = exitStatusOfTick(summary, signalled !== undefined);
      return;
    }
    const scheduled = runner.schedule();
    onSignal = (signal) => {
      if (signalled !== undefined) return;
      signalled = signal;
      logger.info({ signal }, 'stopping: finishing the current tick');
      void scheduled.stop();
    };
    if (signalled !== undefined) void scheduled.stop();
    await scheduled.done;
    logger.info({ signal: signalled }, 'stopped');
    process.exitCode = ExitStatus.ok;
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    runner.close();
  }
}

/** A `--once` tick's exit status: banned 6, failed 1, halted 5, ok 0 (a signal during the tick: 0, it finished and persisted). */
function exitStatusOfTick(summary: TickSummary, signalled: boolean): ExitStatus {
  if (summary.bannedUntil !== undefined) return ExitStatus.banned;
  if (!summary.ok) return signalled ? ExitStatus.ok : ExitStatus.failed;
  if (summary.tradingHalted) return ExitStatus.halted;
  return ExitStatus.ok;
}
