/**
 * Shared plumbing for every `procura` command: one place that turns an error into a message
 * on stderr and a non-zero exit status, and prints machine output.
 */
import { ProcuraError, exitStatusOf } from '../core/errors.js';

/** Wraps a command action: errors go to stderr as `procura: <file:line: field: message>` with the catalog's exit status. */
export function action<A extends unknown[]>(fn: (...args: A) => void | Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (error) {
      reportError(error);
      process.exitCode = exitStatusOf(error);
    }
  };
}

export function reportError(error: unknown): void {
  if (error instanceof ProcuraError) {
    process.stderr.write(`procura: ${error.message}\n`);
  } else if (error instanceof Error) {
    process.stderr.write(`procura: internal error: ${error.stack ?? error.message}\n`);
  } else {
    process.stderr.write(`procura: internal error: ${String(error)}\n`);
  }
}

/** Prints a value as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Text tables and the one number format live in format.ts. */
export { formatTable } from './format.js';
