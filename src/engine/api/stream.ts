import type { ServerResponse } from 'node:http';
import { PxlError, type Diagnostic } from '../pxl/diagnostic.js';
import type { StreamPosition, StreamQuery } from '../pxl/exec/stream.js';
import type { StreamLine, StreamTable } from './contract.js';
import { resultToJson } from './encode.js';

/*
 * Streamed answers (`stream: true`): the HTTP side. A LiveStream produces lines a step at a
 * time; `serveStream` writes them through a bounded buffer. While a stream sends stored rows it
 * waits for its reader (the rows stay in the store); once it is live it never waits: a batch
 * that finds the buffer full is dropped and counted, the count goes out as a warning line when
 * there is room again, and a reader that stays behind is disconnected. Capture never waits on
 * any of this: streams read the store, they are not fed by it.
 */

type StartLine = Extract<StreamLine, { t: 'start' }>;

/** A running stream as the HTTP layer drives it. */
export interface LiveStream {
  readonly start: StartLine;
  /** One step: its lines, the rows they carry, and whether the stream has caught up with the newest rows. */
  next(signal: AbortSignal): Promise<{ readonly lines: readonly StreamLine[]; readonly rows: number; readonly caughtUp: boolean }>;
  /** The cursor of everything sent so far. */
  cursor(): string;
  /** Releases what the stream holds open (the broker's engine streams). */
  close?(): void;
}

/** Limits of streamed answers. */
export interface StreamLimits {
  /** Streams open at once per token (the engine has one token: per engine). */
  readonly maxStreams: number;
  /** Bytes of lines a stream may hold for its reader (its own buffer plus the socket's). */
  readonly bufferBytes: number;
  /** A live reader that had rows dropped and has taken no batch since, this long, is disconnected. */
  readonly maxBehindMs: number;
  /** How often a caught-up stream looks for new rows. */
  readonly pollMs: number;
  /** A heartbeat line (with the cursor) after this long without a line. */
  readonly heartbeatMs: number;
}

export const DEFAULT_STREAM_LIMITS: StreamLimits = {
  maxStreams: 8,
  bufferBytes: 4 << 20,
  maxBehindMs: 10_000,
  pollMs: 100,
  heartbeatMs: 5_000,
};

/** The cursor's text: base64url JSON of the store's epoch, the next row per table and the end of the last window per output. */
function encodeCursor(epoch: string, p: StreamPosition): string {
  const w = Object.fromEntries(Object.entries(p.windows).map(([k, v]) => [k, v.toString()]));
  return Buffer.from(JSON.stringify({ e: epoch, s: p.seqs, w })).toString('base64url');
}

/** Reads a cursor; a malformed one is a 400 (BAD_CURSOR), never a guess. */
export function decodeCursor(text: string): { epoch: string; position: StreamPosition } {
  const bad = (why: string): PxlError => new PxlError('BAD_CURSOR', `the cursor is not one this API gave out: ${why}`, undefined, ['pass the cursor of the last line you received, unchanged']);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    throw bad('not base64url JSON');
  }
  if (typeof v !== 'object' || v === null) throw bad('not an object');
  const { e, s, w } = v as Record<string, unknown>;
  if (typeof e !== 'string') throw bad('no epoch');
  if (typeof s !== 'object' || s === null || typeof w !== 'object' || w === null) throw bad('no positions');
  const seqs: Record<string, number> = {};
  for (const [k, x] of Object.entries(s)) {
    if (!Number.isSafeInteger(x) || (x as number) < 0) throw bad(`position of ${k} is not a row number`);
    seqs[k] = x as number;
  }
  const windows: Record<string, bigint> = {};
  for (const [k, x] of Object.entries(w)) {
    if (typeof x !== 'string' || !/^-?\d{1,20}$/.test(x)) throw bad(`window end of ${k} is not a time`);
    windows[k] = BigInt(x);
  }
  return { epoch: e, position: { seqs, windows } };
}

/** The engine's stream over its store: each step's results as one batch line. */
export function localStream(query: StreamQuery, epoch: string, names: readonly string[], warnings: readonly Diagnostic[]): LiveStream {
  const cursor = (): string => encodeCursor(epoch, query.position());
  return {
    start: {
      t: 'start',
      outputs: names.map((name, i) => {
        const m = query.modes[i]!;
        return m.kind === 'rows' ? { name, mode: 'rows' as const } : { name, mode: 'windows' as const, windowNs: m.widthNs.toString() };
      }),
      cursor: cursor(),
      warnings,
    },
    cursor,
    async next(signal) {
      const step = await query.step(BigInt(Date.now()) * 1_000_000n, signal);
      const lines: StreamLine[] = step.missed.map((m) => ({
        t: 'warning' as const,
        warning: {
          severity: 'warning' as const,
          code: 'STREAM_ROWS_MISSED',
          message: `${m.rows} rows of ${m.table} left the store before this stream read them`,
          hints: ['the store keeps the newest rows within its byte budget; resume sooner, or give the engine a larger --budget-mib'],
        },
        rows: m.rows,
      }));
      const tables: StreamTable[] = [];
      for (const r of step.results) {
        for (const t of resultToJson(r.result).tables) {
          if (t.rowCount === 0) continue;
          tables.push(r.window ? { ...t, window: { from: r.window.fromNs === null ? null : r.window.fromNs.toString(), to: r.window.toNs.toString() } } : t);
        }
      }
      let rows = 0;
      for (const t of tables) rows += t.rowCount;
      if (tables.length > 0) lines.push({ t: 'batch', tables, cursor: cursor() });
      return { lines, rows, caughtUp: step.caughtUp };
    },
  };
}

