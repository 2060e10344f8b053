/**
 * Incremental HTTP/1.x message parser for one direction of one connection. Pure: it sees bytes
 * and gaps, calls its host, and never throws on truncated or garbage input. Both requests and
 * responses are recognised from their start line, so a connection whose role is unknown still
 * parses; pairing is the stitcher's business.
 *
 * Framing follows RFC 9112 §6: Transfer-Encoding (chunked last) wins over Content-Length;
 * responses to HEAD, 1xx, 204 and 304 have no body; a response without either runs to the close.
 * Interim 1xx responses (other than 101) are skipped. After a request that asks for an Upgrade
 * (or CONNECT) the parser holds until the host says whether the switch happened.
 */

import { HeadCache, TCHAR } from './heads.js';

/** Counters the parser adds to; shared by all parsers of a stitcher. */
export interface ParserCounters {
  /** Start lines, header lines or lengths that are not HTTP/1.x. */
  parseErrors: number;
  /** Times a direction dropped what it had in flight and scanned for the next message start. */
  resyncs: number;
  /** Header sections (or chunk trailers) over the limit. */
  oversizedHeaders: number;
  /** Chunk-size lines or chunk delimiters that are not valid. */
  invalidChunks: number;
  /** 1xx responses other than 101 (not rows). */
  interimResponses: number;
}

/** One parsed message. Mutable while the parser fills its body; complete when handed over. */
export interface HttpMessage {
  readonly kind: 'request' | 'response';
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly reason: string;
  readonly major: number;
  readonly minor: number;
  /** Flat triples: name as sent, lower-case name, value (OWS trimmed, obs-fold joined). */
  readonly headers: readonly string[];
  /** Bytes of the start line and header section, as a memory estimate. */
  readonly headBytes: number;
  readonly firstTsNs: bigint;
  lastTsNs: bigint;
  /** Body prefix bytes (de-chunked); the first `bodyLen` bytes are valid. */
  body: Uint8Array | null;
  bodyLen: number;
  /** True body size (de-chunked length for chunked bodies), including bytes lost in gaps. */
  bodySize: number;
  /** The body had a gap: the prefix stops at the gap. */
  bodyGap: boolean;
  /** The whole message has been parsed. */
  complete: boolean;
  /** Request: asks to switch protocols (Upgrade or CONNECT). Response: the switch happened. */
  readonly upgrade: boolean;
}

/** What the parser needs from its connection. */
export interface ParserHost {
  /** Method of the request the response being parsed answers, if known (HEAD, CONNECT matter). */
  requestMethod(): string | undefined;
  /** A request or final response head is complete; its body follows. */
  onHead(msg: HttpMessage): void;
  /** A message is complete. */
  onMessage(msg: HttpMessage): void;
  /**
   * Bytes were lost or rejected. `inFlight`: a message had begun and is dropped (gap in
   * framing, parse error, close before its end); `msg` is that message if its head had been
   * reported through `onHead`. Not in flight: a gap fell between messages, so whole messages
   * may be missing.
   */
  onDrop(msg: HttpMessage | null, inFlight: boolean, tsNs: bigint): void;
}

/** Parser limits. */
export interface ParserLimits {
  /** Largest start line + header section (and largest chunk trailer section). */
  readonly maxHeaderBytes: number;
  /** Body prefix kept per message. */
  readonly bodyPrefixBytes: number;
}

const enum S {
  Idle,
  Head,
  BodyFixed,
  ChunkSize,
  ChunkData,
  ChunkCrlf,
  Trailer,
  BodyEof,
  Resync,
  Hold,
  Tunnel,
}

const CR = 13;
const LF = 10;
const MAX_CHUNK_LINE = 4096;
const MATCH = 1;
const NO = 0;
const NEED = -1;

