/**
 * Where the engine's CPU goes under load: an in-process Agent scoped to a fresh cgroup, a Node
 * server and wrk (paced) inside it, and V8's sampling profiler started through the inspector
 * after capture is attached (`node --cpu-prof` starts profiling before the BPF load, which then
 * fails with EAGAIN). Prints self time by function and the engine's CPU per captured row.
 *
 *   node out/bench/capture/profile.js [--seconds 6] [--rate 10000] [--out FILE.cpuprofile] [--cpu-only]
 *
 * --cpu-only skips the profiler (whose sampling signals cost system time of their own).
 */
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Agent } from '../../src/engine/agent.js';
import { makeCgroup, startIn } from '../../test/capture-kernel/cgroups.js';
import { run } from '../../test/capture-kernel/helpers.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '6' }, rate: { type: 'string', default: '10000' }, out: { type: 'string' }, 'cpu-only': { type: 'boolean', default: false } },
});
const seconds = Number(values.seconds);
const rate = Number(values.rate);

interface ProfileNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const cg = makeCgroup('wisp-bench-profile');
const agent = Agent.start({ cgroup: cg.path });
const server = await startIn(cg.path, process.execPath, ['-e', `
  const body = 'x'.repeat(612);
  const s = require('http').createServer((req, res) => { res.writeHead(200, {'content-type': 'text/plain', 'content-length': body.length}); res.end(body); });
  s.keepAliveTimeout = 60000;
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));`]);
const session = new Session();
session.connect();
const profiling = !values['cpu-only'];
if (profiling) {
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
const rows0 = agent.snapshot().httpRows;
const c0 = process.cpuUsage();
const connections = 20;
const pace = `function delay() return ${(connections * 1000) / rate} end\n`;
writeFileSync(`/tmp/wisp-profile-${process.pid}.lua`, pace);
// wrk runs inside the cgroup too, so both sides of every request are captured.
await run('sh', ['-c', `echo $$ > "$0/cgroup.procs" && exec wrk -t1 -c${connections} -d${seconds}s -s /tmp/wisp-profile-${process.pid}.lua http://127.0.0.1:${server.firstLine}/x`, cg.path]);
// Let the engine work off the ring buffer.
await new Promise((r) => setTimeout(r, 1000));
const cpu = process.cpuUsage(c0);
const rows = agent.snapshot().httpRows - rows0;
const profile = profiling ? ((await session.post('Profiler.stop')) as unknown as { profile: Profile }).profile : { nodes: [], samples: [], timeDeltas: [] };
session.disconnect();
agent.close();
server.proc.kill();
await server.exit;
await cg.remove();
if (values.out) writeFileSync(values.out, JSON.stringify(profile));

const self = new Map<string, number>();
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
let total = 0;
profile.samples.forEach((id, i) => {
  const cf = byId.get(id)!.callFrame;
  const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
  const dt = profile.timeDeltas[i] ?? 0;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
});
console.log(`${rows} rows in ${seconds}s at ~${rate} req/s; engine CPU ${(((cpu.user + cpu.system) / Math.max(1, rows))).toFixed(2)} µs/row (user ${(cpu.user / Math.max(1, rows)).toFixed(2)}, sys ${(cpu.system / Math.max(1, rows)).toFixed(2)})`);
for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${k}`);
process.exit(0);
