/**
 * From capture events to `http_events` rows: per connection and direction, reassembly by stream
 * position, HTTP/1.x parsing, and FIFO pairing of requests with responses.
 *
 * Pairing rules (none of them ever produces a row from a guess):
 * - requests are queued when their head is complete, so a response that arrives before the
 *   request body (an early 413, a 100-continue refusal) still finds its request;
 * - a response pairs with the oldest queued request, unless it began before that request did:
 *   then its own request was lost, and it is counted as unpaired;
 * - a request dropped mid-way (gap in its framing) leaves a broken entry in the queue, so its
 *   response is consumed without a row instead of being paired with the next request;
 * - a response dropped mid-way, or a gap between responses, consumes the oldest request;
 * - a response that completes before its request does (a gap still pending in the request
 *   body, or an early answer) waits for the request, or for the close, to make its row.
 */
import type { CaptureEvent, ConnCloseEvent, ConnOpenEvent, DataEvent, Direction, TraceRole } from '../capture/types.js';
import { formatUpid } from '../meta/upid.js';
import { ProcessMetadata, type ProcessInfo } from '../meta/process.js';
import { HeadCache } from './heads.js';
import { HttpParser, type HttpMessage, type ParserCounters, type ParserHost } from './parser.js';
import { StreamReassembler, type ReassemblyCounters } from './reassembly.js';
import { Redactor, bodyText, contentTypeOf, headersJson, type RedactionOptions } from './render.js';
import type { HttpEventRow } from './schema.js';

/** Where process metadata comes from (a {@link ProcessMetadata} by default). */
export interface ProcessSource {
  lookup(pid: number): ProcessInfo;
}

/** Stitcher options; every field has a default. */
export interface StitcherOptions {
  /** Body prefix kept per message, in bytes; 0 keeps no body (sizes stay true). Default 512. */
  readonly bodyPrefixBytes?: number;
  /** Largest start line + header section; larger ones are counted and skipped. Default 64 KiB. */
  readonly maxHeaderBytes?: number;
  /** What is redacted in headers and request targets (render.ts). Default: the built-in rules. */
  readonly redaction?: RedactionOptions;
  /** Out-of-order bytes held per direction before a hole is declared a gap. Default 256 KiB. */
  readonly maxPendingBytes?: number;
  /** Out-of-order segments held per direction before a hole is declared a gap. Default 64. */
  readonly maxPendingSegments?: number;
  /** Requests waiting for responses per connection; the oldest is dropped beyond. Default 64. */
  readonly maxPipelined?: number;
  /** Bound on all bytes held by all connections; least recently used are evicted. Default 64 MiB. */
  readonly maxBufferedBytes?: number;
  /** Connections tracked at once; least recently used are evicted. Default 16384. */
  readonly maxConnections?: number;
  /** A connection with no event for this long is evicted by `flushIdle`. Default 120 s. */
  readonly idleNs?: bigint;
  /** A hole (or truncated syscall tail) older than this is a gap for `flushIdle`. Default 50 ms. */
  readonly reorderNs?: bigint;
  /** Agent short id of the UPIDs. Default 0 (one host). */
  readonly asid?: number;
  /** Process metadata source. Default: a new {@link ProcessMetadata} over /proc. */
  readonly processes?: ProcessSource;
}

