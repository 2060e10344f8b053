/**
 * A compile bomb sent to a real `wisp engine` (capture, store and API in one process): the
 * engine answers PXL_LIMIT with the offending line, and /healthz keeps answering within a
 * second while the bombs are compiled. Compilation runs on the event loop that also serves
 * every other request and drains capture, so a compile that ran for minutes would stall them.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ErrorResponse, QueryResponse } from '../../src/engine/api/contract.js';
import { waitForLine } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
let engine: ChildProcess;
let url = '';

before(async () => {
  engine = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
});

after(async () => {
  const exited = new Promise<void>((resolve) => engine.once('exit', () => resolve()));
  engine.kill('SIGTERM');
  // An engine stuck in a compile cannot run its SIGTERM handler.
  const timer = setTimeout(() => engine.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
});

function bomb(lines: number): string {
  return "import px\ndf = px.DataFrame(table='http_events', start_time='-5m')\na = df.latency\n" + 'a = a + a\n'.repeat(lines) + "df.x = a\npx.display(df[['x']])\n";
}

async function query(script: string): Promise<Response> {
  return fetch(`${url}/api/v1/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ script }),
    signal: AbortSignal.timeout(60_000),
  });
}

test('/healthz answers within a second while compile bombs are sent, and each bomb answers PXL_LIMIT', async () => {
  let polling = true;
  const latencies: number[] = [];
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
      assert.equal(res.status, 200);
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  try {
    const answers = await Promise.all([30, 60, 1000, 30, 60, 1000].map(async (n) => ({ n, res: await query(bomb(n)) })));
    for (const { n, res } of answers) {
      assert.equal(res.status, 400, `${n} lines`);
      const { error } = (await res.json()) as ErrorResponse;
      assert.equal(error.code, 'PXL_LIMIT', `${n} lines: ${error.message}`);
      // The 13th `a = a + a` (line 16) is the first past 10,000 terms.
      assert.deepEqual(error.span?.start, { line: 16, column: 5 }, `${n} lines`);
      assert.ok(error.hints.some((h) => h.includes('doubles')), JSON.stringify(error.hints));
    }
  } finally {
    polling = false;
    await poller;
  }
  assert.ok(latencies.length > 0);
  assert.ok(Math.max(...latencies) < 1000, `slowest /healthz ${Math.max(...latencies).toFixed(0)} ms`);
  // The engine is still itself: an ordinary query answers.
  const ok = await query("import px\ndf = px.DataFrame(table='http_events', start_time='-5m')\npx.display(df.agg(n=('latency', px.count)))\n");
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as QueryResponse).tables.length, 1);
});
