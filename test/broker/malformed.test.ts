/**
 * The broker distrusts engines. A real broker over three engines (generated rows, real HTTP),
 * one of which sits behind a FIXTURE: a proxy that passes the engine's real answers through and
 * replaces chosen ones with malformed answers (a real engine cannot be made to misbehave). Each
 * malformed answer — `/readyz`, `/api/v1/schema`, `/api/v1/node`, a line of
 * `/api/v1/partial`, an endless line — leaves that engine out with a warning in the query and a
 * reason in the broker's /readyz, and never breaks the broker or the other engines' answers.
 * Also: what the broker knows of an engine is dropped when discovery no longer lists it.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, beforeEach, test } from 'node:test';
import type { ErrorResponse, QueryResponse, ReadyResponse } from '../../src/engine/api/contract.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { StaticEngines, type EngineDiscovery } from '../../src/engine/broker/engines.js';
import { startBroker, type RunningBroker } from '../../src/engine/cli/broker.js';
import { serve, serveShard, storeSource, syntheticCluster } from './synthetic.js';

const NOW_MS = Date.now();
const range = { from: NOW_MS - 5 * 60_000, to: NOW_MS };
const cluster = syntheticCluster({ engines: 3, rows: 30_000, seed: 23, startNs: BigInt(NOW_MS - 4 * 60_000) * 1_000_000n, spanNs: 180e9 });
const rowsOf = (i: number): number => cluster.shards[i]!.store.stats()['http_events']!.rows;

/** What the fixture replaces: whole JSON bodies by path, or the NDJSON of `/api/v1/partial`. */
interface Faults {
  body?: Partial<Record<'/readyz' | '/api/v1/schema' | '/api/v1/node', string>>;
  /** Rewrites the engine's partial answer, line by line (parsed). */
  partial?: (lines: Record<string, unknown>[]) => Record<string, unknown>[];
  /** Answers `/api/v1/partial` with one line that never ends. */
  endless?: boolean;
}

/**
 * FIXTURE, not an engine: forwards every request to `upstream` (a real engine) and answers
 * with the engine's own answer unless `faults` says otherwise.
 */
class FaultyProxy {
  faults: Faults = {};
  upstream: string;
  /** Bytes of the endless line written before the broker hung up. */
  endlessBytes = 0;
  private readonly server: http.Server;

  private constructor(upstream: string) {
    this.upstream = upstream;
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(upstream: string, port = 0): Promise<FaultyProxy> {
    const p = new FaultyProxy(upstream);
    await new Promise<void>((r) => p.server.listen(port, '127.0.0.1', r));
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = req.url ?? '/';
    const replaced = this.faults.body?.[path as keyof NonNullable<Faults['body']>];
    if (replaced !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(replaced);
      return;
    }
    if (path === '/api/v1/partial' && this.faults.endless) return this.endless(res);
    const headers: Record<string, string> = {};
    for (const h of ['authorization', 'content-type']) if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
    const up = await fetch(`${this.upstream}${path}`, { method: req.method!, headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) });
    let text = await up.text();
    if (path === '/api/v1/partial' && this.faults.partial && up.ok) {
      const lines = text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      text = this.faults.partial(lines).map((l) => JSON.stringify(l) + '\n').join('');
    }
    res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' }).end(text);
  }

  private async endless(res: http.ServerResponse): Promise<void> {
    this.endlessBytes = 0;
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    let open = true;
    res.on('close', () => (open = false));
    const piece = Buffer.from('x'.repeat(64 << 10));
    res.write('{"t":"rows","fragment":"0","n":1,"data":[["');
    // Up to 256 MiB, more than any cap could allow; a broker that keeps reading gets it all.
    while (open && this.endlessBytes < 256 << 20) {
      this.endlessBytes += piece.length;
      if (!res.write(piece)) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            res.off('drain', done).off('close', done);
            resolve();
          };
          res.on('drain', done).on('close', done);
        });
      }
    }
    res.end();
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

let engines: { url: string; close(): Promise<void> }[] = [];
let reference: { url: string; close(): Promise<void> };
let proxy: FaultyProxy;
let broker: RunningBroker;

