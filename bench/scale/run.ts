/**
 * The scale bench: `wisp broker` over 1, 2 and 4 engines holding the same total rows, for the
 * dashboard presets, with partial aggregation (engines send partial states) against the
 * baseline where engines ship their leaf rows and the broker aggregates them all — query time
 * and bytes moved from engines to broker, side by side, from one run.
 *
 * Engines are in-process LocalBackends over generated rows (bench/query/gen.ts; each process on
 * one engine), served over real HTTP on loopback, as is the broker. They share this process's
 * event loop, so times add up the work of all engines rather than showing parallel speed-up.
 *
 *   node out/bench/scale/run.js [--rows N] [--repeat R]
 */
import os from 'node:os';
import type { QueryResponse } from '../../src/engine/api/contract.js';
import { BrokerBackend } from '../../src/engine/broker/backend.js';
import { StaticEngines } from '../../src/engine/broker/engines.js';
import { QUERY_PRESETS } from '../../src/plugin/presets.js';
import { serve, serveShard, syntheticCluster } from '../../test/broker/synthetic.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(name);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name} needs a positive number`);
  return v;
}

const ROWS = arg('--rows', 1_000_000);
const REPEAT = arg('--repeat', 3);
const NOW_MS = Date.now();
const ENGINE_COUNTS = [1, 2, 4];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Measured {
  readonly ms: number;
  readonly bytes: number;
  readonly rows: number;
}

async function measure(url: string, script: string): Promise<Measured> {
  const run = async (): Promise<QueryResponse> => {
    const res = await fetch(`${url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ script, range: { from: NOW_MS - 5 * 60_000, to: NOW_MS }, intervalMs: 10_000 }),
    });
    const body = (await res.json()) as QueryResponse & { error?: { message: string } };
    if (!res.ok) throw new Error(`query failed: ${body.error?.message}`);
    return body;
  };
  let last = await run(); // warm-up
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const t = performance.now();
    last = await run();
    times.push(performance.now() - t);
  }
  return { ms: median(times), bytes: last.stats.bytesReceived ?? 0, rows: last.tables.reduce((a, t) => a + t.rowCount, 0) };
}

function mib(b: number): string {
  return b >= 1 << 20 ? `${(b / (1 << 20)).toFixed(1)} MiB` : `${(b / 1024).toFixed(1)} KiB`;
}

async function main(): Promise<void> {
  const queries = QUERY_PRESETS.map((p) => ({ id: p.id, script: p.script }));
  console.log(`scale bench: ${ROWS.toLocaleString('en')} rows in total, median of ${REPEAT}; ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
  console.log('engines  query                    partial: time     bytes   | raw rows: time     bytes   | bytes saved');
  for (const k of ENGINE_COUNTS) {
    const cluster = syntheticCluster({ engines: k, rows: ROWS, seed: 5, startNs: BigInt(NOW_MS - 4 * 60_000) * 1_000_000n, spanNs: 180e9, services: 40 });
    const engines = await Promise.all(cluster.shards.map((s) => serveShard(s, { maxRows: ROWS })));
    const discovery = new StaticEngines(engines.map((e) => e.url));
    const common = { engines: discovery, engineTimeoutMs: 600_000, maxRows: ROWS };
    const partial = await serve(new BrokerBackend(common), { limits: { queryTimeoutMs: 600_000, maxBodyBytes: 1 << 20 } });
    const raw = await serve(new BrokerBackend({ ...common, shipRawRows: true }), { limits: { queryTimeoutMs: 600_000 } });
    for (const q of queries) {
      const p = await measure(partial.url, q.script);
      const r = await measure(raw.url, q.script);
      if (p.rows !== r.rows) throw new Error(`${q.id}: partial gave ${p.rows} rows, raw ${r.rows}`);
      console.log(
        `${String(k).padStart(7)}  ${q.id.padEnd(24)} ${p.ms.toFixed(1).padStart(10)} ms ${mib(p.bytes).padStart(10)} | ${r.ms.toFixed(1).padStart(10)} ms ${mib(r.bytes).padStart(10)} | ${(r.bytes / Math.max(p.bytes, 1)).toFixed(0).padStart(6)}×`,
      );
    }
    await Promise.all([partial.close(), raw.close(), ...engines.map((e) => e.close())]);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
