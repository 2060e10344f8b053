/**
 * How parsed messages become column values: header JSON with redaction, the request target with
 * redaction, body prefixes as text, the content type enum.
 *
 * Redaction rules. They are exact because a native implementation must give byte-identical
 * results; `redaction-vectors.json` beside this file holds the test vectors both are checked
 * against, and docs/capture.md says the same for users. `[REDACTED]` is the marker throughout.
 *
 * Configuration: a mode, extra header names and extra parameter names.
 * - `defaults` (the default): rules H1–H3 and T1–T4 below with the built-in lists, plus the extra
 *   names.
 * - `listed`: only H1 and T2/T3 by exact name, with only the extra names (the built-in lists,
 *   the credential-name rule and the value patterns are off).
 * - `off`: nothing is redacted (extra names are refused).
 * Extra header names must be HTTP tokens; extra parameter names must be non-empty printable ASCII.
 * Names are compared after ASCII lower-casing.
 *
 * Words of a name (used by the credential-name rule). The words are the maximal runs of ASCII
 * letters and digits; inside a run a new word also starts at an uppercase letter that follows a
 * lowercase letter or a digit, or that follows an uppercase letter and is followed by a lowercase
 * one ("XApiKey" → x, api, key; "oauth2Token" → oauth2, token; "AWSAccessKeyId" → aws, access,
 * key, id). Words are lower-cased. Every other character separates words.
 * A name looks like a credential when one of its words ends with one of CREDENTIAL_SUFFIXES, or
 * two consecutive words form one of CREDENTIAL_PAIRS.
 *
 * Headers (req_headers, resp_headers: a JSON object). Field lines are grouped by lower-case name
 * into one key, spelled as first sent, in first-appearance order.
 * - H1 by name: when the lower-case name is in the header list (or, in `defaults`, the key's
 *   name as first sent looks like a credential), the key's value is `[REDACTED]`, however many
 *   lines it had.
 * - Otherwise each line's value (OWS already trimmed by the parser) goes through H2, then H3,
 *   and the results are joined with ", " in order.
 * - H2 auth scheme (`defaults`; not for WWW-Authenticate and Proxy-Authenticate, whose scheme
 *   starts a challenge, not credentials): the value's first word is the text before its first SP
 *   or HTAB; when that is non-empty, is in AUTH_SCHEMES (ASCII case-insensitive) and a character
 *   other than SP/HTAB follows it somewhere, the value becomes that word as sent, one SP,
 *   `[REDACTED]`.
 * - H3 token patterns (`defaults`): see T4; applied to the value when H2 did not change it.
 * JSON: `{`, then `"key":"value"` pairs separated by `,`, then `}`, no spaces. Strings are escaped
 * as JSON.stringify does: `"` and `\` with a backslash; \b \f \n \r \t; other code points below
 * U+0020 as \u00XX with lower-case hex; lone UTF-16 surrogates as \uDXXX in lower-case hex;
 * everything else as is.
 *
 * Request target (req_path), in `defaults` unless said otherwise, in this order:
 * - T1 userinfo: when the target starts with a scheme (a letter, then letters, digits, `+`, `-`,
 *   `.`) and `://`, the authority runs to the first `/`, `?` or `#` after it (or the end); when
 *   it holds an `@`, everything from after `://` to its last `@` is replaced by `[REDACTED]`.
 * - The query is everything after the first `?`; the path part everything before it.
 * - T2 path parameters (also `listed`): in the path part every `;` starts a parameter that ends
 *   at the next `;`, `/` or the end of the path part.
 * - T3 query parameters (also `listed`): the query is split at every `&`.
 *   A T2/T3 parameter without `=` is kept. Otherwise its name is the text before its first `=`
 *   and its value the rest; a non-empty value is replaced by `[REDACTED]` when the name matches:
 *   the name is percent-decoded once (`%` and two hex digits become that byte; `+` becomes SP;
 *   any other `%` stays), and matches when its ASCII lower-case form is in the parameter list
 *   or (`defaults`) the decoded name looks like a credential. Names and separators are kept.
 * - T4 token patterns, over the whole target after T1–T3, left to right; at each position the
 *   first of these that matches is replaced by `[REDACTED]` and the scan goes on after it:
 *   a JWT/JWE: `eyJ`, one or more base64url characters [A-Za-z0-9_-], then two or more groups of
 *   `.` followed by zero or more base64url characters, every run as long as possible;
 *   a known token: at the start or after a character that is not [A-Za-z0-9_-], one of
 *   TOKEN_PREFIXES (case-sensitive) followed by a maximal run of [A-Za-z0-9_-] at least
 *   TOKEN_MIN_RUN long (the prefix and the run are replaced). No prefix begins another or
 *   begins with `eyJ`, so at most one of these can match at a position.
 * Bodies are not redacted: their prefix is kept as sent (`--body-bytes 0` keeps none).
 */
