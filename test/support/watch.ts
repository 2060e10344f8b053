import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Watching a server under load from outside: its liveness probe's latency and its resident
 * memory, as a kubelet and the kernel see them.
 */

/** Resident memory of a process now, bytes (0 once it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** One `/healthz` probe: how long it took, and its status (0 and `error` when it failed). */
export interface Probe {
  readonly name: string;
  readonly ms: number;
  readonly status: number;
  readonly error: string;
}

/**
 * Probes `GET /healthz` of each named base URL every `everyMs`, from a process of its own so that
 * the work of the caller (an attacker, a load generator) cannot make the targets look slow.
 * Calls `onProbe` for each answer; the returned function stops the prober.
 */
export function probeHealthz(urls: Readonly<Record<string, string>>, everyMs: number, onProbe: (p: Probe) => void): () => Promise<void> {
  const prober = spawn(
    process.execPath,
    [
      '-e',
      `const every = Number(process.argv[2]);
       for (const [name, url] of Object.entries(JSON.parse(process.argv[1]))) (async () => {
         for (;;) {
           const t = performance.now();
           let status = 0, error = '';
           try { const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(5000) }); await r.arrayBuffer(); status = r.status; } catch (e) { error = e.message; }
           console.log(JSON.stringify({ name, ms: performance.now() - t, status, error }));
           await new Promise((r) => setTimeout(r, every));
         }
       })();`,
      JSON.stringify(urls),
      String(everyMs),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  createInterface({ input: prober.stdout! }).on('line', (line) => onProbe(JSON.parse(line) as Probe));
  return async () => {
    if (prober.exitCode !== null) return;
    const gone = new Promise((r) => prober.once('exit', r));
    prober.kill('SIGKILL');
    await gone;
  };
}
