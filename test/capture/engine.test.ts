/**
 * `bin/wisp engine` as a process: once it stops (SIGINT or SIGTERM) none of its BPF programs or
 * links stays in the kernel, and without privileges it refuses clearly with nothing attached.
 * Programs are told apart by kernel id, not name: parallel tests load the same programs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { exec } from '../support/capture.js';
import { waitForLine } from '../support/peers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));

/** The BPF program and link ids behind the open file descriptors of `pid`. */
function heldIds(pid: number): { programs: Set<number>; links: Set<number> } {
  const programs = new Set<number>();
  const links = new Set<number>();
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fdinfo`);
  } catch {
    return { programs, links };
  }
  for (const fd of fds) {
    let info: string;
    try {
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed while we looked
    }
    for (const m of info.matchAll(/^(prog_id|link_id):\s*(\d+)$/gm)) (m[1] === 'prog_id' ? programs : links).add(Number(m[2]));
  }
  return { programs, links };
}

/** Ids `bpftool prog/link show` lists right now. */
async function kernelIds(): Promise<{ programs: Set<number>; links: Set<number> }> {
  const list = async (what: 'prog' | 'link'): Promise<Set<number>> => {
    const r = await exec('bpftool', [what, 'show', '--json']);
    assert.equal(r.code, 0, `bpftool ${what} show: ${r.stderr}`);
    return new Set((JSON.parse(r.stdout) as Array<{ id: number }>).map((e) => e.id));
  };
  return { programs: await list('prog'), links: await list('link') };
}

/** Resolves with the exit of `child`, or fails naming `what` after `ms` (leaving it running). */
function exited(child: ChildProcess, what: string, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve({ code: child.exitCode, signal: child.signalCode });
    // No kill here: callers check the kernel state of the still running process first.
    const timer = setTimeout(() => reject(new Error(`${what} did not exit within ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

/** Polls bpftool until none of `ids` is listed, or fails after `ms` naming the survivors. */
async function expectGone(ids: { programs: Set<number>; links: Set<number> }, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const now = await kernelIds();
    const progs = [...ids.programs].filter((id) => now.programs.has(id));
    const links = [...ids.links].filter((id) => now.links.has(id));
    if (progs.length === 0 && links.length === 0) return;
    // Freeing is asynchronous in the kernel (RCU), so a moment after exit is allowed.
    if (Date.now() > deadline) assert.fail(`${ms} ms after the engine exited, still loaded: programs ${progs.join(',')} links ${links.join(',')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`wisp engine stopped with ${signal}: exits 0 and leaves none of its programs or links`, async () => {
    const child = spawn(wisp, ['engine', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    try {
      const m = await waitForLine(child, /^wisp engine listening on (http:\/\/\S+)$/, 30_000);
      const ready = await fetch(`${m[1]}/readyz`, { signal: AbortSignal.timeout(5000) });
      assert.equal(ready.status, 200, 'the engine says it is ready');
      const body = (await ready.json()) as { capture: { running: boolean; drops: Record<string, number> } };
      assert.equal(body.capture.running, true);
      assert.ok('non_http_bytes' in body.capture.drops, `/readyz shows capture drops: ${JSON.stringify(body.capture)}`);

      const ids = heldIds(child.pid!);
      assert.ok(ids.programs.size >= 10 && ids.links.size >= 10, `engine holds its programs and links: ${ids.programs.size} programs, ${ids.links.size} links`);
      const listed = await kernelIds();
      assert.deepEqual([...ids.programs].filter((id) => !listed.programs.has(id)), [], 'bpftool lists every program the engine holds');
      assert.deepEqual([...ids.links].filter((id) => !listed.links.has(id)), [], 'bpftool lists every link the engine holds');

      child.kill(signal);
      // Detaching takes seconds (docs/capture.md, "Stopping"); a hang is what this bound catches.
      const end = await exited(child, `wisp engine after ${signal}`, 15_000).catch((e: Error) => e);
      // Checked first so that a hang still tells whether capture was detached.
      await expectGone(ids, 3000);
      if (end instanceof Error) throw end;
      assert.deepEqual(end, { code: 0, signal: null }, `a clean exit after ${signal}; stderr: ${stderr}`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
}

/** Programs and links not held by any live process (a leak: pinned or attached for good). */
function unowned(ids: { programs: Set<number>; links: Set<number> }): { programs: number[]; links: number[] } {
  const held = { programs: new Set<number>(), links: new Set<number>() };
  for (const p of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    const h = heldIds(Number(p));
    for (const id of h.programs) held.programs.add(id);
    for (const id of h.links) held.links.add(id);
  }
  return { programs: [...ids.programs].filter((id) => !held.programs.has(id)), links: [...ids.links].filter((id) => !held.links.has(id)) };
}

test('wisp engine without privileges: names root/CAP_BPF, exits non-zero, attaches nothing', async () => {
  const before = await kernelIds();
  const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', wisp, 'engine', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const end = await exited(child, 'the unprivileged engine', 20_000).finally(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  assert.notEqual(end.code, 0, `exit status; stdout: ${stdout}`);
  assert.equal(end.signal, null, `it exits by itself, not by a signal; stderr: ${stderr}`);
  assert.match(stderr, /root/, 'the message names root');
  assert.match(stderr, /CAP_BPF/, 'the message names CAP_BPF');
  assert.doesNotMatch(stdout, /listening/, 'it never served');
  assert.doesNotMatch(stderr, /^\s+at /m, `a message, not a stack trace: ${stderr}`);
  // Whatever appeared meanwhile belongs to parallel tests, which still hold it open.
  const after = await kernelIds();
  const appeared = {
    programs: new Set([...after.programs].filter((id) => !before.programs.has(id))),
    links: new Set([...after.links].filter((id) => !before.links.has(id))),
  };
  const deadline = Date.now() + 3000;
  let left = unowned(appeared);
  while ((left.programs.length > 0 || left.links.length > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const live = await kernelIds();
    left = unowned({
      programs: new Set([...appeared.programs].filter((id) => live.programs.has(id))),
      links: new Set([...appeared.links].filter((id) => live.links.has(id))),
    });
  }
  assert.deepEqual(left, { programs: [], links: [] }, 'no program or link left without an owner');
});
