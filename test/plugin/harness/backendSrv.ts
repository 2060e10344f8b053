import type { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';
import { Observable } from 'rxjs';

/**
 * The part of Grafana's BackendSrv the plugin calls (`fetch`), over the browser's fetch: 2xx
 * emits a FetchResponse, other statuses error with a FetchError, as Grafana's does. The other
 * BackendSrv methods are not used by the plugin and throw if called.
 */
export function harnessBackendSrv(): BackendSrv {
  const fetchObservable = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> =>
    new Observable<FetchResponse<T>>((subscriber) => {
      const abort = new AbortController();
      window
        .fetch(options.url, {
          method: options.method ?? 'GET',
          headers: { 'content-type': 'application/json', ...(options.headers ?? {}) },
          body: options.data === undefined ? undefined : JSON.stringify(options.data),
          signal: abort.signal,
        })
        .then(async (res) => {
          const text = await res.text();
          let data: unknown = text;
          try {
            data = JSON.parse(text);
          } catch {
            // keep text
          }
          if (res.ok) {
            subscriber.next({
              data: data as T,
              status: res.status,
              statusText: res.statusText,
              ok: true,
              headers: res.headers,
              redirected: res.redirected,
              type: res.type,
              url: res.url,
              config: options,
            });
            subscriber.complete();
          } else {
            const err: FetchError = { status: res.status, statusText: res.statusText, data, config: options };
            subscriber.error(err);
          }
        })
        .catch((e: unknown) => subscriber.error(e));
      return () => abort.abort();
    });
  const unused = (name: string) => () => {
    throw new Error(`harness BackendSrv.${name} is not implemented: the plugin should only call fetch`);
  };
  return {
    fetch: fetchObservable,
    get: unused('get'),
    post: unused('post'),
    put: unused('put'),
    patch: unused('patch'),
    delete: unused('delete'),
    request: unused('request'),
    datasourceRequest: unused('datasourceRequest'),
    resolveCancelerIfExists: unused('resolveCancelerIfExists'),
    chunked: unused('chunked'),
  } as unknown as BackendSrv;
}
