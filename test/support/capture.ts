/**
 * The capture side of end-to-end tests: one Agent per test file (the real eBPF tracer, stitcher
 * and store), every row it stitches kept in order, bounded waits, and the clients whose own
 * measurements (ports, latency, bytes) the captured rows are checked against. Clients are child
 * processes: the tracer never traces the process that holds it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../src/engine/agent.js';
import type { HttpEventRow } from '../../src/engine/http/schema.js';

/** A running Agent and every row it produced since it started. */
export class Capture {
  readonly rows: HttpEventRow[] = [];

  private constructor(readonly agent: Agent) {
    agent.onRows((rows) => {
      for (const r of rows) this.rows.push(r);
    });
  }

  /** Starts the real pipeline; fails with the tracer's own message (privileges, tracefs, BTF). */
  static start(): Capture {
    return new Capture(Agent.start({ tracer: { pollIntervalMs: 10 } }));
  }

  /** Rows of connections to or from `port` (the server's port), split by trace role. */
  forPort(port: number): { server: HttpEventRow[]; client: HttpEventRow[]; other: HttpEventRow[] } {
    const mine = this.rows.filter((r) => r.local_port === port || r.remote_port === port);
    return {
      server: mine.filter((r) => r.trace_role === 2 && r.local_port === port),
      client: mine.filter((r) => r.trace_role === 1 && r.remote_port === port),
      other: mine.filter((r) => !((r.trace_role === 2 && r.local_port === port) || (r.trace_role === 1 && r.remote_port === port))),
    };
  }

  /** Waits until `cond` holds; fails after `ms` naming `what` and the rows seen on `port`. */
  async waitFor(what: string, cond: () => boolean, ms = 15_000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Waits for at least `server` server rows and `client` client rows on `port`. */
  async waitRows(port: number, server: number, client: number, ms = 15_000): Promise<{ server: HttpEventRow[]; client: HttpEventRow[] }> {
    let seen = this.forPort(port);
    await this.waitFor(`${server} server and ${client} client rows on port ${port}`, () => {
      seen = this.forPort(port);
      return seen.server.length >= server && seen.client.length >= client;
    }, ms).catch((e: Error) => {
      throw new Error(`${e.message}; got ${seen.server.length} server and ${seen.client.length} client rows: ${summary([...seen.server, ...seen.client])}`);
    });
    return seen;
  }

  /** Counter totals right now (capture drops and HTTP drops by reason). */
  counters(): { capture: Readonly<Record<string, number>>; http: Readonly<Record<string, number>> } {
    const s = this.agent.snapshot();
    return { capture: s.captureDrops, http: s.httpDrops };
  }

  close(): void {
    this.agent.close();
  }
}

function summary(rows: readonly HttpEventRow[]): string {
  return rows.slice(0, 20).map((r) => `${r.trace_role}:${r.pid}:${r.req_method} ${r.req_path} ${r.resp_status}`).join(', ');
}

/** What one captured row must hold exactly; latency is bounded by `maxLatencyNs`. */
export interface ExpectedRow {
  method: string;
  path: string;
  status: number;
  reqBodySize: number;
  respBodySize: number;
  role: 1 | 2;
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  pid: number;
  /** The latency the client measured for this request: the captured one cannot exceed it. */
  maxLatencyNs: number;
}

/** Asserts every checked column of `row` at once, so a failure shows all differences. */
export function assertRow(row: HttpEventRow | undefined, exp: ExpectedRow, what: string): void {
  assert.ok(row, `${what}: no row`);
  const got = {
    method: row.req_method, path: row.req_path, status: row.resp_status,
    reqBodySize: row.req_body_size, respBodySize: row.resp_body_size, role: row.trace_role,
    localAddr: row.local_addr, localPort: row.local_port, remoteAddr: row.remote_addr, remotePort: row.remote_port, pid: row.pid,
  };
  const { maxLatencyNs, ...want } = exp;
  assert.deepEqual(got, want, `${what}: row columns`);
  assert.ok(row.latency > 0 && row.latency <= maxLatencyNs, `${what}: latency ${row.latency} ns must be in (0, ${maxLatencyNs}] (client measured)`);
}

/**
 * Runs a command to completion with stdin closed (peers.run pipes stdin, and writing to a
 * process that already exited fails the test with EPIPE).
 */
export function exec(cmd: string, args: readonly string[]): Promise<{ pid: number; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ pid: child.pid!, code, stdout, stderr }));
  });
}

