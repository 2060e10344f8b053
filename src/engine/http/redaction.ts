/**
 * What the capture redacts, as configured: a mode and extra names. The rules themselves, and
 * the built-in lists, live with the native parser (src/engine/http/native/redact.c) and are
 * written down in docs/capture.md ("What is kept"); redaction-vectors.json beside this file is
 * what both are tested against.
 * - `defaults` (the default): the built-in rules and lists, plus the extra names.
 * - `listed`: only the extra header names (whole values) and parameter names (values).
 * - `off`: nothing is redacted (extra names are refused).
 */

/** Which rules apply. */
type RedactionMode = 'defaults' | 'listed' | 'off';

/** How values are redacted; every field has a default. */
export interface RedactionOptions {
  /** Default 'defaults'. */
  readonly mode?: RedactionMode;
  /** Header names redacted on top of (`defaults`) or instead of (`listed`) the built-in list. */
  readonly headers?: readonly string[];
  /** Query/path parameter names, likewise. */
  readonly params?: readonly string[];
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PARAM_NAME = /^[\x21-\x7e]+$/;

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
