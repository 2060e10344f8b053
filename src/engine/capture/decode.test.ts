import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConnKeys, decodeBatch, formatAddr, LAYOUT } from './decode.js';
import type { CaptureRecord } from './types.js';

// out/src/engine/capture/ -> out/bpf/, built by `make bpf`.
const bpfObject = fileURLToPath(new URL('../../../bpf/socket_trace.bpf.o', import.meta.url));

interface BtfMember { name: string; bits_offset: number }
interface BtfType { kind: string; name?: string; size?: number; members?: BtfMember[] }

function btfStructs(): Map<string, BtfType> {
  const out = execFileSync('bpftool', ['-j', 'btf', 'dump', 'file', bpfObject, 'format', 'raw'], { encoding: 'utf8' });
  const types = (JSON.parse(out) as { types: BtfType[] }).types;
  return new Map(types.filter((t) => t.kind === 'STRUCT' && t.name).map((t) => [t.name!, t]));
}

/** C member name for each TS layout key; `size` is the struct size. */
const FIELDS = {
  wisp_event_header: { from: LAYOUT.header, names: { kind: 'kind', tgid: 'tgid', fd: 'fd', connId: 'conn_id', tsNs: 'ts_ns' } },
  wisp_open_event: {
    from: LAYOUT.open,
    names: {
      role: 'role', family: 'family', localPort: 'local_port', remotePort: 'remote_port', localAddr: 'local_addr', remoteAddr: 'remote_addr',
      startBoottimeNs: 'start_boottime_ns', comm: 'comm',
    },
  },
  wisp_data_event: {
    from: LAYOUT.data,
    names: { direction: 'direction', protocol: 'protocol', tls: 'tls', syscallSize: 'size', pos: 'pos', chunkOffset: 'chunk_offset', dataLen: 'data_len', data: 'data' },
  },
  wisp_close_event: { from: LAYOUT.close, names: { egressBytes: 'egress_bytes', ingressBytes: 'ingress_bytes' } },
  wisp_shed_event: { from: LAYOUT.shed, names: { pos: 'pos' } },
} as const;

test('record layouts match the BPF object\'s BTF, field by field', () => {
  const structs = btfStructs();
  for (const [cName, { from, names }] of Object.entries(FIELDS)) {
    const s = structs.get(cName);
    assert.ok(s?.members, `${cName} is missing from ${bpfObject}'s BTF`);
    assert.equal(from.size, s.size, `${cName} size`);
    const byName = new Map(s.members.map((m) => [m.name, m.bits_offset / 8]));
    for (const [tsKey, member] of Object.entries(names)) {
      assert.equal((from as Record<string, number>)[tsKey], byName.get(member), `${cName}.${member} offset`);
    }
    // Every real field in C is decoded: a field added on one side only fails here.
    const covered = new Set<string>([...Object.values(names), 'hdr']);
    const missing = s.members.map((m) => m.name).filter((n) => !n.startsWith('pad') && !covered.has(n));
    assert.deepEqual(missing, [], `${cName} fields the decoder ignores`);
    if (cName !== 'wisp_event_header') assert.equal(byName.get('hdr'), 0, `${cName}.hdr leads`);
  }
});

test('formatAddr renders IPv4, RFC 5952 IPv6 and v4-mapped IPv6', () => {
  const v6 = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex.replace(/ /g, ''), 'hex'));
  assert.equal(formatAddr(Uint8Array.from([127, 0, 0, 1, 9, 9, 9, 9, 0, 0, 0, 0, 0, 0, 0, 0]), false), '127.0.0.1');
  assert.equal(formatAddr(v6('0000 0000 0000 0000 0000 0000 0000 0001'), true), '::1');
  assert.equal(formatAddr(v6('0000 0000 0000 0000 0000 0000 0000 0000'), true), '::');
  assert.equal(formatAddr(v6('2001 0db8 0000 0000 0000 0000 0000 0001'), true), '2001:db8::1');
  // The longest zero run is compressed, the first of equal runs, never a single group.
  assert.equal(formatAddr(v6('2001 0db8 0000 0001 0000 0000 0000 0001'), true), '2001:db8:0:1::1');
  assert.equal(formatAddr(v6('2001 0000 0000 0001 0000 0000 0001 0001'), true), '2001::1:0:0:1:1');
  assert.equal(formatAddr(v6('2001 0db8 0001 0001 0001 0001 0001 0000'), true), '2001:db8:1:1:1:1:1:0');
  assert.equal(formatAddr(v6('fe80 0000 0000 0000 abcd 0000 0000 00ff'), true), 'fe80::abcd:0:0:ff');
  assert.equal(formatAddr(v6('0000 0000 0000 0000 0000 ffff 0a00 0102'), true), '10.0.1.2');
});

/** Frames records the way the addon does: [u32 len][u32 0][record][pad to 8]. */
function frame(...records: Uint8Array[]): Uint8Array {
  const parts: Buffer[] = [];
  for (const r of records) {
    const h = Buffer.alloc(8);
    h.writeUInt32LE(r.byteLength, 0);
    parts.push(h, Buffer.from(r), Buffer.alloc(((r.byteLength + 7) & ~7) - r.byteLength));
  }
  return Buffer.concat(parts);
}

function header(kind: number, size: number, tgid: number, fd: number, connId: bigint, ts: bigint): Buffer {
  const b = Buffer.alloc(size);
  b[0] = kind;
  b.writeUInt32LE(tgid, 4);
  b.writeUInt32LE(fd, 8);
  b.writeBigUInt64LE(connId, 16);
  b.writeBigUInt64LE(ts, 24);
  return b;
}

