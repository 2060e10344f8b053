/**
 * Decodes the addon's batches of raw ring-buffer records into `CaptureEvent`s. One decoder per
 * struct of bpf/socket_trace.h; the offsets below are checked against the BPF object's BTF by
 * decode.test.ts, so the two sides cannot drift apart silently.
 */
import type { CaptureRecord, ConnCloseEvent, ConnOpenEvent, ConnShedEvent, DataEvent, TraceRole } from './types.js';

/** Byte layout of the records in bpf/socket_trace.h (little-endian, as the host). */
export const LAYOUT = {
  header: { size: 32, kind: 0, tgid: 4, fd: 8, connId: 16, tsNs: 24 },
  open: {
    size: 96, role: 32, family: 33, localPort: 34, remotePort: 36, localAddr: 40, remoteAddr: 56,
    startBoottimeNs: 72, comm: 80,
  },
  data: { size: 56, direction: 32, protocol: 33, tls: 34, syscallSize: 36, pos: 40, chunkOffset: 48, dataLen: 52, data: 56 },
  close: { size: 48, egressBytes: 32, ingressBytes: 40 },
  /** pos[2]: egress at pos, ingress at pos + 8. */
  shed: { size: 48, pos: 32 },
} as const;

const KIND_OPEN = 1;
const KIND_DATA = 2;
const KIND_CLOSE = 3;
const KIND_SHED = 4;
/** enum wisp_protocol. */
const PROTOCOL_HTTP = 0;
const PROTOCOL_TLS = 1;
const AF_INET = 2;
const AF_INET6 = 10;
/** Each record in a batch is preceded by [u32 length][u32 zero] and padded to 8 bytes. */
const FRAME_HEADER = 8;
/** TASK_COMM_LEN. */
const COMM_BYTES = 16;
/** ns per clock tick of /proc/<pid>/stat (USER_HZ is 100 on every Linux architecture). */
const NS_PER_TICK = 10_000_000n;
const utf8 = new TextDecoder();

/** What one batch held besides the events. */
export interface DecodeResult {
  /** Captured payload bytes in data events. */
  dataBytes: number;
  /** Records that were too short or of an unknown kind (a build mismatch); skipped. */
  malformed: number;
  /** Shed markers among the records. */
  shed: number;
}

/**
 * Appends the events of `batch` to `out`. `clockOffsetNs` is CLOCK_REALTIME minus
 * CLOCK_MONOTONIC, turning the kernel's monotonic stamps into epoch ns. Never throws on bad
 * input: malformed records are skipped and counted. Each data event's `data` is a view into
 * `batch`: a consumer that keeps bytes beyond its callback should copy them. With `keys`, all
 * events of a connection share one connKey string object.
 */
export function decodeBatch(batch: Uint8Array, clockOffsetNs: bigint, out: CaptureRecord[], keys?: ConnKeys): DecodeResult {
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  // Plain Uint8Array views (not Buffer) so events carry exactly the contract's type.
  const bytes = new Uint8Array(batch.buffer, batch.byteOffset, batch.byteLength);
  const result: DecodeResult = { dataBytes: 0, malformed: 0, shed: 0 };
  let off = 0;
  while (off + FRAME_HEADER <= batch.byteLength) {
    const len = view.getUint32(off, true);
    const rec = off + FRAME_HEADER;
    off = rec + ((len + 7) & ~7);
    if (rec + len > batch.byteLength || len < LAYOUT.header.size) {
      result.malformed++;
      break;
    }
    const ev = decodeRecord(bytes, view, rec, len, clockOffsetNs, keys);
    if (ev === undefined) {
      result.malformed++;
      continue;
    }
    if (ev.kind === 'data') result.dataBytes += ev.data.byteLength;
    else if (ev.kind === 'shed') result.shed++;
    out.push(ev);
  }
  return result;
}

