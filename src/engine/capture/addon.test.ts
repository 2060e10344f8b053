import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { loadAddon } from './addon.js';

test('clockOffsetNs holds still while every CPU is busy (a preempted reading is not used)', async () => {
  const addon = loadAddon();
  // Busy loops on every CPU, so this thread is preempted now and then between clock reads.
  const burners = Array.from({ length: availableParallelism() }, () =>
    spawn(process.execPath, ['-e', 'const end = Date.now() + 20000; while (Date.now() < end);'], { stdio: 'ignore' }),
  );
  try {
    await new Promise((r) => setTimeout(r, 200));
    let min = addon.clockOffsetNs();
    let max = min;
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      for (let i = 0; i < 10_000; i++) {
        const o = addon.clockOffsetNs();
        if (o < min) min = o;
        if (o > max) max = o;
      }
    }
    // NTP slews the realtime clock by at most 500 ppm: 1.5 µs over these 3 s.
    assert.ok(max - min < 100_000n, `offset moved by ${max - min} ns`);
  } finally {
    for (const b of burners) b.kill('SIGKILL');
  }
});