/** One request as the load client (client.ts) reports it. */
export interface ClientResult {
  path: string;
  status: number;
  bytes: number;
  latencyNs: number;
  localPort: number;
}

const clientJs = fileURLToPath(new URL('./client.js', import.meta.url));
const rawClientJs = fileURLToPath(new URL('./rawclient.js', import.meta.url));

/** Runs the Node load client in a child process; fails on a non-zero exit. */
export async function nodeClient(url: string, opts: { n: number; concurrency?: number; method?: string; prefix?: string; bodyBytes?: number }): Promise<{ pid: number; results: ClientResult[] }> {
  const args = [clientJs, '--url', url, '--n', String(opts.n), '--concurrency', String(opts.concurrency ?? 1)];
  if (opts.method) args.push('--method', opts.method);
  if (opts.prefix) args.push('--prefix', opts.prefix);
  if (opts.bodyBytes) args.push('--body-bytes', String(opts.bodyBytes));
  const r = await exec(process.execPath, args);
  assert.equal(r.code, 0, `client ${args.join(' ')} failed: ${r.stderr}`);
  const results = r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const j = JSON.parse(l) as { path: string; status: number; bytes: number; latencyNs: string; localPort: number };
    return { ...j, latencyNs: Number(j.latencyNs) };
  });
  assert.equal(results.length, opts.n, `client printed ${results.length} of ${opts.n} results`);
  return { pid: r.pid, results };
}

/** One transfer as curl's `--write-out '%{json}'` reports it. */
export interface CurlResult {
  status: number;
  localPort: number;
  localIp: string;
  sizeDownload: number;
  /** Rounded up to whole microseconds, curl's resolution, so it bounds the true time. */
  latencyNs: number;
}

/** Runs curl on `urls` (one connection, reused when the server allows) with `extra` options. */
export async function curl(urls: readonly string[], extra: readonly string[] = []): Promise<{ pid: number; code: number | null; results: CurlResult[]; stderr: string }> {
  const args = ['-sS', '-g', ...extra, '-w', '%{json}\n'];
  for (const u of urls) args.push('-o', '/dev/null', u);
  const r = await exec('curl', args);
  const results = r.stdout.trim().split('\n').filter(Boolean).map((l) => {
    const j = JSON.parse(l) as { http_code: number; local_port: number; local_ip: string; size_download: number; time_total: number };
    return { status: j.http_code, localPort: j.local_port, localIp: j.local_ip, sizeDownload: j.size_download, latencyNs: Math.round(j.time_total * 1e6 + 1) * 1000 };
  });
  return { pid: r.pid, code: r.code, results, stderr: r.stderr };
}

/** What the raw client (rawclient.ts) saw. */
export interface RawResult {
  pid: number;
  localPort: number;
  latencyNs: number;
  received: Buffer;
}

/** Sends `payload` in one write from a child process and collects the answer. */
export async function rawClient(host: string, port: number, payload: Buffer, opts: { expectBytes?: number; idleMs?: number } = {}): Promise<RawResult> {
  const args = [rawClientJs, '--host', host, '--port', String(port), '--idle-ms', String(opts.idleMs ?? 2000)];
  if (opts.expectBytes !== undefined) args.push('--expect-bytes', String(opts.expectBytes));
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
    child.stdin.end(payload);
  });
  assert.equal(code, 0, `raw client failed: ${stderr}`);
  const j = JSON.parse(stdout) as { localPort: number; latencyNs: string; received: string };
  return { pid: child.pid!, localPort: j.localPort, latencyNs: Number(j.latencyNs), received: Buffer.from(j.received, 'base64') };
}

/** How much counter `name` grew between two readings. */
export function grew(before: Readonly<Record<string, number>>, after: Readonly<Record<string, number>>, name: string): number {
  assert.ok(name in after, `no counter named ${name}; counters: ${Object.keys(after).join(', ')}`);
  return (after[name] ?? 0) - (before[name] ?? 0);
}
