/**
 * From the native stitcher's column batches to `http_events` columns the store appends at
 * once: the numbers and strings as they come, plus the process columns (upid, comm, cmdline,
 * container_id), filled once per distinct process of the batch, never per row.
 */
import type { NativeBatch } from '../capture/addon.js';
import type { ProcessInfo } from '../meta/process.js';
import { formatUpid } from '../meta/upid.js';
import type { ColumnInput } from '../schema.js';
import type { HttpEventRow } from './schema.js';

/** Where process metadata comes from (a ProcessMetadata over /proc in the engine). */
export interface ProcessSource {
  lookup(pid: number): ProcessInfo;
}

/** The columns of `http_events` for one batch, keyed by column name. */
export type HttpColumns = Readonly<Record<keyof HttpEventRow, ColumnInput>>;

/**
 * The process a batch row belongs to: /proc's view, filled in from what the kernel recorded at
 * open when /proc has nothing. A short-lived client (curl) is often gone before /proc is read;
 * its command name and start time (so its upid is still right) came with the connection. A
 * start time that merely differs is not overridden: a time namespace shifts /proc's.
 */
export function withKernelView(proc: ProcessInfo, comm: string, startTicks: bigint): ProcessInfo {
  if (startTicks === 0n && comm === '') return proc;
  if (proc.startTicks === 0n) return { ...proc, comm: comm || proc.comm, startTicks };
  return proc.comm === '' ? { ...proc, comm } : proc;
}

/** The batch as `http_events` columns; `asid` is the agent id in the UPIDs (0 on one host). */
export function httpColumns(b: NativeBatch, processes: ProcessSource, asid = 0): HttpColumns {
  const p = b.procs;
  const n = p.pid.length;
  const upid: string[] = new Array<string>(n);
  const comm: string[] = new Array<string>(n);
  const cmdline: string[] = new Array<string>(n);
  const container: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const pid = p.pid[i]!;
    const info = withKernelView(processes.lookup(pid), p.comm[i]!, BigInt(p.startTicks[i]!));
    upid[i] = formatUpid({ asid, pid, startTicks: info.startTicks });
    comm[i] = info.comm;
    cmdline[i] = info.cmdline;
    container[i] = info.containerId;
  }
  const num = b.numbers;
  const str = b.strings;
  const f64 = (data: Float64Array): ColumnInput => ({ kind: 'f64', data });
  const dict = (s: { codes: Uint32Array; dict: readonly string[] }): ColumnInput => ({ kind: 'dict', codes: s.codes, dict: s.dict });
  return {
    time_: { kind: 'time', base: b.timeBase, data: b.time },
    upid: { kind: 'dict', codes: p.codes, dict: upid },
    remote_addr: dict(str.remote_addr),
    remote_port: f64(num.remote_port),
    local_addr: dict(str.local_addr),
    local_port: f64(num.local_port),
    trace_role: f64(num.trace_role),
    encrypted: { kind: 'bool', data: b.encrypted },
    major_version: f64(num.major_version),
    minor_version: f64(num.minor_version),
    content_type: f64(num.content_type),
    req_headers: dict(str.req_headers),
    req_method: dict(str.req_method),
    req_path: dict(str.req_path),
    req_body: dict(str.req_body),
    req_body_size: f64(num.req_body_size),
    resp_headers: dict(str.resp_headers),
    resp_status: f64(num.resp_status),
    resp_message: dict(str.resp_message),
    resp_body: dict(str.resp_body),
    resp_body_size: f64(num.resp_body_size),
    latency: f64(num.latency),
    pid: f64(num.pid),
    comm: { kind: 'dict', codes: p.codes, dict: comm },
    cmdline: { kind: 'dict', codes: p.codes, dict: cmdline },
    container_id: { kind: 'dict', codes: p.codes, dict: container },
  };
}

/** The rows of a batch as objects, for consumers that print rows (wisp tail) and tests. */
export function httpRows(rows: number, c: HttpColumns): HttpEventRow[] {
  const out: HttpEventRow[] = [];
  const s = (k: keyof HttpEventRow, i: number): string => {
    const col = c[k] as Extract<ColumnInput, { kind: 'dict' }>;
    return col.dict[col.codes[i]!]!;
  };
  const v = (k: keyof HttpEventRow, i: number): number => (c[k] as Extract<ColumnInput, { kind: 'f64' }>).data[i]!;
  const time = c.time_ as Extract<ColumnInput, { kind: 'time' }>;
  const encrypted = c.encrypted as Extract<ColumnInput, { kind: 'bool' }>;
  for (let i = 0; i < rows; i++) {
    out.push({
      time_: time.base + BigInt(time.data[i]!),
      upid: s('upid', i),
      remote_addr: s('remote_addr', i),
      remote_port: v('remote_port', i),
      local_addr: s('local_addr', i),
      local_port: v('local_port', i),
      trace_role: v('trace_role', i),
      encrypted: encrypted.data[i] === 1,
      major_version: v('major_version', i),
      minor_version: v('minor_version', i),
      content_type: v('content_type', i),
      req_headers: s('req_headers', i),
      req_method: s('req_method', i),
      req_path: s('req_path', i),
      req_body: s('req_body', i),
      req_body_size: v('req_body_size', i),
      resp_headers: s('resp_headers', i),
      resp_status: v('resp_status', i),
      resp_message: s('resp_message', i),
      resp_body: s('resp_body', i),
      resp_body_size: v('resp_body_size', i),
      latency: v('latency', i),
      pid: v('pid', i),
      comm: s('comm', i),
      cmdline: s('cmdline', i),
      container_id: s('container_id', i),
    });
  }
  return out;
}
