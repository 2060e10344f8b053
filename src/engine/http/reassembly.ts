/**
 * Per-direction stream reassembly by stream position. Data events carry the position of their
 * syscall (`pos`), its true size, and the captured bytes at `chunkOffset`; bytes the kernel did
 * not copy show up as ranges no chunk covers. This module turns the events into an in-order
 * sequence of "bytes" and "gap of N bytes" for the parser, tolerating duplicates and
 * out-of-order chunks within a bounded window.
 *
 * When is a hole a gap rather than data still to come? The tracer emits all chunks of one
 * syscall at its exit, before any event of a later syscall on the connection, so:
 * - a syscall whose chunks do not cover its size is "sealed" (the uncovered ranges become gaps)
 *   as soon as an event of another syscall arrives, or when the stream goes quiet (`seal`);
 *   chunks of one syscall may arrive in any order until then;
 * - any other hole (a whole syscall missing, or still in flight on another CPU) waits until the
 *   reorder window overflows (bytes or segments) or the caller forces it (`forceHoles`).
 */

/** Where reassembled bytes go. */
export interface StreamSink {
  data(buf: Uint8Array, start: number, end: number, tsNs: bigint): void;
  gap(len: number, tsNs: bigint): void;
}

/** Limits of the reorder window of one direction. */
export interface ReassemblyLimits {
  readonly maxPendingBytes: number;
  readonly maxPendingSegments: number;
}

interface Segment {
  start: number;
  end: number;
  /** null for a known gap (bytes the kernel did not copy). */
  data: Uint8Array | null;
  /** Offset in `data` of the byte at `start`. */
  dataOff: number;
  tsNs: bigint;
}

/** Counters the reassembler adds to; shared by all connections of a stitcher. */
export interface ReassemblyCounters {
  gaps: number;
  gapBytes: number;
  duplicateBytes: number;
  reorderOverflows: number;
}

/** In-order delivery of one direction of one connection. */
export class StreamReassembler {
  /** Stream position of the next byte the sink expects; -1 before the first event. */
  private next = -1;
  private pending: Segment[] = [];
  private pendingBytes = 0;
  private lastSysPos = -1;
  private lastSysEnd = 0;
  /** Flat [start, end) pairs of the chunks seen of the last syscall. */
  private covered: number[] = [];
  private lastSysTs = 0n;
  /** Newest event timestamp seen; lets `flushIdle` decide that a hole has waited long enough. */
  lastTsNs = 0n;

  constructor(
    private readonly sink: StreamSink,
    private readonly limits: ReassemblyLimits,
    private readonly counters: ReassemblyCounters,
  ) {}

  /** Data bytes held while waiting for a hole to fill. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Adds one data event's chunk; delivers whatever became contiguous. */
  add(pos: number, size: number, chunkOffset: number, data: Uint8Array, tsNs: bigint): void {
    if (tsNs > this.lastTsNs) this.lastTsNs = tsNs;
    const cs = pos + chunkOffset;
    const ce = cs + Math.min(data.length, Math.max(0, size - chunkOffset));
    if (this.next < 0) this.next = pos;
    if (pos !== this.lastSysPos) {
      this.seal();
      this.lastSysPos = pos;
      this.lastSysEnd = pos + size;
      this.covered.length = 0;
    }
    this.lastSysTs = tsNs;
    this.covered.push(cs, ce);
    if (ce > cs) this.insert(cs, ce, data, 0, tsNs);
    this.drain();
  }

