/**
 * Runs PxL scripts over a generated store in a process of its own, so a test can cap its heap
 * (`--max-old-space-size`) and see an operator that outgrows it crash that process, not the
 * test runner. Argument: JSON `{ rows, cases: [{ name, script, maxJoinRows?, maxGroups? }] }`;
 * prints one JSON line per case: its tables' row counts and first rows, warnings or error, time
 * and memory.
 */
import { generateHttpEvents, makeCluster } from '../../bench/query/gen.js';
import { HTTP_EVENTS_SCHEMA } from '../../src/engine/http/schema.js';
import { compile } from '../../src/engine/pxl/compile.js';
import { PxlError } from '../../src/engine/pxl/diagnostic.js';
import { resultToJson } from '../../src/engine/api/encode.js';
import { execute } from '../../src/engine/pxl/exec/execute.js';
import { Store } from '../../src/engine/store/store.js';
import { fixedOptions } from '../../src/testkit/pxl-scripts/scripts.js';

interface Case {
  readonly name: string;
  readonly script: string;
  readonly maxJoinRows?: number;
  readonly maxGroups?: number;
}

const { rows, cases } = JSON.parse(process.argv[2]!) as { rows: number; cases: Case[] };
const cluster = makeCluster(6, 5);
const store = new Store();
store.create(HTTP_EVENTS_SCHEMA, { budgetBytes: 1 << 30 });
generateHttpEvents(cluster, rows, 21, fixedOptions.fromNs, 250e9, (batch) => store.append('http_events', batch));

for (const c of cases) {
  global.gc?.();
  const t = performance.now();
  const line: Record<string, unknown> = { name: c.name };
  try {
    const { program } = compile(c.script, fixedOptions, store);
    const r = await execute(program, store, { metadata: cluster.metadata, nowNs: fixedOptions.nowNs, maxJoinRows: c.maxJoinRows, maxGroups: c.maxGroups });
    // Row counts, and each table's first row (column name → cell) for small answers.
    line['tables'] = resultToJson(r).tables.map((x) => ({
      name: x.name,
      rowCount: x.rowCount,
      first: x.rowCount === 0 ? null : Object.fromEntries(x.columns.map((c, j) => [c.name, x.data[j]![0]])),
    }));
    line['warnings'] = r.warnings.map((w) => ({ code: w.code, message: w.message }));
  } catch (err) {
    if (!(err instanceof PxlError)) throw err;
    line['error'] = err.diagnostic;
  }
  const m = process.memoryUsage();
  line['ms'] = performance.now() - t;
  line['heapUsed'] = m.heapUsed;
  line['arrayBuffers'] = m.arrayBuffers;
  line['rss'] = m.rss;
  console.log(JSON.stringify(line));
}