import { HttpContentType } from './schema.js';
import { bytesToText } from './parser.js';

/** What a redacted value reads as. */
export const REDACTED = '[REDACTED]';

/** Header names whose values are redacted by default (lower case); the credential-name rule adds more. */
export const DEFAULT_REDACTED_HEADERS: readonly string[] = [
  'authorization', 'proxy-authorization', 'cookie', 'set-cookie',
  'x-api-key', 'api-key', 'apikey', 'x-api-token', 'token', 'private-token',
  'x-auth-token', 'x-access-token', 'x-refresh-token', 'x-id-token', 'x-csrf-token', 'x-xsrf-token',
  'x-amz-security-token', 'x-vault-token', 'x-gitlab-token', 'x-jwt-assertion',
  'x-goog-iap-jwt-assertion', 'cf-access-jwt-assertion', 'x-amzn-oidc-accesstoken', 'x-amzn-oidc-data',
  'x-auth-key', 'x-functions-key', 'ocp-apim-subscription-key', 'x-sentry-auth', 'x-honeycomb-team',
];

/**
 * Query and path parameter names whose values are redacted by default (lower case); the
 * credential-name rule adds more. `key` (Google API keys), `code` (OAuth authorization codes,
 * credentials until redeemed), `sig`/`signature` and the X-Amz/X-Goog signing parameters
 * (pre-signed URLs), session ids that frameworks put in URLs.
 */
export const DEFAULT_REDACTED_PARAMS: readonly string[] = [
  'token', 'access_token', 'refresh_token', 'id_token', 'private_token', 'oauth_token', 'oauth_verifier',
  'api_key', 'apikey', 'key', 'code', 'auth', 'jwt', 'assertion', 'client_assertion', 'samlresponse',
  'password', 'passwd', 'pwd', 'pass', 'secret', 'client_secret',
  'signature', 'sig', 'x-amz-signature', 'x-amz-credential', 'x-amz-security-token',
  'x-goog-signature', 'x-goog-credential', 'awsaccesskeyid',
  'session', 'sessionid', 'session_id', 'sid', 'phpsessid', 'jsessionid',
];

/** A name word ending with one of these makes the name look like a credential. */
export const CREDENTIAL_SUFFIXES: readonly string[] = [
  'token', 'secret', 'password', 'passwd', 'pwd', 'passphrase', 'apikey', 'sessionid',
  'authorization', 'credential', 'credentials', 'signature', 'jwt', 'cookie',
];

/** Two consecutive name words that make the name look like a credential. */
export const CREDENTIAL_PAIRS: readonly (readonly [string, string])[] = [
  ['api', 'key'], ['private', 'key'], ['access', 'key'], ['auth', 'key'], ['master', 'key'],
  ['app', 'key'], ['application', 'key'], ['subscription', 'key'], ['session', 'id'], ['session', 'key'],
];

