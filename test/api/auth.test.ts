/**
 * Auth is a property of the route a request reaches, not of how its path is spelled: every
 * `/api/*` route of a real `wisp engine` (capture running) and of a real `wisp broker` over it,
 * asked with encoded, doubled-slash, dot-segment, case, trailing-slash, query and fragment
 * spellings, over a raw socket so that nothing normalises the request target on the way. A
 * spelling the router maps to an `/api` handler answers 401 without the token (and not 401 with
 * it); a spelling it maps nowhere gets the same 404 or 400 with or without. Needs root (capture).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForLine } from '../support/peers.js';
import { rawRequest, type RawResponse } from '../support/rawhttp.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
if (process.getuid?.() !== 0) throw new Error('test/api/auth.test.ts needs root (the engine loads BPF programs): run it as root, as CI does');

const ENGINE_TOKEN = 'engine-auth-secret';
const BROKER_TOKEN = 'broker-auth-secret';
const dir = mkdtempSync(join(tmpdir(), 'wisp-auth-'));
let engine: { proc: ChildProcess; url: string };
let broker: { proc: ChildProcess; url: string };

before(async () => {
  writeFileSync(join(dir, 'engine'), `${ENGINE_TOKEN}\n`);
  writeFileSync(join(dir, 'broker'), `${BROKER_TOKEN}\n`);
  const e = spawn(WISP, ['engine', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'engine')], { stdio: ['ignore', 'pipe', 'pipe'] });
  engine = { proc: e, url: (await waitForLine(e, /listening on (http:\/\/\S+)/, 30_000))[1]! };
  const b = spawn(WISP, ['broker', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'broker'), '--engine-token-file', join(dir, 'engine'), '--engines', engine.url], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  broker = { proc: b, url: (await waitForLine(b, /API on (http:\/\/\S+)/, 15_000))[1]! };
});

after(async () => {
  for (const p of [broker?.proc, engine?.proc]) {
    if (!p || p.exitCode !== null) continue;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Spellings of `/api/v1/<leaf>`: each is sent as the request target byte for byte. Some reach
 * the route (find-my-way decodes `%61` to `a`), most reach nothing; which is which is the
 * router's business, the test only demands that auth follows the route.
 */
function spellings(leaf: string): string[] {
  const p = `/api/v1/${leaf}`;
  const enc = (s: string): string => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
  return [
    p,
    `/%61pi/v1/${leaf}`,
    `/%41pi/v1/${leaf}`,
    `/${enc('api')}/v1/${leaf}`,
    `/api/v1/${enc(leaf[0]!)}${leaf.slice(1)}`,
    `/api/%761/${leaf}`,
    `/${enc('api')}/${enc('v1')}/${enc(leaf)}`,
    `/%2561pi/v1/${leaf}`,
    `//api/v1/${leaf}`,
    `/api//v1/${leaf}`,
    `${p}/`,
    `${p}//`,
    `/./api/v1/${leaf}`,
    `/api/./v1/${leaf}`,
    `/x/../api/v1/${leaf}`,
    `/%2e/api/v1/${leaf}`,
    `/%2E%2E/api/v1/${leaf}`,
    `/API/v1/${leaf}`,
    `/Api/V1/${leaf.toUpperCase()}`,
    `/api%2Fv1/${leaf}`,
    `/api%2fv1%2f${leaf}`,
    `${p}?x`,
    `${p}?`,
    `${p}?a=1&a=2`,
    `${p}#`,
    `${p}#frag`,
    `${p}%23`,
    `${p};x`,
    `${p}%00`,
    `${p}%20`,
    `${p}%2F`,
    `http://127.0.0.1${p}`,
    `\\api\\v1\\${leaf}`,
  ];
}

interface Route {
  readonly method: 'GET' | 'POST';
  readonly leaf: string;
  readonly body?: string;
}

const QUERY_BODY = JSON.stringify({ script: "import px\npx.display(px.DataFrame(table='http_events').head(1))" });
const ONE_ROW = { kind: 'limit', n: 1, input: { kind: 'source', table: 'http_events', columns: ['latency'], startNs: null, endNs: null } };
const ENGINE_ROUTES: Route[] = [
  { method: 'POST', leaf: 'query', body: QUERY_BODY },
  { method: 'GET', leaf: 'schema' },
  { method: 'POST', leaf: 'functions', body: JSON.stringify({ script: 'def f(a: str):\n    return a\n' }) },
  { method: 'POST', leaf: 'partial', body: JSON.stringify({ nowNs: '0', fragments: [{ id: '0', plan: ONE_ROW, lookups: [] }] }) },
  { method: 'GET', leaf: 'node' },
];
const BROKER_ROUTES: Route[] = ENGINE_ROUTES.slice(0, 3);

