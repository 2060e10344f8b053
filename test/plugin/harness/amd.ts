/** A module the host shares with plugins, by the AMD name plugins import it under. */
type SharedModules = Record<string, unknown>;

type Factory = (...deps: unknown[]) => unknown;

/**
 * A minimal AMD `define` as Grafana's loader provides for plugin bundles: dependencies resolve
 * to the shared modules (plus `module`, whose `uri` tells webpack's runtime where the bundle
 * lives), and the factory's return value is the plugin module. One bundle at a time.
 */
export function loadAmdModule(url: string, shared: SharedModules): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const w = window as unknown as { define?: unknown };
    const define = (depsOrFactory: string[] | Factory, maybeFactory?: Factory) => {
      const deps = Array.isArray(depsOrFactory) ? depsOrFactory : [];
      const factory = Array.isArray(depsOrFactory) ? maybeFactory : depsOrFactory;
      if (typeof factory !== 'function') {
        reject(new Error(`${url}: define() was called without a factory`));
        return;
      }
      const missing = deps.filter((d) => d !== 'module' && !(d in shared));
      if (missing.length > 0) {
        reject(new Error(`${url} needs modules the host does not share: ${missing.join(', ')}`));
        return;
      }
      const args = deps.map((d) => (d === 'module' ? { id: url, uri: url } : shared[d]));
      resolve(factory(...args) as Record<string, unknown>);
    };
    (define as unknown as { amd: object }).amd = {};
    w.define = define;
    const script = document.createElement('script');
    script.src = url;
    script.onerror = () => reject(new Error(`could not load ${url}`));
    document.head.appendChild(script);
  });
}
