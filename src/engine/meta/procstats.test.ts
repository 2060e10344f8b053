import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseIo, parseStat, ProcessStatsSampler, systemConstants } from './procstats.js';
import { parseUpid } from './upid.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

test('parseStat counts fields after the last ")", so a command name with spaces and parentheses cannot shift them', () => {
  // Fields 1..24 of a real stat line, with the command name made hostile.
  const line = '4242 (we ird) (x) S 1 4242 4242 0 -1 4194560 1500 0 7 0 250 31 0 0 20 0 9 0 123456 104857600 2560 18446744073709551615';
  const b = bytes(line);
  assert.deepEqual(parseStat(b, b.length), {
    flags: 4194560,
    minorFaults: 1500,
    majorFaults: 7,
    utime: 250,
    stime: 31,
    numThreads: 9,
    startTicks: 123456,
    vsizeBytes: 104857600,
    rssPages: 2560,
  });
  assert.equal(parseStat(bytes('4242 (cut) S 1 2 3'), 18), undefined);
  assert.equal(parseStat(bytes('no parenthesis'), 14), undefined);
});

test('parseIo reads the four byte counters and refuses a file that lacks one', () => {
  const io = 'rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n';
  assert.deepEqual(parseIo(io), { rchar: 10, wchar: 20, readBytes: 4096, writeBytes: 8192 });
  assert.equal(parseIo('rchar: 10\nwchar: 20\n'), undefined);
});

test('a sample of this process agrees with /proc read around it, in Pixie units', () => {
  const { clockTicks, pageSize } = systemConstants();
  const sampler = new ProcessStatsSampler();
  const before = readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ');
  const s = sampler.sample(5n);
  const after = readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ');
  const i = (s.columns['upid'] as { dict: readonly string[] }).dict.findIndex((u) => parseUpid(u)?.pid === process.pid);
  assert.ok(i >= 0, 'this process is sampled');
  assert.ok(s.rows > 1, 'other processes are sampled too');
  const col = (name: string): number => (s.columns[name] as { data: Float64Array }).data[i]!;
  // stat fields after the command: index k is field k + 3.
  const field = (f: string[], n: number): number => Number(f[n - 3]);
  const between = (name: string, n: number, unit = 1): void => {
    assert.ok(col(name) >= field(before, n) * unit && col(name) <= field(after, n) * unit, `${name} ${col(name)} within [${field(before, n) * unit}, ${field(after, n) * unit}]`);
  };
  between('minor_faults', 10);
  between('major_faults', 12);
  between('cpu_utime_ns', 14, 1e9 / clockTicks);
  between('cpu_ktime_ns', 15, 1e9 / clockTicks);
  assert.ok(col('rss_bytes') > 0 && col('rss_bytes') % pageSize === 0);
  assert.ok(col('vsize_bytes') >= col('rss_bytes'));
  assert.ok(col('num_threads') >= 1);
  assert.ok(col('rchar_bytes') > 0, 'this process has read files');
  const t = s.columns['time_'] as { base: bigint; data: Float64Array };
  assert.equal(t.base, 5n);
});

test('a cgroup lists every pid of its subtree, however many (more than one read buffer holds)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-cg-'));
  const many = Array.from({ length: 1500 }, (_, i) => 100000 + i);
  writeFileSync(join(dir, 'cgroup.procs'), many.join('\n') + '\n');
  mkdirSync(join(dir, 'orders.service'));
  writeFileSync(join(dir, 'orders.service', 'cgroup.procs'), '7\n8\n');
  assert.deepEqual(new ProcessStatsSampler({ cgroup: dir }).pids(), [...many, 7, 8]);
  rmSync(dir, { recursive: true });
});
