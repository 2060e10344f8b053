/**
 * How parsed messages become column values: header JSON with redaction, body prefixes as text,
 * the content type enum.
 */
import { HttpContentType } from './schema.js';
import { bytesToText } from './parser.js';

/** Header names whose values are redacted by default (lower case). */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = [
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key', 'api-key', 'apikey',
  'x-auth-token', 'x-access-token', 'x-amz-security-token', 'x-csrf-token', 'x-xsrf-token',
];

/** Names that look like credentials even when not listed: *api-key*, *auth-token*, *secret* … */
const CREDENTIAL_NAME = /(^|[-_])(api[-_]?key|auth[-_]?token|access[-_]?token|session[-_]?token|secret|password)([-_]|$)/;

/** What a redacted value reads as. */
export const REDACTED = '[REDACTED]';

/** Decides which header values are hidden. */
export class Redactor {
  private readonly names: ReadonlySet<string>;
  private readonly byPattern: boolean;
  /** Decisions by lower-case name: header names repeat endlessly, the pattern test is not free. */
  private readonly memo = new Map<string, boolean>();

  /**
   * `names` undefined: the defaults plus credential-looking names; a list: exactly those names
   * (case-insensitive); `enabled` false: nothing is redacted.
   */
  constructor(private readonly enabled: boolean, names?: readonly string[]) {
    this.names = new Set((names ?? DEFAULT_REDACTED_HEADERS).map((n) => n.toLowerCase()));
    this.byPattern = names === undefined;
  }

  /** Whether the value of the header with this lower-case name is hidden. */
  hides(lower: string): boolean {
    if (!this.enabled) return false;
    let hide = this.memo.get(lower);
    if (hide === undefined) {
      hide = this.names.has(lower) || (this.byPattern && CREDENTIAL_NAME.test(lower));
      if (this.memo.size >= 4096) this.memo.clear();
      this.memo.set(lower, hide);
    }
    return hide;
  }
}

/**
 * Headers (flat triples name, lower name, value) as a JSON object string. A repeated header
 * becomes one key, named as first sent, whose values are joined with ", " in order (the
 * combination RFC 9110 §5.3 defines; for Set-Cookie it is lossy but those are redacted).
 */
export function headersJson(h: readonly string[], redactor: Redactor): string {
  let out = '{';
  const n = h.length;
  for (let i = 0; i < n; i += 3) {
    const lower = h[i + 1]!;
    let seen = false;
    for (let j = 1; j < i; j += 3) {
      if (h[j] === lower) {
        seen = true;
        break;
      }
    }
    if (seen) continue;
    let value = h[i + 2]!;
    for (let j = i + 4; j < n; j += 3) if (h[j] === lower) value += ', ' + h[j + 1]!;
    if (redactor.hides(lower)) value = REDACTED;
    if (out.length > 1) out += ',';
    out += jsonString(h[i]!) + ':' + jsonString(value);
  }
  return out + '}';
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f]/;

/** A JSON string literal; most header text needs no escaping, so skip the general path. */
function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : '"' + s + '"';
}

/** Value of the first header with this lower-case name, or ''. */
export function headerValue(h: readonly string[], lower: string): string {
  for (let i = 1; i < h.length; i += 3) if (h[i] === lower) return h[i + 1]!;
  return '';
}

/** Pixie's content_type: JSON when the Content-Type names a JSON media type. */
export function contentTypeOf(h: readonly string[]): number {
  return headerValue(h, 'content-type').toLowerCase().includes('json') ? HttpContentType.JSON : HttpContentType.UNKNOWN;
}

/**
 * A body prefix as UTF-8 text, invalid bytes replaced. When the body was cut (`cut`), a
 * multi-byte sequence split by the cut is left out instead of becoming a replacement character.
 */
export function bodyText(b: Uint8Array | null, len: number, cut: boolean): string {
  if (b === null || len === 0) return '';
  let n = len;
  if (cut) {
    let i = n - 1;
    while (i >= 0 && n - i < 4 && (b[i]! & 0xc0) === 0x80) i--;
    if (i >= 0) {
      const c = b[i]!;
      const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
      if (need > n - i) n = i;
    }
  }
  return bytesToText(b, 0, n);
}
