/**
 * `wisp engine` and `wisp broker` listening beyond loopback without a token say so at start, in
 * one stderr line naming the address and the fix; on loopback, or with a token, they say
 * nothing. The engine needs root (capture); the broker runs over an engine URL nobody serves.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitForLine } from '../support/peers.js';

const WISP = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
if (process.getuid?.() !== 0) throw new Error('test/api/exposed.test.ts needs root (the engine loads BPF programs): run it as root, as CI does');

const dir = mkdtempSync(join(tmpdir(), 'wisp-exposed-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, 'exposed-secret\n');
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the command, waits until it serves, stops it; returns its stderr. */
async function stderrOf(args: string[], ready: RegExp): Promise<string> {
  const proc = spawn(WISP, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    await waitForLine(proc, ready, 30_000);
  } finally {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  return stderr;
}

const WARNING = /^wisp (engine|broker): WARNING: the API listens on (\S+), beyond loopback, without a token: anyone who can reach it can query the captured traffic; pass --token-file FILE \(or --listen 127\.0\.0\.1:PORT\)$/m;

test('engine: a warning on 0.0.0.0 without a token; none with a token or on loopback', async () => {
  const open = await stderrOf(['engine', '--listen', '0.0.0.0:0'], /listening on/);
  const m = WARNING.exec(open);
  assert.ok(m, `stderr: ${open}`);
  assert.deepEqual([m[1], m[2]], ['engine', '0.0.0.0:0']);
  assert.equal(open.split('\n').filter((l) => l.includes('WARNING')).length, 1, 'said once');
  assert.doesNotMatch(await stderrOf(['engine', '--listen', '0.0.0.0:0', '--token-file', tokenFile], /listening on/), /WARNING/);
  assert.doesNotMatch(await stderrOf(['engine', '--listen', '127.0.0.1:0'], /listening on/), /WARNING/);
});

test('broker: a warning for every address beyond loopback without a token', async () => {
  const engines = ['--engines', 'http://127.0.0.1:9'];
  for (const [listen, warns] of [
    ['0.0.0.0:0', true],
    ['[::]:0', true],
    [':0', true],
    ['127.0.0.1:0', false],
    ['127.0.0.2:0', false],
    ['[::1]:0', false],
    ['localhost:0', false],
  ] as const) {
    const err = await stderrOf(['broker', '--listen', listen, ...engines], /API on/);
    assert.equal(WARNING.test(err), warns, `${listen}: ${err}`);
    if (warns) assert.equal(WARNING.exec(err)![2], listen);
    if (warns) assert.doesNotMatch(await stderrOf(['broker', '--listen', listen, '--token-file', tokenFile, ...engines], /API on/), /WARNING/, `${listen} with a token`);
  }
});