/** Counters, by reason; all only ever grow except `connections` and `bufferedBytes`. */
export interface StitcherStats extends ParserCounters, ReassemblyCounters {
  /** Capture events pushed. */
  events: number;
  /** Captured payload bytes pushed. */
  bytes: number;
  rows: number;
  /** Connections tracked now. */
  connections: number;
  /** Bytes held now (reorder buffers, partial heads, queued requests). */
  bufferedBytes: number;
  /** Responses with no request to pair with (or one that began before its request). */
  unpairedResponses: number;
  /** Exchanges lost because the request or the response was dropped mid-way. */
  droppedExchanges: number;
  /** Connections that closed with an exchange in flight (no row made for it). */
  diedMidExchange: number;
  /** Requests never answered: still queued at close or eviction. */
  unansweredRequests: number;
  /** Connections evicted (idle, over the byte bound, over the connection bound). */
  evictions: number;
  /** Requests dropped because too many were waiting on one connection. */
  queueOverflows: number;
  /** Connections first seen through data, with no open event: no addresses. */
  missingOpen: number;
  /** Connections that switched protocols (101, CONNECT): no longer parsed. */
  upgrades: number;
  /** Requests on the response direction, or responses on the request direction. */
  wrongDirection: number;
}

/** Bytes a placeholder entry is counted for. */
const PLACEHOLDER_COST = 64;

interface QueuedRequest {
  /** null: a request that was dropped before its head was complete. */
  readonly msg: HttpMessage | null;
  broken: boolean;
  readonly cost: number;
}

/** See HttpStitcher.conn: how stale a connection's place in the LRU order may get. */
const RECENT_TOUCHES = 1024;

/** One direction of a connection. */
interface Side {
  readonly reasm: StreamReassembler;
  readonly parser: HttpParser;
  seen: boolean;
}

class Conn {
  role: TraceRole = 0;
  hasOpen = false;
  localAddr = '';
  localPort = 0;
  remoteAddr = '';
  remotePort = 0;
  readonly queue: QueuedRequest[] = [];
  queueBytes = 0;
  /** Responses complete before their request: the row is made when the request completes. */
  readonly awaiting: Array<{ req: HttpMessage; resp: HttpMessage }> = [];
  tunneled = false;
  closing = false;
  droppedAtClose = false;
  lastTsNs = 0n;
  buffered = 0;
  /** HttpStitcher.clock when this connection last moved to the recent end of the map. */
  touched = 0;
  egress!: Side;
  ingress!: Side;

  constructor(readonly key: string, readonly pid: number, readonly proc: ProcessInfo, readonly upid: string) {}

  /** The direction that carries requests, once the role is known. */
  get requestDir(): Direction | undefined {
    return this.role === 1 ? 'egress' : this.role === 2 ? 'ingress' : undefined;
  }

  side(dir: Direction): Side {
    return dir === 'egress' ? this.egress : this.ingress;
  }

  computeBuffered(): number {
    return this.egress.reasm.bufferedBytes + this.ingress.reasm.bufferedBytes +
      this.egress.parser.bufferedBytes + this.ingress.parser.bufferedBytes + this.queueBytes;
  }
}

/**
 * Turns capture events into `http_events` rows. Feed events in the order the tracer delivers
 * them with `push`; call `flushIdle` periodically (every 100 ms or so) with the current
 * wall-clock time, so holes that will never fill become gaps and idle connections go away.
 * Never throws on any byte content.
 */
export class HttpStitcher {
  /** Shared with the per-connection parsers and reassemblers, which add to it. */
  private readonly counters: StitcherStats = {
    parseErrors: 0, resyncs: 0, oversizedHeaders: 0, invalidChunks: 0, interimResponses: 0,
    gaps: 0, gapBytes: 0, duplicateBytes: 0, reorderOverflows: 0,
    events: 0, bytes: 0, rows: 0, connections: 0, bufferedBytes: 0, unpairedResponses: 0,
    droppedExchanges: 0, diedMidExchange: 0, unansweredRequests: 0, evictions: 0, queueOverflows: 0,
    missingOpen: 0, upgrades: 0, wrongDirection: 0,
  };
  private readonly parserLimits: { maxHeaderBytes: number; bodyPrefixBytes: number };
  private readonly heads = new HeadCache();
  /** Counts conn() calls, for the approximate LRU order of `conns`. */
  private clock = 0;
  /**
   * Column values derived from a header list, by list: a repeated header section comes back
   * from the HeadCache as the same array, so its JSON is rendered once, and the store then
   * deduplicates one string object instead of hashing a fresh copy per row.
   */
  private readonly rendered = new WeakMap<readonly string[], { json: string; contentType: number }>();
  private readonly reasmLimits: { maxPendingBytes: number; maxPendingSegments: number };

