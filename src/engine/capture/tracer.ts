/**
 * The kernel tracer as the engine sees it: open it, receive what it captured, read its
 * counters, close it. Everything kernel-side lives in bpf/ and the addon.
 *
 * Stitched mode (the default, the engine's): the addon's drain thread parses and pairs in
 * native code and this hands over `http_events` column batches. Raw mode (`raw: true`, for the
 * kernel tests and the dump tool): ring records decoded into `CaptureEvent`s.
 */
import { loadAddon, type CaptureAddon, type ConnsCounters, type HttpCounters, type NativeBatch, type NativeHttpOptions, type NativeProc, type NativeRows, type TracerHandle } from './addon.js';
import { checkCgroupDir } from './cgroup.js';
import { ConnKeys, connIdOf, decodeBatch } from './decode.js';
import type { CaptureEvent, CaptureRecord, CaptureStats, TlsStats } from './types.js';

/** How the tracer is configured; all fields optional. */
export interface TracerOptions {
  /**
   * Bytes copied per syscall at most: a longer syscall is copied as its first
   * maxBytesPerSyscall - tailBytesPerSyscall bytes and its last tailBytesPerSyscall, the rest
   * counted (truncated_bytes). Default 20 KiB; see bpf/maps.bpf.h for why.
   */
  maxBytesPerSyscall?: number;
  /** The tail kept of a cut syscall; at most 16 KiB and half of maxBytesPerSyscall. Default 4 KiB. */
  tailBytesPerSyscall?: number;
  /** Ring buffer size, rounded up to a power of two. Default 32 MiB. */
  ringBufferBytes?: number;
  /** Leave this process's own traffic out. Default true. */
  excludeSelf?: boolean;
  /** How often finished rows are taken (stitched mode) or the ring drained (raw mode). Default 25 ms. */
  pollIntervalMs?: number;
  /** Syscalls a connection found mid-stream gets to show an HTTP message start. Default 32. */
  lazyDetectAttempts?: number;
  /** Bytes of records handed to listeners per call at most (about). Default 4 MiB. */
  batchBytes?: number;
  /**
   * A cgroup v2 directory (e.g. /sys/fs/cgroup/wisp-node-a): capture only processes in it or
   * in a cgroup below it. Filtered in the kernel, so other processes cost one check per
   * syscall and are not counted as drops. Default: every process.
   */
  cgroup?: string;
  /** Hand over raw records as CaptureEvents instead of stitched rows. Default false. */
  raw?: boolean;
  /** The native stitcher's options (stitched mode). */
  http?: NativeHttpOptions;
  /** How long the drain thread sleeps when the ring is empty (stitched mode). Default 10 ms. */
  drainIntervalMs?: number;
  /**
   * Which ends of a connection are traced: 'server' (accepted connections, and those found
   * mid-stream reading requests), 'client' (connected ones, and those writing requests), or
   * 'both' (the default). Connections of the other end make no events; their bytes are counted
   * in side_bytes. On a node whose clients and servers are both traced processes (loopback,
   * in-cluster calls) one side halves what capture costs.
   */
  sides?: TraceSides;
  /**
   * Overload: once this share of the ring buffer (in %) is waiting for user space, whole
   * connections are shed, chosen by a hash of their id, at request boundaries; the share shed
   * grows with the fill until everything is shed at shedAllPercent. 5xx exchanges are kept.
   * Defaults 50 and 95.
   */
  shedFromPercent?: number;
  shedAllPercent?: number;
  /**
   * How often `conn_stats` rows are made (stitched mode): every open connection's key gets a
   * row each period, and a closed one in the first report after its close. Default 5000 ms
   * (Pixie's period).
   */
  connStatsPeriodMs?: number;
  /**
   * Bytes of each direction of a TLS connection the kernel copies for its handshake, at most;
   * once user space has read the handshake it stops the copy anyway. Default 32 KiB.
   */
  tlsCaptureBytes?: number;
}

