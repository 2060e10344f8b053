import type { ExplainResponse, QueryRequest, QueryResponse, ReadyResponse, SchemaResponse } from '../api/contract.js';
import { ANSWER_BYTES, share } from '../api/budget.js';
import { resultToJson } from '../api/encode.js';
import type { QueryFrame } from '../api/options.js';
import type { QueryBackend } from '../api/server.js';
import { CONN_STATS_SCHEMA, TLS_HANDSHAKES_SCHEMA } from '../conns/schema.js';
import { HTTP_EVENTS_SCHEMA } from '../http/schema.js';
import type { Catalog } from '../pxl/catalog.js';
import { compile, languageSchema } from '../pxl/compile.js';
import { PxlError, type Diagnostic } from '../pxl/diagnostic.js';
import { explainDistributed } from '../pxl/distributed/broker/explain.js';
import { engineMayMatch, splitProgram } from '../pxl/distributed/broker/split.js';
import { Merger } from '../pxl/distributed/broker/merge.js';
import { LINE_BYTES, type NodeInfo, type PartialRequest } from '../pxl/distributed/wire/messages.js';
import { DEFAULT_MAX_ROWS, execute } from '../pxl/exec/execute.js';
import type { TableSchema } from '../schema.js';
import { VERSION } from '../version.js';
import { LineChecker, MalformedAnswer, nodeAnswer, readyAnswer, schemaAnswer } from './answers.js';
import { callEngine, getAnswer, readAnswer } from './client.js';
import type { EngineDiscovery } from './engines.js';
import type { LiveStream } from '../api/stream.js';
import { streamModes } from '../pxl/exec/stream.js';
import { brokerStream } from './stream.js';

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
  /** Longest NDJSON line accepted from an engine (default 16 MiB); a longer one cuts the engine off. */
  readonly maxLineBytes?: number;
}

/** Default per-engine timeout. */
export const DEFAULT_ENGINE_TIMEOUT_MS = 10_000;
/**
 * Engines cut their lines at about LINE_BYTES (1 MiB); JSON escapes can make one up to six times
 * that, and a single row wider than the budget travels alone: 16 MiB leaves room for both.
 */
const DEFAULT_MAX_LINE_BYTES = 16 * LINE_BYTES;

/** What the broker knows of one engine; dropped as soon as discovery no longer lists it. */
interface EngineState {
  /** Node facts from its last well-formed `/api/v1/node`; none means "may hold anything". */
  info?: NodeInfo;
  /** Its last well-formed `/readyz`. */
  ready?: ReadyResponse;
  /** It answered `/api/v1/node` at the last refresh. */
  reachable: boolean;
  /** When node facts were last asked (so a dead engine costs one wait per period). */
  asked: number;
  learning?: Promise<boolean>;
  /** The last malformed answer per endpoint, until the endpoint answers well again. */
  readonly malformed: Map<string, string>;
}

function staticCatalog(tables: readonly TableSchema[]): Catalog {
  return { table: (name) => tables.find((t) => t.name === name), tables: () => tables };
}

/**
 * Answers the engine API over many engines (docs/broker.md): compiles the script, splits it at
 * its blocking operators, sends the leaf fragments to every engine that may hold matching rows,
 * merges their streamed answers, and runs the rest of the plan itself.
 */
export class BrokerBackend implements QueryBackend {
  private catalog: Catalog = staticCatalog([HTTP_EVENTS_SCHEMA, CONN_STATS_SCHEMA, TLS_HANDSHAKES_SCHEMA]);
  private tables: readonly TableSchema[] = [HTTP_EVENTS_SCHEMA, CONN_STATS_SCHEMA, TLS_HANDSHAKES_SCHEMA];
  private readonly engines = new Map<string, EngineState>();
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

  /** The state of an engine discovery lists now, created on first sight. */
  private stateOf(url: string): EngineState {
    let st = this.engines.get(url);
    if (!st) this.engines.set(url, (st = { reachable: false, asked: 0, malformed: new Map() }));
    return st;
  }

  /** Drops what is known of engines discovery no longer lists (pod IPs come and go). */
  private forget(urls: readonly string[]): void {
    if (this.engines.size === 0) return;
    const live = new Set(urls);
    for (const u of this.engines.keys()) if (!live.has(u)) this.engines.delete(u);
  }

  /** Records how an endpoint of an engine answered: well (`undefined`) or malformed (the reason). */
  private note(url: string, endpoint: string, e: unknown): void {
    const st = this.engines.get(url);
    if (!st) return;
    if (e === undefined) st.malformed.delete(endpoint);
    else if (e instanceof MalformedAnswer) st.malformed.set(endpoint, e.message);
  }

