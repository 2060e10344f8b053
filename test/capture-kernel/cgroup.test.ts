/**
 * Capture scoped to a cgroup (TracerOptions.cgroup): processes in the cgroup or below it are
 * traced; everything else on the host is filtered in the kernel, before any socket walk, so
 * it makes no events and moves no drop counter.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tracer } from '../../src/engine/capture/tracer.js';
import { cgroup2Mount } from '../../src/engine/capture/cgroup.js';
import { makeCgroup, PATH_SERVER, startIn } from './cgroups.js';
import { closes, datas, opens, record, run, start, waitFor } from './helpers.js';

const cg = makeCgroup('wisp-capture-scope');
const nested = cg.sub('nested');
const rec = record({ cgroup: cg.path });
after(async () => {
  rec.tracer.close();
  await cg.remove();
});

// The same non-HTTP exchange in and out of scope: in scope it is counted as non_http_bytes,
// out of scope it must not be.
const nonHttp = String.raw`
import socket
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen()
c = socket.create_connection(srv.getsockname()); s, _ = srv.accept()
for i in range(10):
    c.sendall(b'hello world %03d\n' % i); s.recv(100)
c.close(); s.close()
`;

test('only processes in the cgroup or below it are traced', async () => {
  const inside = await startIn(cg.path, process.execPath, ['-e', PATH_SERVER]);
  const below = await startIn(nested.path, process.execPath, ['-e', PATH_SERVER]);
  const outside = await start(process.execPath, ['-e', PATH_SERVER]);
  after(async () => {
    for (const c of [inside, below, outside]) c.proc.kill();
    await Promise.all([inside.exit, below.exit, outside.exit]);
  });
  const url = (c: typeof inside, p: string): string => `http://127.0.0.1:${c.firstLine}${p}`;

  const outsideDrops = { ...rec.tracer.stats().drops };
  const client = await run('curl', ['-sS', url(outside, '/out/1'), url(outside, '/out/2'), url(inside, '/in/1'), url(inside, '/in/2'), url(below, '/below/1')]);
  assert.equal(client.stdout, 'path /out/1path /out/2path /in/1path /in/2path /below/1');
  const py = await run('python3', ['-c', nonHttp]);
  await waitFor(rec, 'both in-scope servers\' requests', () => {
    const text = (pid: number): string => opens(rec.events, pid).map((o) => Buffer.concat(datas(rec.events, o.connKey, 'ingress').map((d) => d.data)).toString('latin1')).join('');
    return text(inside.pid).includes('GET /in/2 ') && text(below.pid).includes('GET /below/1 ');
  });
  // Let anything out of scope that slipped through arrive before looking for it.
  await new Promise((r) => setTimeout(r, 200));
  rec.tracer.drain();

  const pids = new Set(rec.events.map((e) => e.pid));
  assert.deepEqual([...pids].sort(), [inside.pid, below.pid].sort(), 'events come only from the two in-scope servers');
  const requests = (pid: number): string[] => opens(rec.events, pid).flatMap((o) =>
    [...Buffer.concat(datas(rec.events, o.connKey, 'ingress').map((d) => d.data)).toString('latin1').matchAll(/^GET (\S+) HTTP/gm)].map((m) => m[1]!));
  assert.deepEqual(requests(inside.pid), ['/in/1', '/in/2']);
  assert.deepEqual(requests(below.pid), ['/below/1']);
  assert.equal(opens(rec.events, outside.pid).length, 0);
  assert.equal(opens(rec.events, py.pid).length + closes(rec.events, py.pid).length, 0);
  assert.deepEqual(rec.tracer.stats().drops, { ...outsideDrops, decode_malformed: 0 }, 'out-of-scope traffic moves no drop counter');

  // Positive control: the same non-HTTP exchange inside the cgroup is seen and counted.
  const before = rec.tracer.stats().drops.non_http_bytes!;
  const pyIn = await startIn(cg.path, 'sh', ['-c', `echo ready; exec python3 -c "$0"`, nonHttp]);
  await pyIn.exit;
  await waitFor(rec, 'the in-scope non-HTTP closes', () => closes(rec.events, pyIn.pid).length >= 2);
  // 10 x 16 bytes written by one end and read by the other.
  assert.equal(rec.tracer.stats().drops.non_http_bytes! - before, 320);
});

test('a cgroup path that does not exist, or is not cgroup v2, is refused with what is wrong', () => {
  const mount = cgroup2Mount()!;
  assert.throws(() => Tracer.open({ cgroup: join(cg.path, 'no-such-cgroup') }), (e: Error) =>
    e.message.includes(`cgroup ${join(cg.path, 'no-such-cgroup')} cannot be read: ENOENT`) && e.message.includes(`cgroup2 is mounted at ${mount}`));
  const plain = mkdtempSync(join(tmpdir(), 'wisp-not-a-cgroup-'));
  try {
    assert.throws(() => Tracer.open({ cgroup: plain }), (e: Error) => e.message.includes(`${plain} is not a cgroup v2 directory`));
  } finally {
    rmdirSync(plain);
  }
  assert.throws(() => Tracer.open({ cgroup: join(cg.path, 'cgroup.procs') }), /is not a directory/);
});
