/**
 * `wisp broker` from the command line: wrong flags get exit code 2 and a message naming the
 * flag; with a token file the API asks for the bearer token and answers with it. (The full
 * flag set against real engines runs in ebpf.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, waitForLine } from '../support/peers.js';
import { serveShard, syntheticCluster } from './synthetic.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));

test('wrong flags: exit 2 and a message naming what is wrong', async () => {
  const cases: [string[], RegExp][] = [
    [[], /give exactly one of --engines and --kubernetes-service/],
    [['--engines', 'http://127.0.0.1:1', '--kubernetes-service', 'a/b'], /exactly one/],
    [['--engines', 'ftp://x'], /'ftp:\/\/x' must be http:\/\/ or https:\/\//],
    [['--engines', ' , '], /--engines wants one or more URLs/],
    [['--engines', 'http://127.0.0.1:1', '--engine-timeout', 'soon'], /--engine-timeout wants a positive duration .* \(got 'soon'\)/],
    [['--kubernetes-service', 'no-slash'], /--kubernetes-service wants NAMESPACE\/NAME/],
    [['--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    const r = await run(WISP, ['broker', ...args], { env: { ...process.env, HOME: '/nonexistent', KUBECONFIG: '' } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const help = await run(WISP, ['--help']);
  assert.match(help.stdout, /broker +the query API over many engines/);
});

test('wisp broker --token-file: clients need the token; --engines are queried with --engine-token-file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-broker-cli-'));
  const cluster = syntheticCluster({ engines: 1, rows: 1000, seed: 9, startNs: BigInt(Date.now() - 60_000) * 1_000_000n, spanNs: 30e9 });
  const engine = await serveShard(cluster.shards[0]!, { token: 'eng' });
  writeFileSync(join(dir, 'client'), 'cli-token\n');
  writeFileSync(join(dir, 'engine'), 'eng\n');
  const proc = spawn(WISP, ['broker', '--listen', '127.0.0.1:0', '--token-file', join(dir, 'client'), '--engine-token-file', join(dir, 'engine'), '--engines', engine.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = (await waitForLine(proc, /API on (http:\/\/\S+) over 1 engines from --engines/))[1]!;
    const body = JSON.stringify({ script: "import px\ndf = px.DataFrame(table='http_events', start_time='-5m')\ndf = df.agg(n=('latency', px.count))\npx.display(df)" });
    const denied = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(denied.status, 401);
    const ok = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer cli-token' }, body });
    assert.equal(ok.status, 200);
    const answer = (await ok.json()) as { tables: { data: string[][] }[] };
    assert.equal(answer.tables[0]!.data[0]![0], '1000');
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
