import {
  CoreV1Api,
  DiscoveryV1Api,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
} from '@kubernetes/client-node';
import type { ClusterState } from './state.js';

/** Timing of the informers; the defaults suit a real cluster, tests shorten them. */
export interface InformerOptions {
  /** First wait after a failure; doubled per failure in a row. Default 500 ms. */
  readonly initialBackoffMs?: number;
  /** Longest wait between attempts. Default 30 s. */
  readonly maxBackoffMs?: number;
  /**
   * Each watch asks the server to end it after between this and twice this (`timeoutSeconds`,
   * spread so a node's informers do not all reconnect at once), so a connection that died
   * silently is replaced; the informer resumes from its last version. Default 300 s.
   */
  readonly watchTimeoutSeconds?: number;
}

/** Where one informer is: not synced yet, listed and watching, or waiting to retry after a failure. */
type InformerState = 'starting' | 'live' | 'retrying';

/** One informer's state, for /readyz. */
export interface InformerStatus {
  readonly resource: string;
  readonly state: InformerState;
  /** The last failure while not live ('' when live). */
  readonly error: string;
  /** The resourceVersion a resumed watch starts from ('' before the first list or after 410). */
  readonly version: string;
}

/**
 * A watch that asks for BOOKMARK events (so a resumed watch starts from a recent version rather
 * than one the server may have compacted) and a server-side timeout, and reports whether the
 * stream opened.
 */
class ObservedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly timeoutSeconds: number,
    private readonly onOpen: () => void,
    private readonly stopped: () => boolean,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    // ListWatch opens the watch when a list started before stop() returns; nothing should.
    if (this.stopped()) return new AbortController();
    let failed = false;
    const controller = await super.watch(path, { ...queryParams, allowWatchBookmarks: true, timeoutSeconds: Math.round(this.timeoutSeconds * (1 + Math.random())) }, callback, (err) => {
      if (err) failed = true;
      done(err);
    });
    if (!failed) this.onOpen();
    return controller;
  }
}

/** The `message` of a Kubernetes Status body (a JSON string or an object), if it is one. */
function statusMessage(body: unknown): string {
  let v = body;
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v) as unknown;
    } catch {
      return '';
    }
  }
  const m = (v as { message?: unknown } | null | undefined)?.message;
  return typeof m === 'string' ? m : '';
}

const HINTS: Readonly<Record<number, string>> = {
  401: 'check the token',
  403: 'the ClusterRole must allow get/list/watch on pods, services and endpointslices',
  404: 'is discovery.k8s.io/v1 served? it needs Kubernetes 1.21 or later',
};

/** A short, single-line description of a client error: HTTP status and the server's reason, or the network failure. */
export function describeError(err: unknown): string {
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown; body?: unknown } | null | undefined;
  const code = typeof e?.statusCode === 'number' ? e.statusCode : typeof e?.code === 'number' ? e.code : undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  let text: string;
  if (code !== undefined) {
    // The list client's message embeds a reason, the body and the headers; the watch's is the status text.
    const embedded = /^HTTP-Code: \d+\nMessage: (.*)$/m.exec(message)?.[1];
    const reason = statusMessage(e?.body) || (embedded === undefined ? message : embedded === 'Unknown API Status Code!' ? '' : embedded);
    const hint = HINTS[code];
    text = `HTTP ${code}${reason ? ` ${reason}` : ''}${hint ? ` (${hint})` : ''}`;
  } else {
    // node-fetch says "request to <url with query> failed, reason: <why>": the why first, the path without the query.
    const fetchFailure = /^request to (\S+?)(?:\?\S*)? failed, reason: (.*)$/s.exec(message);
    text = fetchFailure ? `${fetchFailure[2]} (${fetchFailure[1]})` : message;
  }
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** One resource's ListWatch and where it stands. */
class Informer {
  state: InformerState = 'starting';
  error = '';
  failures = 0;
  retry: NodeJS.Timeout | undefined;
  readonly lw: ListWatch<KubernetesObject>;