/** Authorization schemes (lower case) whose credentials H2 hides: IANA's registry plus common unregistered ones. */
export const AUTH_SCHEMES: readonly string[] = [
  'basic', 'bearer', 'digest', 'negotiate', 'ntlm', 'dpop', 'gnap', 'hoba', 'mutual', 'oauth',
  'privatetoken', 'scram-sha-1', 'scram-sha-256', 'vapid', 'concealed', 'aws4-hmac-sha256', 'token', 'apikey',
];

/** Prefixes of provider tokens T4/H3 hide (GitHub, GitLab, Slack, Stripe, Anthropic, OpenAI, npm, PyPI, Google OAuth, Hugging Face). */
export const TOKEN_PREFIXES: readonly string[] = [
  'ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_', 'github_pat_', 'glpat-', 'xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-',
  'sk_live_', 'rk_live_', 'sk-ant-', 'sk-proj-', 'npm_', 'pypi-', 'ya29.', 'hf_',
];

/** Characters a known token's run needs after its prefix. */
export const TOKEN_MIN_RUN = 16;

/** Which rules apply: see the top of this file. */
export type RedactionMode = 'defaults' | 'listed' | 'off';

/** How values are redacted; every field has a default. */
export interface RedactionOptions {
  /** Default 'defaults'. */
  readonly mode?: RedactionMode;
  /** Header names redacted on top of (`defaults`) or instead of (`listed`) the built-in list. */
  readonly headers?: readonly string[];
  /** Query/path parameter names, likewise. */
  readonly params?: readonly string[];
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Where T4 may match at all: most values and paths have none of these, and skip the scan. */
const TOKEN_START = new RegExp(['eyJ', ...TOKEN_PREFIXES].map(escapeRe).join('|'));
const PAIRS = new Set(CREDENTIAL_PAIRS.map(([a, b]) => `${a} ${b}`));
const SCHEMES = new Set(AUTH_SCHEMES);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PARAM_NAME = /^[\x21-\x7e]+$/;
const SCHEME_PREFIX = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

const isUpper = (c: number): boolean => c >= 65 && c <= 90;
const isLower = (c: number): boolean => c >= 97 && c <= 122;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** The words of a name, lower-cased (see the top of this file). */
export function nameWords(name: string): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 0;
    if (!(isUpper(c) || isLower(c) || isDigit(c))) {
      if (start >= 0) words.push(name.slice(start, i).toLowerCase());
      start = -1;
    } else if (start < 0) {
      start = i;
    } else if (isUpper(c)) {
      const prev = name.charCodeAt(i - 1);
      if (isLower(prev) || isDigit(prev) || (isUpper(prev) && isLower(name.charCodeAt(i + 1)))) {
        words.push(name.slice(start, i).toLowerCase());
        start = i;
      }
    }
  }
  return words;
}

/** Whether a name looks like a credential: a word ending in a credential suffix, or a credential pair. */
export function looksLikeCredential(name: string): boolean {
  const words = nameWords(name);
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    for (const s of CREDENTIAL_SUFFIXES) if (w.endsWith(s)) return true;
    if (i > 0 && PAIRS.has(`${words[i - 1]} ${w}`)) return true;
  }
  return false;
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Percent-decodes once (a byte per escape, `+` as space); other `%` stay. */
function decodeName(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '+') out += ' ';
    else if (c === '%' && HEX.test(s.slice(i + 1, i + 3))) {
      out += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else out += c;
  }
  return out;
}

/** ASCII-only lower case: decoded bytes above 0x7f must not be case-folded. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

/** Throws a RangeError naming a bad extra name, or extra names with mode 'off'. */
export function checkRedaction(opts: RedactionOptions): void {
  const headers = opts.headers ?? [];
  const params = opts.params ?? [];
  if (opts.mode === 'off' && headers.length + params.length > 0) {
    throw new RangeError('redaction is off, so no header or parameter names can be added');
  }
  for (const h of headers) if (!HEADER_NAME.test(h)) throw new RangeError(`'${h}' is not an HTTP header name`);
  for (const p of params) if (!PARAM_NAME.test(p)) throw new RangeError(`'${p}' is not a parameter name (printable ASCII, no spaces)`);
}