before(async () => {
  engines = await Promise.all(cluster.shards.map((s) => serveShard(s)));
  reference = await serve(new LocalBackend(storeSource(cluster.reference.store, cluster.reference.metadata)));
  proxy = await FaultyProxy.start(engines[1]!.url);
  // The proxied engine first: the broker takes the table schema from the first engine that answers.
  broker = await startBroker({ listen: '127.0.0.1:0', engines: new StaticEngines([proxy.url, engines[0]!.url, engines[2]!.url]), engineTimeoutMs: 5000 });
});

after(async () => {
  await broker.stop();
  await proxy.close();
  await Promise.all([...engines.map((e) => e.close()), reference.close()]);
});

beforeEach(async () => {
  proxy.faults = {};
  proxy.upstream = engines[1]!.url;
  await broker.backend.refresh();
});

async function query(url: string, script: string): Promise<{ status: number; body: QueryResponse & ErrorResponse }> {
  const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ script, range }) });
  return { status: res.status, body: (await res.json()) as QueryResponse & ErrorResponse };
}

async function readyz(): Promise<{ status: number; body: ReadyResponse }> {
  const res = await fetch(`${broker.url}/readyz`);
  return { status: res.status, body: (await res.json()) as ReadyResponse };
}

function proxyCheck(r: ReadyResponse): { ok: boolean; detail: string } {
  const c = r.checks.find((x) => x.name === `engine ${proxy.url}`);
  assert.ok(c, JSON.stringify(r.checks));
  return c;
}

const COUNT = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df.agg(n=('latency', px.count))
px.display(df)`;
const BY_PATH = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df.groupby('req_path').agg(n=('latency', px.count))
df = df.agg(n=('n', px.sum))
px.display(df)`;

function total(body: QueryResponse): number {
  return Number(body.tables[0]!.data[0]![0]);
}

/**
 * The query left the proxied engine out, said so, and answered with the other two (or, when the
 * fault came after its last data line, with what it had merged by then: `want`).
 */
function assertLeftOut(r: { status: number; body: QueryResponse & ErrorResponse }, why: RegExp, what = '', want = rowsOf(0) + rowsOf(2)): void {
  assert.equal(r.status, 200, `${what}: ${JSON.stringify(r.body)}`);
  const w = r.body.warnings.filter((x) => x.code === 'BROKER_ENGINE_MALFORMED');
  assert.equal(w.length, 1, `${what}: ${JSON.stringify(r.body.warnings)}`);
  assert.ok(w[0]!.message.includes(proxy.url), w[0]!.message);
  assert.match(w[0]!.message, why);
  assert.equal(total(r.body), want, what);
  assert.deepEqual(r.body.stats.engines, { queried: 3, pruned: 0, failed: 1 });
}

test('through the fixture, unchanged, every engine counts (the fixture itself is faithful)', async () => {
  const r = await query(broker.url, COUNT);
  assert.equal(r.status, 200);
  assert.equal(total(r.body), cluster.rows);
  assert.deepEqual(r.body.warnings, []);
  assert.equal(proxyCheck((await readyz()).body).ok, true);
});

test('a malformed /readyz leaves the engine out of the readiness sums with the reason; the broker still answers', async () => {
  const sane = (await readyz()).body;
  for (const [body, why] of [
    ['{"ready":true}', /malformed body: \(the body\) must have required property 'version'/],
    ['[]', /malformed body: \(the body\) must be object/],
    ['not json', /not JSON/],
    [JSON.stringify({ ...sane, capture: { running: true, events: -5, drops: {} } }), /capture\/events must be >= 0/],
    [JSON.stringify({ ...sane, pad: 'x'.repeat(9 << 20) }), /more than 8388608 bytes/],
  ] as const) {
    proxy.faults = { body: { '/readyz': body } };
    await broker.backend.refresh();
    const r = await readyz();
    assert.equal(r.status, 200, `${body.slice(0, 40)}: ${JSON.stringify(r.body)}`);
    const c = proxyCheck(r.body);
    assert.equal(c.ok, false);
    assert.match(c.detail, why);
    assert.equal(r.body.ready, true, 'the other engines still make the broker ready');
    assert.ok(
      r.body.checks.filter((x) => x.name !== `engine ${proxy.url}`).every((x) => x.ok),
      JSON.stringify(r.body.checks),
    );
  }
});