function decodeRecord(
  bytes: Uint8Array, view: DataView, rec: number, len: number, clockOffsetNs: bigint, keys: ConnKeys | undefined,
): CaptureRecord | undefined {
  switch (bytes[rec + LAYOUT.header.kind]) {
    case KIND_OPEN: return len >= LAYOUT.open.size ? decodeOpen(bytes, view, rec, clockOffsetNs, keys) : undefined;
    case KIND_DATA: return len >= LAYOUT.data.size ? decodeData(bytes, view, rec, len, clockOffsetNs, keys) : undefined;
    case KIND_CLOSE: return len >= LAYOUT.close.size ? decodeClose(view, rec, clockOffsetNs, keys) : undefined;
    case KIND_SHED: return len >= LAYOUT.shed.size ? decodeShed(view, rec, clockOffsetNs, keys) : undefined;
    default: return undefined;
  }
}

/**
 * The connKey strings of open connections by connection id, so that every event of a
 * connection carries the same string object: consumers key maps by it, and V8 hashes a string
 * once, not once per fresh copy. One per tracer; entries go at close (or when it is full).
 */
export class ConnKeys {
  private readonly byId = new Map<number, string>();

  /** The key of (pid, fd, connId); `closing` forgets it afterwards. */
  get(pid: number, fd: number, connId: number, closing: boolean): string {
    let key = this.byId.get(connId);
    if (key === undefined) {
      key = `${pid}:${fd}:${connId}`;
      if (!closing) {
        // Processes that exit without close(2) leave entries behind: start over when full.
        if (this.byId.size >= 65536) this.byId.clear();
        this.byId.set(connId, key);
      }
    } else if (closing) this.byId.delete(connId);
    return key;
  }
}

/** The kernel's connection id inside a connKey ("tgid:fd:connId"). */
export function connIdOf(connKey: string): number {
  const id = Number(connKey.slice(connKey.lastIndexOf(':') + 1));
  if (!Number.isSafeInteger(id) || id <= 0) throw new RangeError(`wisp capture: ${JSON.stringify(connKey)} is not a connKey (tgid:fd:connId)`);
  return id;
}

function connKey(view: DataView, rec: number, pid: number, fd: number, keys: ConnKeys | undefined, closing = false): string {
  const h = LAYOUT.header;
  // Connection ids count up from 1 and stay far below 2^53.
  const connId = view.getUint32(rec + h.connId, true) + view.getUint32(rec + h.connId + 4, true) * 2 ** 32;
  return keys === undefined ? `${pid}:${fd}:${connId}` : keys.get(pid, fd, connId, closing);
}

function decodeOpen(bytes: Uint8Array, view: DataView, rec: number, clockOffsetNs: bigint, keys: ConnKeys | undefined): ConnOpenEvent | undefined {
  const h = LAYOUT.header;
  const o = LAYOUT.open;
  const role = bytes[rec + o.role]!;
  const family = bytes[rec + o.family];
  if (role > 2 || (family !== AF_INET && family !== AF_INET6)) return undefined;
  const v6 = family === AF_INET6;
  const pid = view.getUint32(rec + h.tgid, true);
  const fd = view.getUint32(rec + h.fd, true);
  return {
    kind: 'open',
    connKey: connKey(view, rec, pid, fd, keys),
    pid,
    fd,
    tsNs: view.getBigUint64(rec + h.tsNs, true) + clockOffsetNs,
    role: role as TraceRole,
    family: v6 ? 6 : 4,
    localAddr: formatAddr(bytes.subarray(rec + o.localAddr, rec + o.localAddr + 16), v6),
    localPort: view.getUint16(rec + o.localPort, true),
    remoteAddr: formatAddr(bytes.subarray(rec + o.remoteAddr, rec + o.remoteAddr + 16), v6),
    remotePort: view.getUint16(rec + o.remotePort, true),
    comm: cString(bytes, rec + o.comm, COMM_BYTES),
    startTicks: view.getBigUint64(rec + o.startBoottimeNs, true) / NS_PER_TICK,
  };
}

