import type { Missing } from '../http/loss.js';
import type { MetadataView } from '../meta/types.js';
import { ANSWER_BYTES, share } from './budget.js';
import { resultToJson } from './encode.js';
import { compile, languageSchema } from '../pxl/compile.js';
import { runPartial } from '../pxl/distributed/engine/run.js';
import { checkPartialRequest } from '../pxl/distributed/engine/check.js';
import { DEFAULT_MAX_ROWS, execute, explain } from '../pxl/exec/execute.js';
import { forEachPlanNode, type LogicalPlan } from '../pxl/plan/logical.js';
import type { Store } from '../store/store.js';
import { VERSION } from '../version.js';
import type { ExplainResponse, NodeInfo, QueryRequest, QueryResponse, ReadyResponse, SchemaResponse } from './contract.js';
import type { QueryFrame } from './options.js';
import { missingWarning } from './warnings.js';
import { StreamQuery } from '../pxl/exec/stream.js';
import type { Diagnostic } from '../pxl/diagnostic.js';
import { decodeCursor, localStream, type LiveStream } from './stream.js';
import type { MetricsSnapshot } from '../agent.js';
import type { QueryBackend } from './server.js';

/** What the local backend reads: the node agent satisfies it. */
export interface LocalSource {
  readonly store: Store;
  readonly metadata: MetadataView;
  captureState(): { running: boolean; programs: number };
  snapshot(): MetricsSnapshot;
  /** HTTP exchanges known to be missing from [startNs, endNs) (null: unbounded). */
  missing?(startNs: bigint | null, endNs: bigint | null): Missing;
}

/** The time range a program reads of `table`: the union of its scans (null: unbounded). */
function scanRange(plans: readonly LogicalPlan[], table: string): { startNs: bigint | null; endNs: bigint | null } | undefined {
  let range: { startNs: bigint | null; endNs: bigint | null } | undefined;
  forEachPlanNode(plans, (p) => {
    if (p.kind !== 'source' || p.table !== table) return;
    range = range === undefined ? { startNs: p.startNs, endNs: p.endNs } : {
      startNs: range.startNs === null || p.startNs === null ? null : range.startNs < p.startNs ? range.startNs : p.startNs,
      endNs: range.endNs === null || p.endNs === null ? null : range.endNs > p.endNs ? range.endNs : p.endNs,
    };
  });
  return range;
}

/** Result limits. */
export interface ResultLimits {
  /** Rows per output table (default DEFAULT_MAX_ROWS). */
  readonly maxRows?: number;
  /** Bytes of tables in one answer, split evenly over its outputs (default ANSWER_BYTES). */
  readonly maxBytes?: number;
}

/** Where the TLS probes are, what failed, and which processes' TLS is not decoded. */
function tlsDetail(t: MetricsSnapshot['tls']): string {
  const parts = [`OpenSSL uprobes on ${t.files} files`];
  if (t.failures > 0) parts.push(`${t.failures} attach failures (last: ${t.lastError})`);
  if (t.undecoded.length > 0) {
    parts.push(`encrypted, not decoded: ${t.undecoded.map((u) => `${u.comm} (pid ${u.pid}, ${u.connections} connections)`).join(', ')}`);
  }
  return parts.join('; ');
}

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/**
 * Answers queries from this node's own store, and a broker's plan fragments. `info` is what
 * `GET /api/v1/node` reports: the name `ctx['node']` gives this node's rows, '' when there is
 * none (no Kubernetes metadata), which no broker prunes by.
 */
export class LocalBackend implements QueryBackend {
  constructor(
    private readonly source: LocalSource,
    private readonly limits: ResultLimits = {},
    private readonly info: NodeInfo = { node: '' },
  ) {}

  partial(body: unknown, signal: AbortSignal): AsyncIterable<string> {
    const req = checkPartialRequest(body, this.source.store);
    const rowsFragments = req.fragments.filter((f) => f.plan.kind !== 'agg').length;
    const lines = runPartial(req, this.source.store, {
      metadata: this.source.metadata,
      signal,
      maxRows: this.limits.maxRows ?? DEFAULT_MAX_ROWS,
      maxBytes: share(this.limits.maxBytes ?? ANSWER_BYTES, rowsFragments),
    });
    return (async function* () {
      for await (const line of lines) yield JSON.stringify(line) + '\n';
    })();
  }

