/**
 * Real HTTP peers for end-to-end tests: nginx and Python's http.server from Debian, Node servers
 * and clients in child processes, curl. All on loopback, on ports the kernel picks. Children are
 * separate processes on purpose: the engine never traces its own process.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Peer {
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Resolves with the first stdout line matching `re`; rejects on exit or after `ms`. */
export function waitForLine(child: ChildProcess, re: RegExp, ms = 10_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => reject(new Error(`no line matching ${re} within ${ms} ms; stderr: ${stderr}`)), ms);
    lines.on('line', (line) => {
      const m = re.exec(line);
      if (m) {
        clearTimeout(timer);
        lines.removeAllListeners('line');
        resolve(m);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`process exited (${code}) before printing ${re}; stderr: ${stderr}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
}

/** `bin/wisp engine --listen 127.0.0.1:0 ARGS` as a process, once it listens; `stop` SIGTERMs it. */
export async function wispEngine(args: readonly string[] = []): Promise<Peer & { url: string }> {
  const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
  const child = spawn(wisp, ['engine', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const url = (await waitForLine(child, /^wisp engine listening on (http:\/\/\S+)$/, 30_000))[1]!;
  return { url, port: Number(new URL(url).port), pid: child.pid!, stop: stopper(child) };
}

/** A port free right now on loopback (for servers that cannot bind port 0 and report it). */
async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Runs `code` (an ES module body) in a child Node process (`node`: another Node binary than
 * this one's); it must print `listening <port>`.
 */
export async function nodeServer(code: string, node = process.execPath): Promise<Peer> {
  const child = spawn(node, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(child, /^listening (\d+)$/);
  return { port: Number(m[1]), pid: child.pid!, stop: stopper(child) };
}

/** A certificate and its key (PEM files), for TLS peers. */
export interface Cert {
  readonly cert: string;
  readonly key: string;
}

let cert: Cert | undefined;

/** A self-signed certificate for 127.0.0.1 made by Debian's openssl, once per process. */
export function selfSignedCert(): Cert {
  if (cert) return cert;
  const dir = mkdtempSync(join(tmpdir(), 'wisp-cert-'));
  chmodSync(dir, 0o755);
  const made = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', made.key, '-out', made.cert,
    '-days', '2', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  // nginx's workers run as www-data.
  chmodSync(made.key, 0o644);
  cert = made;
  return made;
}

/** Python's http.server serving `dir` on 127.0.0.1; over TLS (its ssl module, OpenSSL) with `tls`. */
export async function pythonServer(dir: string, tls?: Cert): Promise<Peer> {
  const port = await freePort();
  const args = tls
    ? ['-u', '-c', `
import functools, http.server, ssl
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=${JSON.stringify(dir)})
s = http.server.ThreadingHTTPServer(('127.0.0.1', ${port}), h)
c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
c.load_cert_chain(${JSON.stringify(tls.cert)}, ${JSON.stringify(tls.key)})
s.socket = c.wrap_socket(s.socket, server_side=True)
print('Serving HTTPS', flush=True)
s.serve_forever()
`]
    : ['-u', '-m', 'http.server', String(port), '--bind', '127.0.0.1', '--directory', dir];
  const child = spawn('python3', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(child, /Serving HTTP/);
  return { port, pid: child.pid!, stop: stopper(child) };
}

/** Debian's nginx with one worker, serving `dir` on `host` (127.0.0.1 or ::1); over TLS with `tls`. */
export async function nginxServer(dir: string, host = '127.0.0.1', tls?: Cert): Promise<Peer & { workerPids(): number[] }> {
  const port = await freePort(host);
  const conf = mkdtempSync(join(tmpdir(), 'wisp-nginx-'));
  const listen = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  writeFileSync(
    join(conf, 'nginx.conf'),
    `daemon off;
worker_processes 1;
pid ${conf}/nginx.pid;
error_log ${conf}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${conf}/body;
  proxy_temp_path ${conf}/proxy;
  fastcgi_temp_path ${conf}/fastcgi;
  uwsgi_temp_path ${conf}/uwsgi;
  scgi_temp_path ${conf}/scgi;
  keepalive_requests 100000;
  server {
    listen ${listen}${tls ? ` ssl;\n    ssl_certificate ${tls.cert};\n    ssl_certificate_key ${tls.key}` : ''};
    root ${dir};
    location /echo { client_max_body_size 16m; return 200 "ok\\n"; }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', join(conf, 'nginx.conf'), '-p', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForPort(port, host);
  return {
    port,
    pid: child.pid!,
    stop: stopper(child),
    workerPids: () => childPids(child.pid!),
  };
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Polls until something accepts TCP connections on host:port. */
async function waitForPort(port: number, host = '127.0.0.1', ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ port, host }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${host}:${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface CommandResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly pid: number;
}

/** Runs a command to completion, collecting its output. */
export function run(cmd: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], env: opts.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, pid: child.pid! }));
    if (child.stdin) {
      // A child that exits without reading its input is not an error of the caller's.
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
  });
}

/** A temp folder holding files of the given sizes (deterministic content). */
export function filesDir(files: Readonly<Record<string, number>>): string {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-www-'));
  // mkdtemp makes it 0700; nginx's workers run as www-data and must read it.
  chmodSync(dir, 0o755);
  for (const [name, size] of Object.entries(files)) {
    const buf = Buffer.alloc(size);
    for (let i = 0; i < size; i++) buf[i] = 97 + (i % 26);
    writeFileSync(join(dir, name), buf);
  }
  return dir;
}