/** Decides what is hidden in headers and request targets; one per stitcher. */
export class Redactor {
  private readonly mode: RedactionMode;
  private readonly headerNames: ReadonlySet<string>;
  private readonly paramNames: ReadonlySet<string>;
  /** Decisions by header name as sent: names repeat endlessly, the word rule is not free. */
  private readonly memo = new Map<string, boolean>();
  /** Decisions by parameter name as sent, likewise. */
  private readonly paramMemo = new Map<string, boolean>();

  /** Throws what {@link checkRedaction} throws. */
  constructor(opts: RedactionOptions = {}) {
    checkRedaction(opts);
    this.mode = opts.mode ?? 'defaults';
    const headers = opts.headers ?? [];
    const params = opts.params ?? [];
    const builtIn = this.mode === 'defaults';
    this.headerNames = new Set([...(builtIn ? DEFAULT_REDACTED_HEADERS : []), ...headers].map(asciiLower));
    this.paramNames = new Set([...(builtIn ? DEFAULT_REDACTED_PARAMS : []), ...params].map(asciiLower));
  }

  /** Whether the value of a header is hidden whole (H1); `lower` is its lower-case name. */
  hidesHeader(name: string, lower: string): boolean {
    if (this.mode === 'off') return false;
    let hide = this.memo.get(name);
    if (hide === undefined) {
      hide = this.headerNames.has(lower) || (this.mode === 'defaults' && looksLikeCredential(name));
      if (this.memo.size >= 4096) this.memo.clear();
      this.memo.set(name, hide);
    }
    return hide;
  }

  /** One header line's value after H2 and H3; `lower` is the header's lower-case name. */
  headerValue(lower: string, value: string): string {
    if (this.mode !== 'defaults') return value;
    if (lower === 'www-authenticate' || lower === 'proxy-authenticate') return hideTokens(value);
    let sp = 0;
    while (sp < value.length && value.charCodeAt(sp) !== 32 && value.charCodeAt(sp) !== 9) sp++;
    if (sp > 0 && sp < value.length && SCHEMES.has(asciiLower(value.slice(0, sp))) && /[^ \t]/.test(value.slice(sp))) {
      return `${value.slice(0, sp)} ${REDACTED}`;
    }
    return hideTokens(value);
  }

  /** The request target after T1–T4. */
  target(t: string): string {
    if (this.mode === 'off') return t;
    const builtIn = this.mode === 'defaults';
    if (builtIn && t.charCodeAt(0) !== 47) t = hideUserinfo(t);
    const q = t.indexOf('?');
    const semi = t.indexOf(';');
    if (semi >= 0 && (q < 0 || semi < q)) t = this.params(t, semi, q < 0 ? t.length : q, ';');
    const q2 = t.indexOf('?');
    if (q2 >= 0) t = this.params(t, q2, t.length, '&');
    return builtIn ? hideTokens(t) : t;
  }

  /**
   * T2/T3 over t[from, end): t[from] starts the first parameter, `sep` starts the next ones
   * (path parameters also end at `/`). Copies only when a value is hidden.
   */
  private params(t: string, from: number, end: number, sep: string): string {
    let out = '';
    let copied = 0;
    let start = from + 1;
    while (start <= end) {
      let stop = start;
      let eq = -1;
      while (stop < end && t[stop] !== sep && !(sep === ';' && t[stop] === '/')) {
        if (eq < 0 && t[stop] === '=') eq = stop;
        stop++;
      }
      if (eq >= 0 && eq < stop - 1 && this.hidesParam(t.slice(start, eq))) {
        out += t.slice(copied, eq + 1) + REDACTED;
        copied = stop;
      }
      if (sep === ';' && stop < end && t[stop] === '/') {
        // Parameters start again only at the next `;`.
        const next = t.indexOf(';', stop);
        if (next < 0 || next >= end) break;
        stop = next;
      }
      start = stop + 1;
    }
    return copied === 0 ? t : out + t.slice(copied);
  }

