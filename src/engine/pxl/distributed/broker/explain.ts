import type { Catalog } from '../../catalog.js';
import { explain } from '../../exec/execute.js';
import type { TableSource } from '../../exec/runtime.js';
import { Merger } from './merge.js';
import { LookupMetadata } from './metadata.js';
import type { DistributedProgram } from './split.js';

/**
 * What a split program runs, as text: each fragment as an engine plans it, then the broker's part
 * over the merged fragments. The fragments are planned here over empty tables of the catalog's
 * schemas, so the fused loops shown are those the shapes allow; an engine plans again over its
 * own data, which can only decline a loop (a column too wide for it), never add one.
 */
export function explainDistributed(dist: DistributedProgram, catalog: Catalog, nowNs: bigint): string {
  const empty: TableSource = {
    get: (name) => {
      const schema = catalog.table(name);
      return schema && { schema, scan: () => [], timeBaseNs: () => null };
    },
  };
  const metadata = new LookupMetadata();
  const fragments = explain(
    { outputs: dist.fragments.map((f) => ({ name: f.id, plan: f.plan })) },
    empty,
    { metadata, nowNs },
    (id) => `fragment ${id}, on each engine (${dist.fragments.find((f) => f.id === id)!.plan.kind === 'agg' ? 'sends partial aggregates' : 'sends rows'}):`,
  );
  const upper = explain(dist.upper, new Merger(dist, 0n, 0, 0).source(), { metadata, nowNs }, (name) => `output '${name}', on the broker:`);
  return `${fragments}\n${upper}`;
}
