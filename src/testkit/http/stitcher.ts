/**
 * The native HTTP stitcher (src/engine/http/native) driven from JS with capture events, for the
 * HTTP stage's tests and bench: the events are encoded into the very ring records the kernel
 * writes, so what is tested is the code the engine's drain thread runs. The engine itself
 * never goes through here (its tracer feeds the stitcher in native code).
 */
import { loadAddon, type CaptureAddon, type CtlCall, type HttpCounters, type NativeHttpOptions, type StitcherHandle } from '../../engine/capture/addon.js';
import { RecordEncoder } from '../capture/encode.js';
import type { CaptureRecord } from '../../engine/capture/types.js';
import { ProcessMetadata } from '../../engine/meta/process.js';
import { httpColumns, httpRows, type ProcessSource } from '../../engine/http/batch.js';
import type { HttpEventRow } from '../../engine/http/schema.js';

/** Stitcher options: the native ones, plus where process metadata comes from. */
export interface StitcherOptions extends NativeHttpOptions {
  /** Process metadata source. Default: a new ProcessMetadata over /proc. */
  readonly processes?: ProcessSource;
}

/** A native stitcher fed capture events. */
export class HttpStitcher {
  readonly #addon: CaptureAddon;
  readonly #handle: StitcherHandle;
  readonly #encoder = new RecordEncoder();
  readonly #processes: ProcessSource;

  constructor(opts: StitcherOptions = {}) {
    const { processes, ...native } = opts;
    this.#addon = loadAddon();
    this.#handle = this.#addon.stitcherOpen(native);
    this.#processes = processes ?? new ProcessMetadata();
  }

  /** Consumes events in delivery order; returns the rows completed by them. */
  push(events: readonly CaptureRecord[]): HttpEventRow[] {
    this.#addon.stitcherPush(this.#handle, this.#encoder.encode(events), 0n);
    return this.take();
  }

  /**
   * Time passes (wall-clock ns): holes older than the reorder window become gaps, idle
   * connections are evicted. Returns the rows that completes.
   */
  flushIdle(nowNs: bigint): HttpEventRow[] {
    this.#addon.stitcherFlushIdle(this.#handle, nowNs);
    return this.take();
  }

  /** The counters, by reason. */
  stats(): HttpCounters {
    return this.#addon.stitcherStats(this.#handle);
  }

  /** What the stitcher asked the kernel since the last call (skip a body's bytes, mute). */
  ctlCalls(): CtlCall[] {
    return this.#addon.stitcherCtlCalls(this.#handle);
  }

  /** Frees the native stitcher now rather than at garbage collection. */
  close(): void {
    this.#addon.stitcherClose(this.#handle);
  }

  private take(): HttpEventRow[] {
    const rows: HttpEventRow[] = [];
    for (const b of this.#addon.stitcherTake(this.#handle)) rows.push(...httpRows(b.rows, httpColumns(b, this.#processes)));
    return rows;
  }
}