const START_TOKENS: readonly Uint8Array[] = [
  'HTTP/1.', 'GET ', 'POST ', 'PUT ', 'DELETE ', 'HEAD ', 'OPTIONS ', 'PATCH ', 'CONNECT ', 'TRACE ',
  'PROPFIND ', 'PROPPATCH ', 'MKCOL ', 'COPY ', 'MOVE ', 'LOCK ', 'UNLOCK ', 'SEARCH ', 'REPORT ',
  'PURGE ', 'LINK ', 'UNLINK ', 'MKCALENDAR ', 'QUERY ',
].map((t) => new TextEncoder().encode(t));
const MAX_TOKEN = Math.max(...START_TOKENS.map((t) => t.length));

/** Is there a message start (a known method + SP, or "HTTP/1.") at `off`? */
function matchStart(b: Uint8Array, off: number, end: number): number {
  const avail = end - off;
  let result = NO;
  const c0 = b[off];
  for (const t of START_TOKENS) {
    if (t[0] !== c0) continue;
    const n = Math.min(avail, t.length);
    let i = 1;
    while (i < n && b[off + i] === t[i]) i++;
    if (i === t.length) return MATCH;
    if (i === n) result = NEED;
  }
  return result;
}

const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) {
  HEX['0123456789abcdef'.charCodeAt(i)] = i;
  HEX['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** Index just past the blank line ending a header section in b[from, to), or -1. */
function findHeadEnd(b: Uint8Array, from: number, to: number): number {
  // A plain loop: heads are short lines, where TypedArray indexOf's call cost dominates.
  for (let nl = from; nl + 1 < to; nl++) {
    if (b[nl] !== LF) continue;
    const c = b[nl + 1];
    if (c === LF) return nl + 2;
    if (c === CR) {
      if (nl + 2 >= to) return -1;
      if (b[nl + 2] === LF) return nl + 3;
    }
  }
  return -1;
}

/** A cheap check of a complete first line b[s, nl): "HTTP/" or token SP ... " HTTP/x.y". */
function plausibleStartLine(b: Uint8Array, s: number, nl: number): boolean {
  let e = nl;
  if (e > s && b[e - 1] === CR) e--;
  if (e - s >= 5 && b[s] === 72 && b[s + 1] === 84 && b[s + 2] === 84 && b[s + 3] === 80 && b[s + 4] === 47) return true;
  let i = s;
  while (i < e && TCHAR[b[i]!] === 1) i++;
  if (i === s || i >= e || b[i] !== 32) return false;
  // ... SP "HTTP/" DIGIT "." DIGIT at the end
  return e - i >= 9 && b[e - 9] === 32 && b[e - 8] === 72 && b[e - 7] === 84 && b[e - 6] === 84 && b[e - 5] === 80 && b[e - 4] === 47;
}

/**
 * UTF-8 text of b[s, e), invalid bytes replaced. Node's Buffer method works on any Uint8Array
 * and, unlike Buffer.from(...).toString(), allocates no Buffer view per call.
 */
const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, s: number, e: number): string }).utf8Slice;
export function bytesToText(b: Uint8Array, s: number, e: number): string {
  return utf8Slice.call(b, s, e);
}

/** The parser of one direction. */
export class HttpParser {
  private state = S.Idle;
  private headBuf = new Uint8Array(0);
  private headLen = 0;
  private startChecked = false;
  private msgFirstTs = 0n;
  private cur: HttpMessage | null = null;
  /** Body bytes left (fixed length) or chunk bytes left (chunked). */
  private remaining = 0;
  private lineBuf = new Uint8Array(0);
  private lineLen = 0;
  private trailerBytes = 0;
  private atLineStart = true;
  /** Allocated on first use: most streams never resync. */
  private carry: Uint8Array | null = null;
  private carryLen = 0;
  private carryTs = 0n;

  /** `heads`: parsed header sections shared by the parsers of one stitcher. */
  constructor(
    private readonly host: ParserHost,
    private readonly limits: ParserLimits,
    private readonly counters: ParserCounters,
    private readonly heads: HeadCache = new HeadCache(),
  ) {}

  /** Bytes held: partial head, chunk line, body prefix and resync carry. */
  get bufferedBytes(): number {
    return this.headBuf.length + this.lineBuf.length + (this.cur?.body?.length ?? 0) + this.carryLen;
  }

