import { Tracer, type TracerOptions } from './capture/tracer.js';
import type { CaptureEvent } from './capture/types.js';
import { HttpStitcher, type StitcherOptions } from './http/stitcher.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from './http/schema.js';
import { HostMetadata } from './meta/host.js';
import { ProcessMetadata } from './meta/process.js';
import type { MetadataView } from './meta/types.js';
import type { MetricsSnapshot } from './api/metrics.js';
import { Store } from './store/store.js';
import type { Table } from './store/table.js';

/** Everything a node agent is configured with; every field has a default. */
export interface AgentOptions {
  readonly tracer?: TracerOptions;
  readonly stitcher?: Omit<StitcherOptions, 'processes'>;
  /** Byte budget of `http_events`. */
  readonly budgetBytes?: number;
  /** How often idle connections and stale reorder holes are flushed. Default 100 ms. */
  readonly flushIntervalMs?: number;
  /**
   * A cgroup v2 directory: capture only processes in it or below it (TracerOptions.cgroup;
   * this wins over `tracer.cgroup`). Default: every process on the host.
   */
  readonly cgroup?: string;
  /**
   * Builds the metadata view over the agent's process cache (the stitcher shares it); its
   * `close()` runs when the agent closes. Default: {@link HostMetadata} (no Kubernetes).
   */
  readonly metadata?: (processes: ProcessMetadata) => MetadataView & { close?(): Promise<void> };
}

/** Receives rows as they are stitched, before or without any query. */
export type RowsListener = (rows: readonly HttpEventRow[]) => void;

/**
 * One node's pipeline: kernel tracer → HTTP stitcher → `http_events` in the store. The API and
 * `wisp tail` read from it; nothing here knows about queries.
 */
export class Agent {
  readonly store = new Store();
  readonly metadata: MetadataView & { close?(): Promise<void> };
  readonly table: Table;
  private readonly tracer: Tracer;
  private readonly stitcher: HttpStitcher;
  private readonly listeners: RowsListener[] = [];
  private readonly flushTimer: NodeJS.Timeout;
  private rowErrors = 0;
  private closed = false;

  private constructor(tracer: Tracer, opts: AgentOptions) {
    const processes = new ProcessMetadata();
    this.metadata = opts.metadata ? opts.metadata(processes) : new HostMetadata({ processes });
    this.stitcher = new HttpStitcher({ ...opts.stitcher, processes });
    this.table = this.store.create(HTTP_EVENTS_SCHEMA, opts.budgetBytes !== undefined ? { budgetBytes: opts.budgetBytes } : {});
    this.tracer = tracer;
    tracer.onEvents((events) => this.ingest(events));
    this.flushTimer = setInterval(() => this.deliver(this.stitcher.flushIdle(BigInt(Date.now()) * 1_000_000n)), opts.flushIntervalMs ?? 100);
  }

  /**
   * Loads and attaches capture and starts filling `http_events`. Throws the tracer's error
   * (which says what is missing: privileges, tracefs, BTF, a cgroup that is not cgroup v2)
   * with nothing left attached.
   */
  static start(opts: AgentOptions = {}): Agent {
    const tracer = opts.cgroup !== undefined ? { ...opts.tracer, cgroup: opts.cgroup } : opts.tracer;
    const opened = Tracer.open(tracer);
    try {
      return new Agent(opened, opts);
    } catch (e) {
      opened.close();
      throw e;
    }
  }

  /** Adds a listener for freshly stitched rows (used by `wisp tail`). */
  onRows(cb: RowsListener): void {
    this.listeners.push(cb);
  }

  private ingest(events: CaptureEvent[]): void {
    this.deliver(this.stitcher.push(events));
  }

  private deliver(rows: HttpEventRow[]): void {
    if (rows.length === 0) return;
    try {
      this.table.append(rows);
    } catch (e) {
      // A row the schema rejects is a stitcher bug; count it rather than stop capturing.
      this.rowErrors += rows.length;
      console.error(`wisp: dropped ${rows.length} rows: ${(e as Error).message}`);
      return;
    }
    for (const cb of this.listeners) cb(rows);
  }

  /** Whether capture is attached, and how many programs. */
  captureState(): { running: boolean; programs: number } {
    const programs = this.closed ? 0 : this.tracer.attachedPrograms();
    return { running: programs > 0, programs };
  }

  /** Totals for /metrics and /readyz. */
  snapshot(): MetricsSnapshot {
    const capture = this.tracer.stats();
    const http = this.stitcher.stats();
    const httpDrops: Record<string, number> = {
      unpaired_responses: http.unpairedResponses,
      dropped_exchanges: http.droppedExchanges,
      died_mid_exchange: http.diedMidExchange,
      unanswered_requests: http.unansweredRequests,
      evictions: http.evictions,
      queue_overflows: http.queueOverflows,
      wrong_direction: http.wrongDirection,
      parse_errors: http.parseErrors,
      resyncs: http.resyncs,
      oversized_headers: http.oversizedHeaders,
      invalid_chunks: http.invalidChunks,
      gaps: http.gaps,
      reorder_overflows: http.reorderOverflows,
      rejected_rows: this.rowErrors,
    };
    const tables: Record<string, { rows: number; bytes: number; droppedRows: number }> = {};
    for (const [name, t] of Object.entries(this.store.stats())) tables[name] = { rows: t.rows, bytes: t.bytes, droppedRows: t.droppedRows };
    return { captureEvents: capture.events, captureDrops: capture.drops, httpRows: http.rows, httpDrops, tables };
  }

  /** Detaches capture and stops the timers; the store stays readable. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.flushTimer);
    this.tracer.close();
    this.metadata.close?.().catch((e: unknown) => console.error(`wisp: stopping metadata failed: ${(e as Error).message}`));
  }
}
