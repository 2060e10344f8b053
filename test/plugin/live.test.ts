// The browser test of browser.test.ts, run again against a live `bin/wisp engine` (with a token)
// holding real captured traffic instead of the fixture: the same steps, with the drawn series
// compared to the live engine's own answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { nodeServer, run } from '../support/peers.js';
import { startLiveEngine } from './liveEngine.js';

test('the plugin in Chromium against a live engine with captured traffic', async (t) => {
  const { url, token } = await startLiveEngine(t, 'live');
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
