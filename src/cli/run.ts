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

/** Left-aligned text table with right-aligned numeric columns. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d,.]*%?$/.test(r[i] ?? '') ));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