  private readonly conns = new Map<string, Conn>();
  private readonly redactor: Redactor;
  private readonly processes: ProcessSource;
  private readonly maxPipelined: number;
  private readonly maxBufferedBytes: number;
  private readonly maxConnections: number;
  private readonly idleNs: bigint;
  private readonly reorderNs: bigint;
  private readonly asid: number;
  private out: HttpEventRow[] = [];
  /** Rendered UPIDs by pid, valid while the pid's start time is the same. */
  private readonly upids = new Map<number, { startTicks: bigint; upid: string }>();

  constructor(opts: StitcherOptions = {}) {
    this.parserLimits = {
      maxHeaderBytes: opts.maxHeaderBytes ?? 64 * 1024,
      bodyPrefixBytes: opts.bodyPrefixBytes ?? 512,
    };
    this.reasmLimits = {
      maxPendingBytes: opts.maxPendingBytes ?? 256 * 1024,
      maxPendingSegments: opts.maxPendingSegments ?? 64,
    };
    this.redactor = new Redactor(opts.redaction);
    this.processes = opts.processes ?? new ProcessMetadata();
    this.maxPipelined = opts.maxPipelined ?? 64;
    this.maxBufferedBytes = opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.maxConnections = opts.maxConnections ?? 16384;
    this.idleNs = opts.idleNs ?? 120_000_000_000n;
    this.reorderNs = opts.reorderNs ?? 50_000_000n;
    this.asid = opts.asid ?? 0;
  }

  /** Consumes events in delivery order; returns the rows completed by them. */
  push(events: readonly CaptureEvent[]): HttpEventRow[] {
    for (const ev of events) {
      this.counters.events++;
      if (ev.kind === 'data') this.data(ev);
      else if (ev.kind === 'open') this.open(ev);
      else this.close(ev);
    }
    return this.take();
  }

  /**
   * Time passes: holes and truncated tails older than the reorder window become gaps (so rows
   * waiting behind them complete), and connections idle longer than `idleNs` are evicted.
   */
  flushIdle(nowNs: bigint): HttpEventRow[] {
    for (const c of [...this.conns.values()]) {
      if (nowNs - c.lastTsNs > this.idleNs) {
        this.evict(c);
        continue;
      }
      for (const s of [c.egress, c.ingress]) {
        if (!c.tunneled && nowNs - s.reasm.lastTsNs > this.reorderNs) s.reasm.forceHoles();
      }
      this.account(c);
    }
    return this.take();
  }

  /** A snapshot of the counters. */
  stats(): StitcherStats {
    return { ...this.counters };
  }

  private take(): HttpEventRow[] {
    const rows = this.out;
    this.out = [];
    return rows;
  }

  private conn(key: string, pid: number, opened?: ConnOpenEvent): Conn {
    let c = this.conns.get(key);
    const clock = ++this.clock;
    if (c) {
      // Most recently used last: eviction walks the map from its start. Moving costs two hash
      // operations, so a connection moves only when it may have drifted from the recent end:
      // one touched in the last RECENT_TOUCHES calls is never near the start of the map.
      if (clock - c.touched > RECENT_TOUCHES) {
        c.touched = clock;
        this.conns.delete(key);
        this.conns.set(key, c);
      }
      return c;
    }
    const proc = withKernelView(this.processes.lookup(pid), opened);
    let u = this.upids.get(pid);
    if (u === undefined || u.startTicks !== proc.startTicks) {
      u = { startTicks: proc.startTicks, upid: formatUpid({ asid: this.asid, pid, startTicks: proc.startTicks }) };
      if (this.upids.size >= 65536) this.upids.clear();
      this.upids.set(pid, u);
    }
    c = new Conn(key, pid, proc, u.upid);
    c.touched = clock;
    c.egress = this.side(c, 'egress');
    c.ingress = this.side(c, 'ingress');
    this.conns.set(key, c);
    this.counters.connections = this.conns.size;
    if (this.conns.size > this.maxConnections) this.evict(this.conns.values().next().value!);
    return c;
  }

