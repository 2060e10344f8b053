/**
 * The README's "A first query" commands, run as written (its shell block, by bash, from the
 * repository root) against a live `wisp engine` capturing real traffic. The block's
 * `bin/wisp query --from -2m --interval 10s …` lines are what a newcomer types first; the
 * engine is reached through $WISP_URL because 127.0.0.1:7070 may be taken on a shared machine.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeClient } from '../support/capture.js';
import { nodeServer, run, wispEngine, type Peer } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let engine: Peer & { url: string };
let server: Peer;

before(async () => {
  engine = await wispEngine();
  // A comm of its own, so its rows are told apart from every other process on the host.
  server = await nodeServer(`
import http from 'node:http';
process.title = 'wisp-readme';
const s = http.createServer((req, res) => { res.writeHead(200, {'content-length': 2}); res.end('ok'); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
});

after(async () => {
  await server.stop();
  await engine.stop();
});

/** The first ```sh block after the "## A first query" heading. */
function readmeBlock(): string {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A first query'));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'README has a sh block under "A first query"');
  return m[1]!;
}

test('README: the first-query block runs as written, --from -2m and all', async () => {
  const block = readmeBlock();
  const queries = block.split('\n').filter((l) => l.startsWith('bin/wisp query'));
  assert.equal(queries.length, 2, `the block's query lines: ${queries.join(' | ')}`);
  for (const q of queries) assert.match(q, /^bin\/wisp query --from -2m --interval 10s /);

  const sent = 25;
  const c = await nodeClient(`http://127.0.0.1:${server.port}`, { n: sent, concurrency: 2, prefix: '/readme/' });
  assert.ok(c.results.every((r) => r.status === 200));

  // Rows reach the store within a flush interval; the block is re-run until they are all there.
  const deadline = Date.now() + 15_000;
  let last = { code: null as number | null, stdout: '', stderr: '' };
  let counted = 0;
  while (Date.now() < deadline) {
    const startedMs = Date.now();
    last = await run('bash', ['-euo', 'pipefail', '-c', block], { env: { ...process.env, WISP_URL: engine.url } });
    assert.equal(last.code, 0, `the README block failed: ${last.stderr}`);
    const [table, csv] = last.stdout.split(/\n(?=# throughput\n)/);
    assert.match(table!, /^# throughput\ntimestamp\s+comm\s+requests\s+p99\n/, 'the first line prints an aligned table');
    assert.match(csv!, /^# throughput\ntimestamp,comm,requests,p99\n/, 'the second line prints CSV');
    const rows = csv!.trim().split('\n').slice(2).map((l) => l.split(','));
    for (const [ts] of rows) {
      const ms = Number(BigInt(ts!) / 1_000_000n);
      assert.equal(ms % 10_000, 0, `bins of --interval 10s: ${ts}`);
      assert.ok(ms >= startedMs - 130_000 && ms <= Date.now(), `--from -2m: bin ${new Date(ms).toISOString()} within the last two minutes`);
    }
    counted = rows.filter((r) => r[1] === 'wisp-readme').reduce((n, r) => n + Number(r[2]), 0);
    if (counted === sent) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  assert.equal(counted, sent, `requests counted for the test server; output:\n${last.stdout}`);
  assert.match(last.stdout.split('\n# throughput\n')[0]!, /wisp-readme/, 'the table shows the server too');
});
