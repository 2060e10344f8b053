// A live `bin/wisp engine` for the browser tests: real capture, a bearer token, stopped (SIGINT,
// as an operator would) when the test ends.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import { waitForLine } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** Starts an engine on an ephemeral loopback port with a fresh token; resolves when it listens. */
export async function startLiveEngine(t: TestContext, name: string): Promise<{ url: string; token: string }> {
  const dir = mkdtempSync(join(tmpdir(), `wisp-${name}-`));
  const tokenFile = join(dir, 'token');
  const token = `${name}-token-${process.pid}`;
  writeFileSync(tokenFile, token + '\n');
  const engine = spawn(join(root, 'bin/wisp'), ['engine', '--listen', '127.0.0.1:0', '--token-file', tokenFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(async () => {
    if (engine.exitCode === null && engine.signalCode === null) {
      const exited = new Promise((resolve) => engine.once('exit', resolve));
      engine.kill('SIGINT');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const url = (await waitForLine(engine, /listening on (http:\/\/\S+)/, 30_000))[1]!;
  return { url, token };
}