  private side(c: Conn, dir: Direction): Side {
    const host: ParserHost = {
      requestMethod: () => c.queue[0]?.msg?.method,
      onHead: (m) => this.onHead(c, dir, m),
      onMessage: (m) => this.onMessage(c, dir, m),
      onDrop: (m, inFlight, ts) => this.onDrop(c, dir, m, inFlight, ts),
    };
    const parser = new HttpParser(host, this.parserLimits, this.counters, this.heads);
    return { parser, reasm: new StreamReassembler(parser, this.reasmLimits, this.counters), seen: false };
  }

  private open(ev: ConnOpenEvent): void {
    const c = this.conn(ev.connKey, ev.pid, ev);
    c.hasOpen = true;
    if (c.role === 0) c.role = ev.role;
    c.localAddr = ev.localAddr;
    c.localPort = ev.localPort;
    c.remoteAddr = ev.remoteAddr;
    c.remotePort = ev.remotePort;
    if (ev.tsNs > c.lastTsNs) c.lastTsNs = ev.tsNs;
  }

  private data(ev: DataEvent): void {
    this.counters.bytes += ev.data.length;
    const c = this.conn(ev.connKey, ev.pid);
    if (ev.tsNs > c.lastTsNs) c.lastTsNs = ev.tsNs;
    if (c.tunneled) return;
    const s = c.side(ev.direction);
    const pos = Number(ev.pos);
    // Every chunk of a syscall is delivered before any event of a later syscall on the
    // connection, so the other direction's last syscall is now complete.
    (s === c.egress ? c.ingress : c.egress).reasm.seal();
    if (!s.seen) {
      s.seen = true;
      if (!c.hasOpen) this.counters.missingOpen += c.egress.seen && c.ingress.seen ? 0 : 1;
      // Without the open event, or past the stream start, the first bytes may be mid-message.
      if (!c.hasOpen || pos + ev.chunkOffset !== 0) s.parser.startMidStream();
    }
    s.reasm.add(pos, ev.size, ev.chunkOffset, ev.data, ev.tsNs);
    this.account(c);
  }

  private close(ev: ConnCloseEvent): void {
    const c = this.conns.get(ev.connKey);
    if (!c) return;
    c.closing = true;
    const reqSide = c.requestDir === 'ingress' ? c.ingress : c.egress;
    const respSide = reqSide === c.egress ? c.ingress : c.egress;
    if (!c.tunneled) {
      reqSide.reasm.forceHoles();
      respSide.reasm.forceHoles();
      reqSide.parser.end(ev.tsNs);
      respSide.parser.end(ev.tsNs);
      // The exchange ended with the request unfinished (an early answer): what was sent is all.
      for (const a of c.awaiting) this.emit(c, a.req, a.resp);
      c.awaiting.length = 0;
    }
    const waiting = c.tunneled ? 0 : c.queue.reduce((n, q) => n + (q.broken ? 0 : 1), 0);
    this.counters.unansweredRequests += waiting;
    if (waiting > 0 || c.droppedAtClose) this.counters.diedMidExchange++;
    this.remove(c);
  }

  private evict(c: Conn): void {
    this.counters.evictions++;
    if (!c.tunneled) this.counters.unansweredRequests += c.queue.reduce((n, q) => n + (q.broken ? 0 : 1), 0);
    this.remove(c);
  }

