import type { Diagnostic } from '../pxl/diagnostic.js';
import type { PartialLine, PartialRequest } from '../pxl/distributed/wire/messages.js';
import { MalformedAnswer, type LineChecker } from './answers.js';

/**
 * The broker's HTTP client for one engine: sends fragments to `POST /api/v1/partial` and hands
 * each NDJSON line to the caller as soon as it is complete and checked, so the broker merges
 * while the engine is still sending and never holds more than one line of an engine's answer —
 * and never more than `maxLineBytes` of it, whatever the engine sends.
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

/** How one engine's answer is read. */
export interface ReadOptions {
  /** Checks each line against the fragments sent (answers.ts). */
  readonly checker: LineChecker;
  /** Longest line accepted; an engine sending a longer one is cut off. */
  readonly maxLineBytes: number;
}

/** Largest JSON body read from `/readyz`, `/api/v1/schema` and `/api/v1/node`. */
const MAX_ANSWER_BYTES = 8 << 20;
/** Of an error answer, only the start is read: it is for a message. */
const MAX_ERROR_BYTES = 64 << 10;

function headers(token: string | undefined): Record<string, string> {
  const h: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) h['authorization'] = `Bearer ${token}`;
  return h;
}

/**
 * The body as text, reading at most `max` bytes: past that the stream is cancelled and
 * `null` returned, so an engine cannot make the broker buffer an endless answer.
 */
async function readCapped(res: Response, max: number): Promise<string | null> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    if (bytes > max) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function errorOf(res: Response): Promise<string> {
  const text = (await readCapped(res, MAX_ERROR_BYTES).catch(() => '')) ?? '';
  try {
    const body = JSON.parse(text) as { error?: Diagnostic };
    if (typeof body.error?.code === 'string' && typeof body.error.message === 'string') return `${res.status} ${body.error.code}: ${body.error.message.slice(0, 500)}`;
  } catch {
    // not JSON: the status and the start of the text say enough
  }
  return `${res.status} ${text.slice(0, 200)}`;
}

/** A JSON body of at most MAX_ANSWER_BYTES, checked by `check`; throws MalformedAnswer. */
export async function readAnswer<T>(res: Response, what: string, check: (body: unknown) => T): Promise<T> {
  const text = await readCapped(res, MAX_ANSWER_BYTES);
  if (text === null) throw new MalformedAnswer(`answered ${what} with more than ${MAX_ANSWER_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new MalformedAnswer(`answered ${what} with a body that is not JSON: ${text.slice(0, 80)}`);
  }
  return check(body);
}

/** Runs fragments on one engine, calling `onLine` for every checked data line; throws EngineError or MalformedAnswer. */
export async function callEngine(
  url: string,
  token: string | undefined,
  body: PartialRequest,
  signal: AbortSignal,
  read: ReadOptions,
  onLine: (line: PartialLine) => void,
): Promise<EngineTotals> {
  const res = await fetch(`${url}/api/v1/partial`, { method: 'POST', headers: headers(token), body: JSON.stringify(body), signal });
  if (!res.ok || !res.body) throw new EngineError(`answered ${await errorOf(res)}`);
  const decoder = new TextDecoder();
  // The line being received, as decoded pieces (joined once it is complete: appending to one
  // string and searching it for every chunk would be quadratic in the line's length).
  let pending: string[] = [];
  let bytes = 0;
  // Bytes since the last newline: the line being received, whatever its characters decode to.
  let lineBytes = 0;
  let end: Extract<PartialLine, { t: 'end' }> | null = null;
  const handle = (text: string): void => {
    if (text === '') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new MalformedAnswer(`sent a line that is not JSON: ${text.slice(0, 80)}`);
    }
    const line = read.checker.check(value);
    if (end) throw new MalformedAnswer('sent a line after its end line');
    if (line.t === 'error') throw new EngineError(`failed: ${line.error.code}: ${line.error.message}`);
    if (line.t === 'end') end = line;
    else onLine(line);
  };
  for await (const chunk of res.body) {
    bytes += chunk.byteLength;
    for (let from = 0; ; ) {
      const nl = chunk.indexOf(10, from);
      lineBytes += (nl < 0 ? chunk.byteLength : nl) - from;
      if (lineBytes > read.maxLineBytes) throw new MalformedAnswer(`sent a line longer than ${read.maxLineBytes} bytes; its answer was cut off there`);
      if (nl < 0) break;
      lineBytes = 0;
      from = nl + 1;
    }
    // A newline byte is never inside a UTF-8 sequence, so each one decodes in its own chunk.
    const text = decoder.decode(chunk, { stream: true });
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      pending.push(text.slice(from, nl));
      handle(pending.join(''));
      pending = [];
      from = nl + 1;
    }
    pending.push(text.slice(from));
  }
  handle(pending.join('') + decoder.decode());
  const done = end as Extract<PartialLine, { t: 'end' }> | null;
  if (!done) throw new EngineError('closed its answer before the end line (it may have crashed)');
  return { rowsScanned: done.stats.rowsScanned, bytesScanned: done.stats.bytesScanned, bytesReceived: bytes, warnings: done.warnings };
}

/** `GET path` on an engine, its JSON body checked by `check`; throws EngineError or MalformedAnswer. */
export async function getAnswer<T>(url: string, path: string, token: string | undefined, signal: AbortSignal, check: (body: unknown) => T): Promise<T> {
  const res = await fetch(`${url}${path}`, { headers: headers(token), signal });
  if (!res.ok) throw new EngineError(`answered ${path} with ${await errorOf(res)}`);
  return readAnswer(res, path, check);
}