  /** Starts in resync mode: capture began mid-stream, so the first bytes may be mid-message. */
  startMidStream(): void {
    this.state = S.Resync;
    this.atLineStart = true;
  }

  /** Stops parsing for good (the connection switched protocols). */
  tunnel(): void {
    this.reset();
    this.state = S.Tunnel;
  }

  /** Leaves the hold after an Upgrade/CONNECT request that the server refused. */
  resume(): void {
    if (this.state === S.Hold) {
      this.state = S.Resync;
      this.atLineStart = true;
    }
  }

  /** Consumes b[start, end), all read or written at `tsNs`. */
  data(b: Uint8Array, start: number, end: number, tsNs: bigint): void {
    let off = start;
    while (off < end) {
      switch (this.state) {
        case S.Idle:
          while (off < end && (b[off] === CR || b[off] === LF)) off++;
          if (off < end) {
            this.state = S.Head;
            this.headLen = 0;
            this.startChecked = false;
            this.msgFirstTs = tsNs;
          }
          break;
        case S.Head:
          off = this.head(b, off, end, tsNs);
          break;
        case S.BodyFixed: {
          const n = Math.min(this.remaining, end - off);
          this.appendBody(b, off, off + n);
          this.remaining -= n;
          off += n;
          if (this.remaining === 0) this.finish(tsNs);
          break;
        }
        case S.ChunkSize:
          off = this.chunkSizeLine(b, off, end);
          break;
        case S.ChunkData: {
          const n = Math.min(this.remaining, end - off);
          this.appendBody(b, off, off + n);
          this.remaining -= n;
          off += n;
          if (this.remaining === 0) {
            this.state = S.ChunkCrlf;
            this.lineLen = 0;
          }
          break;
        }
        case S.ChunkCrlf: {
          // Tolerates a bare LF as RFC 9112 §2.2 allows.
          const c = b[off++];
          if (c === LF) {
            this.state = S.ChunkSize;
            this.lineLen = 0;
          } else if (c !== CR || this.lineLen++ > 0) {
            this.counters.invalidChunks++;
            this.drop(tsNs, false);
          }
          break;
        }
        case S.Trailer:
          off = this.trailer(b, off, end, tsNs);
          break;
        case S.BodyEof:
          this.appendBody(b, off, end);
          off = end;
          break;
        case S.Resync:
          off = this.resync(b, off, end, tsNs);
          break;
        case S.Hold:
        case S.Tunnel:
          off = end;
          break;
      }
    }
    if (this.cur && (this.state === S.BodyFixed || this.state === S.ChunkData || this.state === S.BodyEof || this.state === S.ChunkSize || this.state === S.ChunkCrlf || this.state === S.Trailer)) {
      this.cur.lastTsNs = tsNs;
    }
  }

  /** `len` bytes of the stream were not captured. */
  gap(len: number, tsNs: bigint): void {
    const m = this.cur;
    switch (this.state) {
      case S.BodyFixed:
        m!.bodyGap = true;
        m!.lastTsNs = tsNs;
        if (len <= this.remaining) {
          m!.bodySize += len;
          this.remaining -= len;
          if (this.remaining === 0) this.finish(tsNs);
          return;
        }
        m!.bodySize += this.remaining;
        this.remaining = 0;
        this.finish(tsNs);
        this.enterResync(true);
        this.host.onDrop(null, false, tsNs);
        return;
      case S.ChunkData:
        // The CRLF after the chunk data is known, so a gap may swallow it too.
        if (len <= this.remaining + 2) {
          m!.bodyGap = true;
          m!.bodySize += Math.min(len, this.remaining);
          m!.lastTsNs = tsNs;
          const over = len - this.remaining;
          this.remaining = Math.max(0, this.remaining - len);
          if (this.remaining === 0) {
            this.state = over === 2 ? S.ChunkSize : S.ChunkCrlf;
            this.lineLen = over === 1 ? 1 : 0;
          }
          return;
        }
        this.drop(tsNs, true);
        return;
      case S.BodyEof:
        m!.bodyGap = true;
        m!.bodySize += len;
        m!.lastTsNs = tsNs;
        return;
      case S.Idle:
        this.enterResync(true);
        this.host.onDrop(null, false, tsNs);
        return;
      case S.Head:
      case S.ChunkSize:
      case S.ChunkCrlf:
      case S.Trailer:
        this.drop(tsNs, true);
        return;
      case S.Resync:
        this.carryLen = 0;
        this.atLineStart = true;
        return;
      case S.Hold:
      case S.Tunnel:
        return;
    }
  }

