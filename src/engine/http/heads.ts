/**
 * Start lines and header sections, each parsed once per distinct content. A keep-alive client sends the same
 * headers with every request and a server answers with the same ones until its Date ticks, so
 * most sections on a busy node are byte-for-byte repeats: a hash and a compare of the bytes
 * replace splitting, decoding and lower-casing every line again, and the repeat hands back the
 * very same `headers` array, which lets the stitcher reuse what it derived from it (the JSON).
 */

const CR = 13;
const LF = 10;

/** Token characters of RFC 9110 §5.6.2. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, s: number, e: number): string }).utf8Slice;
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, s: number, e: number): string }).latin1Slice;
/** Buffer's compare works on any Uint8Array and compares target[s, e) with all of `this`. */
const compare = (Buffer.prototype as unknown as { compare(this: Uint8Array, target: Uint8Array, s: number, e: number): number }).compare;

/** b[s, e) as text: a slice of the section's latin1 text when ASCII, else decoded as UTF-8. */
function textOf(b: Uint8Array, s: number, e: number, text: string, base: number): string {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return utf8Slice.call(b, s, e);
  return text.slice(s - base, e - base);
}

/** b[s, e) as text, for a single line (the start line). */
function lineText(b: Uint8Array, s: number, e: number): string {
  for (let i = s; i < e; i++) if (b[i]! >= 0x80) return utf8Slice.call(b, s, e);
  return latin1Slice.call(b, s, e);
}

function trimOws(v: string): string {
  let s = 0;
  let e = v.length;
  while (s < e && (v.charCodeAt(s) === 32 || v.charCodeAt(s) === 9)) s++;
  while (e > s && (v.charCodeAt(e - 1) === 32 || v.charCodeAt(e - 1) === 9)) e--;
  return s === 0 && e === v.length ? v : v.slice(s, e);
}

/** What a header section says about framing, and its fields. Shared: never mutate. */
export interface HeaderSection {
  /** Flat triples: name as sent, lower-case name, value (OWS trimmed, obs-fold joined). */
  readonly headers: readonly string[];
  /** Content-Length, or -1 when absent. */
  readonly contentLength: number;
  /** Transfer-Encoding values joined with ", ", when present. */
  readonly transferEncoding: string | undefined;
  /** Transfer-Encoding ends in `chunked`. */
  readonly chunked: boolean;
  /** An Upgrade header and `Connection: upgrade` (a request asking to switch protocols). */
  readonly upgrade: boolean;
}

/**
 * Parses the header lines in b[s, e) (up to and including the blank line). null when a line
 * is not a header field, an obs-fold has nothing to continue, or Content-Length is invalid or
 * repeated with different values.
 */
export function parseHeaderSection(b: Uint8Array, s: number, e: number): HeaderSection | null {
  const text = latin1Slice.call(b, s, e);
  const headers: string[] = [];
  let p = s;
  while (p < e) {
    let nl = p;
    while (nl < e && b[nl] !== LF) nl++;
    if (nl >= e) break;
    const le = nl > p && b[nl - 1] === CR ? nl - 1 : nl;
    const lineStart = p;
    p = nl + 1;
    if (le === lineStart) break;
    const c = b[lineStart];
    if (c === 32 || c === 9) {
      // obs-fold: a continuation of the previous value (RFC 9112 §5.2).
      if (headers.length === 0) return null;
      headers[headers.length - 1] = trimOws(headers[headers.length - 1] + ' ' + trimOws(textOf(b, lineStart, le, text, s)));
      continue;
    }
    let i = lineStart;
    let upper = false;
    while (i < le && TCHAR[b[i]!] === 1) {
      if (b[i]! >= 65 && b[i]! <= 90) upper = true;
      i++;
    }
    if (i === lineStart || b[i] !== 58 /* : */) return null;
    const name = text.slice(lineStart - s, i - s);
    let vs = i + 1;
    let ve = le;
    while (vs < ve && (b[vs] === 32 || b[vs] === 9)) vs++;
    while (ve > vs && (b[ve - 1] === 32 || b[ve - 1] === 9)) ve--;
    headers.push(name, upper ? name.toLowerCase() : name, textOf(b, vs, ve, text, s));
  }
  let te: string | undefined;
  let cl: string | undefined;
  let connection = '';
  let hasUpgrade = false;
  for (let i = 0; i < headers.length; i += 3) {
    const lower = headers[i + 1]!;
    const v = headers[i + 2]!;
    if (lower === 'content-length') {
      if (cl !== undefined && cl !== v) return null;
      cl = v;
    } else if (lower === 'transfer-encoding') te = te === undefined ? v : te + ', ' + v;
    else if (lower === 'connection') connection += ',' + v.toLowerCase();
    else if (lower === 'upgrade') hasUpgrade = true;
  }
  let length = -1;
  if (cl !== undefined) {
    if (cl.length === 0 || cl.length > 15) return null;
    length = 0;
    for (let i = 0; i < cl.length; i++) {
      const d = cl.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      length = length * 10 + d;
    }
  }
  return {
    headers,
    contentLength: length,
    transferEncoding: te,
    chunked: te !== undefined && /(^|,)\s*chunked\s*$/i.test(te),
    upgrade: hasUpgrade && /(^|,)\s*upgrade\s*(,|$)/.test(connection),
  };
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^ ]+) HTTP\/(\d)\.(\d)$/;
const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/;

