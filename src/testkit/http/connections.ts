/**
 * Builds the capture events a connection produces, the way the tracer reports them (one data
 * event per syscall, big syscalls in chunks, positions per direction), for the stitcher's tests
 * and bench. Not used by the engine.
 */
import type { CaptureRecord, Direction, TraceRole } from '../../engine/capture/types.js';

const enc = new TextEncoder();

/** Bytes of a fixture, given as text (latin1-free ASCII/UTF-8) or bytes. */
export function bytes(s: string | Uint8Array): Uint8Array {
  return typeof s === 'string' ? enc.encode(s) : s;
}

/** How one syscall is reported. */
export interface SyscallShape {
  /** Bytes per chunk event (the tracer's chunk cap). Default: the whole syscall in one event. */
  readonly chunk?: number;
  /** Only the first `captured` bytes are copied (the rest of the syscall is a gap). */
  readonly captured?: number;
}

/** One connection's events, in the order they are produced. */
export class ConnScript {
  readonly events: CaptureRecord[] = [];
  private readonly pos: Record<Direction, bigint> = { egress: 0n, ingress: 0n };
  private readonly total: Record<Direction, bigint> = { egress: 0n, ingress: 0n };
  /** Wall-clock ns of the next event; each syscall advances it by `stepNs`. */
  tsNs: bigint;

  constructor(
    readonly connKey: string,
    readonly pid: number,
    t0Ns = 1_700_000_000_000_000_000n,
    readonly stepNs = 1000n,
  ) {
    this.tsNs = t0Ns;
  }

  /** The connect (role 1) or accept (role 2) of the connection. */
  open(role: TraceRole, local = '127.0.0.1:40000', remote = '127.0.0.1:8080'): this {
    const [la, lp] = local.split(':');
    const [ra, rp] = remote.split(':');
    this.events.push({
      kind: 'open', connKey: this.connKey, pid: this.pid, fd: 5, tsNs: this.tick(), role, family: 4,
      localAddr: la!, localPort: Number(lp), remoteAddr: ra!, remotePort: Number(rp),
    });
    return this;
  }

  /** One read or write syscall of `data` (text or bytes). */
  io(direction: Direction, data: string | Uint8Array, shape: SyscallShape = {}): this {
    const b = bytes(data);
    const ts = this.tick();
    const pos = this.pos[direction];
    const captured = Math.min(b.length, shape.captured ?? b.length);
    const chunk = Math.max(1, shape.chunk ?? Math.max(1, captured));
    for (let off = 0; off < captured || (off === 0 && captured === 0); off += chunk) {
      this.events.push({
        kind: 'data', connKey: this.connKey, pid: this.pid, fd: 5, direction, tls: false, tsNs: ts, pos,
        size: b.length, chunkOffset: off, data: b.subarray(off, Math.min(captured, off + chunk)),
      });
      if (captured === 0) break;
    }
    this.pos[direction] += BigInt(b.length);
    this.total[direction] += BigInt(b.length);
    return this;
  }

  /** `data` as consecutive syscalls cut at the given offsets. */
  split(direction: Direction, data: string | Uint8Array, cuts: readonly number[]): this {
    const b = bytes(data);
    let prev = 0;
    for (const c of [...cuts, b.length]) {
      if (c > prev) this.io(direction, b.subarray(prev, c));
      prev = Math.max(prev, c);
    }
    return this;
  }

  /** `data` one byte per syscall. */
  bytewise(direction: Direction, data: string | Uint8Array): this {
    const b = bytes(data);
    for (let i = 0; i < b.length; i++) this.io(direction, b.subarray(i, i + 1));
    return this;
  }

  /** A syscall the kernel sent nothing for (shed under overload): positions move on, no record. */
  unseen(direction: Direction, data: string | Uint8Array): this {
    const n = BigInt(bytes(data).length);
    this.tick();
    this.pos[direction] += n;
    this.total[direction] += n;
    return this;
  }

  /** The kernel's marker that it starts shedding this connection here. */
  shed(): this {
    this.events.push({ kind: 'shed', connKey: this.connKey, pid: this.pid, fd: 5, tsNs: this.tick(), egressPos: this.pos.egress, ingressPos: this.pos.ingress });
    return this;
  }

  close(): this {
    this.events.push({
      kind: 'close', connKey: this.connKey, pid: this.pid, fd: 5, tsNs: this.tick(),
      egressBytes: this.total.egress, ingressBytes: this.total.ingress,
    });
    return this;
  }

  private tick(): bigint {
    const t = this.tsNs;
    this.tsNs += this.stepNs;
    return t;
  }
}
