/** Levenshtein distance, capped: names further apart than `max` are not worth suggesting. */
function distance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < best) best = v;
    }
    if (best > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

/** The closest candidates to `name` (case-insensitive), best first, for "did you mean" hints. */
export function closest(name: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = name.toLowerCase();
  const max = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  const scored: { c: string; d: number }[] = [];
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = distance(lower, cl, max);
    if (d <= max) scored.push({ c, d });
    // A prefix is a strong hint too: 'start' for 'start_time'.
    else if (lower.length >= 3 && (cl.startsWith(lower) || lower.startsWith(cl))) scored.push({ c, d: max + 1 });
  }
  scored.sort((x, y) => x.d - y.d || x.c.localeCompare(y.c));
  // Prefixes only when nothing is a near spelling: 'contain' means 'contains', not 'container_id_to_status'.
  const near = scored[0] && scored[0].d <= max ? scored.filter((s) => s.d <= max) : scored;
  return near.slice(0, limit).map((s) => s.c);
}

/** "did you mean 'a' or 'b'?", or nothing when no candidate is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string[] {
  const near = closest(name, candidates);
  return near.length > 0 ? [`did you mean ${near.map((n) => `'${n}'`).join(' or ')}?`] : [];
}