/** TracerOptions.sides. */
export type TraceSides = 'server' | 'client' | 'both';
const SIDE_MASKS: Readonly<Record<TraceSides, number>> = { client: 1, server: 2, both: 3 };

/**
 * What the kernel copies of one connection from now on: nothing at all (`muted`: its bytes are
 * only counted, its close totals stay exact), or nothing before a stream position per
 * direction (`skipTo`: those bytes are counted and their syscalls' records carry no data for
 * them). Absent fields are 0 / false: a call replaces what an earlier one set.
 */
export interface ConnControl {
  muted?: boolean;
  skipTo?: { egress?: bigint; ingress?: bigint };
}

/** Receives the events of one drained batch, in ring-buffer order (raw mode). */
export type EventsListener = (events: CaptureEvent[]) => void;

/** Receives every record of one drained batch, shed markers included, in ring-buffer order (raw mode). */
export type RecordsListener = (records: CaptureRecord[]) => void;

/**
 * Receives the column batches finished since the last take, the processes first seen since,
 * as /proc described them then, and the connections stage's rows (`conn_stats`,
 * `tls_handshakes`) (stitched mode).
 */
export type BatchesListener = (batches: NativeBatch[], procs: NativeProc[], conns: NativeRows[]) => void;

/** Counters of a tracer: CaptureStats, plus the stitcher's and the connections stage's in stitched mode. */
export interface TracerStats extends CaptureStats {
  readonly http?: HttpCounters;
  readonly tls?: TlsStats;
  readonly conns?: ConnsCounters;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/** TracerOptions.maxBytesPerSyscall's default. */
export const DEFAULT_MAX_BYTES_PER_SYSCALL = 20 * KiB;
/** TracerOptions.tailBytesPerSyscall's default. */
export const DEFAULT_TAIL_BYTES_PER_SYSCALL = 4 * KiB;

function intOption(opts: TracerOptions, name: keyof TracerOptions, dflt: number, min: number, max: number): number {
  const v = opts[name] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new RangeError(`wisp capture: option ${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
  }
  return v;
}

const open = new Set<Tracer>();
const signals = ['SIGINT', 'SIGTERM'] as const;

function closeAll(): void {
  for (const t of [...open]) t.close();
}

/*
 * The kernel detaches everything when the process dies anyway (the programs live only as long
 * as the addon's file descriptors); these handlers make it prompt on the usual ways out. When
 * the application listens for the signal itself, shutting down is its call (it may still want
 * to drain the tracer), and 'exit' closes whatever it leaves open. Otherwise the tracers are
 * closed and the signal re-raised, so its default action still ends the process.
 */
function onSignal(sig: NodeJS.Signals): void {
  if (process.listenerCount(sig) > 1) return;
  closeAll();
  uninstallHandlers();
  process.kill(process.pid, sig);
}

function installHandlers(): void {
  process.on('exit', closeAll);
  for (const s of signals) process.on(s, onSignal);
}

function uninstallHandlers(): void {
  process.off('exit', closeAll);
  for (const s of signals) process.off(s, onSignal);
}

/** A loaded and attached socket tracer. */
export class Tracer {
  readonly #addon: CaptureAddon;
  #handle: TracerHandle | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #batchBytes: number;
  readonly #raw: boolean;
  readonly #listeners: EventsListener[] = [];
  readonly #recordListeners: RecordsListener[] = [];
  readonly #batchListeners: BatchesListener[] = [];
  readonly #keys = new ConnKeys();
  #events = 0;
  #bytes = 0;
  #malformed = 0;
  #finalStats: TracerStats | undefined;

  private constructor(addon: CaptureAddon, handle: TracerHandle, pollIntervalMs: number, batchBytes: number, raw: boolean) {
    this.#addon = addon;
    this.#handle = handle;
    this.#batchBytes = batchBytes;
    this.#raw = raw;
    this.#timer = setInterval(() => this.drain(), pollIntervalMs);
  }

  /**
   * Loads and attaches the BPF programs. Throws an Error naming the step that failed and what
   * to do (privileges, tracefs, BTF); nothing stays attached after a failure.
   */
  static open(opts: TracerOptions = {}): Tracer {
    const maxBytesPerSyscall = intOption(opts, 'maxBytesPerSyscall', DEFAULT_MAX_BYTES_PER_SYSCALL, 0, 1 << 30);
    const tailBytesPerSyscall = intOption(opts, 'tailBytesPerSyscall', Math.min(DEFAULT_TAIL_BYTES_PER_SYSCALL, Math.floor(maxBytesPerSyscall / 2)), 0, Math.min(16 * KiB, Math.floor(maxBytesPerSyscall / 2)));
    const ringBufferBytes = intOption(opts, 'ringBufferBytes', 32 * MiB, 4 * KiB, 1 << 30);
    const pollIntervalMs = intOption(opts, 'pollIntervalMs', 25, 1, 60_000);
    const lazyDetectAttempts = intOption(opts, 'lazyDetectAttempts', 32, 1, 255);
    const batchBytes = intOption(opts, 'batchBytes', 4 * MiB, 64 * KiB, 1 << 30);
    const excludeSelf = opts.excludeSelf ?? true;
    if (typeof excludeSelf !== 'boolean') {
      throw new RangeError(`wisp capture: option excludeSelf must be a boolean, got ${String(excludeSelf)}`);
    }
    const drainIntervalMs = intOption(opts, 'drainIntervalMs', 10, 1, 1000);
    const raw = opts.raw ?? false;
    const shedFromPercent = intOption(opts, 'shedFromPercent', 50, 1, 99);
    const shedAllPercent = intOption(opts, 'shedAllPercent', Math.max(95, shedFromPercent + 1), shedFromPercent + 1, 100);
    const connStatsPeriodMs = intOption(opts, 'connStatsPeriodMs', 5000, 100, 3_600_000);
    const tlsCaptureBytes = intOption(opts, 'tlsCaptureBytes', 32 * KiB, 0, 1 << 30);
    const sides = opts.sides ?? 'both';
    if (!Object.hasOwn(SIDE_MASKS, sides)) {
      throw new RangeError(`wisp capture: option sides must be 'server', 'client' or 'both', got ${JSON.stringify(sides)}`);
    }
    const cgroupPath = opts.cgroup === undefined ? undefined : checkCgroupDir(opts.cgroup);
    const addon = loadAddon();
    const handle = addon.open({
      selfTgid: excludeSelf ? process.pid : 0,
      maxBytesPerSyscall,
      tailBytesPerSyscall,
      ringBufferBytes,
      lazyDetectAttempts,
      batchBytes,
      raw,
      drainIntervalMs,
      traceSides: SIDE_MASKS[sides],
      shedFromPercent,
      shedAllPercent,
      connStatsPeriodMs,
      tlsCaptureBytes,
      ...(opts.http !== undefined ? { http: opts.http } : {}),
      ...(cgroupPath !== undefined ? { cgroupPath } : {}),
    });
    const t = new Tracer(addon, handle, pollIntervalMs, batchBytes, raw);
    if (open.size === 0) installHandlers();
    open.add(t);
    return t;
  }

  /** Adds a listener for event batches (raw mode; one call per drained batch). */
  onEvents(cb: EventsListener): void {
    if (!this.#raw) throw new Error('wisp capture: onEvents() needs a raw tracer (Tracer.open({ raw: true }))');
    this.#listeners.push(cb);
  }

  /** Adds a listener for record batches: the events and the shed markers between them (raw mode). */
  onRecords(cb: RecordsListener): void {
    if (!this.#raw) throw new Error('wisp capture: onRecords() needs a raw tracer (Tracer.open({ raw: true }))');
    this.#recordListeners.push(cb);
  }

  /** Adds a listener for column batches (stitched mode). */
  onBatches(cb: BatchesListener): void {
    if (this.#raw) throw new Error('wisp capture: onBatches() needs a stitched tracer (raw: false)');
    this.#batchListeners.push(cb);
  }

  /**
   * Delivers what is ready now to the listeners: raw records from the ring, or the batches the
   * drain thread finished. The poll timer calls this; tests and shutdown paths may too.
   */
  drain(): void {
    if (!this.#raw) {
      if (this.#handle === undefined) return;
      const { batches, procs, conns } = this.#addon.take(this.#handle);
      if (batches.length > 0 || procs.length > 0 || conns.length > 0) for (const cb of this.#batchListeners) cb(batches, procs, conns);
      return;
    }
    for (;;) {
      if (this.#handle === undefined) return;
      const batch = this.#addon.drain(this.#handle);
      if (batch === null) return;
      const records: CaptureRecord[] = [];
      const r = decodeBatch(batch, this.#addon.clockOffsetNs(), records, this.#keys);
      this.#events += records.length;
      this.#bytes += r.dataBytes;
      this.#malformed += r.malformed;
      if (records.length > 0) {
        for (const cb of this.#recordListeners) cb(records);
        const events = r.shed === 0 ? (records as CaptureEvent[]) : records.filter((e): e is CaptureEvent => e.kind !== 'shed');
        if (events.length > 0) for (const cb of this.#listeners) cb(events);
      }
      if (batch.byteLength < this.#batchBytes) return;
    }
  }

  /**
   * Events and captured bytes delivered so far, and every loss by reason (kernel counters
   * summed over CPUs; `decode_malformed` counts records user space could not decode). After
   * close, the counts as they were at close.
   */
  stats(): TracerStats {
    if (this.#handle === undefined) return this.#finalStats!;
    const s = this.#addon.stats(this.#handle);
    if (s.http === undefined) return { events: this.#events, bytes: this.#bytes, drops: { ...s.drops, decode_malformed: this.#malformed }, tls: s.tls };
    return {
      events: s.http.records,
      bytes: s.http.bytes,
      drops: { ...s.drops, decode_malformed: s.http.malformedRecords },
      http: s.http,
      tls: s.tls,
      ...(s.conns !== undefined ? { conns: s.conns } : {}),
    };
  }

  /**
   * Tells the kernel what to copy of connection `connKey` (a key this tracer delivered). Takes
   * effect from the connection's next syscall; slots are shared by connection ids 65536 apart,
   * so a later call for another connection may take the slot over.
   */
  setConnCtl(connKey: string, ctl: ConnControl): void {
    if (this.#handle === undefined) throw new Error('wisp capture: setConnCtl() after close()');
    this.#addon.setConnCtl(this.#handle, connIdOf(connKey), ctl.skipTo?.egress ?? 0n, ctl.skipTo?.ingress ?? 0n, ctl.muted ?? false);
  }

  /** How many BPF programs are attached right now (0 after close). */
  attachedPrograms(): number {
    return this.#handle === undefined ? 0 : this.#addon.attachedPrograms(this.#handle);
  }

  /** Kernel ids of this tracer's programs and links, as `bpftool prog/link show` lists them. */
  kernelIds(): { programs: number[]; links: number[] } {
    return this.#handle === undefined ? { programs: [], links: [] } : this.#addon.ids(this.#handle);
  }

  /** Delivers what is still in the ring, then detaches and frees everything. Idempotent. */
  close(): void {
    if (this.#handle === undefined) return;
    clearInterval(this.#timer);
    try {
      // The drain thread finishes the ring first, so the last take has everything captured.
      if (!this.#raw) this.#addon.stop(this.#handle);
      this.drain();
    } finally {
      this.#finalStats = this.stats();
      this.#addon.close(this.#handle);
      this.#handle = undefined;
      open.delete(this);
      if (open.size === 0) uninstallHandlers();
    }
  }
}
