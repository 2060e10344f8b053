/**
 * The process as the kernel saw it at open (comm, start time) carried in open events, and
 * used by the stitcher when the process is gone before /proc is read: a curl that has exited
 * still gets its command name and its true upid.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { HttpStitcher } from '../../src/testkit/http/stitcher.js';
import { ProcessMetadata, parseStatStartTicks } from '../../src/engine/meta/process.js';
import { formatUpid } from '../../src/engine/meta/upid.js';
import { nodeServer, opens, record, run, waitFor } from './helpers.js';
import type { CaptureEvent } from '../../src/engine/capture/types.js';

const rec = record();
after(() => rec.tracer.close());

test('open events carry the process comm and /proc start time, whichever thread opened', async () => {
  const server = await nodeServer('127.0.0.1');
  after(() => server.proc.kill());
  // The request runs on a worker thread of a process whose main thread has another name.
  const client = await run(process.execPath, ['-e', `
    process.title = 'wisp-main';
    const { Worker } = require('worker_threads');
    new Worker("require('http').get('http://127.0.0.1:${server.firstLine}/', (r) => r.resume())", { eval: true });`]);
  await waitFor(rec, 'the server and client opens', () => opens(rec.events, server.pid).length > 0 && opens(rec.events, client.pid).length > 0);
  const [s] = opens(rec.events, server.pid);
  assert.equal(s!.comm, readFileSync(`/proc/${server.pid}/comm`, 'utf8').trim());
  assert.equal(s!.startTicks, parseStatStartTicks(readFileSync(`/proc/${server.pid}/stat`, 'utf8')));
  // /proc/<pid>/comm is the main thread's name; process.title renames it.
  assert.equal(opens(rec.events, client.pid)[0]!.comm, 'wisp-main');
});

test('a curl gone before /proc is read still gets comm "curl" and its true upid', async () => {
  const server = await nodeServer('127.0.0.1');
  after(() => server.proc.kill());
  // sh prints its own stat, then execs curl: same pid, same start time, comm becomes "curl".
  const sh = await run('sh', ['-c', 'cat /proc/$$/stat; exec curl -sS -o /dev/null "$0"', `http://127.0.0.1:${server.firstLine}/gone`]);
  const startTicks = parseStatStartTicks(sh.stdout)!;
  assert.ok(startTicks > 0n, `start time from ${sh.stdout}`);
  await waitFor(rec, 'the curl open', () => opens(rec.events, sh.pid).length > 0);
  // Reaped, so /proc has nothing left to read (or, after pid reuse, another process).
  const procNow = existsSync(`/proc/${sh.pid}/stat`) ? parseStatStartTicks(readFileSync(`/proc/${sh.pid}/stat`, 'utf8')) : undefined;
  assert.notEqual(procNow, startTicks, 'curl is gone');

  const processes = new ProcessMetadata();
  assert.equal(processes.lookup(sh.pid).comm === 'curl', false, '/proc alone cannot name it');
  const stitcher = new HttpStitcher({ processes });
  const rows = [...stitcher.push(rec.events.filter((e): e is CaptureEvent => e.kind !== 'shed' && e.pid === sh.pid)), ...stitcher.flushIdle(BigInt(Date.now() + 1_000_000) * 1_000_000n)];
  const client = rows.filter((r) => r.req_path === '/gone');
  assert.equal(client.length, 1, JSON.stringify(rows.map((r) => [r.pid, r.req_path])));
  assert.equal(client[0]!.comm, 'curl');
  assert.equal(client[0]!.pid, sh.pid);
  assert.equal(client[0]!.trace_role, 1);
  assert.equal(client[0]!.upid, formatUpid({ asid: 0, pid: sh.pid, startTicks }));
});
