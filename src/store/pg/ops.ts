/**
 * SQL operations written once, run by a synchronous or an asynchronous driver. An operation is
 * a generator that yields the queries it needs and receives their rows; `runAsync` drives it
 * with node-postgres, `runSync` with the blocking bridge (sync-client.ts) that the live runner
 * and the synchronous ledger API use. So the PostgreSQL engines have one copy of their SQL and
 * of the logic between the queries, whatever the caller's flavour.
 */

/**
 * One query: text with $1..$n placeholders and its values; or a `COPY ... FROM STDIN` (text
 * format) with its data in `copy`, chunks of whole lines that a driver may send as they are
 * produced (the asynchronous one streams them, the blocking one joins them).
 */
export interface Query {
  readonly text: string;
  readonly values?: readonly unknown[];
  readonly copy?: Iterable<string>;
}

export type Row = Record<string, unknown>;

/** An operation: yields queries, receives each one's rows, returns T. */
export type Op<T> = Generator<Query, T, Row[]>;

/** Runs an operation with a blocking query function (a failed query is thrown into the operation). */
export function runSync<T>(op: Op<T>, query: (q: Query) => Row[]): T {
  let step = op.next();
  while (!step.done) {
    let rows: Row[];
    try {
      rows = query(step.value);
    } catch (error) {
      step = op.throw(error);
      continue;
    }
    step = op.next(rows);
  }
  return step.value;
}

/** Runs an operation with an asynchronous query function (a failed query is thrown into the operation). */
export async function runAsync<T>(op: Op<T>, query: (q: Query) => Promise<Row[]>): Promise<T> {
  let step = op.next();
  while (!step.done) {
    let rows: Row[];
    try {
      rows = await query(step.value);
    } catch (error) {
      step = op.throw(error);
      continue;
    }
    step = op.next(rows);
  }
  return step.value;
}

/** An operation of one query, its rows mapped. */
export function* one<T>(q: Query, map: (rows: Row[]) => T): Op<T> {
  return map(yield q);
}