  /** Declares the uncovered tail of the last syscall lost (no more chunks will come for it). */
  seal(): void {
    if (this.lastSysPos < 0) return;
    const c = this.covered;
    // Chunks nearly always come in order: sort only when they did not.
    let sorted = true;
    for (let i = 2; i < c.length; i += 2) if (c[i]! < c[i - 2]!) sorted = false;
    if (!sorted) {
      const pairs: Array<[number, number]> = [];
      for (let i = 0; i < c.length; i += 2) pairs.push([c[i]!, c[i + 1]!]);
      pairs.sort((a, b) => a[0] - b[0]);
      c.length = 0;
      for (const [a, b] of pairs) c.push(a, b);
    }
    let at = this.lastSysPos;
    let gaps = false;
    for (let i = 0; i < c.length; i += 2) {
      if (c[i]! > at) {
        this.insert(at, c[i]!, null, 0, this.lastSysTs);
        gaps = true;
      }
      if (c[i + 1]! > at) at = c[i + 1]!;
    }
    if (at < this.lastSysEnd) {
      this.insert(at, this.lastSysEnd, null, 0, this.lastSysTs);
      gaps = true;
    }
    this.lastSysPos = -1;
    c.length = 0;
    if (gaps) this.drain();
  }

  /** Gives up waiting: every hole before buffered data becomes a gap. */
  forceHoles(): void {
    this.seal();
    while (this.pending.length > 0) {
      this.skipTo(this.pending[0]!.start, this.pending[0]!.tsNs);
      this.drain();
    }
  }

  /** Drops everything buffered (connection evicted or switched to a tunnel). */
  discard(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.lastSysPos = -1;
  }

  private insert(start: number, end: number, data: Uint8Array | null, dataOff: number, tsNs: bigint): void {
    if (end <= this.next) {
      if (data) this.counters.duplicateBytes += end - start;
      return;
    }
    if (start < this.next) {
      if (data) {
        this.counters.duplicateBytes += this.next - start;
        dataOff += this.next - start;
      }
      start = this.next;
    }
    // The common case: in order, nothing waiting. Deliver without buffering.
    if (start === this.next && this.pending.length === 0) {
      this.deliver(start, end, data, dataOff, tsNs);
      return;
    }
    const seg: Segment = { start, end, data, dataOff, tsNs };
    const p = this.pending;
    let i = p.length;
    // Sorted by start; at equal starts data goes before gaps so data wins over a gap claim.
    while (i > 0 && (p[i - 1]!.start > start || (p[i - 1]!.start === start && data !== null && p[i - 1]!.data === null))) i--;
    p.splice(i, 0, seg);
    if (data) this.pendingBytes += end - start;
  }

  private deliver(start: number, end: number, data: Uint8Array | null, dataOff: number, tsNs: bigint): void {
    if (data) {
      this.next = end;
      this.sink.data(data, dataOff, dataOff + (end - start), tsNs);
    } else {
      this.next = end;
      this.counters.gaps++;
      this.counters.gapBytes += end - start;
      this.sink.gap(end - start, tsNs);
    }
  }

  private drain(): void {
    const p = this.pending;
    while (p.length > 0) {
      const s = p[0]!;
      if (s.start > this.next) {
        if (this.pendingBytes > this.limits.maxPendingBytes || p.length > this.limits.maxPendingSegments) {
          this.counters.reorderOverflows++;
          this.skipTo(s.start, s.tsNs);
          continue;
        }
        return;
      }
      p.shift();
      if (s.data) this.pendingBytes -= s.end - s.start;
      if (s.end <= this.next) {
        if (s.data) this.counters.duplicateBytes += s.end - s.start;
        continue;
      }
      const skip = this.next - s.start;
      if (s.data) {
        if (skip > 0) this.counters.duplicateBytes += skip;
        this.deliver(this.next, s.end, s.data, s.dataOff + skip, s.tsNs);
        continue;
      }
      // A gap claim: deliver it only up to the next real data, which wins over the claim.
      let limit = s.end;
      for (const o of p) {
        if (o.start >= limit) break;
        if (o.data && o.end > this.next) {
          limit = Math.max(this.next, o.start);
          break;
        }
      }
      if (limit > this.next) this.deliver(this.next, limit, null, 0, s.tsNs);
      if (limit < s.end) this.insert(limit, s.end, null, 0, s.tsNs);
    }
  }

  private skipTo(pos: number, tsNs: bigint): void {
    if (pos > this.next) this.deliver(this.next, pos, null, 0, tsNs);
  }
}
