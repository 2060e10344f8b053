/**
 * What is stored of an exchange that carries credentials, end to end: real capture by
 * `bin/wisp engine` (default settings, and `--body-bytes 0 --redact-header --redact-query-param`)
 * of curl talking to a Node server on loopback, read back through `POST /api/v1/query`.
 * The secrets are unique strings, so the check is that none of them is anywhere in the row.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { exec } from '../support/capture.js';
import { nodeServer, wispEngine, type Peer } from '../support/peers.js';

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJqd3Qtc2VjcmV0LXN1YmplY3QifQ.c2lnbmF0dXJlLXNlY3JldA';
const SECRETS = {
  bearer: 'bearer-secret-4f1c',
  jwt: JWT,
  accessToken: 'access-token-secret-9a2e',
  encodedName: 'encoded-name-secret-77d1',
  cookie: 'cookie-secret-c0ff',
  custom: 'custom-header-secret-51b8',
  ref: 'ref-param-secret-e3a0',
};
const REQ_BODY = 'r'.repeat(1000);
const RESP_BODY = 's'.repeat(2000);

type Engine = Peer & { url: string };

let server: Peer;
const engines: Record<'defaults' | 'strict', Engine> = {} as Record<'defaults' | 'strict', Engine>;

before(async () => {
  engines.defaults = await wispEngine();
  engines.strict = await wispEngine(['--body-bytes', '0', '--redact-header', 'X-Custom', '--redact-query-param', 'ref']);
  server = await nodeServer(`
import http from 'node:http';
const body = Buffer.from(${JSON.stringify(RESP_BODY)});
const s = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-length': body.length, 'set-cookie': 'sid=${SECRETS.cookie}; HttpOnly', 'content-type': 'text/plain' });
    res.end(body);
  });
});
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
});

after(async () => {
  await server.stop();
  for (const e of Object.values(engines)) await e.stop();
});

/** The server-side rows of `port` the engine holds, as objects keyed by column name. */
async function rowsOf(engine: Engine, port: number): Promise<Record<string, string | number | boolean | null>[]> {
  const script = `import px
df = px.DataFrame(table='http_events', start_time='-5m')
df = df[df.local_port == ${port}]
df = df[df.trace_role == 2]
px.display(df[['req_headers', 'req_path', 'req_body', 'req_body_size', 'resp_headers', 'resp_body', 'resp_body_size']], 'rows')
`;
  const res = await fetch(`${engine.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) });
  assert.equal(res.status, 200, await res.clone().text());
  const t = ((await res.json()) as QueryResponse).tables[0]!;
  return Array.from({ length: t.rowCount }, (_, i) => Object.fromEntries(t.columns.map((c, j) => [c.name, t.data[j]![i]!])));
}

async function waitRow(engine: Engine, port: number): Promise<Record<string, string | number | boolean | null>> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const rows = await rowsOf(engine, port);
    if (rows.length > 0) {
      assert.equal(rows.length, 1, 'one exchange, one server-side row');
      return rows[0]!;
    }
    assert.ok(Date.now() < deadline, `no row for port ${port} within 15 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('credentials in headers, the query string and cookies are stored redacted; --body-bytes 0 keeps no body but the true sizes', async () => {
  const path = `/cb?access_token=${SECRETS.accessToken}&acc%65ss_token=${SECRETS.encodedName}&q=visible&ref=${SECRETS.ref}`;
  const r = await exec('curl', [
    '-sS', '-o', '/dev/null', '-w', '%{http_code}',
    '-H', `Authorization: Bearer ${SECRETS.bearer}`,
    '-H', `X-Upstream-Identity: ${SECRETS.jwt}`,
    '-H', `X-Custom: ${SECRETS.custom}`,
    '-H', 'Content-Type: text/plain',
    '--data-binary', REQ_BODY,
    `http://127.0.0.1:${server.port}${path}`,
  ]);
  assert.equal(r.stdout, '200', r.stderr);

  const d = await waitRow(engines.defaults, server.port);
  const reqHeaders = JSON.parse(String(d['req_headers'])) as Record<string, string>;
  assert.equal(reqHeaders['Authorization'], '[REDACTED]');
  assert.equal(reqHeaders['X-Upstream-Identity'], '[REDACTED]', 'a JWT is redacted whatever the header is called');
  assert.equal(reqHeaders['X-Custom'], SECRETS.custom, 'a header that looks like nothing secret is kept by default');
  assert.equal(JSON.parse(String(d['resp_headers']))['set-cookie'], '[REDACTED]', 'as the server sent it: lower case');
  assert.equal(d['req_path'], `/cb?access_token=[REDACTED]&acc%65ss_token=[REDACTED]&q=visible&ref=${SECRETS.ref}`);
  assert.deepEqual([d['req_body'], Number(d['req_body_size']), d['resp_body'], Number(d['resp_body_size'])],
    [REQ_BODY.slice(0, 512), 1000, RESP_BODY.slice(0, 512), 2000], 'default: a 512-byte prefix of each body, true sizes');
  const leaked = (row: Record<string, unknown>, allowed: string[]): string[] =>
    Object.entries(SECRETS).filter(([name, s]) => !allowed.includes(name) && JSON.stringify(row).includes(s)).map(([name]) => name);
  assert.deepEqual(leaked(d, ['custom', 'ref']), [], 'no secret is stored anywhere in the row');

  const s = await waitRow(engines.strict, server.port);
  assert.equal(JSON.parse(String(s['req_headers']))['X-Custom'], '[REDACTED]', '--redact-header adds a name');
  assert.equal(JSON.parse(String(s['req_headers']))['Authorization'], '[REDACTED]', 'the defaults still apply');
  assert.equal(s['req_path'], '/cb?access_token=[REDACTED]&acc%65ss_token=[REDACTED]&q=visible&ref=[REDACTED]', '--redact-query-param adds a name');
  assert.deepEqual([s['req_body'], Number(s['req_body_size']), s['resp_body'], Number(s['resp_body_size'])], ['', 1000, '', 2000],
    '--body-bytes 0: no body kept, the true sizes');
  assert.deepEqual(leaked(s, []), [], 'no secret is stored anywhere in the row');
});
