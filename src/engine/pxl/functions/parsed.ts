/**
 * Parsed JSON objects of a string dictionary, so that several `pluck*` calls on one column (and
 * quantiles read straight from their sketches) parse each distinct string at most once.
 * Keyed weakly by the dictionary array: entries vanish with the column.
 */
const PARSED = new WeakMap<readonly string[], readonly unknown[]>();

/** Records the already-known parsed form of each dictionary entry. */
export function rememberParsed(dict: readonly string[], values: readonly unknown[]): void {
  PARSED.set(dict, values);
}

/** The parsed form of each dictionary entry (undefined where the entry is not JSON). */
export function parsedDict(dict: readonly string[]): readonly unknown[] {
  let p = PARSED.get(dict);
  // The open tail's dictionary grows while rows arrive: a shorter cached parse is stale.
  if (!p || p.length !== dict.length) {
    p = dict.map((s) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        return undefined;
      }
    });
    PARSED.set(dict, p);
  }
  return p;
}
