/**
 * Shared pieces of the kernel capture tests: a tracer that records every event, child
 * processes that make real loopback traffic, and waiting on the tracer without sleeping blind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Tracer, type TracerOptions } from '../../src/engine/capture/tracer.js';
import type { CaptureRecord, ConnCloseEvent, ConnOpenEvent, ConnShedEvent, DataEvent } from '../../src/engine/capture/types.js';

/** A tracer plus everything it delivered so far, shed markers included. */
export interface Recording {
  tracer: Tracer;
  events: CaptureRecord[];
}

/** Opens a tracer that appends every record to `events`; fails with the tracer's own message. */
export function record(opts: TracerOptions = {}): Recording {
  const tracer = Tracer.open({ pollIntervalMs: 5, ...opts, raw: true });
  const events: CaptureRecord[] = [];
  tracer.onRecords((batch) => { for (const e of batch) events.push(e); });
  return { tracer, events };
}

/** Drains until `cond` holds, or fails after `timeoutMs` with `what` in the message. */
export async function waitFor(rec: Recording, what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    rec.tracer.drain();
    if (cond()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A running child process and the first line it printed (servers print their port). */
export interface Child {
  proc: ChildProcess;
  pid: number;
  firstLine: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<[number | null, NodeJS.Signals | null]>;
}

/** Spawns `cmd args`, resolving once it printed its first line (or exited). */
export async function start(cmd: string, args: string[]): Promise<Child> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const exit = once(proc, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const firstLine = await new Promise<string>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
    proc.on('error', reject);
    void exit.then(([code, sig]) => reject(new Error(`${cmd} exited (${code ?? sig}) before printing: ${err}`)));
  });
  return { proc, pid: proc.pid!, firstLine, stdout: () => out, stderr: () => err, exit };
}

/** Runs `cmd args` to completion; rejects on a non-zero exit with its stderr. */
export async function run(cmd: string, args: string[]): Promise<{ pid: number; stdout: string }> {
  const proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString('latin1'); });
  proc.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  const [code] = (await once(proc, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err}`);
  return { pid: proc.pid!, stdout: out };
}

/**
 * A Node HTTP server in a child process (libuv: accept4 with a NULL sockaddr); `handler` is
 * the request handler's body, with `req` and `res` in scope.
 */
export function nodeServer(host: string, handler = "res.end('hello');"): Promise<Child> {
  const script = `
    const http = require('http');
    const s = http.createServer((req, res) => {
      res.setHeader('x-remote-port', String(req.socket.remotePort));
      ${handler}
    });
    s.listen(0, ${JSON.stringify(host)}, () => console.log(s.address().port));`;
  return start(process.execPath, ['-e', script]);
}

export const opens = (evs: CaptureRecord[], pid: number): ConnOpenEvent[] =>
  evs.filter((e): e is ConnOpenEvent => e.kind === 'open' && e.pid === pid);
export const closes = (evs: CaptureRecord[], pid: number): ConnCloseEvent[] =>
  evs.filter((e): e is ConnCloseEvent => e.kind === 'close' && e.pid === pid);
/**
 * The data records of one connection (one direction) for one user-space stage: 'http' (the
 * bytes the HTTP stitcher reads: plaintext, or a TLS connection's plaintext from the uprobes) or
 * 'tls' (a TLS connection's handshake, copied for the connections stage).
 */
export const datas = (evs: CaptureRecord[], key: string, dir?: DataEvent['direction'], stage: 'http' | 'tls' = 'http'): DataEvent[] =>
  evs.filter(
    (e): e is DataEvent => e.kind === 'data' && e.connKey === key && (dir === undefined || e.direction === dir) && (e.protocol ?? 'http') === stage,
  );
export const sheds = (evs: CaptureRecord[], key: string): ConnShedEvent[] =>
  evs.filter((e): e is ConnShedEvent => e.kind === 'shed' && e.connKey === key);

/**
 * The captured bytes of one direction of a connection, checking on the way that syscalls follow
 * each other with no gap (a syscall's records share its pos; the first may start past offset 0
 * when its head was not copied).
 */
export function stream(evs: CaptureRecord[], key: string, dir: DataEvent['direction'], stage: 'http' | 'tls' = 'http'): Buffer {
  const parts: Buffer[] = [];
  let at: bigint | undefined;
  let next: bigint | undefined;
  for (const e of datas(evs, key, dir, stage)) {
    if (e.pos !== at) {
      if (next !== undefined && e.pos !== next) throw new Error(`${key} ${dir}: syscall at ${e.pos}, expected ${next}`);
      at = e.pos;
      next = e.pos + BigInt(e.size);
    }
    parts.push(Buffer.from(e.data));
  }
  return Buffer.concat(parts);
}