  /** The connection closed: a body delimited by the close completes; anything else is dropped. */
  end(tsNs: bigint): void {
    if (this.state === S.BodyEof) this.finish(this.cur!.lastTsNs);
    else if (this.state !== S.Idle && this.state !== S.Resync && this.state !== S.Hold && this.state !== S.Tunnel) {
      this.host.onDrop(this.cur, true, tsNs);
    }
    this.reset();
    this.state = S.Idle;
  }

  private reset(): void {
    this.cur = null;
    this.headLen = 0;
    this.carryLen = 0;
    this.lineLen = 0;
    if (this.headBuf.length > 4096) this.headBuf = new Uint8Array(0);
    if (this.lineBuf.length > 256) this.lineBuf = new Uint8Array(0);
  }

  private enterResync(atLineStart: boolean): void {
    this.counters.resyncs++;
    this.reset();
    this.state = S.Resync;
    this.atLineStart = atLineStart;
  }

  /** Drops the message in flight and resyncs. */
  private drop(tsNs: bigint, atLineStart: boolean): void {
    const m = this.cur;
    this.enterResync(atLineStart);
    this.host.onDrop(m, true, tsNs);
  }

  private resync(b: Uint8Array, off: number, end: number, tsNs: bigint): number {
    if (this.carryLen > 0) {
      const take = Math.min(end - off, MAX_TOKEN);
      const tmp = new Uint8Array(this.carryLen + take);
      tmp.set(this.carry!.subarray(0, this.carryLen));
      tmp.set(b.subarray(off, off + take), this.carryLen);
      const r = matchStart(tmp, 0, tmp.length);
      if (r === MATCH) {
        const held = this.carry!.slice(0, this.carryLen);
        this.carryLen = 0;
        this.state = S.Idle;
        this.data(held, 0, held.length, this.carryTs);
        return off;
      }
      if (r === NEED) {
        this.carry!.set(tmp.subarray(0, Math.min(tmp.length, MAX_TOKEN)));
        this.carryLen = Math.min(tmp.length, MAX_TOKEN);
        return end;
      }
      this.carryLen = 0;
      this.atLineStart = false;
    }
    while (off < end) {
      if (this.atLineStart) {
        const r = matchStart(b, off, end);
        if (r === MATCH) {
          this.state = S.Idle;
          return off;
        }
        if (r === NEED) {
          this.carry ??= new Uint8Array(MAX_TOKEN);
          this.carry.set(b.subarray(off, end));
          this.carryLen = end - off;
          this.carryTs = tsNs;
          return end;
        }
        this.atLineStart = false;
      }
      const nl = b.indexOf(LF, off);
      if (nl < 0 || nl >= end) return end;
      off = nl + 1;
      this.atLineStart = true;
    }
    return end;
  }

  private head(b: Uint8Array, off: number, end: number, tsNs: bigint): number {
    const max = this.limits.maxHeaderBytes;
    if (this.headLen === 0) {
      // Fast path: the whole head is in this read; parse it in place.
      if (!this.checkStart(b, off, end)) return this.badStart(b, off, end);
      const e = findHeadEnd(b, off, Math.min(end, off + max));
      if (e >= 0) {
        this.parseHead(b, off, e, tsNs);
        return e;
      }
      if (end - off >= max) {
        this.counters.oversizedHeaders++;
        this.drop(tsNs, false);
        return off + max;
      }
    }
    const prev = this.headLen;
    const take = Math.min(end - off, max - prev);
    if (this.headBuf.length < prev + take) {
      const grown = new Uint8Array(Math.min(max, Math.max(1024, (prev + take) * 2)));
      grown.set(this.headBuf.subarray(0, prev));
      this.headBuf = grown;
    }
    this.headBuf.set(b.subarray(off, off + take), prev);
    this.headLen = prev + take;
    if (!this.checkStart(this.headBuf, 0, this.headLen)) {
      this.headLen = 0;
      const nl = this.headBuf.indexOf(LF);
      const consumed = nl >= 0 && nl < prev + take ? nl + 1 - prev : take;
      this.counters.parseErrors++;
      this.drop(tsNs, nl >= 0);
      return off + Math.max(0, consumed);
    }
    const e = findHeadEnd(this.headBuf, Math.max(0, prev - 3), this.headLen);
    if (e >= 0) {
      this.headLen = 0;
      this.parseHead(this.headBuf, 0, e, tsNs);
      return off + (e - prev);
    }
    if (this.headLen >= max) {
      this.counters.oversizedHeaders++;
      this.drop(tsNs, false);
    }
    return off + take;
  }

