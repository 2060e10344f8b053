/**
 * `wisp engine --kubernetes ... --node-name ...` as a process (the DaemonSet's command line):
 * bad configuration fails before anything is loaded into the kernel, with a message naming what
 * is wrong; a good one watches the API-server double, reports it in /readyz, and stops cleanly
 * on SIGTERM with its watches open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReadyResponse } from '../../src/engine/api/contract.js';
import { run, waitForLine } from '../support/peers.js';
import { K8sApiServer } from '../support/k8sApiServer.js';
import { containerId, pod, waitFor } from './helpers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));

test('wisp engine: Kubernetes flags are in the usage; bad values fail with a clear message', async () => {
  const help = await run(wisp, ['engine', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--kubernetes auto\|in-cluster\|KUBECONFIG/);
  assert.match(help.stdout, /--node-name/);
  const env = { ...process.env, KUBERNETES_SERVICE_HOST: '', KUBERNETES_SERVICE_PORT: '' };
  const cases: [string[], RegExp][] = [
    [['--node-name', 'n1'], /--node-name only applies with --kubernetes/],
    [['--kubernetes', '/nonexistent/kubeconfig'], /kubeconfig \/nonexistent\/kubeconfig does not exist/],
    [['--kubernetes', 'in-cluster'], /in-cluster: KUBERNETES_SERVICE_HOST\/PORT are not set/],
    [['--kubernetes', ''], /wants auto, in-cluster or a kubeconfig path/],
  ];
  for (const [args, message] of cases) {
    const r = await run(wisp, ['engine', '--listen', '127.0.0.1:0', ...args], { env });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('wisp engine --kubernetes KUBECONFIG --node-name N: /readyz reports the watch; SIGTERM exits 0', async () => {
  const api = await K8sApiServer.start();
  try {
    api.apply('pods', pod({ namespace: 'shop', name: 'a', node: 'cli-node', ip: '10.4.0.1', container: containerId() }));
    api.apply('pods', pod({ namespace: 'shop', name: 'b', node: 'other-node', ip: '10.4.0.2', container: containerId() }));
    const child = spawn(wisp, ['engine', '--listen', '127.0.0.1:0', '--kubernetes', api.writeKubeconfig(), '--node-name', 'cli-node'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = (await waitForLine(child, /listening on (http:\/\/\S+)/, 20_000))[1]!;
      let detail = '';
      const poll = setInterval(() => {
        fetch(`${url}/readyz`).then((r) => r.json()).then((b: unknown) => {
          detail = (b as ReadyResponse).checks.find((c) => c.name === 'kubernetes')?.detail ?? '';
        }, () => undefined);
      }, 100);
      try {
        await waitFor('the kubernetes check', () => /^watching .*1 pods on node cli-node/.test(detail), 15_000, () => detail);
      } finally {
        clearInterval(poll);
      }
      assert.ok(api.openWatches() === 3, `three watches open, got ${api.openWatches()}`);
      child.kill('SIGTERM');
      const code = await Promise.race([exit, new Promise<string>((r) => setTimeout(() => r('still running 10 s after SIGTERM'), 10_000))]);
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  } finally {
    await api.close();
  }
});
