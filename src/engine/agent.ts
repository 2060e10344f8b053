import type { NativeBatch, NativeHttpOptions, NativeProc, NativeRows } from './capture/addon.js';
import { Tracer, type TracerOptions } from './capture/tracer.js';
import type { TlsStats } from './capture/types.js';
import { connsColumns } from './conns/batch.js';
import { CONN_STATS_SCHEMA, TLS_HANDSHAKES_SCHEMA } from './conns/schema.js';
import { httpColumns, httpRows } from './http/batch.js';
import { LossLog, type Missing } from './http/loss.js';
import { HTTP_EVENTS_SCHEMA, type HttpEventRow } from './http/schema.js';
import { HostMetadata } from './meta/host.js';
import { ProcessMetadata } from './meta/process.js';
import { PROCESS_STATS_SCHEMA, ProcessStatsSampler } from './meta/procstats.js';
import type { MetadataView } from './meta/types.js';
import { Store } from './store/store.js';
import type { Table } from './store/table.js';

/** Default byte budget of `http_events` (256 MiB): the node's main table gets most of the memory. */
const DEFAULT_HTTP_EVENTS_BUDGET = 256 * 1024 * 1024;
/** Default byte budgets of the connection tables: a busy conn_stats key makes one row per period. */
const DEFAULT_CONN_STATS_BUDGET = 32 * 1024 * 1024;
const DEFAULT_TLS_HANDSHAKES_BUDGET = 16 * 1024 * 1024;

/** Default byte budget of `process_stats` (32 MiB: ~130 bytes a row, about 3.5 hours of 100 processes every 5 s). */
const DEFAULT_PROCESS_STATS_BUDGET = 32 * 1024 * 1024;
/** Default period of `process_stats` samples. */
const DEFAULT_PROCESS_STATS_PERIOD_MS = 5000;

/** Everything a node agent is configured with; every field has a default. */
export interface AgentOptions {
  readonly tracer?: Omit<TracerOptions, 'raw' | 'http'>;
  /** The native stitcher's options (body prefix, limits, redaction). */
  readonly stitcher?: NativeHttpOptions;
  /** Byte budget of `http_events` (default DEFAULT_HTTP_EVENTS_BUDGET). */
  readonly budgetBytes?: number;
  /** Byte budgets of `conn_stats` (default 32 MiB) and `tls_handshakes` (default 16 MiB). */
  readonly connStatsBudgetBytes?: number;
  readonly tlsHandshakesBudgetBytes?: number;
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
  /** `process_stats`: how often every traced process is sampled from /proc, and the table's byte budget. */
  readonly processStats?: { readonly periodMs?: number; readonly budgetBytes?: number };
}

/** What the node's pipeline reports at scrape time (/metrics, /readyz); counters are totals since start. */
export interface MetricsSnapshot {
  readonly captureEvents: number;
  readonly captureDrops: Readonly<Record<string, number>>;
  /** The TLS uprobes: attached files, attach failures, processes whose TLS is not decoded. */
  readonly tls: TlsStats;
  readonly httpRows: number;
  readonly httpDrops: Readonly<Record<string, number>>;
  readonly tables: Readonly<Record<string, { readonly rows: number; readonly bytes: number; readonly droppedRows: number }>>;
}

const NO_TLS: TlsStats = { files: 0, failures: 0, lastError: '', processes: 0, undecoded: [] };

/** Receives rows as they are stitched, before or without any query. */
export type RowsListener = (rows: readonly HttpEventRow[]) => void;

/**
 * One node's pipeline: kernel tracer → native HTTP stitcher (in the tracer's drain thread) →
 * `http_events` in the store, a column batch at a time. The API and `wisp tail` read from it;
 * nothing here knows about queries.
 */
export class Agent {
  readonly store = new Store();
  readonly metadata: MetadataView & { close?(): Promise<void> };
  readonly table: Table;
  private readonly tracer: Tracer;
  private readonly processes = new ProcessMetadata();
  private readonly listeners: RowsListener[] = [];
  private readonly loss = new LossLog();
  private readonly lossTimer: NodeJS.Timeout;
  private readonly statsTimer: NodeJS.Timeout;
  private readonly sampler: ProcessStatsSampler;
  private readonly processStats: Table;
  private counted: Missing = { shed: 0, lost: 0 };
  private rowErrors = 0;
  private closed = false;