  /**
   * Asks every engine for its node facts and readiness, and the first that answers well for
   * the table schemas. Answers are checked (answers.ts); a malformed one is left out and shown
   * in /readyz.
   */
  async refresh(): Promise<void> {
    const urls = this.opts.engines.list();
    this.forget(urls);
    const limit = (): AbortSignal => AbortSignal.timeout(Math.min(this.opts.engineTimeoutMs, 5000));
    await Promise.all(
      urls.map(async (u) => {
        const answered = await this.learn(u);
        const st = this.stateOf(u);
        st.reachable = answered;
        st.ready = undefined;
        if (!answered) return;
        // /readyz answers 503 with the same body when the engine is not ready.
        const res = await fetch(`${u}/readyz`, { signal: limit() }).catch(() => undefined);
        if (!res) return;
        try {
          st.ready = await readAnswer(res, '/readyz', readyAnswer);
          this.note(u, '/readyz', undefined);
        } catch (e) {
          this.note(u, '/readyz', e);
        }
      }),
    );
    for (const u of urls) {
      if (!this.engines.get(u)?.reachable) continue;
      try {
        const s = await getAnswer(u, '/api/v1/schema', this.opts.engineToken, AbortSignal.timeout(this.opts.engineTimeoutMs), schemaAnswer);
        this.note(u, '/api/v1/schema', undefined);
        this.tables = s.tables.map((t) => ({
          name: t.name,
          doc: t.doc ?? '',
          fields: t.columns.map((c) => ({ name: c.name, type: c.type, semantic: c.semantic ?? 'ST_NONE', doc: c.doc ?? '' })),
        }));
        this.catalog = staticCatalog(this.tables);
        break;
      } catch (e) {
        // Next engine; the static schemas stay until one answers well.
        this.note(u, '/api/v1/schema', e);
      }
    }
    this.refreshed = true;
  }

  private learn(url: string): Promise<boolean> {
    const st = this.stateOf(url);
    if (st.learning) return st.learning;
    st.asked = Date.now();
    const p = getAnswer(url, '/api/v1/node', this.opts.engineToken, AbortSignal.timeout(Math.min(this.opts.engineTimeoutMs, 5000)), nodeAnswer).then(
      (info) => {
        st.info = info;
        this.note(url, '/api/v1/node', undefined);
        return true;
      },
      (e: unknown) => {
        // Facts that do not parse cannot be pruned by: the engine is asked for everything.
        if (e instanceof MalformedAnswer) st.info = undefined;
        this.note(url, '/api/v1/node', e);
        return false;
      },
    );
    st.learning = p;
    void p.finally(() => (st.learning = undefined));
    return p;
  }

  /**
   * A stream fanned in from every engine (docs/broker.md, "Streaming"). Rows only: a window's
   * aggregates would need the engines' partial states merged per window, which streams do not
   * carry yet.
   */
  stream(req: QueryRequest, frame: QueryFrame): LiveStream {
    const { program, warnings } = compile(req.script, frame, this.catalog);
    const modes = streamModes(program);
    const windowed = program.outputs.find((_, i) => modes[i]!.kind === 'windows');
    if (windowed) {
      throw new PxlError('PXL_STREAM_UNSUPPORTED', `output '${windowed.name}': a broker streams rows only, not windowed aggregates`, undefined, [
        'stream the rows through the broker and aggregate them on the client, or stream the aggregate from each engine',
      ]);
    }
    if (this.opts.engines.list().length === 0) {
      throw new PxlError('BROKER_NO_ENGINES', `the broker knows no engines (${this.opts.engines.describe()})`);
    }
    const { stream: _stream, cursor, explain: _explain, ...body } = req;
    return brokerStream({
      engines: this.opts.engines,
      ...(this.opts.engineToken !== undefined ? { engineToken: this.opts.engineToken } : {}),
      body,
      ...(cursor !== undefined ? { cursor } : {}),
      outputs: { t: 'start', outputs: program.outputs.map((o) => ({ name: o.name, mode: 'rows' as const })), cursor: '', warnings },
    });
  }

