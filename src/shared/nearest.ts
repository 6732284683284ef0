/**
 * The nearest known name to a mistyped one ("did you mean …?"), by edit
 * distance (Levenshtein: insertions, deletions, substitutions). Hand-written:
 * twenty lines over names of a few dozen characters, where a dependency
 * (fastest-levenshtein) would add nothing but a package.
 */

/** Names longer than this are not compared (a suggestion for a pasted paragraph helps nobody). */
const nameLengthMax = 200;

/** Levenshtein distance of `a` and `b`, giving up (returning limit + 1) once it exceeds `limit`. */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const d = Math.min((previous[j] as number) + 1, (row[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      row.push(d);
      if (d < best) best = d;
    }
    if (best > limit) return limit + 1;
    previous = row;
  }
  return previous[b.length] as number;
}

/**
 * The known name nearest to `name` (case ignored), when it is near enough to be a typo: at most 3
 * edits and fewer than a third of the name's length. Ties go to the first in `known`.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  if (name.length > nameLengthMax) return undefined;
  const wanted = name.toLowerCase();
  const limit = Math.min(3, Math.ceil(wanted.length / 3) - 1);
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of known) {
    if (candidate.length > nameLengthMax) continue;
    const d = editDistance(wanted, candidate.toLowerCase(), bestDistance - 1);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
