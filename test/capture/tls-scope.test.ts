/**
 * The capture rules hold for the plaintext read by the TLS uprobes as for syscall data: a
 * cgroup-scoped tracer decodes only the processes in its cgroup, the process holding the tracer
 * is never traced, --sides leaves the other end's plaintext uncopied, and under overload whole TLS connections are shed and counted (never torn).
 * Real capture of real loopback HTTPS between Node processes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { Agent } from '../../src/engine/agent.js';
import type { HttpEventRow } from '../../src/engine/http/schema.js';
import { makeCgroup, startIn } from '../capture-kernel/cgroups.js';
import { start } from '../capture-kernel/helpers.js';
import { exec } from '../support/capture.js';
import { selfSignedCert } from '../support/peers.js';

const cert = selfSignedCert();

/** A Node https server printing its port; answers every request with its own path. */
const TLS_SERVER = `
  const fs = require('fs');
  const s = require('https').createServer({ key: fs.readFileSync(${JSON.stringify(cert.key)}), cert: fs.readFileSync(${JSON.stringify(cert.cert)}) },
    (req, res) => res.end('path ' + req.url));
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;

/** Every row the agent stitches from now on. */
function collect(agent: Agent): HttpEventRow[] {
  const rows: HttpEventRow[] = [];
  agent.onRows((r) => rows.push(...r));
  return rows;
}

async function until(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('a cgroup-scoped tracer decodes the TLS of processes in the cgroup only, and never its own', async () => {
  const cg = makeCgroup('wisp-tls-scope');
  const agent = Agent.start({ cgroup: cg.path, tracer: { pollIntervalMs: 10 } });
  const rows = collect(agent);
  const inside = await startIn(cg.path, process.execPath, ['-e', TLS_SERVER]);
  const outside = await start(process.execPath, ['-e', TLS_SERVER]);
  try {
    const urls: string[] = [];
    for (let i = 0; i < 3; i++) urls.push(`https://127.0.0.1:${inside.firstLine}/in/${i}`, `https://127.0.0.1:${outside.firstLine}/out/${i}`);
    const c = await exec('curl', ['-sSk', ...urls.flatMap((u) => ['-o', '/dev/null', u])]);
    assert.equal(c.code, 0, c.stderr);
    await until('3 rows of the server inside', () => rows.length >= 3);
    // Let anything wrongly captured arrive too.
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(rows.map((r) => [r.pid, r.trace_role, r.req_path, r.encrypted]),
      [0, 1, 2].map((i) => [inside.proc.pid, 2, `/in/${i}`, true]), 'only the server inside the cgroup, decoded');
  } finally {
    inside.proc.kill();
    outside.proc.kill();
    await Promise.all([inside.exit, outside.exit]);
    agent.close();
    await cg.remove();
  }
});

test('the process holding the tracer is not traced: its own HTTPS requests give server rows only', async () => {
  const agent = Agent.start({ tracer: { pollIntervalMs: 10 } });
  const rows = collect(agent);
  const server = await start(process.execPath, ['-e', TLS_SERVER]);
  try {
    const port = Number(server.firstLine);
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port, path: `/self/${i}`, rejectUnauthorized: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    }
    const mine = (): HttpEventRow[] => rows.filter((r) => r.req_path.startsWith('/self/'));
    await until('3 server rows', () => mine().length >= 3);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(mine().map((r) => [r.pid, r.trace_role, r.encrypted]), [0, 1, 2].map(() => [server.proc.pid, 2, true]));
    assert.ok(!rows.some((r) => r.pid === process.pid), 'no row of the tracing process');
  } finally {
    server.proc.kill();
    await server.exit;
    agent.close();
  }
});

test('sides server: the server end of HTTPS is decoded, the client end only counted', async () => {
  const agent = Agent.start({ tracer: { pollIntervalMs: 10, sides: 'server' } });
  const rows = collect(agent);
  const server = await start(process.execPath, ['-e', TLS_SERVER]);
  try {
    const before = agent.snapshot().captureDrops['side_bytes'] ?? 0;
    const c = await exec('curl', ['-sSk', '-o', '/dev/null', `https://127.0.0.1:${server.firstLine}/sides/0`, '-o', '/dev/null', `https://127.0.0.1:${server.firstLine}/sides/1`]);
    assert.equal(c.code, 0, c.stderr);
    const mine = (): HttpEventRow[] => rows.filter((r) => r.req_path.startsWith('/sides/'));
    await until('2 server rows', () => mine().length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(mine().map((r) => [r.pid, r.trace_role, r.req_path, r.encrypted]), [0, 1].map((i) => [server.proc.pid, 2, `/sides/${i}`, true]));
    assert.ok((agent.snapshot().captureDrops['side_bytes'] ?? 0) > before, 'curl\'s plaintext is counted as side_bytes');
  } finally {
    server.proc.kill();
    await server.exit;
    agent.close();
  }
});

const N = 2000;

/** N keep-alive HTTPS requests on 8 connections, each awaited before the next. */
const TLS_CLIENT = `
  const agent = new (require('https').Agent)({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });
  const port = Number(process.argv[1]);
  let next = 0, done = 0;
  function one() {
    if (next >= ${N}) return;
    const i = next++;
    require('https').get({ host: '127.0.0.1', port, path: '/burst-' + i, agent }, (res) => {
      res.resume();
      res.on('end', () => { if (++done === ${N}) { console.log('done'); process.exit(0); } else one(); });
    });
  }
  for (let k = 0; k < 8; k++) one();`;

test(`overload sheds whole TLS connections: each of ${N} HTTPS exchanges per side is a row or counted missing`, async () => {
  const cg = makeCgroup('wisp-tls-overload');
  // As in overload.test.ts: a small ring that sheds everything once 2 % of it waits.
  const agent = Agent.start({ cgroup: cg.path, tracer: { ringBufferBytes: 256 << 10, shedFromPercent: 1, shedAllPercent: 2 } });
  const rows = collect(agent);
  const server = await startIn(cg.path, process.execPath, ['-e', TLS_SERVER]);
  try {
    const client = await startIn(cg.path, process.execPath, ['-e', TLS_CLIENT, server.firstLine]);
    assert.equal(client.firstLine, 'done');
    const counts = () => {
      const s = agent.snapshot();
      return {
        kshed: s.captureDrops['shed_exchanges'] ?? 0, kept: s.captureDrops['shed_kept_5xx'] ?? 0,
        ushed: s.httpDrops['shed_exchanges'] ?? 0, dropped: s.httpDrops['dropped_exchanges'] ?? 0,
      };
    };
    const burst = (): number => rows.filter((r) => r.req_path.startsWith('/burst-')).length;
    const accounted = (): number => { const c = counts(); return burst() + c.kshed - c.kept + c.ushed + c.dropped; };
    await until('every exchange a row or counted', () => accounted() >= 2 * N, 30_000).catch(() => undefined);
    const s = agent.snapshot();
    const c = counts();
    assert.ok(c.kshed > 0, `the kernel shed nothing (drops ${JSON.stringify(s.captureDrops)}): the test did not overload capture`);
    assert.equal(accounted(), 2 * N, `rows ${burst()} + missing ${JSON.stringify(c)} account for both sides of every exchange`);
    assert.deepEqual([s.httpDrops['parse_errors'], s.httpDrops['gaps'], s.httpDrops['unpaired_responses']], [0, 0, 0], 'no TLS stream was torn');
    assert.ok(rows.every((r) => r.encrypted), 'every row is decoded TLS');
  } finally {
    server.proc.kill();
    await server.exit;
    agent.close();
    await cg.remove();
  }
});