test("an engine's readiness cannot write to the broker's Object.prototype", async () => {
  const sane = (await readyz()).body;
  // Written as text: an object literal's `__proto__` would set a prototype, not a key.
  const poison = JSON.stringify({ ...sane, tables: 'T' }).replace('"T"', '{"__proto__":{"rows":1,"bytes":1,"droppedRows":1}}');
  proxy.faults = { body: { '/readyz': poison } };
  try {
    await broker.backend.refresh();
    const r = await readyz();
    assert.equal(r.status, 200);
    assert.match(proxyCheck(r.body).detail, /property name '__proto__'/);
    assert.equal(({} as Record<string, unknown>)['rows'], undefined, 'Object.prototype.rows was set');
  } finally {
    delete (Object.prototype as Record<string, unknown>)['rows'];
  }
});

test('a malformed schema is not adopted: queries keep working and /readyz says why', async () => {
  for (const [body, why] of [
    ['{"tables":[]}', /\/tables must NOT have fewer than 1 items/],
    ['{"tables":[{"name":"conn_stats","columns":[{"name":"time_","type":"TIME64NS"}]}]}', /\/tables must contain at least 1 valid item/],
    ['{"tables":[{"name":"http_events","columns":[{"name":"time_","type":"BOGUS"}]}]}', /type must be equal to one of the allowed values/],
    ['{"tables":[{"name":"http_events","columns":[{"name":"a","type":"INT64"},{"name":"a","type":"STRING"}]}]}', /lists column 'a' twice/],
  ] as const) {
    proxy.faults = { body: { '/api/v1/schema': body } };
    await broker.backend.refresh();
    const r = await query(broker.url, COUNT);
    assert.equal(r.status, 200, `${body}: ${JSON.stringify(r.body.error)}`);
    assert.equal(total(r.body), cluster.rows, 'the schema fault touches no data');
    assert.match(proxyCheck((await readyz()).body).detail, why);
  }
});

