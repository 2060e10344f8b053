/**
 * Loads wisp_capture.node (built by `make addon` into out/capture/) and types its functions.
 * tracer.ts talks to its tracer half; the test kit's src/testkit/http/stitcher.ts to its standalone
 * stitcher.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TlsStats } from './types.js';

/**
 * The stitcher's options (src/engine/http/native/wisp_http.h, `struct wisp_http_options`);
 * absent ones take the defaults documented there.
 */
export interface NativeHttpOptions {
  bodyPrefixBytes?: number;
  maxHeaderBytes?: number;
  maxPendingBytes?: number;
  maxPendingSegments?: number;
  maxPipelined?: number;
  maxBufferedBytes?: number;
  maxConnections?: number;
  idleNs?: number;
  reorderNs?: number;
  batchRows?: number;
  skipBodyOver?: number;
  /** What is redacted (src/engine/http/redaction.ts); checked with checkRedaction first. */
  redaction?: { mode?: 'defaults' | 'listed' | 'off'; headers?: readonly string[]; params?: readonly string[] };
}

/** A column of strings: codes into the batch's table of distinct strings. */
interface NativeStrings {
  readonly codes: Uint32Array;
  readonly dict: readonly string[];
}

/**
 * One batch of `http_events` rows as the native stitcher hands it over (js.c): numbers as
 * typed arrays, strings deduplicated per batch, processes as a table rows point into.
 */
export interface NativeBatch {
  readonly rows: number;
  /** `time_` of row i is timeBase + time[i] (ns since the epoch). */
  readonly timeBase: bigint;
  readonly time: Float64Array;
  readonly numbers: Readonly<Record<NativeNumberColumn, Float64Array>>;
  readonly encrypted: Uint8Array;
  readonly strings: Readonly<Record<NativeStringColumn, NativeStrings>>;
  /** The process of each row, as the kernel saw it at open (startTicks 0, comm '': unknown). */
  readonly procs: {
    readonly codes: Uint32Array;
    readonly pid: Uint32Array;
    readonly startTicks: Float64Array;
    readonly comm: readonly string[];
  };
}

type NativeNumberColumn =
  | 'remote_port' | 'local_port' | 'trace_role' | 'major_version' | 'minor_version' | 'content_type'
  | 'req_body_size' | 'resp_status' | 'resp_body_size' | 'latency' | 'pid';

type NativeStringColumn =
  | 'remote_addr' | 'local_addr' | 'req_headers' | 'req_method' | 'req_path' | 'req_body' | 'resp_headers'
  | 'resp_message' | 'resp_body';

/**
 * One batch of a connections-stage table (`conn_stats` or `tls_handshakes`) as conns_js.c hands
 * it over: numbers as typed arrays by column name, strings deduplicated per batch, processes as
 * a table rows point into (as in NativeBatch).
 */
export interface NativeRows {
  readonly table: string;
  readonly rows: number;
  readonly timeBase: bigint;
  readonly time: Float64Array;
  readonly numbers: Readonly<Record<string, Float64Array>>;
  readonly strings: Readonly<Record<string, NativeStrings>>;
  readonly procs: NativeBatch['procs'];
}

/** The connections stage's counters (wisp_conns.h `struct wisp_conns_counters`), by reason. */
export interface ConnsCounters {
  readonly records: number;
  readonly malformedRecords: number;
  readonly connections: number;
  readonly keys: number;
  readonly opened: number;
  readonly closed: number;
  readonly vanished: number;
  readonly exited: number;
  readonly roleFromListen: number;
  readonly roleFromPeer: number;
  readonly roleUnknown: number;
  readonly connEvictions: number;
  readonly keyEvictions: number;
  readonly statsRows: number;
  readonly handshakes: number;
  readonly tlsRecords: number;
  readonly tlsMalformed: number;
  readonly tlsIncomplete: number;
  readonly tlsGaps: number;
  readonly tlsTruncated: number;
  readonly tlsEvictions: number;
  readonly tlsLateRecords: number;
  readonly tlsBuffered: number;
  readonly muteRequests: number;
  readonly rowAllocFailures: number;
}

/** A process as /proc described it when its first connection opened (raw file text). */
export interface NativeProc {
  readonly pid: number;
  readonly startTicks: number;
  readonly comm: string;
  readonly cmdline: string;
  readonly cgroup: string;
}

