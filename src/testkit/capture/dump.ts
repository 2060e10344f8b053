/**
 * Debug entry: prints captured records (events and shed markers) as JSON lines until interrupted.
 * Usage: node out/src/testkit/capture/dump.js [--pid N] [--port N]
 */
import { Tracer } from '../../engine/capture/tracer.js';
import type { CaptureRecord } from '../../engine/capture/types.js';

function numberFlag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 0) {
    process.stderr.write(`dump: ${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return v;
}

const pid = numberFlag('--pid');
const port = numberFlag('--port');
const portsByConn = new Map<string, [number, number]>();

function wanted(e: CaptureRecord): boolean {
  if (pid !== undefined && e.pid !== pid) return false;
  if (port === undefined) return true;
  const p = portsByConn.get(e.connKey);
  return p !== undefined && (p[0] === port || p[1] === port);
}

function show(e: CaptureRecord): string {
  if (e.kind !== 'data') return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
  const text = Buffer.from(e.data.subarray(0, 200)).toString('latin1');
  return JSON.stringify({ ...e, pos: e.pos.toString(), tsNs: e.tsNs.toString(), data: text, dataLen: e.data.byteLength });
}

let tracer: Tracer;
try {
  tracer = Tracer.open({ raw: true });
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(1);
}
tracer.onRecords((events) => {
  for (const e of events) {
    if (e.kind === 'open') portsByConn.set(e.connKey, [e.localPort, e.remotePort]);
    if (wanted(e)) process.stdout.write(`${show(e)}\n`);
    if (e.kind === 'close') portsByConn.delete(e.connKey);
  }
});