/** A parsed start line: a request line (`status` 0) or a status line (`method` ''). Shared. */
export interface StartLine {
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly reason: string;
  readonly major: number;
  readonly minor: number;
}

/** Parses the start line b[s, e) (no line ending); null when it is neither kind. */
export function parseStartLine(b: Uint8Array, s: number, e: number): StartLine | null {
  const line = lineText(b, s, e);
  const rl = REQUEST_LINE.exec(line);
  if (rl) return { method: rl[1]!, target: rl[2]!, status: 0, reason: '', major: +rl[3]!, minor: +rl[4]! };
  const sl = STATUS_LINE.exec(line);
  if (!sl) return null;
  return { method: '', target: '', status: +sl[3]!, reason: sl[4] ?? '', major: +sl[1]!, minor: +sl[2]! };
}

/** Longest line or section kept in a cache: at most 1024 × 4 KiB per cache. */
const MAX_CACHED_BYTES = 4096;

/**
 * Parsed values by the bytes they came from: a hash of the bytes picks the slot, a byte compare
 * confirms the hit. When full it starts over.
 */
class ByContent<T> {
  private readonly byHash = new Map<number, { readonly bytes: Uint8Array; readonly value: T }>();

  constructor(private readonly maxEntries: number, private readonly parse: (b: Uint8Array, s: number, e: number) => T | null) {}

  get(b: Uint8Array, s: number, e: number): T | null {
    // Big sections are rare and would make the cache's memory unbounded in practice.
    if (e - s > MAX_CACHED_BYTES) return this.parse(b, s, e);
    // FNV-1a over 4 bytes at a time: the multiply chain, not the loads, is what costs.
    let h = 0x811c9dc5 ^ (e - s);
    let i = s;
    for (; i + 4 <= e; i += 4) h = Math.imul(h ^ (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)), 0x01000193);
    for (; i < e; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
    // 30 bits: a small integer key, which V8 hashes without boxing it.
    h &= 0x3fffffff;
    const hit = this.byHash.get(h);
    // The bytes decide (a native memcmp); the hash only picks the slot.
    if (hit !== undefined && hit.bytes.length === e - s && compare.call(hit.bytes, b, s, e) === 0) return hit.value;
    const value = this.parse(b, s, e);
    if (value === null) return null;
    if (this.byHash.size >= this.maxEntries) this.byHash.clear();
    this.byHash.set(h, { bytes: b.slice(s, e), value });
    return value;
  }
}

/**
 * Parsed start lines and header sections by content; one per stitcher, shared by its parsers.
 * A client polling one URL repeats its request line too, and every response line repeats.
 */
export class HeadCache {
  private readonly lines: ByContent<StartLine>;
  private readonly sections: ByContent<HeaderSection>;

  /** `maxEntries`: distinct lines, and distinct sections, kept. */
  constructor(maxEntries = 1024) {
    this.lines = new ByContent(maxEntries, parseStartLine);
    this.sections = new ByContent(maxEntries, parseHeaderSection);
  }

  /** The parsed start line b[s, e) (without its line ending), or null when it is not one. */
  startLine(b: Uint8Array, s: number, e: number): StartLine | null {
    return this.lines.get(b, s, e);
  }

  /** The parsed header section b[s, e) (through the blank line), or null when invalid. */
  section(b: Uint8Array, s: number, e: number): HeaderSection | null {
    return this.sections.get(b, s, e);
  }
}
