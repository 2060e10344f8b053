import type { BackendSrv, BackendSrvRequest, FetchError, FetchResponse } from '@grafana/runtime';
import { Observable, Subject } from 'rxjs';
import { filter, takeUntil, throwIfEmpty } from 'rxjs/operators';

/** What the test reads back about the fetches the plugin made. */
export interface FetchLog {
  /** Every fetch started: its URL and requestId. */
  started: Array<{ url: string; requestId?: string }>;
  /** Fetches cancelled before their answer, and why: `requestId` (a newer one) or `unsubscribed`. */
  cancelled: Array<{ url: string; requestId?: string; by: 'requestId' | 'unsubscribed' }>;
}

/**
 * The part of Grafana's BackendSrv the plugin calls (`fetch`), over the browser's fetch, with
 * Grafana's rules: 2xx emits a FetchResponse, other statuses error with a FetchError; a fetch
 * with a `requestId` first cancels any fetch in flight with the same id, which errors with
 * `{status: -1, cancelled: true}`; unsubscribing aborts the browser's request. The other
 * BackendSrv methods are not used by the plugin and throw if called.
 */
export function harnessBackendSrv(log: FetchLog): BackendSrv {
  const inFlight = new Subject<string>();
  const fetchObservable = <T>(options: BackendSrvRequest): Observable<FetchResponse<T>> => {
    if (options.requestId) {
      inFlight.next(options.requestId);
    }
    log.started.push({ url: options.url, requestId: options.requestId });
    let superseded = false;
    const request = new Observable<FetchResponse<T>>((subscriber) => {
      const abort = new AbortController();
      let done = false;
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
          done = true;
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
        .catch((e: unknown) => {
          done = true;
          subscriber.error(e);
        });
      return () => {
        if (!done) {
          log.cancelled.push({ url: options.url, requestId: options.requestId, by: superseded ? 'requestId' : 'unsubscribed' });
          abort.abort();
        }
      };
    });
    return request.pipe(
      takeUntil(
        inFlight.pipe(
          filter((id) => {
            superseded = id === options.requestId;
            return superseded;
          })
        )
      ),
      // takeUntil completes silently; Grafana turns that into a "cancelled" error.
      throwIfEmpty((): FetchError => ({ status: -1, statusText: 'Request was aborted', cancelled: true, data: null, config: options }))
    );
  };
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
    resolveCancelerIfExists: (id: string) => inFlight.next(id),
    chunked: unused('chunked'),
  } as unknown as BackendSrv;
}
