/**
 * Slow clients cannot hold the API's sockets: a head trickled byte by byte, a body that stops
 * or crawls, a connection that never says anything, a kept-alive connection left idle — each is
 * closed within its configured limit (small ones here), while other requests keep being answered
 * at once. Real engine: capture running underneath the API, over real sockets.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, test } from 'node:test';
import { Agent } from '../../src/engine/agent.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { ApiMetrics } from '../../src/engine/api/metrics.js';
import { buildApi, type ApiLimits } from '../../src/engine/api/server.js';
import { parseResponse } from '../support/rawhttp.js';

const LIMITS: Partial<ApiLimits> = { headersTimeoutMs: 600, requestTimeoutMs: 1500, keepAliveTimeoutMs: 400, connectionTimeoutMs: 1000, queryTimeoutMs: 500 };
/** Node sweeps for head and request timeouts every headersTimeoutMs / 4; the rest is scheduling. */
const SLACK_MS = 150 + 400;

let agent: Agent;
let port: number;
let close: () => Promise<void>;

before(async () => {
  agent = Agent.start();
  const app = buildApi({ backend: new LocalBackend(agent), metrics: new ApiMetrics(), limits: LIMITS });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as net.AddressInfo).port;
  close = async () => {
    agent.close();
    await app.close();
  };
});

after(() => close());

interface Ending {
  readonly ms: number;
  readonly status: number;
  readonly code: string | undefined;
}

/**
 * A client that writes `first`, then `drip` every `everyMs` until the server closes the socket
 * (or `giveUpMs` passes, which the caller reports as a failure).
 */
function slowClient(first: string, drip: string | null, everyMs: number, giveUpMs = 8000): Promise<Ending | 'still open'> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const t0 = performance.now();
    const got: Buffer[] = [];
    let timer: NodeJS.Timeout | undefined;
    const giveUp = setTimeout(() => {
      clearInterval(timer);
      sock.destroy();
      resolve('still open');
    }, giveUpMs);
    sock.on('connect', () => {
      if (first !== '') sock.write(first);
      if (drip !== null) timer = setInterval(() => sock.writable && sock.write(drip), everyMs);
    });
    sock.on('data', (c: Buffer) => got.push(c));
    sock.on('error', () => undefined);
    sock.on('close', () => {
      clearInterval(timer);
      clearTimeout(giveUp);
      const r = parseResponse(Buffer.concat(got));
      let code: string | undefined;
      try {
        code = (JSON.parse(r.body.toString()) as { error?: { code?: string } }).error?.code;
      } catch {
        code = undefined;
      }
      resolve({ ms: performance.now() - t0, status: r.status, code });
    });
  });
}

/** /healthz every 50 ms while `work` runs; returns the slowest answer. */
async function whileProbing<T>(work: Promise<T>): Promise<{ result: T; slowestMs: number; probes: number }> {
  let stop = false;
  let slowestMs = 0;
  let probes = 0;
  const probing = (async () => {
    while (!stop) {
      const t = performance.now();
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
      slowestMs = Math.max(slowestMs, performance.now() - t);
      probes++;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await work;
  stop = true;
  await probing;
  return { result, slowestMs, probes };
}

const HEAD = `POST /api/v1/query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n`;

test('a head trickled one byte at a time is answered 408 and closed at the head limit', async () => {
  const { result, slowestMs, probes } = await whileProbing(slowClient(HEAD, 'x', 100));
  assert.notEqual(result, 'still open');
  const r = result as Ending;
  assert.ok(r.ms >= 600 - 50 && r.ms < 600 + SLACK_MS, `closed after ${r.ms.toFixed(0)} ms; the head limit is 600 ms`);
  assert.deepEqual([r.status, r.code], [408, 'REQUEST_TIMEOUT']);
  assert.ok(probes > 5 && slowestMs < 1000, `${probes} probes, slowest ${slowestMs.toFixed(0)} ms`);
});

test('a connection that never sends a byte is closed at the head limit', async () => {
  const r = await slowClient('', null, 0);
  assert.notEqual(r, 'still open');
  assert.ok((r as Ending).ms < 600 + SLACK_MS, `closed after ${(r as Ending).ms.toFixed(0)} ms`);
});

test('a body that crawls (a byte every 100 ms) is answered 408 and closed at the request limit', async () => {
  const { result, slowestMs } = await whileProbing(slowClient(`${HEAD}Content-Length: 1000\r\n\r\n{"script":`, ' ', 100));
  assert.notEqual(result, 'still open');
  const r = result as Ending;
  assert.ok(r.ms >= 1500 - 50 && r.ms < 1500 + SLACK_MS, `closed after ${r.ms.toFixed(0)} ms; the request limit is 1500 ms`);
  assert.deepEqual([r.status, r.code], [408, 'REQUEST_TIMEOUT']);
  assert.ok(slowestMs < 1000, `slowest probe ${slowestMs.toFixed(0)} ms`);
});

test('a body that stops half way is closed at the idle-connection limit', async () => {
  const r = await slowClient(`${HEAD}Content-Length: 1000\r\n\r\n{"script":`, null, 0);
  assert.notEqual(r, 'still open');
  assert.ok((r as Ending).ms >= 1000 - 50 && (r as Ending).ms < 1000 + SLACK_MS, `closed after ${(r as Ending).ms.toFixed(0)} ms; the idle limit is 1000 ms`);
});

test('a kept-alive connection left idle after its answer is closed at the keep-alive limit', async () => {
  const r = await slowClient('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n', null, 0);
  assert.notEqual(r, 'still open');
  assert.equal((r as Ending).status, 200);
  // Node closes 1 s after the `Keep-Alive: timeout=` it advertises, so that a client reusing
  // the socket at the last moment does not race the close.
  const ms = (r as Ending).ms;
  assert.ok(ms >= 400 && ms < 400 + 1000 + SLACK_MS, `closed after ${ms.toFixed(0)} ms; the keep-alive limit is 400 ms (+1 s)`);
});

test('limits that contradict each other are refused when the API is built', () => {
  assert.throws(() => buildApi({ backend: new LocalBackend(agent), metrics: new ApiMetrics(), limits: { headersTimeoutMs: 5000, requestTimeoutMs: 1000 } }), /headersTimeoutMs \(5000\) must not exceed requestTimeoutMs \(1000\)/);
});
