/**
 * What `wisp engine`, `wisp tail` and `wisp demo` capture and keep of each exchange: the ends
 * traced, the body prefix and the redaction settings, as flags shared by the three
 * (docs/capture.md says what they mean).
 */
import type { AgentOptions } from '../agent.js';
import type { TraceSides } from '../capture/tracer.js';
import { checkRedaction, type RedactionOptions } from '../http/redaction.js';
import { UsageError } from './args.js';

/** The parseArgs options of the capture flags. */
export const CAPTURE_OPTIONS = {
  sides: { type: 'string' },
  'body-bytes': { type: 'string' },
  redact: { type: 'string' },
  'redact-header': { type: 'string', multiple: true },
  'redact-query-param': { type: 'string', multiple: true },
  'conn-stats-period-ms': { type: 'string' },
} as const;

/** Usage lines of the capture flags. */
export const CAPTURE_USAGE = `  --sides server|client|both
                          which end of each connection is traced (default both); one end
                          costs about half as much where both ends are traced processes
  --body-bytes N          body prefix kept per request and response (default 512; 0 keeps no
                          bodies; at most 1048576); sizes are always the true sizes
  --redact-header NAME    also redact this header's value (repeatable)
  --redact-query-param NAME
                          also redact this query/path parameter's value (repeatable)
  --redact MODE           defaults: the built-in rules plus the names above (docs/capture.md);
                          listed: only the names above; off: keep everything as sent
  --conn-stats-period-ms N
                          how often conn_stats rows are made (default 5000, from 100 to
                          3600000): each open connection's totals once a period`;

const MAX_BODY_BYTES = 1 << 20;

/** What the capture flags ask for. */
export interface CaptureSettings {
  readonly sides?: TraceSides;
  readonly bodyPrefixBytes?: number;
  readonly redaction: RedactionOptions;
  readonly connStatsPeriodMs?: number;
}

/** Checks the capture flags; a bad value is a UsageError naming the flag. */
export function captureSettings(values: { sides?: string; 'body-bytes'?: string; redact?: string; 'redact-header'?: string[]; 'redact-query-param'?: string[]; 'conn-stats-period-ms'?: string }): CaptureSettings {
  const sides = values.sides;
  if (sides !== undefined && sides !== 'server' && sides !== 'client' && sides !== 'both') {
    throw new UsageError(`--sides must be server, client or both (got '${sides}')`);
  }
  let bodyPrefixBytes: number | undefined;
  const body = values['body-bytes'];
  if (body !== undefined) {
    bodyPrefixBytes = /^\d+$/.test(body) ? Number(body) : NaN;
    if (!(bodyPrefixBytes <= MAX_BODY_BYTES)) throw new UsageError(`--body-bytes wants an integer from 0 to ${MAX_BODY_BYTES} (got '${body}')`);
  }
  let connStatsPeriodMs: number | undefined;
  const period = values['conn-stats-period-ms'];
  if (period !== undefined) {
    connStatsPeriodMs = /^\d+$/.test(period) ? Number(period) : NaN;
    if (!(connStatsPeriodMs >= 100 && connStatsPeriodMs <= 3_600_000)) throw new UsageError(`--conn-stats-period-ms wants an integer from 100 to 3600000 (got '${period}')`);
  }
  const mode = values.redact ?? 'defaults';
  if (mode !== 'defaults' && mode !== 'listed' && mode !== 'off') throw new UsageError(`--redact must be defaults, listed or off (got '${mode}')`);
  const headers = values['redact-header'] ?? [];
  const params = values['redact-query-param'] ?? [];
  if (mode === 'off' && headers.length + params.length > 0) {
    throw new UsageError('--redact off keeps everything, so --redact-header and --redact-query-param cannot be given with it');
  }
  if (mode === 'listed' && headers.length + params.length === 0) {
    throw new UsageError('--redact listed needs the names to redact: give --redact-header or --redact-query-param (or --redact off to keep everything)');
  }
  const redaction: RedactionOptions = { mode, headers, params };
  try {
    checkRedaction(redaction);
  } catch (e) {
    throw new UsageError(`${(e as Error).message} (--redact-header wants an HTTP header name, --redact-query-param a parameter name)`);
  }
  return {
    ...(sides !== undefined ? { sides } : {}),
    ...(bodyPrefixBytes !== undefined ? { bodyPrefixBytes } : {}),
    redaction,
    ...(connStatsPeriodMs !== undefined ? { connStatsPeriodMs } : {}),
  };
}

/** The Agent options the capture flags set. */
export function agentCapture(settings: CaptureSettings): Pick<AgentOptions, 'tracer' | 'stitcher'> {
  return {
    tracer: {
      ...(settings.sides !== undefined ? { sides: settings.sides } : {}),
      ...(settings.connStatsPeriodMs !== undefined ? { connStatsPeriodMs: settings.connStatsPeriodMs } : {}),
    },
    stitcher: { ...(settings.bodyPrefixBytes !== undefined ? { bodyPrefixBytes: settings.bodyPrefixBytes } : {}), redaction: settings.redaction },
  };
}

/** Said on stderr at start when redaction is off, so nobody runs that way by accident. */
export function redactionWarning(settings: CaptureSettings): string | undefined {
  return settings.redaction.mode === 'off' ? 'wisp: redaction is off (--redact off): credentials in headers and URLs are stored as sent' : undefined;
}