  /** False when the first line is complete and cannot be a start line. */
  private checkStart(b: Uint8Array, s: number, end: number): boolean {
    if (this.startChecked) return true;
    const nl = b.indexOf(LF, s);
    if (nl < 0 || nl >= end) return true;
    this.startChecked = true;
    return plausibleStartLine(b, s, nl);
  }

  /** The first line in b[off, end) is not a start line: skip it and resync after it. */
  private badStart(b: Uint8Array, off: number, end: number): number {
    this.counters.parseErrors++;
    const nl = b.indexOf(LF, off);
    this.drop(this.msgFirstTs, true);
    return nl >= 0 && nl < end ? nl + 1 : end;
  }

  private parseHead(b: Uint8Array, s: number, e: number, tsNs: bigint): void {
    // The start line is cut here; the header lines go through the stitcher's cache, as most
    // sections repeat byte for byte (see heads.ts).
    const nl = b.indexOf(LF, s);
    const line = this.heads.startLine(b, s, nl > s && b[nl - 1] === CR ? nl - 1 : nl);
    if (line === null) return this.headError(tsNs);
    const section = this.heads.section(b, nl + 1, e);
    if (section === null) return this.headError(tsNs);
    const headers = section.headers;
    const te = section.transferEncoding;
    const chunked = section.chunked;
    const length = section.contentLength < 0 ? 0 : section.contentLength;
    const hasLength = section.contentLength >= 0;
    let m: HttpMessage;
    let next: S;
    if (line.status === 0) {
      const method = line.method;
      m = this.message('request', method, line.target, 0, '', line.major, line.minor, headers, e - s, tsNs, method === 'CONNECT' || section.upgrade);
      if (te !== undefined) {
        if (!chunked) return this.headError(tsNs);
        next = S.ChunkSize;
      } else next = length > 0 ? S.BodyFixed : S.Idle;
    } else {
      const status = line.status;
      if (status < 100) return this.headError(tsNs);
      if (status < 200 && status !== 101) {
        this.counters.interimResponses++;
        this.cur = null;
        this.state = S.Idle;
        return;
      }
      const method = this.host.requestMethod();
      const tunnel = status === 101 || (method === 'CONNECT' && status < 300);
      m = this.message('response', '', '', status, line.reason, line.major, line.minor, headers, e - s, tsNs, tunnel);
      if (tunnel || method === 'HEAD' || status === 204 || status === 304) next = S.Idle;
      else if (te !== undefined) next = chunked ? S.ChunkSize : S.BodyEof;
      else if (hasLength) next = length > 0 ? S.BodyFixed : S.Idle;
      else next = S.BodyEof;
    }
    this.cur = m;
    this.remaining = length;
    this.host.onHead(m);
    if (next === S.Idle) this.finish(tsNs);
    else {
      this.state = next;
      this.lineLen = 0;
    }
  }

  private message(
    kind: 'request' | 'response', method: string, target: string, status: number, reason: string,
    major: number, minor: number, headers: readonly string[], headBytes: number, lastTsNs: bigint, upgrade: boolean,
  ): HttpMessage {
    return {
      kind, method, target, status, reason, major, minor, headers, headBytes,
      firstTsNs: this.msgFirstTs, lastTsNs, body: null, bodyLen: 0, bodySize: 0, bodyGap: false, complete: false, upgrade,
    };
  }