  async query(req: QueryRequest, frame: QueryFrame, signal: AbortSignal): Promise<QueryResponse> {
    const t0 = performance.now();
    const { program, warnings: compileWarnings, adhocFilters } = compile(req.script, frame, this.catalog);
    const dist = splitProgram(program, { partialAggregates: !this.opts.shipRawRows });
    const compileMs = performance.now() - t0;
    const urls = this.opts.engines.list();
    this.forget(urls);
    if (urls.length === 0) {
      throw new PxlError('BROKER_NO_ENGINES', `the broker knows no engines (${this.opts.engines.describe()})`, undefined, [
        'pass --engines URL[,URL...] or --kubernetes-service NAMESPACE/NAME of the engines',
      ]);
    }
    // Node facts of engines not asked yet (or being asked), so that pruning applies from the
    // first query; an engine that did not answer is asked again only after a refresh period.
    const period = this.opts.refreshMs ?? 30_000;
    await Promise.all(
      urls
        .filter((u) => {
          const st = this.engines.get(u);
          return !st?.info && (st?.learning !== undefined || Date.now() - (st?.asked ?? 0) > period);
        })
        .map((u) => this.learn(u)),
    );
    const maxRows = this.opts.maxRows ?? DEFAULT_MAX_ROWS;
    const rowsBytes = share(ANSWER_BYTES, dist.fragments.filter((f) => f.plan.kind !== 'agg').length);
    const merger = new Merger(dist, frame.fromNs, maxRows, rowsBytes);
    const read = { checker: new LineChecker(dist.fragments), maxLineBytes: this.opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES };
    const warnings: Diagnostic[] = [...compileWarnings];
    let queried = 0;
    let pruned = 0;
    let failed = 0;
    let rowsScanned = 0;
    let bytesScanned = 0;
    let bytesReceived = 0;
    const failures: string[] = [];
    const calls = urls.map(async (url) => {
      const fragments = dist.fragments.filter((f) => engineMayMatch(this.engines.get(url)?.info, f));
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
        const totals = await callEngine(url, this.opts.engineToken, body, AbortSignal.any([signal, timeout]), read, (line) => merger.accept(line));
        this.note(url, '/api/v1/partial', undefined);
        rowsScanned += totals.rowsScanned;
        bytesScanned += totals.bytesScanned;
        bytesReceived += totals.bytesReceived;
        for (const w of totals.warnings) warnings.push({ ...w, message: `engine ${url}: ${w.message}` });
      } catch (e) {
        if (signal.aborted) throw signal.reason;
        failed++;
        const timedOut = timeout.aborted;
        const malformed = !timedOut && e instanceof MalformedAnswer;
        if (malformed) this.note(url, '/api/v1/partial', e);
        const why = timedOut ? `did not answer within ${this.opts.engineTimeoutMs} ms` : `${malformed ? '' : 'failed: '}${describe(e)}`;
        failures.push(`${url} ${why}`);
        warnings.push({
          severity: 'warning',
          code: timedOut ? 'BROKER_ENGINE_TIMEOUT' : malformed ? 'BROKER_ENGINE_MALFORMED' : 'BROKER_ENGINE_FAILED',
          message: `engine ${url} ${why}; its rows are missing (or incomplete) in this partial result`,
          hints: timedOut ? ['raise --engine-timeout, or narrow the time range'] : malformed ? ['the engine does not speak this broker\'s protocol: check its version (GET /readyz on it)'] : ['check the engine: GET /readyz on it'],
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
        message: `rows of fragment ${id} were cut on the broker (limits: ${maxRows} rows, ${rowsBytes} bytes)`,
        hints: ['aggregate, filter or head() the data frame before px.display'],
      });
    }
    const result = await execute(dist.upper, merger.source(), { metadata: merger.metadata, signal, maxRows, maxBytes: share(ANSWER_BYTES, dist.upper.outputs.length), nowNs: frame.nowNs });
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
      ...(adhocFilters ? { adhocFilters } : {}),
    };
  }

  explain(req: QueryRequest, frame: QueryFrame): ExplainResponse {
    const { program, warnings } = compile(req.script, frame, this.catalog);
    const dist = splitProgram(program, { partialAggregates: !this.opts.shipRawRows });
    return { plan: explainDistributed(dist, this.catalog, frame.nowNs), warnings };
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
    const up = known.filter((u) => this.engines.get(u)?.reachable).length;
    const ok = known.length > 0 && (!this.refreshed || up > 0);
    // No prototype: keys come from engines (checked, but a sum must not be able to reach Object.prototype).
    const drops = Object.create(null) as Record<string, number>;
    const tables = Object.create(null) as Record<string, { rows: number; bytes: number; droppedRows: number }>;
    let running = false;
    let events = 0;
    for (const u of known) {
      const r = this.engines.get(u)?.ready;
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
      const st = this.engines.get(u);
      const r = st?.ready;
      const malformed = [...(st?.malformed.values() ?? [])];
      const detail = [...malformed, r ? r.checks.map((c) => `${c.name}: ${c.detail}`).join('; ') : malformed.length > 0 ? '' : 'did not answer the last check'].filter((d) => d !== '');
      return { name: `engine ${u}`, ok: (r?.ready ?? false) && malformed.length === 0, detail: detail.join('; ') };
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