  node(): NodeInfo {
    return this.info;
  }

  async query(req: QueryRequest, frame: QueryFrame, signal: AbortSignal): Promise<QueryResponse> {
    const t0 = performance.now();
    const { program, warnings, adhocFilters } = compile(req.script, frame, this.source.store);
    const compileMs = performance.now() - t0;
    const result = await execute(program, this.source.store, {
      metadata: this.source.metadata,
      signal,
      ...(this.limits.maxRows !== undefined ? { maxRows: this.limits.maxRows } : {}),
      maxBytes: share(this.limits.maxBytes ?? ANSWER_BYTES, program.outputs.length),
    });
    const json = resultToJson(result);
    const ignored: Diagnostic[] = program.stream
      ? [{ severity: 'warning', code: 'STREAM_IGNORED', message: 'df.stream() streams only when the request asks for a stream; this answer holds the stored rows', hints: ['send stream: true (wisp query --follow)'] }]
      : [];
    const range = this.source.missing ? scanRange(program.outputs.map((o) => o.plan), 'http_events') : undefined;
    const incomplete = range && this.source.missing ? missingWarning(this.source.missing(range.startNs, range.endNs)) : undefined;
    return {
      tables: json.tables,
      stats: { compileMs, ...json.stats },
      warnings: [...warnings, ...ignored, ...json.warnings, ...(incomplete ? [incomplete] : [])],
      ...(adhocFilters ? { adhocFilters } : {}),
    };
  }

  stream(req: QueryRequest, frame: QueryFrame): LiveStream {
    const { program, warnings } = compile(req.script, frame, this.source.store);
    const epoch = this.source.store.epoch;
    const cursor = req.cursor === undefined ? undefined : decodeCursor(req.cursor);
    const stale: Diagnostic[] = cursor && cursor.epoch !== epoch
      ? [{ severity: 'warning', code: 'STREAM_CURSOR_STALE', message: 'the cursor is from another run of this engine, whose rows are gone: the stream starts over', hints: [] }]
      : [];
    const resume = cursor && cursor.epoch === epoch ? cursor.position : undefined;
    const query = new StreamQuery(program, this.source.store, { metadata: this.source.metadata }, resume);
    return localStream(query, epoch, program.outputs.map((o) => o.name), [...warnings, ...stale]);
  }

  explain(req: QueryRequest, frame: QueryFrame): ExplainResponse {
    const { program, warnings } = compile(req.script, frame, this.source.store);
    return { plan: explain(program, this.source.store, { metadata: this.source.metadata, nowNs: frame.nowNs }), warnings };
  }

  schema(): SchemaResponse {
    return {
      tables: this.source.store.tables().map((t) => ({
        name: t.name,
        doc: t.doc ?? '',
        columns: t.fields.map((f) => ({ name: f.name, type: f.type, semantic: f.semantic ?? 'ST_NONE', doc: f.doc ?? '' })),
      })),
      ...languageSchema(),
    };
  }

  ready(): ReadyResponse {
    const capture = this.source.captureState();
    const snap = this.source.snapshot();
    const stats = this.source.store.stats();
    const storeDetail = Object.entries(stats)
      .map(([name, t]) => `${name}: ${t.rows} rows, ${mib(t.bytes)} of ${mib(t.budgetBytes)}`)
      .join('; ');
    const checks = [
      {
        name: 'capture',
        ok: capture.running,
        detail: capture.running ? `${capture.programs} BPF programs attached` : 'capture is not attached',
      },
      { name: 'store', ok: Object.keys(stats).length > 0, detail: storeDetail || 'no tables' },
      // Advisory: plaintext capture works whatever the TLS probes do.
      { name: 'tls', ok: true, detail: tlsDetail(snap.tls) },
    ];
    // Metadata checks (the Kubernetes API) are advisory: capture and queries work without them.
    const metadata = this.source.metadata.checks?.() ?? [];
    return {
      ready: checks.every((c) => c.ok) && metadata.every((c) => c.ok || c.advisory),
      version: VERSION,
      checks: [...checks, ...metadata.map((c) => ({ name: c.name, ok: c.ok, detail: c.advisory ? `${c.detail} (advisory: does not affect ready)` : c.detail }))],
      capture: { running: capture.running, events: snap.captureEvents, drops: snap.captureDrops },
      tables: snap.tables,
    };
  }
}
