/**
 * `wisp engine --help` gives a --cgroup example that works on this host: a directory under the
 * host's cgroup2 mount, which is not /sys/fs/cgroup everywhere (a hybrid host mounts it at
 * /sys/fs/cgroup/unified).
 */
import assert from 'node:assert/strict';
import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run } from '../support/peers.js';

const wisp = fileURLToPath(new URL('../../../bin/wisp', import.meta.url));
/** statfs f_type of cgroup2 (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

test('engine --help: the --cgroup example lies under this host cgroup2 mount', async () => {
  const r = await run(wisp, ['engine', '--help']);
  assert.equal(r.code, 0, r.stderr);
  const m = /--cgroup[^\n]*\n\s*\(e\.g\. (\/[^\s:;]+)/.exec(r.stdout);
  assert.ok(m, `a --cgroup example path in:\n${r.stdout}`);
  assert.equal(statfsSync(dirname(m[1]!)).type, CGROUP2_SUPER_MAGIC, `${dirname(m[1]!)} is where cgroup2 is mounted here`);
});