  private headError(tsNs: bigint): void {
    this.counters.parseErrors++;
    this.drop(tsNs, true);
  }

  private finish(tsNs: bigint): void {
    const m = this.cur!;
    m.lastTsNs = tsNs;
    m.complete = true;
    this.cur = null;
    this.state = m.upgrade ? (m.kind === 'request' ? S.Hold : S.Tunnel) : S.Idle;
    this.host.onMessage(m);
  }

  private appendBody(b: Uint8Array, s: number, e: number): void {
    const m = this.cur!;
    const n = e - s;
    m.bodySize += n;
    const limit = this.limits.bodyPrefixBytes;
    if (m.bodyGap || m.bodyLen >= limit || n === 0) return;
    if (m.body === null) {
      const hint = this.state === S.BodyFixed ? this.remaining : limit;
      m.body = new Uint8Array(Math.min(limit, Math.max(hint, n)));
    }
    if (m.bodyLen >= m.body.length) {
      const grown = new Uint8Array(limit);
      grown.set(m.body);
      m.body = grown;
    }
    const k = Math.min(n, m.body.length - m.bodyLen);
    m.body.set(b.subarray(s, s + k), m.bodyLen);
    m.bodyLen += k;
  }

  private chunkSizeLine(b: Uint8Array, off: number, end: number): number {
    let nl = b.indexOf(LF, off);
    if (nl >= end) nl = -1;
    const stop = nl < 0 ? end : nl;
    const n = stop - off;
    if (this.lineLen + n > MAX_CHUNK_LINE) {
      this.counters.invalidChunks++;
      this.drop(this.cur!.lastTsNs, false);
      return stop;
    }
    if (this.lineBuf.length < this.lineLen + n) {
      const grown = new Uint8Array(Math.max(64, (this.lineLen + n) * 2));
      grown.set(this.lineBuf.subarray(0, this.lineLen));
      this.lineBuf = grown;
    }
    this.lineBuf.set(b.subarray(off, stop), this.lineLen);
    this.lineLen += n;
    if (nl < 0) return end;
    const size = this.parseChunkSize(this.lineBuf, this.lineLen);
    this.lineLen = 0;
    if (size < 0) {
      this.counters.invalidChunks++;
      this.drop(this.cur!.lastTsNs, true);
      return nl + 1;
    }
    if (size === 0) {
      this.state = S.Trailer;
      this.trailerBytes = 0;
      this.atLineStart = true;
    } else {
      this.remaining = size;
      this.state = S.ChunkData;
    }
    return nl + 1;
  }

  /** chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); -1 when invalid. */
  private parseChunkSize(l: Uint8Array, len: number): number {
    if (len > 0 && l[len - 1] === CR) len--;
    let i = 0;
    let size = 0;
    while (i < len && HEX[l[i]!]! >= 0) {
      if (i >= 12) return -1;
      size = size * 16 + HEX[l[i]!]!;
      i++;
    }
    if (i === 0) return -1;
    while (i < len && (l[i] === 32 || l[i] === 9)) i++;
    if (i < len && l[i] !== 59 /* ; */) return -1;
    return size;
  }

  /** Trailer fields after the last chunk, up to an empty line; bounded like a header section. */
  private trailer(b: Uint8Array, off: number, end: number, tsNs: bigint): number {
    while (off < end) {
      const c = b[off]!;
      if (this.atLineStart && c === LF) {
        this.finish(tsNs);
        return off + 1;
      }
      if (this.atLineStart && c === CR) {
        off++;
        continue;
      }
      const nl = b.indexOf(LF, off);
      const stop = nl < 0 || nl >= end ? end : nl + 1;
      this.trailerBytes += stop - off;
      if (this.trailerBytes > this.limits.maxHeaderBytes) {
        this.counters.oversizedHeaders++;
        this.drop(tsNs, false);
        return stop;
      }
      this.atLineStart = stop === nl + 1;
      off = stop;
    }
    return off;
  }
}
