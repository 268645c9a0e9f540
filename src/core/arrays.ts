/**
 * Empty arrays whose V8 elements kind is already the one their contents will need. A `[]`
 * starts as "small integers"; the first object (or double) pushed into it changes its hidden
 * class, and optimized code that had only seen the other kind at that push or loop
 * deoptimizes: once per run for every per-run array (a run's pending ledger events, its
 * deliveries, its stockouts, the daily record's columns), each time throwing away the
 * compiled day loop. Starting them in their final kind keeps one hidden class per site.
 * Plain arrays otherwise: the same values, JSON and structured clones.
 */

/** An empty array for objects (or a mix of values). */
export function objectArray<T>(): T[] {
  const array = [undefined] as unknown as T[];
  array.pop();
  return array;
}

/** An empty array for numbers that are not all small integers (times, prices, cents). */
export function numberArray(): number[] {
  const array = [0.5];
  array.pop();
  return array;
}
