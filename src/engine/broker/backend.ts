import type { QueryRequest, QueryResponse, ReadyResponse, SchemaResponse } from '../api/contract.js';
import type { QueryFrame } from '../api/options.js';
import type { QueryBackend } from '../api/server.js';
import { HTTP_EVENTS_SCHEMA } from '../http/schema.js';
import type { Catalog } from '../pxl/catalog.js';
import { compile, languageSchema } from '../pxl/compile.js';
import { PxlError, type Diagnostic } from '../pxl/diagnostic.js';
import { engineMayMatch, splitProgram } from '../pxl/dist/split.js';
import { Merger } from '../pxl/dist/merge.js';
import type { NodeInfo, PartialRequest } from '../pxl/dist/wire.js';
import { DEFAULT_MAX_ROWS, execute, resultToJson } from '../pxl/exec/execute.js';
import type { DataType, SemanticType, TableSchema } from '../store/types.js';
import { VERSION } from '../version.js';
import { callEngine, getJson, nodeInfo } from './client.js';
import type { EngineDiscovery } from './engines.js';

/** How the broker talks to engines. */
export interface BrokerOptions {
  readonly engines: EngineDiscovery;
  /** Bearer token sent to every engine (`--engine-token-file`). */
  readonly engineToken?: string;
  /** Wall time one engine gets to answer a query; past it the engine is left out with a warning. */
  readonly engineTimeoutMs: number;
  /** Rows per output, and rows kept per rows-fragment. */
  readonly maxRows?: number;
  /** How often engine facts (node name, schema) are refreshed (default 30 s). */
  readonly refreshMs?: number;
  /** Baseline for bench/scale only: engines ship leaf rows, the broker aggregates them all. */
  readonly shipRawRows?: boolean;
}

/** Default per-engine timeout. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 10_000;

function staticCatalog(tables: readonly TableSchema[]): Catalog {
  return { table: (name) => tables.find((t) => t.name === name), tables: () => tables };
}

/**
 * Answers the engine API over many engines (docs/broker.md): compiles the script, splits it at
 * its blocking operators, sends the leaf fragments to every engine that may hold matching rows,
 * merges their streamed answers, and runs the rest of the plan itself.
 */
