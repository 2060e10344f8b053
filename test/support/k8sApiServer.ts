/**
 * A DOUBLE of the Kubernetes API server, for tests only: no real API server can run on the build
 * machine, so this one speaks the part of its protocol Wisp's informers use, with the real
 * semantics, over HTTPS (a self-signed certificate made with the openssl CLI at test time) with
 * bearer-token auth:
 *
 * - `GET /api/v1/pods`, `/api/v1/services`, `/apis/discovery.k8s.io/v1/endpointslices`: lists
 *   whose `metadata.resourceVersion` is the store's current revision (one counter across kinds,
 *   like etcd's). `fieldSelector` supports `spec.nodeName`, `metadata.name` and
 *   `metadata.namespace` on pods (`=`, `==`, `!=`, comma = and); anything else is a 400.
 * - `?watch=true|1&resourceVersion=N`: newline-delimited JSON events after N (replayed from
 *   history, then live); with no version or "0", synthetic ADDED events for the current state
 *   first. A version older than the compacted history gets an ERROR event carrying a Status
 *   with code 410 ("too old resource version"), then the stream ends, as the real server does.
 *   Selector semantics on change: an object entering the selection is ADDED, leaving it DELETED.
 *   `allowWatchBookmarks=true` makes {@link bookmark} send BOOKMARK events; `timeoutSeconds`
 *   ends the stream.
 * - Faults: {@link listDelayMs} slows lists, {@link dropWatches} cuts open streams mid-flight, {@link compact} forgets history,
 *   {@link down} stops accepting (every connection closed), {@link up} listens again on the
 *   same port.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';

/** The collections the fixture serves, by their resource names. */
export type Resource = 'pods' | 'services' | 'endpointslices';

/** A Kubernetes object as JSON; `metadata` is filled in by the fixture where missing. */
export interface KObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; labels?: Record<string, string>; [k: string]: unknown };
  [k: string]: unknown;
}

interface Kind {
  readonly path: string;
  readonly apiVersion: string;
  readonly kind: string;
}

const KINDS: Readonly<Record<Resource, Kind>> = {
  pods: { path: '/api/v1/pods', apiVersion: 'v1', kind: 'Pod' },
  services: { path: '/api/v1/services', apiVersion: 'v1', kind: 'Service' },
  endpointslices: { path: '/apis/discovery.k8s.io/v1/endpointslices', apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice' },
};

interface HistoryEvent {
  readonly rv: number;
  readonly resource: Resource;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly prev: KObject | undefined;
  readonly obj: KObject;
}

type Selector = (o: KObject) => boolean;

interface OpenWatch {
  readonly resource: Resource;
  readonly select: Selector;
  readonly bookmarks: boolean;
  readonly res: ServerResponse;
}

/** One request the fixture answered, for tests that check how the client behaved. */
export interface RequestRecord {
  readonly resource: Resource | undefined;
  readonly watch: boolean;
  readonly query: Readonly<Record<string, string>>;
  /** HTTP status. A watch refused with 410 still answers 200: see `gone`. */
  readonly status: number;
  /** A watch answered with the ERROR event carrying 410 Gone. */
  readonly gone: boolean;
}

function run(cmd: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, (err, _out, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr || err.message}`)) : resolve()));
  });
}

function status(code: number, reason: string, message: string): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function key(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Fields a fieldSelector may name, per resource, as the real server's field label conversions allow. */
const SELECTABLE: Readonly<Record<Resource, readonly string[]>> = {
  pods: ['spec.nodeName', 'metadata.name', 'metadata.namespace'],
  services: ['metadata.name', 'metadata.namespace'],
  endpointslices: ['metadata.name', 'metadata.namespace'],
};

function field(o: KObject, name: string): string {
  if (name === 'spec.nodeName') return String((o['spec'] as { nodeName?: string } | undefined)?.nodeName ?? '');
  return name === 'metadata.name' ? o.metadata.name : (o.metadata.namespace ?? '');
}

/** Parses a fieldSelector; throws with the real server's wording for unsupported fields. */
function parseFieldSelector(resource: Resource, text: string | undefined): Selector {
  if (!text) return () => true;
  const terms = text.split(',').map((t) => {
    const m = /^([^!=]+)(==|=|!=)(.*)$/.exec(t);
    if (!m) throw new Error(`invalid selector: '${text}'; can't understand '${t}'`);
    const [, name, op, value] = m as unknown as [string, string, string, string];
    if (!SELECTABLE[resource].includes(name)) throw new Error(`field label not supported: ${name}`);
    return { name, negate: op === '!=', value };
  });
  return (o) => terms.every((t) => (field(o, t.name) === t.value) !== t.negate);
}

