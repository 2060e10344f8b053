import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CaptureRecord, DataEvent, Direction } from '../capture/types.js';

type Event = CaptureRecord;
import { ProcessMetadata } from '../meta/process.js';
import { HttpStitcher } from '../../testkit/http/stitcher.js';
import type { HttpEventRow } from './schema.js';
import { ConnScript, bytes } from '../../testkit/http/connections.js';
import { NGINX_KEEPALIVE, NODE_KEEPALIVE, PYTHON_404, PYTHON_CLOSE_DELIMITED, PYTHON_GET, type RecordedExchange } from '../../testkit/http/exchanges.js';
import { rng as prng } from '../../testkit/rng.js';


const ALL: readonly RecordedExchange[] = [...NODE_KEEPALIVE, ...NGINX_KEEPALIVE, PYTHON_GET, PYTHON_404, PYTHON_CLOSE_DELIMITED];
const processes = new ProcessMetadata();

function mutate(b: Uint8Array, rnd: () => number): Uint8Array {
  const out = Array.from(b);
  const n = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * (out.length + 1));
    const op = rnd();
    if (op < 0.3) out[at] = Math.floor(rnd() * 256);
    else if (op < 0.5) out.splice(at, Math.floor(rnd() * 40));
    else if (op < 0.7) out.splice(at, 0, ...Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256)));
    else if (op < 0.8) out.splice(at, 0, ...bytes('\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n'));
    else if (op < 0.9) out.splice(at, 0, ...bytes('ffffffffffffffff\r\n'));
    else out.splice(at, 0, ...bytes('GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n'));
  }
  return Uint8Array.from(out);
}

/** A random connection: real exchanges, mutated or not, cut into random reads and chunks. */
function randomConn(rnd: () => number, key: string, mutateP: number): Event[] {
  const c = new ConnScript(key, process.pid, 1_700_000_000_000_000_000n + BigInt(Math.floor(rnd() * 1e9)));
  const role = rnd() < 0.5 ? 1 : 2;
  if (rnd() < 0.8) c.open(rnd() < 0.2 ? 0 : role);
  const reqDir: Direction = role === 1 ? 'egress' : 'ingress';
  const respDir: Direction = role === 1 ? 'ingress' : 'egress';
  const n = 1 + Math.floor(rnd() * 5);
  for (let i = 0; i < n; i++) {
    const x = ALL[Math.floor(rnd() * ALL.length)]!;
    const msgs: Array<[Direction, Uint8Array]> = [[reqDir, bytes(x.req)], ...x.resp.map((r): [Direction, Uint8Array] => [respDir, bytes(r)])];
    if (rnd() < 0.05) msgs.push([reqDir, Uint8Array.from({ length: Math.floor(rnd() * 3000) }, () => Math.floor(rnd() * 256))]);
    for (const [dir, raw] of msgs) {
      const b = rnd() < mutateP ? mutate(raw, rnd) : raw;
      let off = 0;
      while (off < b.length) {
        const len = Math.min(b.length - off, 1 + Math.floor(rnd() * (rnd() < 0.3 ? 8 : 400)));
        const shape = rnd() < mutateP * 0.3 ? { captured: Math.floor(rnd() * len) } : rnd() < 0.3 ? { chunk: 1 + Math.floor(rnd() * 64) } : {};
        c.io(dir, b.subarray(off, off + len), shape);
        off += len;
      }
    }
  }
  if (rnd() < 0.8) c.close();
  const ev = c.events;
  // Reorder chunks of one syscall, and duplicate some events.
  for (let i = 0; i + 1 < ev.length; i++) {
    const a = ev[i]!;
    const b = ev[i + 1]!;
    if (a.kind === 'data' && b.kind === 'data' && a.pos === b.pos && a.direction === b.direction && rnd() < 0.3) {
      ev[i] = b;
      ev[i + 1] = a;
    }
  }
  if (rnd() < mutateP) {
    const i = Math.floor(rnd() * ev.length);
    ev.splice(i, 0, ev[Math.floor(rnd() * ev.length)]!);
  }
  return ev;
}

function shape(r: HttpEventRow): unknown[] {
  return [r.req_method, r.req_path, r.req_body, r.req_body_size, r.req_headers, r.resp_status, r.resp_body, r.resp_body_size, r.resp_headers, r.trace_role];
}

test('fuzz: random and mutated streams never throw, and buffered bytes stay under the bound', () => {
  const maxBufferedBytes = 200_000;
  const deadline = Date.now() + 3000;
  let seed = 1;
  let events = 0;
  for (; Date.now() < deadline; seed++) {
    const rnd = prng(seed);
    const s = new HttpStitcher({ processes, maxBufferedBytes, maxPendingBytes: 20_000, maxHeaderBytes: 8192, maxConnections: 8 });
    const streams = Array.from({ length: 1 + Math.floor(rnd() * 12) }, (_, k) => randomConn(rnd, `c${k}`, 0.7));
    // Interleave the connections the way a ring buffer would.
    const merged: Event[] = [];
    const idx = streams.map(() => 0);
    while (idx.some((v, k) => v < streams[k]!.length)) {
      const k = Math.floor(rnd() * streams.length);
      if (idx[k]! < streams[k]!.length) merged.push(streams[k]![idx[k]!++]!);
    }
    events += merged.length;
    try {
      for (let i = 0; i < merged.length; ) {
        const n = 1 + Math.floor(rnd() * 20);
        s.push(merged.slice(i, i + n));
        i += n;
        const st = s.stats();
        assert.ok(st.bufferedBytes <= maxBufferedBytes && st.bufferedBytes >= 0, `seed ${seed}: buffered ${st.bufferedBytes}`);
      }
      s.flushIdle(1_800_000_000_000_000_000n);
    } catch (e) {
      assert.fail(`seed ${seed}: ${(e as Error).stack}`);
    }
    const st = s.stats();
    assert.equal(st.connections, 0, `seed ${seed}`);
    assert.equal(st.bufferedBytes, 0, `seed ${seed}: accounting drifted`);
  }
  assert.ok(seed > 20 && events > 1000, `only ${seed} seeds ran`);
});

test('fuzz: random cuts, chunking and in-syscall reordering of clean streams give the same rows', () => {
  const deadline = Date.now() + 1500;
  for (let seed = 1; Date.now() < deadline; seed++) {
    const rnd = prng(seed * 7919);
    const ev = randomConn(rnd, 'k', 0);
    // The same stream, one event per message: the reference.
    const ref = new HttpStitcher({ processes });
    const whole = new Map<string, DataEvent>();
    const rebuilt: Event[] = [];
    for (const e of ev) {
      if (e.kind !== 'data') {
        rebuilt.push(e);
        continue;
      }
      const k = `${e.direction}:${e.pos}`;
      if (!whole.has(k)) {
        const copy = { ...e, chunkOffset: 0, data: e.data };
        whole.set(k, copy);
        rebuilt.push(copy);
      }
    }
    // Reassemble each syscall's bytes from its chunks for the reference stream.
    for (const [k, w] of whole) {
      const full = new Uint8Array(w.size);
      for (const e of ev) if (e.kind === 'data' && `${e.direction}:${e.pos}` === k) full.set(e.data, e.chunkOffset);
      (w as { data: Uint8Array }).data = full;
    }
    const expected = ref.push(rebuilt).map(shape);
    const got = new HttpStitcher({ processes }).push(ev).map(shape);
    assert.deepEqual(got, expected, `seed ${seed * 7919}`);
  }
});
