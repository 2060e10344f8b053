import type { HttpRequest, HttpResult } from '../../plugin/api.js';

/** A Transport over Node's fetch, for tests that drive EngineApi outside a browser. */
export async function nodeTransport(req: HttpRequest): Promise<HttpResult> {
  const res = await fetch(req.url, {
    method: req.method,
    headers: { 'content-type': 'application/json' },
    body: req.data === undefined ? undefined : JSON.stringify(req.data),
  });
  const text = await res.text();
  let data: unknown = text;
  try {
    data = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's HTML error page, say): keep the text.
  }
  return { status: res.status, data };
}