/** The API-server double; see the file header for what it implements. */
export class K8sApiServer {
  /** Bearer token clients must send. */
  readonly token = randomUUID();
  /** Every request answered, in order. */
  readonly requests: RequestRecord[] = [];
  /** How long list requests take to answer (a slow or loaded API server). */
  listDelayMs = 0;
  /** Requests received, answered or not yet. */
  received = 0;
  private readonly objects: Record<Resource, Map<string, KObject>> = { pods: new Map(), services: new Map(), endpointslices: new Map() };
  private history: HistoryEvent[] = [];
  private revision = 1000;
  /** Versions at or below this one are gone from history (410 on watch). */
  private compactedAt = 1000;
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private server: https.Server;
  private port = 0;

  private constructor(
    private readonly dir: string,
    private readonly tls: { key: Buffer; cert: Buffer },
  ) {
    this.server = this.makeServer();
  }

  /** Makes a certificate for 127.0.0.1 and starts listening on an ephemeral loopback port. */
  static async start(): Promise<K8sApiServer> {
    const dir = mkdtempSync(join(tmpdir(), 'wisp-k8s-api-'));
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=wisp-test-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    const s = new K8sApiServer(dir, { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) });
    await s.up();
    return s;
  }

  /** `https://127.0.0.1:PORT`. */
  get url(): string {
    return `https://127.0.0.1:${this.port}`;
  }

  /** The CA certificate (the self-signed server certificate itself), PEM. */
  get caPem(): string {
    return this.tls.cert.toString('utf8');
  }

  /** The current revision (the resourceVersion of the latest change). */
  get currentVersion(): string {
    return String(this.revision);
  }

  /** Writes a kubeconfig for this server (CA and token inline) and returns its path. */
  writeKubeconfig(token = this.token): string {
    const file = join(this.dir, `kubeconfig-${randomUUID()}.yaml`);
    const ca = Buffer.from(this.caPem).toString('base64');
    writeFileSync(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: fixture',
      'clusters:', '- name: fixture', '  cluster:', `    server: ${this.url}`, `    certificate-authority-data: ${ca}`,
      'users:', '- name: fixture', '  user:', `    token: ${token}`,
      'contexts:', '- name: fixture', '  context:', '    cluster: fixture', '    user: fixture', '',
    ].join('\n'));
    return file;
  }

  /** Creates or replaces an object (by namespace/name); returns it with uid and resourceVersion. */
  apply(resource: Resource, obj: KObject): KObject {
    const k = KINDS[resource];
    const prev = this.objects[resource].get(key(obj));
    const next = clone(obj);
    next.apiVersion = k.apiVersion;
    next.kind = k.kind;
    next.metadata.uid = next.metadata.uid ?? prev?.metadata.uid ?? randomUUID();
    next.metadata.resourceVersion = String(++this.revision);
    this.objects[resource].set(key(next), next);
    this.emit({ rv: this.revision, resource, type: prev ? 'MODIFIED' : 'ADDED', prev, obj: next });
    return clone(next);
  }

  /** Deletes an object; false when there was none. */
  remove(resource: Resource, namespace: string, name: string): boolean {
    const prev = this.objects[resource].get(`${namespace}/${name}`);
    if (!prev) return false;
    this.objects[resource].delete(key(prev));
    const gone = clone(prev);
    gone.metadata.resourceVersion = String(++this.revision);
    this.emit({ rv: this.revision, resource, type: 'DELETED', prev, obj: gone });
    return true;
  }

  /** Forgets all history: any watch resumed from an older version is told 410 Gone. */
  compact(): void {
    this.compactedAt = this.revision;
    this.history = [];
  }

  /** Sends a BOOKMARK at the current revision to every watch that allowed them. */
  bookmark(): void {
    for (const w of this.watches) {
      if (!w.bookmarks) continue;
      const k = KINDS[w.resource];
      w.res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: k.kind, apiVersion: k.apiVersion, metadata: { resourceVersion: String(this.revision) } } }) + '\n');
    }
  }

  /** Number of watch streams open right now, per resource. */
  openWatches(resource?: Resource): number {
    return [...this.watches].filter((w) => resource === undefined || w.resource === resource).length;
  }

  /** Cuts every open watch stream mid-flight (the TCP connection is destroyed, no final chunk). */
  dropWatches(): void {
    for (const w of this.watches) w.res.socket?.destroy();
    this.watches.clear();
  }

  /** Stops accepting connections and closes every open one, keeping state and port. */
  async down(): Promise<void> {
    this.watches.clear();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listens (again) on the same port; the first call picks an ephemeral one. */
  async up(): Promise<void> {
    this.server = this.makeServer();
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (typeof addr === 'object' && addr) this.port = addr.port;
  }

  /** Stops the server and removes its temp dir. */
  async close(): Promise<void> {
    if (this.server.listening) await this.down();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private makeServer(): https.Server {
    const server = https.createServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => this.handle(req, res));
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    return server;
  }

  private emit(ev: HistoryEvent): void {
    this.history.push(ev);
    for (const w of this.watches) if (w.resource === ev.resource) this.send(w, ev);
  }

  /** Writes `ev` as the watch's selector sees it: entering is ADDED, leaving is DELETED. */
  private send(w: OpenWatch, ev: HistoryEvent): void {
    const before = ev.prev !== undefined && ev.type !== 'ADDED' && w.select(ev.prev);
    const after = ev.type !== 'DELETED' && w.select(ev.obj);
    let type: string;
    if (ev.type === 'DELETED') {
      if (!before) return;
      type = 'DELETED';
    } else if (before && after) type = 'MODIFIED';
    else if (after) type = 'ADDED';
    else if (before) type = 'DELETED';
    else return;
    w.res.write(JSON.stringify({ type, object: ev.obj }) + '\n');
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.received++;
    const url = new URL(req.url ?? '/', 'https://fixture');
    const query = Object.fromEntries(url.searchParams);
    const resource = (Object.keys(KINDS) as Resource[]).find((r) => KINDS[r].path === url.pathname);
    const watch = query['watch'] === 'true' || query['watch'] === '1';
    const reply = (code: number, body: object): void => {
      this.requests.push({ resource, watch, query, status: code, gone: false });
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    if (req.method !== 'GET') return reply(405, status(405, 'MethodNotAllowed', `the server does not allow ${req.method} here`));
    if (!resource) return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    let select: Selector;
    try {
      select = parseFieldSelector(resource, query['fieldSelector']);
    } catch (e) {
      return reply(400, status(400, 'BadRequest', (e as Error).message));
    }
    const k = KINDS[resource];
    if (!watch) {
      const items = [...this.objects[resource].values()].filter(select);
      const list = { kind: `${k.kind}List`, apiVersion: k.apiVersion, metadata: { resourceVersion: String(this.revision) }, items };
      if (this.listDelayMs > 0) setTimeout(() => reply(200, list), this.listDelayMs);
      else reply(200, list);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    // The real server answers a watch at once, before any event.
    res.flushHeaders();
    const rvText = query['resourceVersion'] ?? '';
    const w: OpenWatch = { resource, select, bookmarks: query['allowWatchBookmarks'] === 'true', res };
    if (rvText === '' || rvText === '0') {
      for (const o of this.objects[resource].values()) if (select(o)) res.write(JSON.stringify({ type: 'ADDED', object: o }) + '\n');
    } else {
      const rv = Number(rvText);
      if (!Number.isInteger(rv) || rv < this.compactedAt) {
        this.requests.push({ resource, watch, query, status: 200, gone: true });
        res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${rvText} (${this.compactedAt})`) }) + '\n');
        return;
      }
      for (const ev of this.history) if (ev.rv > rv && ev.resource === resource) this.send(w, ev);
    }
    this.requests.push({ resource, watch, query, status: 200, gone: false });
    this.watches.add(w);
    res.once('close', () => this.watches.delete(w));
    const timeout = Number(query['timeoutSeconds'] ?? '0');
    if (timeout > 0) {
      const t = setTimeout(() => res.end(), timeout * 1000);
      res.once('close', () => clearTimeout(t));
    }
  }
}
