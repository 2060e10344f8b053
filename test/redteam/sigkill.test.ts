/**
 * A SIGKILLed engine runs no cleanup at all, so what it leaves in the kernel is whatever outlives
 * its file descriptors. Nothing may: `wisp engine` pins no program, link or map, so the kernel
 * drops every BPF program, link and map with the last descriptor. The ids are read from the
 * kernel's own view of the process (`/proc/PID/fdinfo`: `prog_id` / `link_id` / `map_id` of each
 * BPF descriptor), not from the engine, and looked for with bpftool after the kill. Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForLine } from '../support/peers.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
if (process.getuid?.() !== 0) throw new Error('test/redteam/sigkill.test.ts needs root (the engine loads BPF programs): run it as root, as CI does');

interface Ids {
  readonly programs: Set<number>;
  readonly links: Set<number>;
  readonly maps: Set<number>;
}

/** Program, link and map ids behind the BPF descriptors a process holds. */
function heldIds(pid: number): Ids {
  const programs = new Set<number>();
  const links = new Set<number>();
  const maps = new Set<number>();
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const link = /^link_id:\s*(\d+)$/m.exec(info);
    const prog = /^prog_id:\s*(\d+)$/m.exec(info);
    const map = /^map_id:\s*(\d+)$/m.exec(info);
    if (link) links.add(Number(link[1]));
    else if (prog) programs.add(Number(prog[1]));
    else if (map) maps.add(Number(map[1]));
  }
  return { programs, links, maps };
}

/** Ids of every BPF program, link and map in the kernel now. */
function kernelIds(): Ids {
  const ids = (what: string): Set<number> => new Set((JSON.parse(execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' })) as { id: number }[]).map((x) => x.id));
  return { programs: ids('prog'), links: ids('link'), maps: ids('map') };
}

/** The TLS uprobe programs (SSL_write, SSL_read, their _ex forms, SSL_free, one return) and their links per file. */
const TLS_PROGRAMS = 6;
const TLS_LINKS_PER_FILE = 9;

test('SIGKILL of a capturing engine leaves no BPF program or link in the kernel', async () => {
  const proc = spawn(WISP, ['engine', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((r) => proc.once('exit', (code, sig) => r([code, sig])));
  let held: Ids;
  try {
    const url = (await waitForLine(proc, /listening on (http:\/\/\S+)/, 30_000))[1]!;
    const ready = (await (await fetch(`${url}/readyz`)).json()) as { checks: { name: string; detail: string }[] };
    const attached = Number(/(\d+) BPF programs attached/.exec(ready.checks.find((c) => c.name === 'capture')!.detail)?.[1]);
    const tlsFiles = Number(/OpenSSL uprobes on (\d+) files/.exec(ready.checks.find((c) => c.name === 'tls')!.detail)?.[1]);
    held = heldIds(proc.pid!);
    assert.ok(attached > 0, 'capture is attached');
    assert.equal(held.programs.size, attached, `program descriptors held: ${[...held.programs].join(', ')}`);
    // A link per tracepoint program; the 6 TLS uprobe programs have 9 links on each probed file.
    assert.equal(held.links.size, attached - TLS_PROGRAMS + TLS_LINKS_PER_FILE * tlsFiles, `link descriptors held: ${[...held.links].join(', ')}`);
    const before = kernelIds();
    for (const id of held.programs) assert.ok(before.programs.has(id), `program ${id} is listed by bpftool`);
    for (const id of held.links) assert.ok(before.links.has(id), `link ${id} is listed by bpftool`);
    assert.ok(held.maps.size > 0, 'map descriptors held');
  } finally {
    proc.kill('SIGKILL');
  }
  assert.deepEqual(await exited, [null, 'SIGKILL']);
  // The kernel frees programs and links after the descriptors close, on deferred work.
  const deadline = Date.now() + 5000;
  for (;;) {
    const k = kernelIds();
    const programs = [...held.programs].filter((id) => k.programs.has(id));
    const links = [...held.links].filter((id) => k.links.has(id));
    const maps = [...held.maps].filter((id) => k.maps.has(id));
    if (programs.length + links.length + maps.length === 0) break;
    if (Date.now() > deadline) assert.fail(`5 s after SIGKILL the kernel still has programs [${programs.join(', ')}], links [${links.join(', ')}], maps [${maps.join(', ')}]`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // Nothing of the engine's was pinned where it would outlive the process.
  const pinned = execFileSync('find', ['/sys/fs/bpf', '-mindepth', '1', '-name', '*wisp*'], { encoding: 'utf8' }).trim();
  assert.equal(pinned, '', 'pinned objects under /sys/fs/bpf');
});