/** The stitcher's counters (wisp_http.h `struct wisp_http_counters`), by reason. */
export interface HttpCounters {
  readonly records: number;
  readonly malformedRecords: number;
  readonly bytes: number;
  readonly rows: number;
  readonly connections: number;
  readonly bufferedBytes: number;
  readonly parseErrors: number;
  readonly resyncs: number;
  readonly oversizedHeaders: number;
  readonly invalidChunks: number;
  readonly interimResponses: number;
  readonly gaps: number;
  readonly gapBytes: number;
  readonly duplicateBytes: number;
  readonly reorderOverflows: number;
  readonly unpairedResponses: number;
  readonly droppedExchanges: number;
  readonly diedMidExchange: number;
  readonly unansweredRequests: number;
  readonly evictionsIdle: number;
  readonly evictionsMemory: number;
  readonly evictionsCount: number;
  readonly queueOverflows: number;
  readonly missingOpen: number;
  readonly upgrades: number;
  readonly wrongDirection: number;
  readonly shedGaps: number;
  readonly shedExchanges: number;
  readonly skipRequests: number;
  readonly muteRequests: number;
  readonly batchesFull: number;
  readonly rowAllocFailures: number;
}

/** An opaque handle to one loaded and attached tracer. */
export type TracerHandle = { readonly __brand: 'wisp-tracer' };

/** An opaque handle to a standalone stitcher (no kernel). */
export type StitcherHandle = { readonly __brand: 'wisp-stitcher' };

/** Options the addon reads; absent ones take the defaults documented in TracerOptions. */
export interface AddonOpenOptions {
  selfTgid: number;
  maxBytesPerSyscall: number;
  /** Bytes of a syscall's end copied when it is cut at maxBytesPerSyscall (default 4 KiB). */
  tailBytesPerSyscall?: number;
  ringBufferBytes: number;
  lazyDetectAttempts: number;
  batchBytes: number;
  /** A cgroup v2 directory: trace only tasks in it or below it. */
  cgroupPath?: string;
  /** Raw records to drain() instead of stitched rows to take(). */
  raw?: boolean;
  /** How long the drain thread sleeps when the ring is empty (stitched mode). */
  drainIntervalMs?: number;
  /** The stitcher's options (stitched mode). */
  http?: NativeHttpOptions;
  /** Ends traced, as a mask of roles: 1 client, 2 server, 3 both (default). */
  traceSides?: number;
  /** Ring fill (%) where overload shedding starts (default 50) and sheds everything (95). */
  shedFromPercent?: number;
  shedAllPercent?: number;
  /** Bytes of each direction of a TLS connection copied for its handshake (default 32 KiB). */
  tlsCaptureBytes?: number;
  /** conn_stats report period in ms (default 5000). */
  connStatsPeriodMs?: number;
}

/** The kernel's loss counters, by reason; in stitched mode also the stitcher's and the thread's. */
interface AddonStats {
  drops: Record<string, number>;
  tls: TlsStats;
  http?: HttpCounters;
  conns?: ConnsCounters;
  drain?: { loops: number; stalls: number; batches: number };
}

/** A conn_ctl write the standalone stitcher asked for (skip_to -1: to the close). */
export interface CtlCall {
  readonly connId: number;
  readonly skipTo: readonly [number, number];
  readonly muted: boolean;
}

/** The native functions, as wisp_capture.c and stitcher_js.c define them. */
export interface CaptureAddon {
  open(opts: AddonOpenOptions): TracerHandle;
  drain(h: TracerHandle): Buffer | null;
  take(h: TracerHandle): { batches: NativeBatch[]; procs: NativeProc[]; conns: NativeRows[] };
  stop(h: TracerHandle): void;
  stats(h: TracerHandle): AddonStats;
  ids(h: TracerHandle): { programs: number[]; links: number[] };
  attachedPrograms(h: TracerHandle): number;
  /** Writes connection connId's conn_ctl slot (bpf/socket_trace.h, struct wisp_conn_ctl). */
  setConnCtl(h: TracerHandle, connId: number | bigint, skipEgress: number | bigint, skipIngress: number | bigint, muted: boolean): void;
  close(h: TracerHandle): void;
  clockOffsetNs(): bigint;
  stitcherOpen(opts: NativeHttpOptions): StitcherHandle;
  stitcherPush(h: StitcherHandle, frames: Uint8Array, clockOffsetNs: bigint): number;
  stitcherFlushIdle(h: StitcherHandle, nowNs: bigint): void;
  stitcherTake(h: StitcherHandle): NativeBatch[];
  stitcherStats(h: StitcherHandle): HttpCounters;
  stitcherCtlCalls(h: StitcherHandle): CtlCall[];
  stitcherClose(h: StitcherHandle): void;
}

// out/src/engine/capture/addon.js -> out/capture/wisp_capture.node
const addonPath = fileURLToPath(new URL('../../../capture/wisp_capture.node', import.meta.url));

let loaded: CaptureAddon | undefined;

/** The addon, loaded on first use; throws a build hint when it was not built. */
export function loadAddon(): CaptureAddon {
  if (loaded) return loaded;
  if (!existsSync(addonPath)) {
    throw new Error(`wisp capture: the native addon is missing at ${addonPath}; run 'make addon'`);
  }
  loaded = createRequire(import.meta.url)(addonPath) as CaptureAddon;
  return loaded;
}
