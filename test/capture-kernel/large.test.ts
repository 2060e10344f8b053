import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closes, datas, nodeServer, opens, record, run, waitFor } from './helpers.js';
import type { CaptureRecord, DataEvent } from '../../src/engine/capture/types.js';

// The defaults: a syscall longer than 20 KiB is copied as its first 16 KiB and its last 4 KiB.
const CAP = 20 * 1024;
const TAIL = 4 * 1024;
const CHUNK = 16 * 1024;
const BODY_BYTES = 5 * 1024 * 1024 + 123;
const rec = record();
after(() => rec.tracer.close());

/** The body both the server (from this function's source) and the test build. */
function makeBody(n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 12)) & 0xff;
  return b;
}

interface Syscall { pos: bigint; size: number; chunks: DataEvent[] }

/**
 * Groups one direction's records by syscall and checks each syscall's chunks: whole when it is
 * within the cap, else its head up to the cap less the tail, plus its tail.
 */
function syscalls(evs: CaptureRecord[], key: string, dir: DataEvent['direction']): Syscall[] {
  const out: Syscall[] = [];
  for (const e of datas(evs, key, dir)) {
    if (e.chunkOffset === 0) out.push({ pos: e.pos, size: e.size, chunks: [] });
    const s = out.at(-1)!;
    assert.equal(e.pos, s.pos, 'chunks of one syscall share its position');
    assert.equal(e.size, s.size, 'chunks of one syscall share its size');
    assert.ok(e.data.byteLength <= CHUNK && e.data.byteLength > 0, `chunk of ${e.data.byteLength} bytes`);
    s.chunks.push(e);
  }
  for (let i = 1; i < out.length; i++) assert.equal(out[i]!.pos, out[i - 1]!.pos + BigInt(out[i - 1]!.size), 'syscalls are contiguous');
  for (const s of out) {
    const ranges: [number, number][] = [];
    for (const c of s.chunks) {
      const last = ranges.at(-1);
      if (last && last[1] === c.chunkOffset) last[1] += c.data.byteLength;
      else ranges.push([c.chunkOffset, c.chunkOffset + c.data.byteLength]);
    }
    const want: [number, number][] = s.size <= CAP ? [[0, s.size]] : [[0, CAP - TAIL], [s.size - TAIL, s.size]];
    assert.deepEqual(ranges, want, `syscall at ${s.pos} of ${s.size} bytes`);
  }
  return out;
}

/** Every captured byte is the stream's byte at its position. */
function capturedAsSent(sys: readonly Syscall[], stream: Buffer, who: string): void {
  for (const s of sys) {
    for (const c of s.chunks) {
      const at = Number(s.pos) + c.chunkOffset;
      assert.ok(Buffer.from(c.data).equals(stream.subarray(at, at + c.data.byteLength)), `${who}'s bytes at ${at}`);
    }
  }
}

/** How Node frames a body written in one res.write and then res.end(): one chunk, then the end. */
function chunkedFraming(n: number): { head: Buffer; tail: Buffer } {
  return { head: Buffer.from(`${n.toString(16)}\r\n`), tail: Buffer.from('\r\n0\r\n\r\n') };
}

test('a 5 MiB chunked response arrives as chunks whose positions and sizes account for every byte, with the tail of cut syscalls', async () => {
  const server = await nodeServer('127.0.0.1', `res.write((${makeBody.toString()})(${BODY_BYTES})); res.end();`);
  const port = Number(server.firstLine);
  after(() => server.proc.kill());
  const truncatedBefore = rec.tracer.stats().drops.truncated_bytes!;
  const curl = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${port}/big`]);
  assert.equal(Number(curl.stdout), BODY_BYTES);
  await waitFor(rec, 'both closes', () => closes(rec.events, curl.pid).length >= 1 && closes(rec.events, server.pid).length >= 1, 20_000);

  // curl's reads are cut too, but they tile the stream: the whole response is their sizes, and
  // what was captured is the response's bytes at those positions.
  const [cli] = opens(rec.events, curl.pid);
  const reads = syscalls(rec.events, cli!.connKey, 'ingress');
  const head = Buffer.from(reads[0]!.chunks[0]!.data);
  const headEnd = head.indexOf('\r\n\r\n');
  assert.match(head.subarray(0, headEnd).toString(), /transfer-encoding: chunked/i);
  const framed = chunkedFraming(BODY_BYTES);
  const resp = Buffer.concat([head.subarray(0, headEnd + 4), framed.head, makeBody(BODY_BYTES), framed.tail]);
  const lastRead = reads.at(-1)!;
  assert.equal(lastRead.pos + BigInt(lastRead.size), BigInt(resp.length), 'the reads account for every byte');
  capturedAsSent(reads, resp, 'curl');

  // The server writes megabytes per syscall: each is cut at the cap, yet positions account for
  // every byte, and what was captured is exactly the stream's bytes at those positions.
  const [srv] = opens(rec.events, server.pid);
  const sys = syscalls(rec.events, srv!.connKey, 'egress');
  const last = sys.at(-1)!;
  assert.equal(last.pos + BigInt(last.size), BigInt(resp.length));
  const [srvClose] = closes(rec.events, server.pid);
  assert.equal(srvClose!.egressBytes, BigInt(resp.length));
  capturedAsSent(sys, resp, 'server');
  // The tail of a cut syscall is kept: the chunked body's terminator is captured.
  const tail = last.chunks.at(-1)!;
  assert.equal(tail.chunkOffset + tail.data.byteLength, last.size);
  assert.match(Buffer.from(tail.data).toString('latin1'), /\r\n0\r\n\r\n$/);
  const cut = sys.reduce((n, s) => n + Math.max(0, s.size - CAP), 0);
  assert.ok(sys.some((s) => s.size > CAP), 'some server write exceeded the cap (else this test checks nothing)');
  assert.ok(rec.tracer.stats().drops.truncated_bytes! - truncatedBefore >= cut, 'truncated bytes are counted');
});
