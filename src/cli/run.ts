/**
 * Shared plumbing for every `procura` command: one place that turns an error into a message
 * on stderr and a non-zero exit status, and prints machine output.
 */
import { ProcuraError, exitStatusOf } from '../core/errors.js';
import { redactText } from '../core/redact.js';

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

/** Prints an error on stderr, secrets and signatures redacted (core/redact.ts). */
export function reportError(error: unknown): void {
  let text: string;
  if (error instanceof ProcuraError) text = error.message;
  else if (error instanceof Error) text = `internal error: ${error.stack ?? error.message}`;
  else text = `internal error: ${String(error)}`;
  process.stderr.write(`procura: ${redactText(text)}\n`);
}

/** Prints a value as pretty JSON on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Text tables and the one number format live in format.ts. */
export { formatTable } from './format.js';
