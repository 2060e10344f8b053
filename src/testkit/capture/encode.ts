/**
 * The inverse of decode.ts: capture events as the ring records the kernel writes
 * (bpf/socket_trace.h), framed as the addon's raw batches are. Tests and the bench feed these
 * to the native stitcher, so it parses exactly the bytes it parses in production. Not used by
 * the engine.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { LAYOUT } from '../../engine/capture/decode.js';
import type { CaptureRecord } from '../../engine/capture/types.js';

const KIND = { open: 1, data: 2, close: 3, shed: 4 } as const;
const NS_PER_TICK = 10_000_000n;

/** Writes an address as the socket holds it: IPv4 in the first 4 bytes, IPv6 in all 16. */
function addrBytes(out: Uint8Array, at: number, addr: string): void {
  if (isIPv4(addr)) {
    addr.split('.').forEach((o, i) => (out[at + i] = Number(o)));
    return;
  }
  if (!isIPv6(addr)) return;
  const [head, tail] = addr.includes('::') ? addr.split('::') as [string, string] : [addr, undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  all.forEach((g, i) => {
    out[at + 2 * i] = g >> 8;
    out[at + 2 * i + 1] = g & 0xff;
  });
}

/** Frames events as records; connection ids are numbered per distinct connKey, from 1. */
export class RecordEncoder {
  private readonly ids = new Map<string, number>();

  /** The frames of `events`, in order; timestamps are written as given (clock offset 0). */
  encode(events: readonly CaptureRecord[]): Uint8Array {
    const recs = events.map((e) => this.record(e));
    const total = recs.reduce((n, r) => n + 8 + ((r.length + 7) & ~7), 0);
    const out = new Uint8Array(total);
    const view = new DataView(out.buffer);
    let at = 0;
    for (const r of recs) {
      view.setUint32(at, r.length, true);
      out.set(r, at + 8);
      at += 8 + ((r.length + 7) & ~7);
    }
    return out;
  }

  private id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.ids.size + 1;
      this.ids.set(key, id);
    }
    return id;
  }

  private record(e: CaptureRecord): Uint8Array {
    const h = LAYOUT.header;
    const size = e.kind === 'open' ? LAYOUT.open.size : e.kind === 'close' ? LAYOUT.close.size : e.kind === 'shed' ? LAYOUT.shed.size : LAYOUT.data.size + e.data.length;
    const b = new Uint8Array(size);
    const v = new DataView(b.buffer);
    b[h.kind] = KIND[e.kind];
    v.setUint32(h.tgid, e.pid, true);
    v.setUint32(h.fd, e.fd, true);
    v.setBigUint64(h.connId, BigInt(this.id(e.connKey)), true);
    v.setBigUint64(h.tsNs, e.tsNs, true);
    switch (e.kind) {
      case 'open': {
        const o = LAYOUT.open;
        b[o.role] = e.role;
        b[o.family] = e.family === 6 ? 10 : 2;
        v.setUint16(o.localPort, e.localPort, true);
        v.setUint16(o.remotePort, e.remotePort, true);
        addrBytes(b, o.localAddr, e.localAddr);
        addrBytes(b, o.remoteAddr, e.remoteAddr);
        v.setBigUint64(o.startBoottimeNs, (e.startTicks ?? 0n) * NS_PER_TICK, true);
        b.set(new TextEncoder().encode(e.comm ?? '').subarray(0, 15), o.comm);
        break;
      }
      case 'data': {
        const d = LAYOUT.data;
        b[d.direction] = e.direction === 'egress' ? 0 : 1;
        b[d.protocol] = e.protocol === 'tls' ? 1 : 0;
        b[d.tls] = e.tls ? 1 : 0;
        v.setUint32(d.syscallSize, e.size, true);
        v.setBigUint64(d.pos, e.pos, true);
        v.setUint32(d.chunkOffset, e.chunkOffset, true);
        v.setUint32(d.dataLen, e.data.length, true);
        b.set(e.data, d.data);
        break;
      }
      case 'close': {
        const c = LAYOUT.close;
        v.setBigUint64(c.egressBytes, e.egressBytes, true);
        v.setBigUint64(c.ingressBytes, e.ingressBytes, true);
        break;
      }
      case 'shed':
        v.setBigUint64(LAYOUT.shed.pos, e.egressPos, true);
        v.setBigUint64(LAYOUT.shed.pos + 8, e.ingressPos, true);
        break;
    }
    return b;
  }
}
