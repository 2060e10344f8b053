import type { Diagnostic } from '../pxl/diagnostic.js';
import type { NodeInfo, PartialLine, PartialRequest } from '../pxl/dist/wire.js';

/**
 * The broker's HTTP client for one engine: sends fragments to `POST /api/v1/partial` and hands
 * each NDJSON line to the caller as soon as it is complete, so the broker merges while the
 * engine is still sending and never holds more than one line of an engine's answer.
 */

/** An engine answered with an error, an unexpected status, or a stream that ended early. */
class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineError';
  }
}

/** What a complete engine answer adds to the query's totals. */
export interface EngineTotals {
  readonly rowsScanned: number;
  readonly bytesScanned: number;
  readonly bytesReceived: number;
  readonly warnings: readonly Diagnostic[];
}

function headers(token: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) h['authorization'] = `Bearer ${token}`;
  return h;
}

async function errorOf(res: Response): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: Diagnostic };
    if (body.error) return `${res.status} ${body.error.code}: ${body.error.message}`;
  } catch {
    // not JSON: the status and the start of the text say enough
  }
  return `${res.status} ${text.slice(0, 200)}`;
}

/** Runs fragments on one engine, calling `onLine` for every data line; throws EngineError. */
export async function callEngine(url: string, token: string | undefined, body: PartialRequest, signal: AbortSignal, onLine: (line: PartialLine) => void): Promise<EngineTotals> {
  const res = await fetch(`${url}/api/v1/partial`, { method: 'POST', headers: headers(token), body: JSON.stringify(body), signal });
  if (!res.ok || !res.body) throw new EngineError(`answered ${await errorOf(res)}`);
  const decoder = new TextDecoder();
  let pending = '';
  let bytes = 0;
  let end: Extract<PartialLine, { t: 'end' }> | null = null;
  const handle = (text: string): void => {
    if (text === '') return;
    let line: PartialLine;
    try {
      line = JSON.parse(text) as PartialLine;
    } catch {
      throw new EngineError(`sent a line that is not JSON: ${text.slice(0, 80)}`);
    }
    if (line.t === 'error') throw new EngineError(`failed: ${line.error.code}: ${line.error.message}`);
    if (line.t === 'end') end = line;
    else onLine(line);
  };
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    pending += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      handle(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  }
  handle(pending + decoder.decode());
  const done = end as Extract<PartialLine, { t: 'end' }> | null;
  if (!done) throw new EngineError('closed its answer before the end line (it may have crashed)');
  return { rowsScanned: done.stats.rowsScanned, bytesScanned: done.stats.bytesScanned, bytesReceived: bytes, warnings: done.warnings };
}

/** `GET path` on an engine as JSON; throws EngineError on failure. */
export async function getJson<T>(url: string, path: string, token: string | undefined, signal: AbortSignal): Promise<T> {
  const res = await fetch(`${url}${path}`, { headers: headers(token), signal });
  if (!res.ok) throw new EngineError(`answered ${await errorOf(res)}`);
  return (await res.json()) as T;
}

/** An engine's `GET /api/v1/node`, checked. */
export async function nodeInfo(url: string, token: string | undefined, signal: AbortSignal): Promise<NodeInfo> {
  const o = await getJson<Record<string, unknown>>(url, '/api/v1/node', token, signal);
  const list = (v: unknown): string[] | undefined => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : undefined);
  const info: { node: string; namespaces?: string[]; pods?: string[]; services?: string[] } = { node: typeof o['node'] === 'string' ? o['node'] : '' };
  const ns = list(o['namespaces']);
  const pods = list(o['pods']);
  const svcs = list(o['services']);
  if (ns) info.namespaces = ns;
  if (pods) info.pods = pods;
  if (svcs) info.services = svcs;
  return info;
}