  private remove(c: Conn): void {
    c.egress.reasm.discard();
    c.ingress.reasm.discard();
    this.counters.bufferedBytes -= c.buffered;
    c.buffered = 0;
    this.conns.delete(c.key);
    this.counters.connections = this.conns.size;
  }

  /** Keeps the global byte count current and under its bound. */
  private account(c: Conn): void {
    if (!this.conns.has(c.key)) return;
    const b = c.computeBuffered();
    this.counters.bufferedBytes += b - c.buffered;
    c.buffered = b;
    while (this.counters.bufferedBytes > this.maxBufferedBytes && this.conns.size > 0) {
      this.evict(this.conns.values().next().value!);
    }
  }

  /** Settles the role from the first message seen when the open event did not tell it. */
  private roleFits(c: Conn, dir: Direction, kind: 'request' | 'response'): boolean {
    if (c.role === 0) c.role = (dir === 'egress') === (kind === 'request') ? 1 : 2;
    return (c.requestDir === dir) === (kind === 'request');
  }

  private onHead(c: Conn, dir: Direction, m: HttpMessage): void {
    if (!this.roleFits(c, dir, m.kind)) {
      this.counters.wrongDirection++;
      return;
    }
    if (m.kind !== 'request') return;
    if (c.queue.length >= this.maxPipelined) {
      // The oldest request gives up its memory but keeps its place, so later responses still
      // pair with their own requests.
      this.counters.queueOverflows++;
      const i = c.queue.findIndex((q) => q.msg !== null);
      if (i >= 0) {
        c.queueBytes += PLACEHOLDER_COST - c.queue[i]!.cost;
        c.queue[i] = { msg: null, broken: true, cost: PLACEHOLDER_COST };
      }
      if (c.queue.length >= 4 * this.maxPipelined) {
        // Nothing is answering: stop tracking these requests at all.
        this.counters.unansweredRequests += c.queue.length;
        c.queue.length = 0;
        c.queueBytes = 0;
      }
    }
    const cost = m.headBytes * 2 + this.parserLimits.bodyPrefixBytes;
    c.queue.push({ msg: m, broken: false, cost });
    c.queueBytes += cost;
  }

  private onMessage(c: Conn, dir: Direction, m: HttpMessage): void {
    if (m.kind === 'request') {
      if (c.requestDir !== dir) return;
      const i = c.awaiting.findIndex((a) => a.req === m);
      if (i >= 0) {
        this.emit(c, m, c.awaiting[i]!.resp);
        c.awaiting.splice(i, 1);
      }
      return;
    }
    if (c.requestDir === dir) return;
    const q = c.queue[0];
    if (q === undefined || (q.msg !== null && m.firstTsNs < q.msg.firstTsNs)) {
      this.counters.unpairedResponses++;
      this.afterResponse(c, undefined, m);
      return;
    }
    this.dequeue(c);
    if (q.broken || q.msg === null) {
      this.counters.droppedExchanges++;
      this.afterResponse(c, q.msg ?? undefined, m);
      return;
    }
    this.afterResponse(c, q.msg, m);
    if (q.msg.complete) this.emit(c, q.msg, m);
    else c.awaiting.push({ req: q.msg, resp: m });
  }

  private emit(c: Conn, req: HttpMessage, resp: HttpMessage): void {
    this.out.push(this.row(c, req, resp));
    this.counters.rows++;
  }

  /** Switches protocols after a 101 / CONNECT 2xx, or lets a refused Upgrade request go on. */
  private afterResponse(c: Conn, req: HttpMessage | undefined, resp: HttpMessage): void {
    const reqSide = c.side(c.requestDir === 'egress' ? 'egress' : 'ingress');
    if (resp.upgrade) {
      this.counters.upgrades++;
      c.tunneled = true;
      c.egress.parser.tunnel();
      c.ingress.parser.tunnel();
      c.egress.reasm.discard();
      c.ingress.reasm.discard();
      this.counters.unansweredRequests += c.queue.length;
      c.queue.length = 0;
      c.queueBytes = 0;
    } else if (req?.upgrade) reqSide.parser.resume();
  }