export class BrokerBackend implements QueryBackend {
  private catalog: Catalog = staticCatalog([HTTP_EVENTS_SCHEMA]);
  private tables: readonly TableSchema[] = [HTTP_EVENTS_SCHEMA];
  private readonly infos = new Map<string, NodeInfo>();
  private reachable = new Set<string>();
  private readyz = new Map<string, ReadyResponse>();
  /** When node facts were last asked of each engine (so a dead engine costs one wait per period). */
  private readonly asked = new Map<string, number>();
  private readonly learning = new Map<string, Promise<boolean>>();
  private refreshed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: BrokerOptions) {}

  /** Starts the periodic refresh of engine facts (first one now). */
  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.opts.refreshMs ?? 30_000);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.opts.engines.close();
  }

  /**
   * Asks every engine for its node facts and readiness, and the first that answers for the
   * table schemas.
   */
  async refresh(): Promise<void> {
    const urls = this.opts.engines.list();
    const reachable = new Set<string>();
    const readyz = new Map<string, ReadyResponse>();
    const limit = (): AbortSignal => AbortSignal.timeout(Math.min(this.opts.engineTimeoutMs, 5000));
    await Promise.all(
      urls.map(async (u) => {
        if (!(await this.learn(u))) return;
        reachable.add(u);
        // /readyz answers 503 with the same body when the engine is not ready.
        const res = await fetch(`${u}/readyz`, { signal: limit() }).catch(() => undefined);
        const body = (await res?.json().catch(() => undefined)) as ReadyResponse | undefined;
        if (body && typeof body.ready === 'boolean') readyz.set(u, body);
      }),
    );
    this.readyz = readyz;
    for (const u of urls) {
      if (!reachable.has(u)) continue;
      try {
        const s = await getJson<SchemaResponse>(u, '/api/v1/schema', this.opts.engineToken, AbortSignal.timeout(this.opts.engineTimeoutMs));
        this.tables = s.tables.map((t) => ({
          name: String(t.name),
          doc: String(t.doc ?? ''),
          fields: t.columns.map((c) => ({ name: String(c.name), type: c.type as DataType, semantic: c.semantic as SemanticType, doc: String(c.doc ?? '') })),
        }));
        this.catalog = staticCatalog(this.tables);
        break;
      } catch {
        // Next engine; the static http_events schema stays until one answers.
      }
    }
    this.reachable = reachable;
    this.refreshed = true;
  }

  private learn(url: string): Promise<boolean> {
    const pending = this.learning.get(url);
    if (pending) return pending;
    this.asked.set(url, Date.now());
    const p = nodeInfo(url, this.opts.engineToken, AbortSignal.timeout(Math.min(this.opts.engineTimeoutMs, 5000))).then(
      (info) => {
        this.infos.set(url, info);
        return true;
      },
      () => false,
    );
    this.learning.set(url, p);
    void p.finally(() => this.learning.delete(url));
    return p;
  }

  async query(req: QueryRequest, frame: QueryFrame, signal: AbortSignal): Promise<QueryResponse> {
    const t0 = performance.now();
    const { program, warnings: compileWarnings } = compile(req.script, frame, this.catalog);
    const dist = splitProgram(program, { partialAggregates: !this.opts.shipRawRows });
    const compileMs = performance.now() - t0;
    const urls = this.opts.engines.list();
    if (urls.length === 0) {
      throw new PxlError('BROKER_NO_ENGINES', `the broker knows no engines (${this.opts.engines.describe()})`, undefined, [
        'pass --engines URL[,URL...] or --kubernetes-service NAMESPACE/NAME of the engines',
      ]);
    }
    // Node facts of engines not asked yet (or being asked), so that pruning applies from the
    // first query; an engine that did not answer is asked again only after a refresh period.
    const period = this.opts.refreshMs ?? 30_000;
    await Promise.all(urls.filter((u) => !this.infos.has(u) && (this.learning.has(u) || Date.now() - (this.asked.get(u) ?? 0) > period)).map((u) => this.learn(u)));
    const maxRows = this.opts.maxRows ?? DEFAULT_MAX_ROWS;
    const merger = new Merger(dist, frame.fromNs, maxRows);
    const warnings: Diagnostic[] = [...compileWarnings];
    let queried = 0;
    let pruned = 0;
    let failed = 0;
    let rowsScanned = 0;
    let bytesScanned = 0;
    let bytesReceived = 0;
    const failures: string[] = [];
    const calls = urls.map(async (url) => {
      const fragments = dist.fragments.filter((f) => engineMayMatch(this.infos.get(url), f));
      if (fragments.length === 0) {
        if (dist.fragments.length > 0) pruned++;
        return;
      }
      queried++;
      const body: PartialRequest = {
        nowNs: frame.nowNs.toString(),
        fragments: fragments.map((f) => ({ id: f.id, plan: f.wire, lookups: f.lookups })),
      };
      const timeout = AbortSignal.timeout(this.opts.engineTimeoutMs);
      try {
        const totals = await callEngine(url, this.opts.engineToken, body, AbortSignal.any([signal, timeout]), (line) => merger.accept(line));
        rowsScanned += totals.rowsScanned;
        bytesScanned += totals.bytesScanned;
        bytesReceived += totals.bytesReceived;
        for (const w of totals.warnings) warnings.push({ ...w, message: `engine ${url}: ${w.message}` });
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        failed++;
        const timedOut = timeout.aborted;
        const why = timedOut ? `did not answer within ${this.opts.engineTimeoutMs} ms` : `failed: ${describe(e)}`;
        failures.push(`${url} ${why}`);
        warnings.push({
          severity: 'warning',
          code: timedOut ? 'BROKER_ENGINE_TIMEOUT' : 'BROKER_ENGINE_FAILED',
          message: `engine ${url} ${why}; its rows are missing (or incomplete) in this partial result`,
          hints: timedOut ? ['raise --engine-timeout, or narrow the time range'] : ['check the engine: GET /readyz on it'],
        });
      }
    });
    await Promise.all(calls);
    if (queried > 0 && failed === queried) {
      throw new PxlError('BROKER_ENGINES_FAILED', `no engine answered: ${failures.join('; ')}`, undefined, ['check the engines (GET /readyz on each) and --engine-timeout']);
    }
    for (const id of merger.truncatedFragments()) {
      warnings.push({
        severity: 'warning',
        code: 'RESULT_TRUNCATED',
        message: `rows of fragment ${id} were cut at ${maxRows} on the broker`,
        hints: ['aggregate, filter or head() the data frame before px.display'],
      });
    }
    const result = await execute(dist.upper, merger.source(), { metadata: merger.metadata, signal, maxRows, nowNs: frame.nowNs });
    const json = resultToJson(result);
    return {
      tables: json.tables,
      stats: {
        compileMs,
        executeMs: performance.now() - t0 - compileMs,
        rowsScanned,
        bytesScanned,
        engines: { queried, pruned, failed },
        bytesReceived,
      },
      warnings: [...warnings, ...json.warnings],
    };
  }

  schema(): SchemaResponse {
    return {
      tables: this.tables.map((t) => ({
        name: t.name,
        doc: t.doc ?? '',
        columns: t.fields.map((f) => ({ name: f.name, type: f.type, semantic: f.semantic ?? 'ST_NONE', doc: f.doc ?? '' })),
      })),
      ...languageSchema(),
    };
  }

  /**
   * Ready while some engine answers. Capture and table figures are the sums over the engines'
   * last /readyz (refreshed every 30 s), so the Grafana health check reads a cluster as it
   * reads one engine.
   */
  ready(): ReadyResponse {
    const known = this.opts.engines.list();
    const up = known.filter((u) => this.reachable.has(u)).length;
    const ok = known.length > 0 && (!this.refreshed || up > 0);
    const drops: Record<string, number> = {};
    const tables: Record<string, { rows: number; bytes: number; droppedRows: number }> = {};
    let running = false;
    let events = 0;
    for (const u of known) {
      const r = this.readyz.get(u);
      if (!r) continue;
      running ||= r.capture.running;
      events += r.capture.events;
      for (const [k, v] of Object.entries(r.capture.drops)) drops[k] = (drops[k] ?? 0) + v;
      for (const [name, t] of Object.entries(r.tables)) {
        const acc = (tables[name] ??= { rows: 0, bytes: 0, droppedRows: 0 });
        acc.rows += t.rows;
        acc.bytes += t.bytes;
        acc.droppedRows += t.droppedRows;
      }
    }
    const engineChecks = known.map((u) => {
      const r = this.readyz.get(u);
      return { name: `engine ${u}`, ok: r?.ready ?? false, detail: r ? r.checks.map((c) => `${c.name}: ${c.detail}`).join('; ') : 'did not answer the last check' };
    });
    return {
      ready: ok,
      version: VERSION,
      checks: [{ name: 'engines', ok, detail: `${this.opts.engines.describe()}; ${this.refreshed ? `${up} answered the last check` : 'not checked yet'}` }, ...engineChecks],
      capture: { running, events, drops },
      tables,
    };
  }
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = (e as Error & { cause?: unknown }).cause;
  return cause instanceof Error ? `${e.message} (${cause.message})` : e.message;
}
