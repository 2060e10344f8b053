import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Tracer } from '../../src/engine/capture/tracer.js';
import { start } from './helpers.js';

const tracerUrl = new URL('../../src/engine/capture/tracer.js', import.meta.url).href;
const dumpPath = fileURLToPath(new URL('../../src/testkit/capture/dump.js', import.meta.url));

/** Ids of every BPF program or link in the kernel right now, with program names. */
function kernel(): { progs: Map<number, string>; links: Set<number> } {
  const progs = JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' })) as { id: number; name?: string }[];
  const links = JSON.parse(execFileSync('bpftool', ['-j', 'link', 'show'], { encoding: 'utf8' })) as { id: number }[];
  return { progs: new Map(progs.map((p) => [p.id, p.name ?? ''])), links: new Set(links.map((l) => l.id)) };
}

function assertGone(ids: { programs: number[]; links: number[] }): void {
  const k = kernel();
  assert.deepEqual(ids.programs.filter((id) => k.progs.has(id)), [], 'programs left loaded');
  assert.deepEqual(ids.links.filter((id) => k.links.has(id)), [], 'links left attached');
}

// 27 syscall tracepoints, the exec tracepoint, and 6 TLS uprobe programs (SSL_write, SSL_read,
// their _ex forms and SSL_free; one return program), attached with 9 links to each file that
// has OpenSSL (libssl.so.3 and node here, at least).
const PROGRAMS = 34;
const TRACEPOINT_LINKS = 28;

test('open attaches every program under a wisp_ name; close detaches and unloads them all', () => {
  const t = Tracer.open();
  const ids = t.kernelIds();
  const files = t.stats().tls!.files;
  assert.ok(files >= 2, `TLS probes on libssl.so.3 and node at least, got ${files} files`);
  assert.equal(t.attachedPrograms(), PROGRAMS);
  assert.equal(ids.programs.length, PROGRAMS);
  assert.equal(ids.links.length, TRACEPOINT_LINKS + 9 * files);
  const k = kernel();
  for (const id of ids.programs) assert.match(k.progs.get(id) ?? 'missing', /^wisp_([ex]_|ssl_|exec$)/, `program ${id}`);
  for (const id of ids.links) assert.ok(k.links.has(id), `link ${id} listed`);
  t.close();
  assert.equal(t.attachedPrograms(), 0);
  assertGone(ids);
  const final = t.stats();
  t.close();
  t.drain();
  assert.deepEqual(t.stats(), final, 'close is idempotent and the last counts stay readable');
});

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal} to a process holding a tracer (and no handler of its own) detaches everything and still ends the process`, async () => {
    const child = await start(process.execPath, ['--input-type=module', '-e', `
      import { Tracer } from ${JSON.stringify(tracerUrl)};
      const t = Tracer.open();
      console.log(JSON.stringify(t.kernelIds()));`]);
    const ids = JSON.parse(child.firstLine) as { programs: number[]; links: number[] };
    assert.equal(ids.programs.length, PROGRAMS);
    child.proc.kill(signal);
    const [code, sig] = await child.exit;
    assert.deepEqual([code, sig], [null, signal], 'the default action of the signal still happens');
    assertGone(ids);
  });
}

test('without privileges, opening fails with a message naming the step and the fix', async () => {
  const child = await start('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, dumpPath])
    .catch((err: Error) => err);
  assert.ok(child instanceof Error, 'the unprivileged tracer must not start');
  assert.match(child.message, /exited \(1\)/);
  assert.match(child.message, /wisp capture: [a-z ].* failed: .*needs root, or CAP_BPF \+ CAP_PERFMON/);
});