  private onDrop(c: Conn, dir: Direction, m: HttpMessage | null, inFlight: boolean, tsNs: bigint): void {
    const reqDir = c.requestDir;
    if (reqDir === undefined) return;
    if (c.closing && inFlight && dir !== reqDir) c.droppedAtClose = true;
    if (dir === reqDir) {
      if (!inFlight) return;
      const q = m === null ? undefined : c.queue.find((e) => e.msg === m);
      const waiting = m === null ? -1 : c.awaiting.findIndex((a) => a.req === m);
      if (q) q.broken = true;
      else if (waiting >= 0 && !c.closing) {
        c.awaiting.splice(waiting, 1);
        this.counters.droppedExchanges++;
      }
      else if (m === null && !c.closing) {
        // A request lost before its head was complete still gets a response: hold its place.
        c.queue.push({ msg: null, broken: true, cost: PLACEHOLDER_COST });
        c.queueBytes += PLACEHOLDER_COST;
      }
      return;
    }
    // The response to the oldest request was lost, mid-way or (a gap between responses)
    // entirely, if that request was sent before the loss.
    const q = c.queue[0];
    if (q && (inFlight || q.msg === null || q.msg.firstTsNs <= tsNs)) {
      this.dequeue(c);
      this.counters.droppedExchanges++;
    }
  }

  private dequeue(c: Conn): void {
    const q = c.queue.shift();
    if (q) c.queueBytes -= q.cost;
  }

  private render(headers: readonly string[]): { json: string; contentType: number } {
    let r = this.rendered.get(headers);
    if (r === undefined) {
      r = { json: headersJson(headers, this.redactor), contentType: contentTypeOf(headers) };
      this.rendered.set(headers, r);
    }
    return r;
  }

  private row(c: Conn, req: HttpMessage, resp: HttpMessage): HttpEventRow {
    const latency = resp.lastTsNs - req.firstTsNs;
    const respHead = this.render(resp.headers);
    return {
      time_: resp.lastTsNs,
      upid: c.upid,
      remote_addr: c.remoteAddr,
      remote_port: c.remotePort,
      local_addr: c.localAddr,
      local_port: c.localPort,
      trace_role: c.role,
      encrypted: false,
      major_version: resp.major,
      minor_version: resp.minor,
      content_type: respHead.contentType,
      req_headers: this.render(req.headers).json,
      req_method: req.method,
      req_path: this.redactor.target(req.target),
      req_body: bodyText(req.body, req.bodyLen, req.bodySize > req.bodyLen),
      req_body_size: req.bodySize,
      resp_headers: respHead.json,
      resp_status: resp.status,
      resp_message: resp.reason,
      resp_body: bodyText(resp.body, resp.bodyLen, resp.bodySize > resp.bodyLen),
      resp_body_size: resp.bodySize,
      latency: latency > 0n ? Number(latency) : 0,
      pid: c.pid,
      comm: c.proc.comm,
      cmdline: c.proc.cmdline,
      container_id: c.proc.containerId,
    };
  }
}

/**
 * The process of a connection: /proc's view, filled in from the open event when /proc has
 * nothing. A short-lived client (curl) is often gone before /proc is read; the kernel recorded
 * its command name and start time (so its upid is still right) when the connection opened.
 * A start time that merely differs is not overridden: a time namespace shifts /proc's.
 */
function withKernelView(proc: ProcessInfo, opened: ConnOpenEvent | undefined): ProcessInfo {
  if (opened?.comm === undefined || opened.startTicks === undefined) return proc;
  if (proc.startTicks === 0n) return { ...proc, comm: opened.comm, startTicks: opened.startTicks };
  return proc.comm === '' ? { ...proc, comm: opened.comm } : proc;
}