  /** `make` builds the ListWatch around a callback for "the watch is open". */
  constructor(
    readonly resource: string,
    make: (onOpen: () => void) => ListWatch<KubernetesObject>,
  ) {
    // Live once the watch is open: the list alone leaves the informer blind to what follows.
    this.lw = make(() => {
      this.state = 'live';
      this.error = '';
      this.failures = 0;
    });
  }
}

/**
 * List + watch informers for this node's pods (fieldSelector spec.nodeName), all services and
 * all endpoint slices, feeding a {@link ClusterState}. The client library's ListWatch relists
 * on 410 Gone and resumes a watch that ended; this class restarts it after failures (API down,
 * 401, network), with exponential backoff and jitter, forever, until {@link stop}.
 */
export class Informers {
  private readonly informers: Informer[] = [];
  private stopped = false;
  private readonly initialBackoffMs: number;
  private readonly maxBackoffMs: number;

  constructor(
    kc: KubeConfig,
    readonly nodeName: string,
    state: ClusterState,
    opts: InformerOptions = {},
  ) {
    this.initialBackoffMs = opts.initialBackoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 30_000;
    const timeout = opts.watchTimeoutSeconds ?? 300;
    const core = kc.makeApiClient(CoreV1Api);
    const discovery = kc.makeApiClient(DiscoveryV1Api);
    const podSelector = `spec.nodeName=${nodeName}`;
    this.add(kc, timeout, 'pods', '/api/v1/pods', () => core.listPodForAllNamespaces({ fieldSelector: podSelector }), podSelector, {
      upsert: (o) => state.upsertPod(o),
      remove: (o) => state.deletePod(o),
    });
    this.add(kc, timeout, 'services', '/api/v1/services', () => core.listServiceForAllNamespaces(), undefined, {
      upsert: (o) => state.upsertService(o),
      remove: (o) => state.deleteService(o),
    });
    this.add(kc, timeout, 'endpointslices', '/apis/discovery.k8s.io/v1/endpointslices', () => discovery.listEndpointSliceForAllNamespaces(), undefined, {
      upsert: (o) => state.upsertSlice(o),
      remove: (o) => state.deleteSlice(o),
    });
  }

  private add(
    kc: KubeConfig,
    timeout: number,
    resource: string,
    path: string,
    list: () => Promise<KubernetesListObject<KubernetesObject>>,
    fieldSelector: string | undefined,
    apply: { upsert(o: object): void; remove(o: object): void },
  ): void {
    const inf = new Informer(resource, (onOpen) => new ListWatch(path, new ObservedWatch(kc, timeout, onOpen, () => this.stopped), list, false, undefined, fieldSelector));
    const lw = inf.lw;
    lw.on('add', (o) => apply.upsert(o));
    lw.on('update', (o) => apply.upsert(o));
    lw.on('delete', (o) => apply.remove(o));
    lw.on('error', (err) => this.failed(inf, err));
    this.informers.push(inf);
  }

  /** Starts every informer; failures are retried in the background, never thrown. */
  start(): void {
    for (const inf of this.informers) this.launch(inf);
  }

  private launch(inf: Informer): void {
    inf.retry = undefined;
    if (this.stopped) return;
    inf.lw.start().catch((err: unknown) => this.failed(inf, err));
  }

  private failed(inf: Informer, err: unknown): void {
    if (this.stopped || inf.retry !== undefined) return;
    inf.failures++;
    const base = Math.min(this.maxBackoffMs, this.initialBackoffMs * 2 ** Math.min(inf.failures - 1, 20));
    const wait = Math.round(base * (0.8 + 0.4 * Math.random()));
    inf.state = 'retrying';
    inf.error = `${describeError(err)}; retry ${inf.failures} in ${(wait / 1000).toFixed(1)} s`;
    inf.retry = setTimeout(() => this.launch(inf), wait);
    inf.retry.unref();
  }

  /** Each informer's state. */
  status(): InformerStatus[] {
    return this.informers.map((i) => ({ resource: i.resource, state: i.state, error: i.error, version: i.lw.latestResourceVersion() }));
  }

  /** Stops every informer and pending retry. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const inf of this.informers) {
      clearTimeout(inf.retry);
      inf.retry = undefined;
    }
    await Promise.all(this.informers.map((i) => i.lw.stop()));
  }
}
