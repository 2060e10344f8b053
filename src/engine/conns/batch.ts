/**
 * From the connections stage's row batches (conns_js.c) to the columns of `conn_stats` and
 * `tls_handshakes`: numbers and strings as they come, booleans from 0/1, the upid and comm
 * filled once per distinct process of the batch, never per row.
 */
import type { NativeRows } from '../capture/addon.js';
import type { ColumnInput, TableSchema } from '../schema.js';
import { withKernelView, type ProcessSource } from '../http/batch.js';
import { formatUpid } from '../meta/upid.js';

/**
 * The batch's columns, named as in `schema`; `asid` is the agent id in the UPIDs (0 on one
 * host). Throws naming the column when the batch lacks one the schema has (a native bug).
 */
export function connsColumns(b: NativeRows, schema: TableSchema, processes: ProcessSource, asid = 0): Record<string, ColumnInput> {
  const p = b.procs;
  const upid: string[] = new Array<string>(p.pid.length);
  const comm: string[] = new Array<string>(p.pid.length);
  for (let i = 0; i < upid.length; i++) {
    const pid = p.pid[i]!;
    const info = withKernelView(processes.lookup(pid), p.comm[i]!, BigInt(p.startTicks[i]!));
    upid[i] = formatUpid({ asid, pid, startTicks: info.startTicks });
    comm[i] = info.comm;
  }
  const out: Record<string, ColumnInput> = {};
  for (const f of schema.fields) {
    if (f.name === 'time_') out[f.name] = { kind: 'time', base: b.timeBase, data: b.time };
    else if (f.name === 'upid') out[f.name] = { kind: 'dict', codes: p.codes, dict: upid };
    else if (f.name === 'comm') out[f.name] = { kind: 'dict', codes: p.codes, dict: comm };
    else if (f.type === 'STRING') {
      const s = b.strings[f.name];
      if (s === undefined) throw new Error(`${b.table} batch: no column ${f.name}`);
      out[f.name] = { kind: 'dict', codes: s.codes, dict: s.dict };
    } else {
      const data = b.numbers[f.name];
      if (data === undefined) throw new Error(`${b.table} batch: no column ${f.name}`);
      if (f.type === 'BOOLEAN') out[f.name] = { kind: 'bool', data: Uint8Array.from(data, (v) => (v !== 0 ? 1 : 0)) };
      else if (f.type === 'TIME64NS') out[f.name] = { kind: 'time', base: 0n, data };
      else out[f.name] = { kind: 'f64', data };
    }
  }
  return out;
}