  /** Whether the value of a parameter with this name (as sent, still encoded) is hidden. */
  private hidesParam(raw: string): boolean {
    let hide = this.paramMemo.get(raw);
    if (hide === undefined) {
      const decoded = decodeName(raw);
      hide = this.paramNames.has(asciiLower(decoded)) || (this.mode === 'defaults' && looksLikeCredential(decoded));
      if (this.paramMemo.size >= 4096) this.paramMemo.clear();
      this.paramMemo.set(raw, hide);
    }
    return hide;
  }
}

const isToken = (c: number): boolean => isUpper(c) || isLower(c) || isDigit(c) || c === 95 || c === 45;

/** The end of the run of base64url characters [A-Za-z0-9_-] that starts at `i`. */
function runEnd(s: string, i: number): number {
  while (i < s.length && isToken(s.charCodeAt(i))) i++;
  return i;
}

/**
 * T4/H3: JWTs and known provider tokens, scanned by hand rather than by a regex so that the
 * time stays linear: a JWT that fails at one `eyJ` fails at every later `eyJ` of the same run
 * (they share the run's end and what follows it), so the scan skips the run.
 */
function hideTokens(s: string): string {
  if (!TOKEN_START.test(s)) return s;
  let out = '';
  let copied = 0;
  let i = 0;
  while (i < s.length) {
    let end = -1;
    if (s.startsWith('eyJ', i)) {
      const first = runEnd(s, i);
      let p = first;
      let groups = 0;
      while (first - i > 3 && s.charCodeAt(p) === 46) {
        p = runEnd(s, p + 1);
        groups++;
      }
      if (groups < 2) {
        i = first;
        continue;
      }
      end = p;
    } else if (i === 0 || !isToken(s.charCodeAt(i - 1))) {
      for (const prefix of TOKEN_PREFIXES) {
        if (!s.startsWith(prefix, i)) continue;
        const r = runEnd(s, i + prefix.length);
        if (r - (i + prefix.length) >= TOKEN_MIN_RUN) end = r;
        break;
      }
    }
    if (end < 0) {
      i++;
      continue;
    }
    out += s.slice(copied, i) + REDACTED;
    copied = end;
    i = end;
  }
  return copied === 0 ? s : out + s.slice(copied);
}

/** T1: the userinfo of an absolute-form target. */
function hideUserinfo(t: string): string {
  const m = SCHEME_PREFIX.exec(t);
  if (m === null) return t;
  const start = m[0].length;
  let end = start;
  while (end < t.length && t[end] !== '/' && t[end] !== '?' && t[end] !== '#') end++;
  const at = t.lastIndexOf('@', end - 1);
  return at >= start ? t.slice(0, start) + REDACTED + t.slice(at) : t;
}

/**
 * Headers (flat triples name, lower name, value) as a JSON object string, redacted (see the
 * top of this file). A repeated header becomes one key, named as first sent, whose values are
 * joined with ", " in order (the combination RFC 9110 §5.3 defines; for Set-Cookie it is lossy
 * but those are redacted).
 */
export function headersJson(h: readonly string[], redactor: Redactor): string {
  // A Map keeps first-appearance order, and a section of thousands of fields stays linear.
  const keys = new Map<string, { readonly name: string; value: string | null }>();
  for (let i = 0; i < h.length; i += 3) {
    const lower = h[i + 1]!;
    const key = keys.get(lower);
    if (key === undefined) keys.set(lower, { name: h[i]!, value: redactor.hidesHeader(h[i]!, lower) ? null : redactor.headerValue(lower, h[i + 2]!) });
    else if (key.value !== null) key.value += ', ' + redactor.headerValue(lower, h[i + 2]!);
  }
  let out = '{';
  for (const { name, value } of keys.values()) {
    if (out.length > 1) out += ',';
    out += jsonString(name) + ':' + jsonString(value ?? REDACTED);
  }
  return out + '}';
}

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

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