test('decodeBatch turns open, data and close records into CaptureEvents', () => {
  const open = header(1, 96, 4242, 7, 9n, 1_000n);
  open[32] = 2;
  open[33] = 10;
  open.writeUInt16LE(8080, 34);
  open.writeUInt16LE(51000, 36);
  open.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1], 40);
  open.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 56);
  // 12.345 s after boot is tick 1234 (10 ms ticks, rounded down).
  open.writeBigUInt64LE(12_345_678_901n, 72);
  open.write('curl\0garbage', 80, 'latin1');
  const payload = Buffer.from('GET / HTTP/1.1\r\n');
  const data = Buffer.concat([header(2, 56, 4242, 7, 9n, 2_000n), payload]);
  data[32] = 1;
  data.writeUInt32LE(100_000, 36);
  data.writeBigUInt64LE(5n, 40);
  data.writeUInt32LE(16_384, 48);
  data.writeUInt32LE(payload.byteLength, 52);
  const close = header(3, 48, 4242, 7, 9n, 3_000n);
  close.writeBigUInt64LE(11n, 32);
  close.writeBigUInt64LE(100_005n, 40);

  const events: CaptureRecord[] = [];
  const r = decodeBatch(frame(open, data, close), 1_700_000_000_000_000_000n, events);
  assert.deepEqual(r, { dataBytes: payload.byteLength, malformed: 0, shed: 0 });
  assert.deepEqual(events, [
    {
      kind: 'open', connKey: '4242:7:9', pid: 4242, fd: 7, tsNs: 1_700_000_000_000_001_000n, role: 2, family: 6,
      localAddr: '127.0.0.1', localPort: 8080, remoteAddr: '::1', remotePort: 51000, comm: 'curl', startTicks: 1234n,
    },
    {
      kind: 'data', connKey: '4242:7:9', pid: 4242, fd: 7, tsNs: 1_700_000_000_000_002_000n, direction: 'ingress', protocol: 'http', tls: false,
      pos: 5n, size: 100_000, chunkOffset: 16_384, data: Uint8Array.from(payload),
    },
    {
      kind: 'close', connKey: '4242:7:9', pid: 4242, fd: 7, tsNs: 1_700_000_000_000_003_000n,
      egressBytes: 11n, ingressBytes: 100_005n,
    },
  ]);
});

test('decodeBatch turns a shed record into a shed marker with both positions', () => {
  const shed = header(4, 48, 4242, 7, 9n, 5_000n);
  shed.writeBigUInt64LE(1234n, 32);
  shed.writeBigUInt64LE(98_765n, 40);
  const short = header(4, 40, 4242, 7, 9n, 5_000n);
  const records: CaptureRecord[] = [];
  assert.deepEqual(decodeBatch(frame(shed, short), 10n, records), { dataBytes: 0, malformed: 1, shed: 1 });
  assert.deepEqual(records, [
    { kind: 'shed', connKey: '4242:7:9', pid: 4242, fd: 7, tsNs: 5_010n, egressPos: 1234n, ingressPos: 98_765n },
  ]);
});

test('decodeBatch tells TLS handshake bytes from HTTP ones by the record\'s protocol', () => {
  const hello = Buffer.from([0x16, 3, 1, 0, 5, 1, 0, 0, 1, 3]);
  const tls = Buffer.concat([header(2, 56, 4242, 7, 9n, 2_000n), hello]);
  tls[33] = 1;
  tls.writeUInt32LE(hello.byteLength, 36);
  tls.writeUInt32LE(hello.byteLength, 52);
  const unknown = Buffer.from(tls);
  unknown[33] = 7;
  const events: CaptureRecord[] = [];
  assert.deepEqual(decodeBatch(frame(tls, unknown), 0n, events), { dataBytes: hello.byteLength, malformed: 1, shed: 0 });
  assert.equal(events.length, 1);
  assert.equal(events[0]!.kind === 'data' && events[0]!.protocol, 'tls');
});

test('decodeBatch skips and counts malformed records instead of throwing', () => {
  const unknownKind = header(9, 32, 1, 1, 1n, 1n);
  const shortOpen = header(1, 40, 1, 1, 1n, 1n);
  const dataOverrun = header(2, 56, 1, 1, 1n, 1n);
  dataOverrun.writeUInt32LE(1000, 52);
  const good = header(3, 48, 1, 2, 3n, 4n);
  const events: CaptureRecord[] = [];
  const r = decodeBatch(frame(unknownKind, shortOpen, dataOverrun, good), 0n, events);
  assert.equal(r.malformed, 3);
  assert.deepEqual(events.map((e) => e.connKey), ['1:2:3']);

  const truncatedFrame = frame(good).subarray(0, 20);
  assert.equal(decodeBatch(truncatedFrame, 0n, []).malformed, 1);
  assert.deepEqual(decodeBatch(new Uint8Array(0), 0n, []), { dataBytes: 0, malformed: 0, shed: 0 });
});

test('ConnKeys hands out the same keys as plain decoding, across a close and a reuse of the id', () => {
  const open = header(1, 96, 7, 3, 5n, 1n);
  open[33] = 2;
  const data = header(2, 56, 7, 3, 5n, 2n);
  const close = header(3, 48, 7, 3, 5n, 3n);
  const other = header(3, 48, 8, 4, 6n, 4n);
  const batch = frame(open, data, close, other, open);
  const plain: CaptureRecord[] = [];
  decodeBatch(batch, 0n, plain);
  const keyed: CaptureRecord[] = [];
  const keys = new ConnKeys();
  decodeBatch(batch, 0n, keyed, keys);
  decodeBatch(batch, 0n, keyed, keys);
  assert.deepEqual(keyed.map((e) => e.connKey), [...plain, ...plain].map((e) => e.connKey));
  assert.deepEqual(plain.map((e) => e.connKey), ['7:3:5', '7:3:5', '7:3:5', '8:4:6', '7:3:5']);
});
