import type * as k8s from '@kubernetes/client-node';

/**
 * Where the broker finds engines: a fixed list of base URLs, or the EndpointSlices of the
 * engines' headless Service, watched through @kubernetes/client-node's informer (list, then
 * watch; the informer re-lists after a watch error).
 */
export interface EngineDiscovery {
  /** Base URLs of the engines known now (`http://10.0.0.7:7070`). */
  list(): readonly string[];
  /** A line for /readyz: where engines come from and how many there are. */
  describe(): string;
  close(): Promise<void>;
}

/** Checks and normalises `--engines` URLs (no trailing slash). */
export function parseEngineUrls(text: string): string[] {
  const urls = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (urls.length === 0) throw new Error('--engines wants one or more URLs, e.g. http://10.0.0.7:7070,http://10.0.0.8:7070');
  return urls.map((u) => {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new Error(`--engines: '${u}' is not a URL (want http://HOST:PORT)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--engines: '${u}' must be http:// or https://`);
    return parsed.origin;
  });
}

/** A fixed list of engines. */
export class StaticEngines implements EngineDiscovery {
  constructor(private readonly urls: readonly string[]) {}
  list(): readonly string[] {
    return this.urls;
  }
  describe(): string {
    return `${this.urls.length} engines from --engines`;
  }
  async close(): Promise<void> {}
}

/** `NAMESPACE/NAME` of `--kubernetes-service`. */
export function parseServiceRef(text: string): { namespace: string; name: string } {
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?)$/.exec(text);
  if (!m) throw new Error(`--kubernetes-service wants NAMESPACE/NAME of the engines' headless Service (got '${text}')`);
  return { namespace: m[1]!, name: m[3]! };
}

/** The engine URLs of one EndpointSlice: ready endpoints × the port named `api` (else the first). */
export function sliceUrls(slice: k8s.V1EndpointSlice): string[] {
  const port = slice.ports?.find((p) => p.name === 'api') ?? slice.ports?.[0];
  if (port?.port === undefined) return [];
  const out: string[] = [];
  for (const ep of slice.endpoints ?? []) {
    // Kubernetes: a nil `ready` is to be read as ready.
    if (ep.conditions?.ready === false) continue;
    for (const a of ep.addresses) out.push(`http://${a.includes(':') ? `[${a}]` : a}:${port.port}`);
  }
  return out;
}

/** Engines from the EndpointSlices of a Service, kept current by an informer. */
export class KubernetesEngines implements EngineDiscovery {
  private readonly informer: k8s.Informer<k8s.V1EndpointSlice> & k8s.ObjectCache<k8s.V1EndpointSlice>;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  /** The last watch or list error, for /readyz. */
  lastError = '';

  private constructor(
    lib: typeof k8s,
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly name: string,
  ) {
    const api = kc.makeApiClient(lib.DiscoveryV1Api);
    const selector = `kubernetes.io/service-name=${name}`;
    this.informer = lib.makeInformer(
      kc,
      `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`,
      () => api.listNamespacedEndpointSlice({ namespace, labelSelector: selector }),
      selector,
    );
    this.informer.on('error', (err: unknown) => {
      this.lastError = err instanceof Error ? err.message : String(err);
      if (this.stopped) return;
      // The informer stops on errors; start it again after a pause (it re-lists first).
      this.retry = setTimeout(() => void this.informer.start().catch(() => undefined), 2000);
      this.retry.unref();
    });
    this.informer.on('connect', () => {
      this.lastError = '';
    });
  }

  /**
   * Starts watching; resolves once the first list has arrived. `kc` defaults to the pod's
   * service account when in a pod, else $KUBECONFIG or ~/.kube/config (as the engine's
   * `--kubernetes auto`).
   */
  static async start(ref: { namespace: string; name: string }, kc?: k8s.KubeConfig): Promise<KubernetesEngines> {
    // Loaded here: the client takes a second and a half to load, which a broker with a static
    // engine list (and every `wisp` command) should not pay.
    const lib = await import('@kubernetes/client-node');
    let config = kc;
    if (!config) {
      try {
        const { loadKubeConfig } = await import('../meta/k8s/config.js');
        config = loadKubeConfig('auto');
      } catch (e) {
        throw new Error(`--kubernetes-service: ${(e as Error).message.replace(/^--kubernetes[^:]*: /, '')}`);
      }
    }
    const e = new KubernetesEngines(lib, config, ref.namespace, ref.name);
    await e.informer.start();
    // The informer reports a failed first list through its error callback, not by rejecting.
    if (e.lastError !== '') {
      await e.close();
      throw new Error(`cannot list the EndpointSlices of service ${ref.namespace}/${ref.name}: ${e.lastError}`);
    }
    return e;
  }

  list(): readonly string[] {
    // The server selects by label already; checking again costs nothing and keeps a slice of
    // another Service out even if a proxy or API double ignores the selector.
    const mine = this.informer.list(this.namespace).filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === this.name);
    return [...new Set(mine.flatMap(sliceUrls))].sort();
  }

  describe(): string {
    return `${this.list().length} engines from the EndpointSlices of service ${this.namespace}/${this.name}${this.lastError ? ` (watch error: ${this.lastError})` : ''}`;
  }

  async close(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.informer.stop();
  }
}
