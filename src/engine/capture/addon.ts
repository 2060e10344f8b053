/**
 * Loads wisp_capture.node (built by `make addon` into out/capture/) and types its functions.
 * Only tracer.ts talks to it.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** An opaque handle to one loaded and attached tracer. */
export type TracerHandle = { readonly __brand: 'wisp-tracer' };

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
  /** Ends traced, as a mask of roles: 1 client, 2 server, 3 both (default). */
  traceSides?: number;
  /** Ring fill (%) where overload shedding starts (default 50) and sheds everything (95). */
  shedFromPercent?: number;
  shedAllPercent?: number;
}

/** The kernel's loss counters, by reason. */
export interface AddonStats {
  drops: Record<string, number>;
}

/** The native functions, as wisp_capture.c defines them. */
export interface CaptureAddon {
  open(opts: AddonOpenOptions): TracerHandle;
  drain(h: TracerHandle): Buffer | null;
  stats(h: TracerHandle): AddonStats;
  ids(h: TracerHandle): { programs: number[]; links: number[] };
  attachedPrograms(h: TracerHandle): number;
  /** Writes connection connId's conn_ctl slot (bpf/socket_trace.h, struct wisp_conn_ctl). */
  setConnCtl(h: TracerHandle, connId: number | bigint, skipEgress: number | bigint, skipIngress: number | bigint, muted: boolean): void;
  close(h: TracerHandle): void;
  clockOffsetNs(): bigint;
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
