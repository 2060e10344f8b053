// The browser test of browser.test.ts, run again against a live `bin/wisp engine` (with a token)
// holding real captured traffic instead of the fixture: the same steps, with the drawn series
// compared to the live engine's own answer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeServer, run, waitForLine } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('the plugin in Chromium against a live engine with captured traffic', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-live-'));
  const tokenFile = join(dir, 'token');
  const token = 'live-token-' + process.pid;
  writeFileSync(tokenFile, token + '\n');
  const engine = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(async () => {
    if (engine.exitCode !== null || engine.signalCode !== null) return;
    const exited = new Promise((resolve) => engine.once('exit', resolve));
    engine.kill('SIGINT');
    await exited;
  });
  const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
  const server = await nodeServer(`
import http from 'node:http';
const s = http.createServer((req, res) => { res.writeHead(req.url.endsWith('7') ? 500 : 200, {'content-length': 2}); res.end('ok'); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  t.after(() => server.stop());
  const client = fileURLToPath(new URL('../support/client.js', import.meta.url));
  // Traffic on both sides of a 15 s boundary (the browser test's interval), so the answer is a
  // series of at least two points per label set and the plugin draws it as a time series.
  const boundary = Math.ceil((Date.now() + 2000) / 15_000) * 15_000;
  for (const at of [boundary - 1500, boundary + 500]) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
    const r = await run(process.execPath, [client, '--url', `http://127.0.0.1:${server.port}`, '--n', '200', '--concurrency', '4', '--prefix', `/live${at}/`]);
    assert.equal(r.code, 0, r.stderr);
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  // NODE_TEST_CONTEXT would make the inner runner report to us in its binary protocol.
  const { NODE_TEST_CONTEXT: _inner, ...env } = process.env;
  const browser = await run(process.execPath, ['--test', '--test-reporter=tap', fileURLToPath(new URL('./browser.test.js', import.meta.url))], {
    env: { ...env, WISP_PLUGIN_ENGINE_URL: url, WISP_PLUGIN_ENGINE_TOKEN: token },
  });
  assert.equal(browser.code, 0, `browser test against the live engine failed:\n${browser.stdout.slice(-4000)}\n${browser.stderr.slice(-2000)}`);
  assert.match(browser.stdout, /# pass [1-9]/);
  assert.match(browser.stdout, /# fail 0/);
});
