/**
 * `wisp engine --sides`: the same loopback traffic seen by three engines, one per choice; each
 * stores the ends it was asked for and counts the other end's bytes instead. Real capture of curl
 * against a Node server, read back through `POST /api/v1/query`.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { exec } from '../support/capture.js';
import { nodeServer, wispEngine, type Peer } from '../support/peers.js';

type Engine = Peer & { url: string };
const SIDES = ['both', 'server', 'client'] as const;
const engines = {} as Record<(typeof SIDES)[number], Engine>;
let server: Peer;

before(async () => {
  for (const s of SIDES) engines[s] = await wispEngine(s === 'both' ? [] : ['--sides', s]);
  server = await nodeServer(`
import http from 'node:http';
const s = http.createServer((req, res) => res.end('ok'));
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
});

after(async () => {
  await server.stop();
  for (const e of Object.values(engines)) await e.stop();
});

/** trace_role of every row of `path` the engine holds, waiting until `want` rows are there. */
async function roles(e: Engine, path: string, want: number): Promise<number[]> {
  const script = `import px
df = px.DataFrame(table='http_events', start_time='-2m')
df = df[df.req_path == '${path}']
px.display(df[['trace_role']])
`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = (await (await fetch(`${e.url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script }) })).json()) as QueryResponse;
    const got = (res.tables[0]?.data[0] ?? []).map(Number).sort();
    if (got.length >= want || Date.now() > deadline) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('--sides both stores both ends, server only the accepting end, client only the connecting end', async () => {
  const path = `/sides-${process.pid}`;
  const r = await exec('curl', ['-sS', `http://127.0.0.1:${server.port}${path}`]);
  assert.equal(r.stdout, 'ok');
  assert.deepEqual(await roles(engines.both, path, 2), [1, 2]);
  assert.deepEqual(await roles(engines.server, path, 1), [2]);
  assert.deepEqual(await roles(engines.client, path, 1), [1]);
  // Give the one-sided engines time to show a second row if they were going to.
  await new Promise((r) => setTimeout(r, 500));
  assert.deepEqual(await roles(engines.server, path, 2), [2]);
  assert.deepEqual(await roles(engines.client, path, 2), [1]);
  const drops = (await (await fetch(`${engines.server.url}/readyz`)).json()) as { capture: { drops: Record<string, number> } };
  assert.ok((drops.capture.drops['side_bytes'] ?? 0) > 0, 'the client end\'s bytes are counted, not copied');
});

test('--sides refuses anything else, naming the flag', async () => {
  const r = await exec(new URL('../../../bin/wisp', import.meta.url).pathname, ['engine', '--sides', 'proxy']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--sides must be server, client or both \(got 'proxy'\)/);
});
