/**
 * Seeds for the native fuzz harnesses (src/engine/http/native/fuzz_*.c), written from the
 * recorded exchanges so that fuzzing starts from real HTTP: each stream for fuzz_http1, and
 * whole connections as operation lists for fuzz_stitcher (the format its header describes).
 *
 *   node out/test/fuzz/corpus.js DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  NGINX_KEEPALIVE, NODE_KEEPALIVE, PYTHON_404, PYTHON_CLOSE_DELIMITED, PYTHON_GET, type RecordedExchange,
} from '../../src/testkit/http/exchanges.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node out/test/fuzz/corpus.js DIR');
const enc = new TextEncoder();
const sets: Record<string, readonly RecordedExchange[]> = {
  node: NODE_KEEPALIVE, nginx: NGINX_KEEPALIVE, python_get: [PYTHON_GET], python_404: [PYTHON_404],
  python_close: [PYTHON_CLOSE_DELIMITED],
};

/** One operation of fuzz_stitcher: [op][len u16 le][payload]. */
function op(code: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(3 + payload.length);
  out[0] = code;
  out[1] = payload.length & 0xff;
  out[2] = payload.length >> 8;
  out.set(payload, 3);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

mkdirSync(join(dir, 'http1'), { recursive: true });
mkdirSync(join(dir, 'stitcher'), { recursive: true });
for (const [name, xs] of Object.entries(sets)) {
  const requests = enc.encode(xs.map((x) => x.req).join(''));
  const responses = enc.encode(xs.flatMap((x) => x.resp).join(''));
  writeFileSync(join(dir, 'http1', `${name}-requests`), concat([Uint8Array.of(0, 0), requests]));
  writeFileSync(join(dir, 'http1', `${name}-responses`), concat([Uint8Array.of(0, 2), responses]));
  // Server side of one connection (open role 2, requests on ingress, responses on egress), then the client side.
  for (const [role, reqOp, respOp] of [[2, 2, 1], [1, 1, 2]] as const) {
    const ops: Uint8Array[] = [Uint8Array.of(0x80), op(0, Uint8Array.of(role, 0))];
    for (const x of xs) {
      ops.push(op(reqOp, enc.encode(x.req)));
      for (const r of x.resp) ops.push(op(respOp, enc.encode(r)));
    }
    ops.push(op(5, new Uint8Array(0)));
    writeFileSync(join(dir, 'stitcher', `${name}-role${role}`), concat(ops));
  }
}
