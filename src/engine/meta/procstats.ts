import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { ColumnInput, TableSchema } from '../schema.js';
import { formatUpid } from './upid.js';

/**
 * The `process_stats` table: Pixie's columns, names, types and units, one row per traced
 * process per sample. The counters (faults, CPU times, I/O bytes) are totals since the process
 * started, as /proc keeps them: scripts take max − min over a window, as Pixie's do.
 */
export const PROCESS_STATS_SCHEMA: TableSchema = {
  name: 'process_stats',
  doc: 'CPU, memory and I/O of every traced process, sampled from /proc (Pixie\'s columns and units)',
  fields: [
    { name: 'time_', type: 'TIME64NS', semantic: 'ST_NONE', doc: 'When the sample was taken (ns since the epoch)' },
    { name: 'upid', type: 'UINT128', semantic: 'ST_UPID', doc: 'Unique process id (asid, pid, start time), as in http_events' },
    { name: 'major_faults', type: 'INT64', semantic: 'ST_NONE', doc: 'Major page faults since the process started' },
    { name: 'minor_faults', type: 'INT64', semantic: 'ST_NONE', doc: 'Minor page faults since the process started' },
    { name: 'cpu_utime_ns', type: 'INT64', semantic: 'ST_DURATION_NS', doc: 'CPU time in user space since the process started (ns)' },
    { name: 'cpu_ktime_ns', type: 'INT64', semantic: 'ST_DURATION_NS', doc: 'CPU time in the kernel since the process started (ns)' },
    { name: 'num_threads', type: 'INT64', semantic: 'ST_NONE', doc: 'Threads of the process' },
    { name: 'vsize_bytes', type: 'INT64', semantic: 'ST_BYTES', doc: 'Virtual memory size (bytes)' },
    { name: 'rss_bytes', type: 'INT64', semantic: 'ST_BYTES', doc: 'Resident memory (bytes)' },
    { name: 'rchar_bytes', type: 'INT64', semantic: 'ST_BYTES', doc: 'Bytes read by read-like syscalls since start, storage or not' },
    { name: 'wchar_bytes', type: 'INT64', semantic: 'ST_BYTES', doc: 'Bytes written by write-like syscalls since start, storage or not' },
    { name: 'read_bytes', type: 'INT64', semantic: 'ST_BYTES', doc: 'Bytes the process caused to be read from storage since start' },
    { name: 'write_bytes', type: 'INT64', semantic: 'ST_BYTES', doc: 'Bytes the process caused to be written to storage since start' },
  ],
};

/** Kernel threads (PF_KTHREAD in /proc/<pid>/stat's flags) have no user space to trace. */
const PF_KTHREAD = 0x00200000;

/** One process's counters as /proc/<pid>/stat holds them, before units. */
export interface ProcStat {
  readonly flags: number;
  readonly minorFaults: number;
  readonly majorFaults: number;
  /** Clock ticks. */
  readonly utime: number;
  readonly stime: number;
  readonly numThreads: number;
  readonly startTicks: number;
  readonly vsizeBytes: number;
  /** Pages. */
  readonly rssPages: number;
}

/** A decimal field of `b` starting at `i` (digits, an optional leading '-'), or NaN. */
function decimal(b: Uint8Array, i: number, end: number): number {
  let neg = false;
  if (b[i] === 0x2d) {
    neg = true;
    i++;
  }
  let v = 0;
  let digits = 0;
  for (; i < end; i++) {
    const c = b[i]! - 0x30;
    if (c < 0 || c > 9) break;
    v = v * 10 + c;
    digits++;
  }
  return digits === 0 ? NaN : neg ? -v : v;
}

/**
 * Parses /proc/<pid>/stat bytes. The command name (field 2) is in parentheses and may hold
 * spaces and ')', so fields are counted after the last ')'. Undefined when malformed.
 */
