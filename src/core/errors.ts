/**
 * procura's error catalog. Bad input is refused with a message naming the file, line and
 * field; expected outcomes (a risk denial, a skipped order) are values, never exceptions.
 * Every error that reaches the command line is a ProcuraError with a stable `code` and an
 * exit status, so scripts can tell a typo from a broken ledger.
 */

/** Where a value came from: file, 1-based line (when the format has lines) and field. */
export interface Where {
  readonly file?: string | undefined;
  readonly line?: number | undefined;
  readonly field?: string | undefined;
}

export const ErrorCode = {
  input: 'E_INPUT',
  config: 'E_CONFIG',
  ledger: 'E_LEDGER',
  negativeStock: 'E_NEGATIVE_STOCK',
  verify: 'E_VERIFY',
  store: 'E_STORE',
  locked: 'E_LOCKED',
  venue: 'E_VENUE',
  /** A live tick halted: reconciliation found a difference, or an order or trade awaits the operator. */
  halted: 'E_HALTED',
  /** The exchange banned or rate-limited us until a stored time; no request is sent before it. */
  banned: 'E_BANNED',
  internal: 'E_INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Formats a location as `file:line: field`, leaving out the parts that are unknown. */
export function formatWhere(where: Where): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.line !== undefined ? `${where.file}:${where.line}` : where.file);
  else if (where.line !== undefined) parts.push(`line ${where.line}`);
  if (where.field !== undefined) parts.push(`field "${where.field}"`);
  return parts.join(': ');
}

export class ProcuraError extends Error {
  readonly code: ErrorCode;
  readonly where: Where;
  /** The message without the location, for callers that print the location themselves. */
  readonly detail: string;
  constructor(code: ErrorCode, detail: string, where: Where = {}) {
    const location = formatWhere(where);
    super(location ? `${location}: ${detail}` : detail);
    this.name = 'ProcuraError';
    this.code = code;
    this.where = where;
    this.detail = detail;
  }
  /** The same error re-anchored at a file/line, keeping whatever location it already had. */
  at(where: Where): ProcuraError {
    return new ProcuraError(this.code, this.detail, { ...where, ...definedOnly(this.where) });
  }
}

/** Malformed or inconsistent input data (CSV, JSON Lines, YAML values). Exit status 2. */
export class InputError extends ProcuraError {
  constructor(detail: string, where: Where = {}) {
    super(ErrorCode.input, detail, where);
    this.name = 'InputError';
  }
}

/** A configuration file that fails validation or a consistency check. Exit status 2. */
export class ConfigError extends ProcuraError {
  constructor(detail: string, where: Where = {}) {
    super(ErrorCode.config, detail, where);
    this.name = 'ConfigError';
  }
}

function definedOnly(where: Where): Where {
  const out: { file?: string; line?: number; field?: string } = {};
  if (where.file !== undefined) out.file = where.file;
  if (where.line !== undefined) out.line = where.line;
  if (where.field !== undefined) out.field = where.field;
  return out;
}

/**
 * Every exit status procura uses, in one place (docs/live.md and the README list them):
 * 0 ok; 1 internal or other failure (a live tick that failed, to be re-run); 2 bad input,
 * configuration or usage; 3 a ledger that fails verification; 4 a store locked by another
 * process; 5 a live tick halted (reconciliation found a difference, or an order or trade
 * awaits the operator: `procura live status`); 6 the exchange banned or rate-limited us until
 * a stored time (later runs exit 6 at once, without a request, until it passes); 141 standard
 * output closed by its reader (`procura ... | head`): the command stops quietly with the status
 * of a process killed by SIGPIPE (128 + 13), so `set -o pipefail` and a service manager see
 * that it did not finish.
 */
export const ExitStatus = {
  ok: 0,
  failed: 1,
  badInput: 2,
  verifyFailed: 3,
  locked: 4,
  halted: 5,
  banned: 6,
  stdoutClosed: 141,
} as const;
export type ExitStatus = (typeof ExitStatus)[keyof typeof ExitStatus];

/** Exit status for an error reaching the command line (see ExitStatus). */
export function exitStatusOf(error: unknown): ExitStatus {
  if (!(error instanceof ProcuraError)) return ExitStatus.failed;
  switch (error.code) {
    case ErrorCode.input:
    case ErrorCode.config:
      return ExitStatus.badInput;
    case ErrorCode.verify:
      return ExitStatus.verifyFailed;
    case ErrorCode.locked:
      return ExitStatus.locked;
    case ErrorCode.halted:
      return ExitStatus.halted;
    case ErrorCode.banned:
      return ExitStatus.banned;
    default:
      return ExitStatus.failed;
  }
}
