/**
 * process_stats sampling cost: CPU (user + system, this process) per sample of 1 000 processes.
 * Starts N idle `sleep` processes in a fresh cgroup so the sampler sees exactly those (plus the
 * shell that starts them), samples them R times, and prints the median CPU per 1 000 processes,
 * beside the same /proc files read with readFileSync and parsed as text (the obvious way) on
 * the same processes in the same run.
 *
 *   node out/bench/procstats/run.js [--procs 1000] [--rounds 30]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { cgroup2Mount } from '../../src/engine/capture/cgroup.js';
import { parseIo, ProcessStatsSampler } from '../../src/engine/meta/procstats.js';

const { values } = parseArgs({ options: { procs: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '30' } } });
const N = Number(values.procs);
const ROUNDS = Number(values.rounds);

const mount = cgroup2Mount();
if (mount === undefined) throw new Error('no cgroup2 filesystem is mounted');
const cg = join(mount, `wisp-bench-procstats-${process.pid}`);
mkdirSync(cg);
// One shell moves itself into the cgroup, then starts N sleeps there and waits.
const shell = spawn('sh', ['-c', `echo $$ > "${cg}/cgroup.procs"; i=0; while [ $i -lt ${N} ]; do sleep 600 & i=$((i+1)); done; echo started; wait`], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => shell.stdout.on('data', (d: Buffer) => d.toString().includes('started') && resolve()));

const cpuMs = (f: () => void): number => {
  const t = process.cpuUsage();
  f();
  const d = process.cpuUsage(t);
  return (d.user + d.system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sampler = new ProcessStatsSampler({ cgroup: cg });
const pids = (): number[] => readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').filter((l) => l !== '').map(Number);
const naive = (): number => {
  let rows = 0;
  for (const pid of pids()) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const io = parseIo(readFileSync(`/proc/${pid}/io`, 'utf8'));
      if (f.length > 22 && io) rows++;
    } catch {
      // gone
    }
  }
  return rows;
};

let rows = 0;
const wisp: number[] = [];
const plain: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  wisp.push(cpuMs(() => (rows = sampler.sample(BigInt(Date.now()) * 1_000_000n).rows)));
  plain.push(cpuMs(() => naive()));
}
const per1000 = (ms: number): string => ((ms * 1000) / rows).toFixed(2);
console.log(`process_stats sample of ${rows} processes (${N} sleeps started), ${ROUNDS} rounds, median CPU per 1 000 processes:`);
console.log(`  readFileSync + text parsing : ${per1000(median(plain))} ms`);
console.log(`  wisp ProcessStatsSampler    : ${per1000(median(wisp))} ms`);
console.log(`  at the engine's 5 s period  : ${((median(wisp) * 1000) / rows / 5000 * 100).toFixed(3)} % of one core per 1 000 processes`);

shell.kill('SIGTERM');
for (const pid of pids()) {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already gone
  }
}
const deadline = Date.now() + 5000;
while (readFileSync(join(cg, 'cgroup.procs'), 'utf8').trim() !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
rmdirSync(cg);