  private constructor(tracer: Tracer, opts: AgentOptions) {
    this.metadata = opts.metadata ? opts.metadata(this.processes) : new HostMetadata({ processes: this.processes });
    this.table = this.store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: opts.budgetBytes ?? DEFAULT_HTTP_EVENTS_BUDGET });
    this.store.create(CONN_STATS_SCHEMA, { budgetBytes: opts.connStatsBudgetBytes ?? DEFAULT_CONN_STATS_BUDGET });
    this.store.create(TLS_HANDSHAKES_SCHEMA, { budgetBytes: opts.tlsHandshakesBudgetBytes ?? DEFAULT_TLS_HANDSHAKES_BUDGET });
    this.tracer = tracer;
    tracer.onBatches((batches, procs, conns) => this.ingest(batches, procs, conns));
    this.lossTimer = setInterval(() => this.countMissing(), 1000).unref();
    this.processStats = this.store.create(PROCESS_STATS_SCHEMA, { budgetBytes: opts.processStats?.budgetBytes ?? DEFAULT_PROCESS_STATS_BUDGET });
    // The engine itself is not traced (capture skips its own pid), so it has no stats either.
    this.sampler = new ProcessStatsSampler({ ...(opts.cgroup !== undefined ? { cgroup: opts.cgroup } : {}), skipPids: [process.pid] });
    this.sampleProcesses();
    this.statsTimer = setInterval(() => this.sampleProcesses(), opts.processStats?.periodMs ?? DEFAULT_PROCESS_STATS_PERIOD_MS).unref();
  }

  /** One `process_stats` row per traced process, now. */
  private sampleProcesses(): void {
    const s = this.sampler.sample(BigInt(Date.now()) * 1_000_000n);
    if (s.rows > 0) this.processStats.appendColumns(s.rows, s.columns);
  }

  /**
   * Loads and attaches capture and starts filling `http_events`. Throws the tracer's error
   * (which says what is missing: privileges, tracefs, BTF, a cgroup that is not cgroup v2)
   * with nothing left attached.
   */
  static start(opts: AgentOptions = {}): Agent {
    const tracer: TracerOptions = { ...opts.tracer, ...(opts.cgroup !== undefined ? { cgroup: opts.cgroup } : {}), ...(opts.stitcher !== undefined ? { http: opts.stitcher } : {}) };
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

  private ingest(batches: NativeBatch[], procs: NativeProc[], conns: NativeRows[]): void {
    for (const p of procs) this.processes.remember(p.pid, BigInt(p.startTicks), p);
    for (const b of conns) {
      const table = this.store.get(b.table);
      try {
        if (table === undefined) throw new Error(`no table ${b.table}`);
        table.appendColumns(b.rows, connsColumns(b, table.schema, this.processes));
      } catch (e) {
        this.rowErrors += b.rows;
        console.error(`wisp: dropped ${b.rows} ${b.table} rows: ${(e as Error).message}`);
      }
    }
    for (const b of batches) {
      const columns = httpColumns(b, this.processes);
      try {
        this.table.appendColumns(b.rows, columns);
      } catch (e) {
        // A batch the schema rejects is a stitcher bug; count it rather than stop capturing.
        this.rowErrors += b.rows;
        console.error(`wisp: dropped ${b.rows} rows: ${(e as Error).message}`);
        continue;
      }
      if (this.listeners.length > 0) {
        const rows = httpRows(b.rows, columns);
        for (const cb of this.listeners) cb(rows);
      }
    }
  }

  /**
   * Files what went missing since the last call under the current second: exchanges the kernel
   * shed (and those in flight when shedding began), and exchanges lost to dropped data.
   */
  private countMissing(): void {
    const s = this.tracer.stats();
    // The kernel counts every request start it shed, and sends the 5xx ones it kept anyway.
    const now: Missing = {
      shed: (s.drops['shed_exchanges'] ?? 0) - (s.drops['shed_kept_5xx'] ?? 0) + (s.http?.shedExchanges ?? 0),
      lost: s.http?.droppedExchanges ?? 0,
    };
    this.loss.record(BigInt(Date.now()) * 1_000_000n, now.shed - this.counted.shed, now.lost - this.counted.lost);
    this.counted = now;
  }

  /** Exchanges that went missing in [startNs, endNs) (null: unbounded), by cause. */
  missing(startNs: bigint | null, endNs: bigint | null): Missing {
    if (!this.closed) this.countMissing();
    return this.loss.between(startNs, endNs, BigInt(Date.now()) * 1_000_000n);
  }

  /** Whether capture is attached, and how many programs. */
  captureState(): { running: boolean; programs: number } {
    const programs = this.closed ? 0 : this.tracer.attachedPrograms();
    return { running: programs > 0, programs };
  }

  /** Totals for /metrics and /readyz. */
  snapshot(): MetricsSnapshot {
    const capture = this.tracer.stats();
    const http = capture.http!;
    const httpDrops: Record<string, number> = {
      unpaired_responses: http.unpairedResponses,
      dropped_exchanges: http.droppedExchanges,
      died_mid_exchange: http.diedMidExchange,
      unanswered_requests: http.unansweredRequests,
      evictions_idle: http.evictionsIdle,
      evictions_memory: http.evictionsMemory,
      evictions_count: http.evictionsCount,
      queue_overflows: http.queueOverflows,
      wrong_direction: http.wrongDirection,
      parse_errors: http.parseErrors,
      resyncs: http.resyncs,
      oversized_headers: http.oversizedHeaders,
      invalid_chunks: http.invalidChunks,
      gaps: http.gaps,
      reorder_overflows: http.reorderOverflows,
      shed_exchanges: http.shedExchanges,
      row_alloc_failures: http.rowAllocFailures,
      rejected_rows: this.rowErrors,
    };
    const tables: Record<string, { rows: number; bytes: number; droppedRows: number }> = {};
    for (const [name, t] of Object.entries(this.store.stats())) tables[name] = { rows: t.rows, bytes: t.bytes, droppedRows: t.droppedRows };
    return { captureEvents: capture.events, captureDrops: capture.drops, tls: capture.tls ?? NO_TLS, httpRows: http.rows, httpDrops, tables };
  }

  /** Detaches capture and stops the timers; the store stays readable. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.countMissing();
    this.closed = true;
    clearInterval(this.lossTimer);
    clearInterval(this.statsTimer);
    this.tracer.close();
    this.metadata.close?.().catch((e: unknown) => console.error(`wisp: stopping metadata failed: ${(e as Error).message}`));
  }
}
