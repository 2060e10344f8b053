import type { StreamLine, StreamTable } from '../api/contract.js';
import type { LiveStream } from '../api/stream.js';
import { PxlError, type Diagnostic } from '../pxl/diagnostic.js';
import type { EngineDiscovery } from './engines.js';

/*
 * A stream through the broker: the script streamed from every engine discovery lists (each
 * engine compiles it and reads its own store), fanned in. Each engine has its own cursor; the
 * broker's cursor holds them all, so a client that resumes resumes every engine where it was.
 * Engines that join are streamed from their oldest stored row; one that leaves discovery or
 * fails is reported with a warning line, and a failed one is tried again with its cursor.
 */

/** Batches an engine may have waiting for the broker; then its socket stops being read, and the engine counts what it drops. */
const QUEUE_LINES = 64;
/** Wait before streaming again from an engine whose stream failed. */
const RETRY_MS = 2000;
/** How long `next` waits for an engine line when none is waiting. */
const WAIT_MS = 50;

interface EngineStream {
  readonly url: string;
  cursor?: string;
  live: boolean;
  queue: StreamLine[];
  /** Why its stream ended, until it is reported. */
  ended?: string;
  controller: AbortController;
  retryAt: number;
  wake?: () => void;
}

/** The broker's cursor: base64url JSON of each engine's cursor by URL. */
function brokerCursor(engines: ReadonlyMap<string, EngineStream>): string {
  const e: Record<string, string> = {};
  for (const [url, s] of engines) if (s.cursor !== undefined) e[url] = s.cursor;
  return Buffer.from(JSON.stringify({ engines: e })).toString('base64url');
}

function readCursor(text: string): Record<string, string> {
  try {
    const v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { engines?: unknown };
    if (typeof v.engines === 'object' && v.engines !== null && Object.values(v.engines).every((c) => typeof c === 'string')) return v.engines as Record<string, string>;
  } catch {
    // Said below.
  }
  throw new PxlError('BAD_CURSOR', 'the cursor is not one this broker gave out', undefined, ['pass the cursor of the last line you received, unchanged']);
}

function warning(code: string, message: string): StreamLine {
  return { t: 'warning', warning: { severity: 'warning', code, message, hints: [] } };
}

/** Concatenates the tables of one output that several engines sent in one step. */
function merged(tables: readonly StreamTable[]): StreamTable[] {
  const byName = new Map<string, StreamTable>();
  for (const t of tables) {
    const have = byName.get(t.name);
    byName.set(t.name, have ? { ...have, rowCount: have.rowCount + t.rowCount, data: have.data.map((col, j) => [...col, ...t.data[j]!]) } : t);
  }
  return [...byName.values()];
}

/** What the broker stream needs of the broker. */
export interface BrokerStreamOptions {
  readonly engines: EngineDiscovery;
  readonly engineToken?: string;
  /** The request sent to each engine (with `stream: true` and its cursor added). */
  readonly body: Readonly<Record<string, unknown>>;
  readonly cursor?: string;
  readonly outputs: StreamLine & { t: 'start' };
}

/** The fan-in of one stream over the engines. */
export function brokerStream(opts: BrokerStreamOptions): LiveStream {
  const resume = opts.cursor === undefined ? {} : readCursor(opts.cursor);
  const engines = new Map<string, EngineStream>();
  let wakeNext: (() => void) | undefined;

  const open = (s: EngineStream): void => {
    s.controller = new AbortController();
    s.live = false;
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (opts.engineToken !== undefined) headers['authorization'] = `Bearer ${opts.engineToken}`;
    const body = JSON.stringify({ ...opts.body, stream: true, ...(s.cursor !== undefined ? { cursor: s.cursor } : {}) });
    void (async () => {
      try {
        const res = await fetch(`${s.url}/api/v1/query`, { method: 'POST', headers, body, signal: s.controller.signal });
        if (!res.ok || !res.body) throw new Error(`answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
        const decoder = new TextDecoder();
        let rest = '';
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          const parts = (rest + decoder.decode(chunk, { stream: true })).split('\n');
          rest = parts.pop()!;
          for (const p of parts) if (p !== '') s.queue.push(JSON.parse(p) as StreamLine);
          wakeNext?.();
          while (s.queue.length >= QUEUE_LINES && !s.controller.signal.aborted) await new Promise<void>((r) => (s.wake = r));
        }
        throw new Error('its stream ended');
      } catch (e) {
        if (s.controller.signal.aborted) return;
        s.ended = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
        s.retryAt = Date.now() + RETRY_MS;
        wakeNext?.();
      }
    })();
  };

  const sync = (lines: StreamLine[]): void => {
    const urls = new Set(opts.engines.list());
    for (const url of urls) {
      if (engines.has(url)) continue;
      const s: EngineStream = { url, live: false, queue: [], controller: new AbortController(), retryAt: 0, ...(resume[url] !== undefined ? { cursor: resume[url] } : {}) };
      engines.set(url, s);
      open(s);
    }
    for (const [url, s] of engines) {
      if (urls.has(url)) continue;
      s.controller.abort();
      engines.delete(url);
      lines.push(warning('BROKER_ENGINE_LEFT', `engine ${url} is no longer discovered; the stream goes on with the others`));
    }
  };

  return {
    start: { ...opts.outputs, cursor: opts.cursor ?? brokerCursor(engines) },
    cursor: () => brokerCursor(engines),
    close() {
      for (const s of engines.values()) s.controller.abort();
    },
    async next(signal) {
      const lines: StreamLine[] = [];
      sync(lines);
      let tables: StreamTable[] = [];
      const drain = (): void => {
        for (const s of engines.values()) {
          for (const line of s.queue) {
            if ('cursor' in line) s.cursor = line.cursor;
            if (line.t === 'batch') tables.push(...line.tables);
            else if (line.t === 'live') s.live = true;
            else if (line.t === 'warning') lines.push({ ...line, warning: { ...line.warning, message: `engine ${s.url}: ${line.warning.message}` } });
            else if (line.t === 'error') s.ended = `${line.error.code}: ${line.error.message}`;
          }
          s.queue = [];
          s.wake?.();
          if (s.ended !== undefined) {
            const d: Diagnostic = { severity: 'warning', code: 'BROKER_ENGINE_FAILED', message: `engine ${s.url}: ${s.ended}; the stream goes on with the others, and tries it again from its cursor`, hints: [] };
            lines.push({ t: 'warning', warning: d });
            s.ended = undefined;
            s.live = false;
            s.retryAt = Date.now() + RETRY_MS;
            s.controller.abort();
            s.controller = new AbortController();
          }
        }
      };
      drain();
      if (lines.length === 0 && tables.length === 0) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            signal.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, WAIT_MS);
          wakeNext = done;
          signal.addEventListener('abort', done, { once: true });
        });
        wakeNext = undefined;
        drain();
      }
      for (const s of engines.values()) if (!s.live && s.retryAt > 0 && Date.now() >= s.retryAt && s.controller.signal.aborted === false && s.queue.length === 0) {
        s.retryAt = 0;
        open(s);
      }
      tables = merged(tables);
      let rows = 0;
      for (const t of tables) rows += t.rowCount;
      if (tables.length > 0) lines.push({ t: 'batch', tables, cursor: brokerCursor(engines) });
      // Failed engines do not hold the others back: caught up when every engine streaming is live.
      const caughtUp = [...engines.values()].every((s) => s.live || s.retryAt > 0);
      return { lines, rows, caughtUp };
    },
  };
}