test('node facts that do not parse are not pruned by: the engine is asked for everything', async () => {
  // A pod of the proxied engine's node, from the reference holding every row.
  const pods = await query(
    reference.url,
    `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df.node = df.ctx['node']
df.pod = df.ctx['pod']
df = df[df.node == 'node-1']
df = df.groupby('pod').agg(n=('latency', px.count))
px.display(df)`,
  );
  const pod = String(pods.body.tables[0]!.data[0]![0]);
  const want = Number(pods.body.tables[0]!.data[1]![0]);
  const script = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[df.ctx['pod'] == '${pod}']
df = df.agg(n=('latency', px.count))
px.display(df)`;
  proxy.faults = { body: { '/api/v1/node': '{"node":"node-1","pods":[5]}' } };
  await broker.backend.refresh();
  const r = await query(broker.url, script);
  assert.equal(r.status, 200);
  assert.equal(total(r.body), want, `rows of pod ${pod}`);
  assert.match(proxyCheck((await readyz()).body).detail, /answered \/api\/v1\/node with a malformed body: \/pods\/0 must be string/);
});

test('a malformed partial line leaves the engine out of that query with a warning, and shows in /readyz', async () => {
  const firstData = (edit: (l: Record<string, unknown>) => Record<string, unknown>) => (lines: Record<string, unknown>[]) => {
    const i = lines.findIndex((l) => l['t'] === 'groups' || l['t'] === 'rows');
    return lines.map((l, j) => (j === i ? edit(l) : l));
  };
  const cases: [string, string, Faults['partial'], RegExp][] = [
    ['a count that is a word', COUNT, firstData((l) => ({ ...l, partials: [['lots']] })), /partial column 0: \/0 must be integer/],
    ['a negative count', COUNT, firstData((l) => ({ ...l, partials: [[-7]] })), /partial column 0: \/0 must be >= 0/],
    ['a STRING key sent as a number', BY_PATH, firstData((l) => ({ ...l, keys: [(l['keys'] as unknown[][])[0]!.map(() => 5)] })), /column 0: \/0 must be string/],
    ['n disagreeing with the columns', BY_PATH, firstData((l) => ({ ...l, n: (l['n'] as number) + 1 })), /has \d+ values for n=/],
    ['a fragment that was never sent', COUNT, firstData((l) => ({ ...l, fragment: '9' })), /fragment '9': no such fragment was sent/],
    ['an unknown line type', COUNT, firstData(() => ({ t: 'surprise' })), /\/t must be equal to one of the allowed values/],
  ];
  for (const [what, script, partial, why] of cases) {
    proxy.faults = { partial };
    const r = await query(broker.url, script);
    assertLeftOut(r, why, what);
    assert.match(proxyCheck((await readyz()).body).detail, why, what);
  }
  // A fault after the last data line: those lines were merged already (as when an engine dies
  // mid-answer), here all of them; the bad part itself is refused.
  const late: [string, Faults['partial'], RegExp][] = [
    ['warnings that are not diagnostics', (lines) => lines.map((l) => (l['t'] === 'end' ? { ...l, warnings: [{ message: 5 }] } : l)), /\/warnings\/0 must have required property 'severity'/],
    ['a line after the end', (lines) => [...lines, lines.find((l) => l['t'] === 'groups')!], /a line after its end line/],
  ];
  for (const [what, partial, why] of late) {
    proxy.faults = { partial };
    assertLeftOut(await query(broker.url, COUNT), why, what, cluster.rows);
    assert.match(proxyCheck((await readyz()).body).detail, why, what);
  }
  proxy.faults = {};
  const healed = await query(broker.url, COUNT);
  assert.deepEqual([total(healed.body), healed.body.warnings], [cluster.rows, []]);
  assert.equal(proxyCheck((await readyz()).body).ok, true, 'a good answer clears the reason');
});

test('an engine streaming one endless line is cut off at the line cap, before its timeout, holding at most the cap', async () => {
  proxy.faults = { endless: true };
  const t0 = performance.now();
  const r = await query(broker.url, COUNT);
  const ms = performance.now() - t0;
  assertLeftOut(r, /sent a line longer than 16777216 bytes/);
  assert.ok(ms < 4000, `answered after ${ms.toFixed(0)} ms; the engine timeout is 5000 ms`);
  // The broker hung up once the line passed 16 MiB; what was in flight in socket buffers is the rest.
  assert.ok(proxy.endlessBytes < (16 << 20) + (8 << 20), `the fixture wrote ${proxy.endlessBytes} bytes before the broker hung up`);
});

/** A discovery whose engine list the test sets, as an EndpointSlice watch would change it. */
class Discovery implements EngineDiscovery {
  constructor(public urls: string[]) {}
  list(): readonly string[] {
    return this.urls;
  }
  describe(): string {
    return `${this.urls.length} engines set by the test`;
  }
  async close(): Promise<void> {}
}

test('what the broker knows of an engine is dropped when discovery drops it: a reused address is learned anew', async () => {
  // An address first served by node-0's engine, then (pod IPs are reused) by node-1's.
  const reused = await FaultyProxy.start(engines[0]!.url);
  const discovery = new Discovery([reused.url, engines[2]!.url]);
  const b = await startBroker({ listen: '127.0.0.1:0', engines: discovery, engineTimeoutMs: 5000 });
  const onNode1 = `import px
df = px.DataFrame(table='http_events', start_time=__time_from, end_time=__time_to)
df = df[df.ctx['node'] == 'node-1']
df = df.agg(n=('latency', px.count))
px.display(df)`;
  try {
    const before = await query(b.url, onNode1);
    assert.deepEqual(before.body.stats.engines, { queried: 0, pruned: 2, failed: 0 }, 'node-0 and node-2 hold no node-1 rows');
    discovery.urls = [engines[2]!.url];
    await b.backend.refresh();
    reused.upstream = engines[1]!.url;
    discovery.urls = [reused.url, engines[2]!.url];
    const r = await query(b.url, onNode1);
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.stats.engines, { queried: 1, pruned: 1, failed: 0 });
    assert.equal(total(r.body), rowsOf(1));
  } finally {
    await b.stop();
    await reused.close();
  }
});