/** NDJSON lines to a response through a buffer of `cap` bytes (queued here plus unsent in the socket). */
class LineSink {
  private readonly queue: string[] = [];
  private queued = 0;
  private blocked = false;
  private waiters: (() => void)[] = [];
  private ending = false;
  lastWriteMs = Date.now();

  constructor(
    private readonly raw: ServerResponse,
    private readonly cap: number,
  ) {
    raw.on('drain', () => {
      this.blocked = false;
      this.pump();
    });
  }

  full(): boolean {
    return this.queued + this.raw.writableLength >= this.cap;
  }

  send(line: StreamLine): void {
    const text = JSON.stringify(line) + '\n';
    this.queue.push(text);
    this.queued += Buffer.byteLength(text);
    this.lastWriteMs = Date.now();
    this.pump();
  }

  /** Resolves once the buffer has room (or the signal aborts). */
  room(signal: AbortSignal): Promise<void> {
    if (!this.full() || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Ends the response once every queued line is written. */
  end(): void {
    this.ending = true;
    this.pump();
  }

  private pump(): void {
    while (!this.blocked && this.queue.length > 0 && !this.raw.destroyed) {
      const text = this.queue.shift()!;
      this.queued -= Buffer.byteLength(text);
      if (!this.raw.write(text)) this.blocked = true;
    }
    if (this.ending && this.queue.length === 0 && !this.raw.destroyed && !this.raw.writableEnded) this.raw.end();
    if (!this.full()) {
      const ws = this.waiters;
      this.waiters = [];
      for (const w of ws) w();
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Writes a stream to a response until the client goes away (`signal`), the stream fails (an
 * `error` line, then the end) or the reader stays behind too long (the connection is closed).
 */
export async function serveStream(raw: ServerResponse, live: LiveStream, limits: StreamLimits, signal: AbortSignal): Promise<void> {
  const sink = new LineSink(raw, limits.bufferBytes);
  sink.send(live.start);
  let isLive = false;
  let dropped = 0;
  let behindSince: number | null = null;
  const reportDropped = (): void => {
    if (dropped === 0 || sink.full()) return;
    sink.send({
      t: 'warning',
      warning: {
        severity: 'warning',
        code: 'STREAM_ROWS_DROPPED',
        message: `${dropped} rows were dropped: this client read more slowly than they were captured`,
        hints: ['they are still in the store for a while: reconnect with the cursor of the last batch you received to read them'],
      },
      rows: dropped,
    });
    dropped = 0;
  };
  try {
    while (!signal.aborted) {
      const step = await live.next(signal);
      reportDropped();
      if (step.lines.length > 0) {
        if (!isLive) await sink.room(signal);
        if (signal.aborted) break;
        if (isLive && sink.full()) {
          dropped += step.rows;
          behindSince ??= Date.now();
          // Only batches are dropped. A drop count from further up (a broker's engine) joins this
          // stream's own; other warnings are small and rare, and go out over the cap.
          for (const l of step.lines) {
            if (l.t === 'warning' && l.warning.code === 'STREAM_ROWS_DROPPED') dropped += l.rows ?? 0;
            else if (l.t !== 'batch') sink.send(l);
          }
        } else {
          for (const l of step.lines) sink.send(l);
          if (isLive) behindSince = null;
        }
      }
      // Behind: rows were dropped and no batch has been taken since. (Whether the reader reads
      // cannot be told from here once the kernel's socket buffers take what was queued.)
      if (behindSince !== null && Date.now() - behindSince > limits.maxBehindMs) {
        // No last line could reach it: its socket is full.
        raw.destroy();
        return;
      }
      if (!step.caughtUp) continue;
      if (!isLive) {
        isLive = true;
        sink.send({ t: 'live', cursor: live.cursor() });
      } else if (Date.now() - sink.lastWriteMs >= limits.heartbeatMs && !sink.full()) {
        sink.send({ t: 'heartbeat', cursor: live.cursor() });
      }
      await sleep(limits.pollMs, signal);
    }
  } catch (e) {
    if (signal.aborted) return;
    if (!(e instanceof PxlError)) throw e;
    sink.send({ t: 'error', error: e.diagnostic });
  } finally {
    live.close?.();
  }
  sink.end();
}