function send(url: string, method: string, target: string, body: string | undefined, auth: string | undefined): Promise<RawResponse> {
  const headers: [string, string][] = [];
  if (body !== undefined) headers.push(['content-type', 'application/json']);
  if (auth !== undefined) headers.push(['authorization', auth]);
  return rawRequest(url, { method, target, headers, ...(body !== undefined ? { body } : {}) });
}

function errorCode(r: RawResponse): string | undefined {
  try {
    return (JSON.parse(r.body.toString()) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Every spelling of every route with each method: the ones that reached a handler, and what went wrong. */
async function checkAll(url: string, routes: readonly Route[], token: string): Promise<{ routed: string[]; failures: string[] }> {
  const routed: string[] = [];
  const failures: string[] = [];
  for (const r of routes) {
    const methods = r.method === 'GET' ? ['GET', 'HEAD'] : ['POST'];
    for (const method of methods) {
      for (const target of spellings(r.leaf)) {
        const what = `${method} ${target}`;
        const body = method === 'POST' ? r.body : undefined;
        const withToken = await send(url, method, target, body, `Bearer ${token}`);
        const without = await send(url, method, target, body, undefined);
        const wrong = await send(url, method, target, body, `Bearer ${token}x`);
        if (withToken.status === 0 || without.status === 0) {
          failures.push(`${what}: no answer (${withToken.ended}/${without.ended})`);
          continue;
        }
        // Each route's body is one its handler answers 2xx: anything else never reached it,
        // and then the token must make no difference.
        if (withToken.status < 200 || withToken.status > 299) {
          if (without.status !== withToken.status || wrong.status !== withToken.status) {
            failures.push(`${what}: ${withToken.status} with the token but ${without.status}/${wrong.status} without/with a wrong one`);
          }
          if (method !== 'HEAD' && errorCode(without) === undefined) failures.push(`${what}: ${without.status} without the API's error body: ${without.body.toString().slice(0, 100)}`);
          continue;
        }
        routed.push(what);
        if (without.status !== 401) failures.push(`${what}: ${without.status} without a token (want 401)`);
        if (wrong.status !== 401) failures.push(`${what}: ${wrong.status} with a wrong token (want 401)`);
        if (method !== 'HEAD' && without.status === 401 && errorCode(without) !== 'UNAUTHORIZED') failures.push(`${what}: 401 body code ${errorCode(without)}`);
      }
    }
  }
  return { routed, failures };
}

test('engine: every /api route, in every spelling the router accepts, needs the token', async () => {
  const { routed, failures } = await checkAll(engine.url, ENGINE_ROUTES, ENGINE_TOKEN);
  assert.deepEqual(failures, []);
  // The matrix only proves something if odd spellings do reach handlers.
  for (const must of ['POST /%61pi/v1/query', 'GET /%61pi/v1/schema', 'POST /%61pi/v1/functions', 'POST /api/v1/%70artial', 'GET /%61%70%69/%76%31/%6e%6f%64%65', 'HEAD /api/v1/schema']) {
    assert.ok(routed.includes(must), `${must} reaches its handler (routed: ${routed.join(', ')})`);
  }
});

test('broker: every /api route, in every spelling the router accepts, needs the token', async () => {
  const { routed, failures } = await checkAll(broker.url, BROKER_ROUTES, BROKER_TOKEN);
  assert.deepEqual(failures, []);
  for (const must of ['POST /%61pi/v1/query', 'GET /%61pi/v1/schema', 'POST /api/v1/%66unctions', 'POST /api/v1/%71uery']) {
    assert.ok(routed.includes(must), `${must} reaches its handler (routed: ${routed.join(', ')})`);
  }
  // The broker serves no engine-only routes, in any spelling.
  for (const target of [...spellings('partial'), ...spellings('node')]) {
    const r = await send(broker.url, 'POST', target, '{}', `Bearer ${BROKER_TOKEN}`);
    assert.ok(r.status === 404 || r.status === 400, `POST ${target}: ${r.status}`);
  }
});

test('probes and metrics stay open in every spelling; the answers with the token are real answers', async () => {
  for (const url of [engine.url, broker.url]) {
    for (const target of ['/healthz', '/readyz', '/metrics', '/%68ealthz']) {
      const r = await send(url, 'GET', target, undefined, undefined);
      assert.ok(r.status === 200 || r.status === 503, `${url}${target}: ${r.status}`);
    }
  }
  const q = await send(broker.url, 'POST', '/%61pi/v1/query', QUERY_BODY, `Bearer ${BROKER_TOKEN}`);
  assert.equal(q.status, 200, q.body.toString());
  assert.ok(Array.isArray((JSON.parse(q.body.toString()) as { tables: unknown[] }).tables));
});