export function parseStat(b: Uint8Array, n: number): ProcStat | undefined {
  let close = n - 1;
  while (close >= 0 && b[close] !== 0x29) close--;
  if (close < 0) return undefined;
  // Fields 3 (state) onwards, space separated; we need fields 9..24.
  const at = new Array<number>(22);
  let field = 3;
  for (let i = close + 1; i < n && field <= 24; i++) {
    if (b[i] === 0x20 && i + 1 < n && b[i + 1] !== 0x20) at[field++] = i + 1;
  }
  if (field <= 24) return undefined;
  const f = (k: number): number => decimal(b, at[k]!, n);
  const s: ProcStat = {
    flags: f(9),
    minorFaults: f(10),
    majorFaults: f(12),
    utime: f(14),
    stime: f(15),
    numThreads: f(20),
    startTicks: f(22),
    vsizeBytes: f(23),
    rssPages: f(24),
  };
  return Object.values(s).every(Number.isFinite) ? s : undefined;
}

/** /proc/<pid>/io's byte counters. */
export interface ProcIo {
  readonly rchar: number;
  readonly wchar: number;
  readonly readBytes: number;
  readonly writeBytes: number;
}

/** Parses /proc/<pid>/io (`name: value` lines); undefined when a counter is missing. */
export function parseIo(text: string): ProcIo | undefined {
  const v: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) v[line.slice(0, colon)] = Number(line.slice(colon + 1));
  }
  const io = { rchar: v['rchar'], wchar: v['wchar'], readBytes: v['read_bytes'], writeBytes: v['write_bytes'] };
  return Object.values(io).every((x) => x !== undefined && Number.isFinite(x)) ? (io as ProcIo) : undefined;
}

/**
 * Clock ticks per second and page size from the kernel's auxiliary vector of this process
 * (AT_CLKTCK, AT_PAGESZ: what sysconf(_SC_CLK_TCK) and getpagesize() return); Linux's
 * USER_HZ 100 and 4 KiB pages when it cannot be read.
 */
export function systemConstants(procRoot = '/proc'): { clockTicks: number; pageSize: number } {
  const out = { clockTicks: 100, pageSize: 4096 };
  const buf = Buffer.alloc(4096);
  let n = 0;
  try {
    const fd = openSync(`${procRoot}/self/auxv`, 'r');
    try {
      n = readSync(fd, buf, 0, buf.length, null);
    } finally {
      closeSync(fd);
    }
  } catch {
    return out;
  }
  // Pairs of native words; 64-bit little-endian on the hosts Wisp runs on (x86-64, arm64).
  for (let i = 0; i + 16 <= n; i += 16) {
    const type = Number(buf.readBigUInt64LE(i));
    const value = Number(buf.readBigUInt64LE(i + 8));
    if (type === 0) break;
    if (type === 17 && value > 0) out.clockTicks = value;
    if (type === 6 && value > 0) out.pageSize = value;
  }
  return out;
}

/** Options of {@link ProcessStatsSampler}. */
export interface ProcessStatsOptions {
  /** Where procfs is mounted. Default /proc. */
  readonly procRoot?: string;
  /** A cgroup v2 directory: only processes in it or below it (what capture traces). Default: every process. */
  readonly cgroup?: string;
  /** Processes never sampled: the engine itself, which capture does not trace either. */
  readonly skipPids?: readonly number[];
  /** The agent id in the UPIDs (0 on one host, as http_events). */
  readonly asid?: number;
}

/** One sample, as the store's columnar append takes it. */
export interface ProcessStatsSample {
  readonly rows: number;
  readonly columns: Readonly<Record<string, ColumnInput>>;
  /** Processes listed but not sampled: gone between listing and reading, or /proc refused their files. */
  readonly skipped: number;
}

/**
 * Samples `/proc/<pid>/stat` and `/proc/<pid>/io` of every traced process: every user-space
 * process of the host, or of one cgroup subtree. Two small reads per process into one reused
 * buffer, parsed without building strings for stat; a process that exits midway, or whose
 * files /proc refuses, is skipped (as Pixie skips it), never an error.
 */
export class ProcessStatsSampler {
  private readonly procRoot: string;
  private readonly skip: ReadonlySet<number>;
  private readonly asid: number;
  private readonly tickNs: number;
  private readonly pageSize: number;
  private readonly buf = Buffer.alloc(4096);

  constructor(private readonly opts: ProcessStatsOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.skip = new Set(opts.skipPids ?? []);
    this.asid = opts.asid ?? 0;
    const c = systemConstants(this.procRoot);
    this.tickNs = 1e9 / c.clockTicks;
    this.pageSize = c.pageSize;
  }

