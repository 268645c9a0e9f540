/**
 * "Did you mean" suggestions for values typed by a person (configuration keys, command-line
 * values such as exchange ids, materials and column names): the closest known value by edit
 * distance, offered only when it is close enough to be a likely typo.
 */

/** `; did you mean "x"?` for the closest candidate within a typo's distance, or ''. */
export function didYouMean(value: string, candidates: Iterable<string>): string {
  const best = closest(value, candidates);
  return best === undefined ? '' : `; did you mean "${best}"?`;
}

/** The candidate closest to `value` (case-insensitive), when at most max(2, length / 3) edits away. */
export function closest(value: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  const wanted = value.toLowerCase();
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate.toLowerCase());
    if (distance < bestDistance) {
      bestDistance = distance;
      best = candidate;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i += 1) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j += 1) {
      const saved = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = saved;
    }
  }
  return row[b.length]!;
}