/** The NUL-terminated string in bytes[at, at + max). */
function cString(bytes: Uint8Array, at: number, max: number): string {
  let end = at;
  while (end < at + max && bytes[end] !== 0) end++;
  return utf8.decode(bytes.subarray(at, end));
}

function decodeData(
  bytes: Uint8Array, view: DataView, rec: number, len: number, clockOffsetNs: bigint, keys: ConnKeys | undefined,
): DataEvent | undefined {
  const h = LAYOUT.header;
  const d = LAYOUT.data;
  const dir = bytes[rec + d.direction];
  const protocol = bytes[rec + d.protocol];
  const dataLen = view.getUint32(rec + d.dataLen, true);
  if ((dir !== 0 && dir !== 1) || (protocol !== PROTOCOL_HTTP && protocol !== PROTOCOL_TLS) || d.data + dataLen > len) return undefined;
  const pid = view.getUint32(rec + h.tgid, true);
  const fd = view.getUint32(rec + h.fd, true);
  const start = rec + d.data;
  return {
    kind: 'data',
    connKey: connKey(view, rec, pid, fd, keys),
    pid,
    fd,
    direction: dir === 0 ? 'egress' : 'ingress',
    protocol: protocol === PROTOCOL_TLS ? 'tls' : 'http',
    tls: bytes[rec + d.tls] === 1,
    tsNs: view.getBigUint64(rec + h.tsNs, true) + clockOffsetNs,
    pos: view.getBigUint64(rec + d.pos, true),
    size: view.getUint32(rec + d.syscallSize, true),
    chunkOffset: view.getUint32(rec + d.chunkOffset, true),
    // A view into the batch, not a copy: small typed-array allocations cost microseconds each.
    data: bytes.subarray(start, start + dataLen),
  };
}

function decodeClose(view: DataView, rec: number, clockOffsetNs: bigint, keys: ConnKeys | undefined): ConnCloseEvent {
  const h = LAYOUT.header;
  const c = LAYOUT.close;
  const pid = view.getUint32(rec + h.tgid, true);
  const fd = view.getUint32(rec + h.fd, true);
  return {
    kind: 'close',
    connKey: connKey(view, rec, pid, fd, keys, true),
    pid,
    fd,
    tsNs: view.getBigUint64(rec + h.tsNs, true) + clockOffsetNs,
    egressBytes: view.getBigUint64(rec + c.egressBytes, true),
    ingressBytes: view.getBigUint64(rec + c.ingressBytes, true),
  };
}

function decodeShed(view: DataView, rec: number, clockOffsetNs: bigint, keys: ConnKeys | undefined): ConnShedEvent {
  const h = LAYOUT.header;
  const pid = view.getUint32(rec + h.tgid, true);
  const fd = view.getUint32(rec + h.fd, true);
  return {
    kind: 'shed',
    connKey: connKey(view, rec, pid, fd, keys),
    pid,
    fd,
    tsNs: view.getBigUint64(rec + h.tsNs, true) + clockOffsetNs,
    egressPos: view.getBigUint64(rec + LAYOUT.shed.pos, true),
    ingressPos: view.getBigUint64(rec + LAYOUT.shed.pos + 8, true),
  };
}

/**
 * Renders an address as the socket holds it: dotted IPv4, or RFC 5952 IPv6 (lower-case, the
 * longest run of zero groups as `::`). IPv4-mapped IPv6 (`::ffff:a.b.c.d`, a dual-stack socket
 * talking IPv4) is rendered as plain IPv4, as Pixie does.
 */
export function formatAddr(a: Uint8Array, v6: boolean): string {
  if (!v6) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  let mapped = a[10] === 0xff && a[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) mapped = a[i] === 0;
  if (mapped) return `${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i]! << 8) | a[i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestLen < 2) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}