  /** The pids to sample now. */
  pids(): number[] {
    if (this.opts.cgroup === undefined) {
      let names: string[];
      try {
        names = readdirSync(this.procRoot);
      } catch {
        return [];
      }
      const out: number[] = [];
      for (const name of names) {
        const c = name.charCodeAt(0);
        if (c >= 0x30 && c <= 0x39) out.push(Number(name));
      }
      return out;
    }
    const out: number[] = [];
    this.cgroupPids(this.opts.cgroup, out);
    return out;
  }

  /** Pids of a cgroup directory and its descendants (their cgroup.procs). */
  private cgroupPids(dir: string, into: number[]): void {
    // Whole: a busy cgroup lists more pids than the stat buffer holds.
    let procs = '';
    try {
      procs = readFileSync(join(dir, 'cgroup.procs'), 'latin1');
    } catch {
      // The cgroup went away while being walked: it has no processes left.
    }
    for (const line of procs.split('\n')) if (line !== '') into.push(Number(line));
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) if (e.isDirectory()) this.cgroupPids(join(dir, e.name), into);
  }

  /** Reads a small file into the shared buffer: its length, or -1 when it cannot be read. */
  private read(path: string): number {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return -1;
    }
    try {
      return readSync(fd, this.buf, 0, this.buf.length, 0);
    } catch {
      return -1;
    } finally {
      closeSync(fd);
    }
  }

  /** One row per traced process, all stamped `nowNs`. */
  sample(nowNs: bigint): ProcessStatsSample {
    const pids = this.pids();
    const cols = {
      major_faults: new Float64Array(pids.length),
      minor_faults: new Float64Array(pids.length),
      cpu_utime_ns: new Float64Array(pids.length),
      cpu_ktime_ns: new Float64Array(pids.length),
      num_threads: new Float64Array(pids.length),
      vsize_bytes: new Float64Array(pids.length),
      rss_bytes: new Float64Array(pids.length),
      rchar_bytes: new Float64Array(pids.length),
      wchar_bytes: new Float64Array(pids.length),
      read_bytes: new Float64Array(pids.length),
      write_bytes: new Float64Array(pids.length),
    };
    const upids: string[] = [];
    let skipped = 0;
    for (const pid of pids) {
      if (this.skip.has(pid)) continue;
      const dir = `${this.procRoot}/${pid}`;
      const sn = this.read(`${dir}/stat`);
      const st = sn > 0 ? parseStat(this.buf, sn) : undefined;
      if (st && (st.flags & PF_KTHREAD) !== 0) continue;
      const ion = st ? this.read(`${dir}/io`) : -1;
      const io = ion > 0 ? parseIo(this.buf.toString('latin1', 0, ion)) : undefined;
      if (!st || !io) {
        skipped++;
        continue;
      }
      const i = upids.length;
      upids.push(formatUpid({ asid: this.asid, pid, startTicks: BigInt(st.startTicks) }));
      cols.major_faults[i] = st.majorFaults;
      cols.minor_faults[i] = st.minorFaults;
      cols.cpu_utime_ns[i] = Math.round(st.utime * this.tickNs);
      cols.cpu_ktime_ns[i] = Math.round(st.stime * this.tickNs);
      cols.num_threads[i] = st.numThreads;
      cols.vsize_bytes[i] = st.vsizeBytes;
      cols.rss_bytes[i] = st.rssPages * this.pageSize;
      cols.rchar_bytes[i] = io.rchar;
      cols.wchar_bytes[i] = io.wchar;
      cols.read_bytes[i] = io.readBytes;
      cols.write_bytes[i] = io.writeBytes;
    }
    const rows = upids.length;
    const columns: Record<string, ColumnInput> = {
      time_: { kind: 'time', base: nowNs, data: new Float64Array(rows) },
      upid: { kind: 'dict', codes: Uint32Array.from({ length: rows }, (_, i) => i), dict: upids },
    };
    for (const [name, data] of Object.entries(cols)) columns[name] = { kind: 'f64', data: data.subarray(0, rows) };
    return { rows, columns, skipped };
  }
}
