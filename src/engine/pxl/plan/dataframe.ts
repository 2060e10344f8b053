import { PxlCode, PxlError, type Span } from '../diagnostic.js';
import type { Keyword } from '../parse/ast.js';
import { registryEntry } from '../functions/registry.js';
import { parseTimeNs, timeError } from '../functions/time.js';
import { applyAdhocFilters } from './adhoc.js';
import { bindArgs } from './args.js';
import { apply, toExpr } from './exprs.js';
import * as build from './builders.js';
import type { NameAt } from './builders.js';
import type { Environment } from './environment.js';
import type { AggExpr, JoinHow } from './logical.js';
import { didYouMean } from './suggest.js';
import { describeValue, isText, textOf, type Value } from './values.js';

/** The DataFrame surface of PxL: px.DataFrame, attribute/subscript access, and the methods. */

type FrameV = Value & { kind: 'frame' };
type Kwargs = readonly (Keyword & { v: Value })[];

/**
 * `df.ctx[key]` → the registry lookup on `upid` it stands for: Pixie's metadata keys and their
 * aliases. `container` is Wisp's: the container id, which a plain host knows too (Pixie's
 * alias of `container_name`).
 */
export const CTX_KEYS: Readonly<Record<string, string>> = {
  pod: 'upid_to_pod_name',
  service: 'upid_to_service_name',
  namespace: 'upid_to_namespace',
  node: 'upid_to_node_name',
  pid: 'upid_to_pid',
  cmd: 'upid_to_cmdline',
  container: 'upid_to_container_id',
  pod_name: 'upid_to_pod_name',
  pod_id: 'upid_to_pod_id',
  service_name: 'upid_to_service_name',
  service_id: 'upid_to_service_id',
  node_name: 'upid_to_node_name',
  hostname: 'upid_to_hostname',
  host: 'upid_to_hostname',
  cmdline: 'upid_to_cmdline',
  container_id: 'upid_to_container_id',
  container_name: 'upid_to_container_name',
  asid: 'upid_to_asid',
  deployment: 'upid_to_deployment_name',
  deployment_name: 'upid_to_deployment_name',
  replicaset: 'upid_to_replicaset_name',
  replica_set: 'upid_to_replicaset_name',
  replicaset_name: 'upid_to_replicaset_name',
  replicaset_id: 'upid_to_replicaset_id',
  replica_set_id: 'upid_to_replicaset_id',
};

/** Pixie's keys Wisp deliberately does not answer, with why and what to use instead. */
const CTX_UNSUPPORTED: Readonly<Record<string, string>> = {
  deployment_id:
    "Wisp watches pods, not ReplicaSets or Deployments, so a Deployment's UID is unknown; df.ctx['deployment'] gives its namespace/name",
};

const METHODS = new Set(['groupby', 'agg', 'merge', 'drop', 'head', 'append', 'stream']);

/** pandas habits, with the PxL way to say the same. */
const PANDAS: Record<string, string> = {
  sort_values: 'results come back unordered; sort in the Grafana panel',
  sort: 'results come back unordered; sort in the Grafana panel',
  rename: "copy the column under the new name (df.new = df.old) and drop the old one",
  reset_index: 'PxL DataFrames have no index',
  apply: 'write the expression with px.* functions',
  map: 'write the expression with px.* functions',
  query: 'filter with df[condition]',
  filter: 'filter with df[condition]',
  tail: 'use df.head(n)',
  join: "use df.merge(right, how='inner', left_on=..., right_on=...)",
  concat: 'use df.append(other)',
  loc: "use df[condition] and df[['a', 'b']]",
  iloc: 'use df.head(n)',
  columns: 'the columns are known from the script',
  distinct: 'use df.groupby([...]).agg()',
  drop_duplicates: 'use df.groupby([...]).agg()',
};

const str = isText;

/** Column names given as one string or a list of strings. */
function columnNames(v: Value, what: string): NameAt[] {
  if (str(v)) return [{ name: textOf(v), at: v.at }];
  if (v.kind === 'list' && v.items.every(str)) return v.items.map((i) => ({ name: textOf(i as Value & { kind: 'const' }), at: i.at }));
  throw new PxlError(PxlCode.type, `${what} must be a column name or a list of column names, got ${describeValue(v)}`, v.at);
}

function frameOf(v: Value, what: string): FrameV {
  if (v.kind !== 'frame') throw new PxlError(PxlCode.type, `${what} must be a DataFrame, got ${describeValue(v)}`, v.at);
  return v;
}

const newFrame = (plan: FrameV['frame']['plan'], at: Span): FrameV => ({ kind: 'frame', frame: { plan }, at });

/** A start/end time: a relative string, ns, a TIME64NS value, or `$__from` (ms). */
function timeArg(v: Value | undefined, env: Environment, what: string): bigint | null {
  if (!v || v.kind === 'none') return null;
  if (v.kind === 'const') {
    if (v.type === 'STRING') {
      const t = parseTimeNs(String(v.value), env.fold.nowNs);
      if (t === undefined) throw timeError(String(v.value), v.at);
      return t;
    }
    if (v.type === 'INT64') return v.unit === 'ms' ? (v.value as bigint) * 1_000_000n : (v.value as bigint);
    if (v.type === 'TIME64NS') return v.value as bigint;
  }
  throw new PxlError(PxlCode.type, `${what} must be a time ('-5m', ns, __time_from, $__timeFrom()), got ${describeValue(v)}`, v.at);
}

export function makeDataFrame(a: Map<string, Value>, env: Environment, at: Span): Value {
  const t = a.get('table')!;
  if (!str(t)) throw new PxlError(PxlCode.type, `table must be a string, got ${describeValue(t)}`, t.at);
  const table = env.catalog.table(String(t.value));
  if (!table) {
    const names = env.catalog.tables().map((x) => x.name);
    throw new PxlError(PxlCode.unknownTable, `no table '${String(t.value)}'`, t.at, [...didYouMean(String(t.value), names), `tables: ${names.join(', ')}`]);
  }
  const sel = a.get('select');
  const select = sel && sel.kind !== 'none' ? columnNames(sel, 'select') : undefined;
  const startNs = timeArg(a.get('start_time'), env, 'start_time');
  if (startNs === null) {
    env.warn({
      severity: 'warning',
      code: PxlCode.unbounded,
      message: `px.DataFrame without start_time reads all of ${table.name}, not just the query range`,
      span: at,
      hints: ['pass start_time=__time_from (or $__timeFrom()) to follow the dashboard range'],
    });
  }
  const endNs = timeArg(a.get('end_time'), env, 'end_time');
  if (startNs !== null && endNs !== null && endNs < startNs) {
    throw new PxlError(PxlCode.value, 'end_time is before start_time', a.get('end_time')!.at);
  }
  const source = build.source(table, select, startNs, endNs);
  return newFrame(env.adhoc ? applyAdhocFilters(source, table, env.adhoc, at, env.fold, env.warn) : source, at);
}

export function frameAttribute(obj: FrameV, attr: string, attrAt: Span, at: Span): Value {
  if (METHODS.has(attr)) return { kind: 'method', self: obj, name: attr, at };
  if (attr === 'ctx') return { kind: 'ctx', frame: obj.frame, at };
  const plan = obj.frame.plan;
  if (!plan.schema.some((f) => f.name === attr) && PANDAS[attr]) {
    throw new PxlError(PxlCode.unsupported, `DataFrame.${attr} is not supported in PxL`, attrAt, [PANDAS[attr]!]);
  }
  return { kind: 'column', expr: build.columnRef(plan, attr, attrAt), at };
}

export function frameSubscript(obj: FrameV, index: Value, at: Span): Value {
  const plan = obj.frame.plan;
  if (str(index)) return { kind: 'column', expr: build.columnRef(plan, textOf(index), index.at), at };
  if (index.kind === 'list' && index.allColumns && index.items.length === 0) return newFrame(plan, at);
  if (index.kind === 'list') {
    if (index.items.length === 0) throw new PxlError(PxlCode.value, 'a projection needs at least one column', index.at);
    return newFrame(build.project(plan, columnNames(index, 'a projection'), index.at), at);
  }
  if (index.kind === 'column') return newFrame(build.filter(plan, index.expr, index.at), at);
  if (index.kind === 'const' && index.type === 'BOOLEAN') {
    return newFrame(index.value ? plan : build.filter(plan, toExpr(index, 'the filter'), index.at), at);
  }
  throw new PxlError(PxlCode.type, `a DataFrame is indexed by a column name, a list of names or a condition, not ${describeValue(index)}`, index.at);
}

export function ctxColumn(obj: Value & { kind: 'ctx' }, key: Value, at: Span, env: Environment): Value {
  if (!str(key)) throw new PxlError(PxlCode.type, `df.ctx takes a key string, got ${describeValue(key)}`, key.at);
  const name = String(key.value);
  // Own keys only: 'constructor' or 'toString' name no metadata.
  const fn = Object.hasOwn(CTX_KEYS, name) ? CTX_KEYS[name] : undefined;
  const unsupported = Object.hasOwn(CTX_UNSUPPORTED, name) ? CTX_UNSUPPORTED[name] : undefined;
  if (unsupported !== undefined) throw new PxlError(PxlCode.unsupported, `df.ctx['${String(key.value)}'] is not supported`, key.at, [unsupported]);
  if (!fn) {
    throw new PxlError(PxlCode.value, `unknown metadata key '${String(key.value)}'`, key.at, [
      ...didYouMean(String(key.value), Object.keys(CTX_KEYS)),
      `keys: ${Object.keys(CTX_KEYS).join(', ')}`,
    ]);
  }
  const plan = obj.frame.plan;
  if (!plan.schema.some((f) => f.name === 'upid')) {
    throw new PxlError(PxlCode.unknownColumn, "df.ctx needs the 'upid' column, which this DataFrame does not have", at, [
      'read df.ctx[...] before upid is dropped or aggregated away',
    ]);
  }
  const upid: Value = { kind: 'column', expr: build.columnRef(plan, 'upid', at), at };
  return { ...apply(registryEntry(fn)!, [upid], at, env.fold), at };
}

export function callFrameMethod(m: Value & { kind: 'method' }, args: readonly Value[], kwargs: Kwargs, at: Span): Value {
  const self = m.self;
  if (self.kind === 'groupby') {
    return aggregate(self.plan, self.groups, args, kwargs, at);
  }
  const df = self as FrameV;
  const plan = df.frame.plan;
  switch (m.name) {
    case 'groupby': {
      const a = bindArgs('groupby', ['by'], 1, args, kwargs, at);
      const groups = columnNames(a.get('by')!, 'groupby');
      for (const g of groups) build.fieldOf(plan, g.name, g.at);
      return { kind: 'groupby', plan, groups: groups.map((g) => g.name), at };
    }
    case 'agg':
      return aggregate(plan, [], args, kwargs, at);
    case 'drop': {
      const a = bindArgs('drop', ['columns'], 1, args, kwargs, at);
      return newFrame(build.drop(plan, columnNames(a.get('columns')!, 'drop')), at);
    }
    case 'head': {
      const a = bindArgs('head', ['n'], 0, args, kwargs, at);
      const n = a.get('n');
      let count = 5;
      if (n) {
        if (n.kind !== 'const' || n.type !== 'INT64' || (n.value as bigint) < 0n || (n.value as bigint) > 1_000_000_000n) {
          throw new PxlError(PxlCode.type, `head(n) needs a non-negative integer, got ${describeValue(n)}`, n.at);
        }
        count = Number(n.value);
      }
      return newFrame(build.limit(plan, count, at), at);
    }
    case 'append': {
      const a = bindArgs('append', ['objs'], 1, args, kwargs, at);
      const o = a.get('objs')!;
      const others = o.kind === 'list' ? o.items.map((i) => frameOf(i, 'append')) : [frameOf(o, 'append')];
      return newFrame(build.union(plan, others.map((x) => ({ plan: x.frame.plan, at: x.at })), at), at);
    }
    case 'stream':
      // Pixie's streaming mode: the same rows; the interpreter marks the program as a stream.
      bindArgs('stream', [], 0, args, kwargs, at);
      return newFrame(plan, at);
    case 'merge':
      return merge(df, bindArgs('merge', ['right', 'how', 'left_on', 'right_on', 'suffixes'], 1, args, kwargs, at), at);
    default:
      throw new PxlError(PxlCode.unsupported, `DataFrame.${m.name} is not supported`, at);
  }
}

function merge(df: FrameV, a: Map<string, Value>, at: Span): Value {
  const right = frameOf(a.get('right')!, 'merge');
  let how: JoinHow = 'inner';
  const howV = a.get('how');
  if (howV) {
    if (!str(howV) || !['inner', 'left', 'right', 'outer'].includes(String(howV.value))) {
      throw new PxlError(PxlCode.value, `how must be 'inner', 'left', 'right' or 'outer', got ${describeValue(howV)}`, howV.at);
    }
    how = String(howV.value) as JoinHow;
  }
  const keys = (name: string): NameAt[] => {
    const v = a.get(name);
    if (!v) throw new PxlError(PxlCode.arity, `merge needs ${name}=`, at, ["e.g. df.merge(other, how='inner', left_on='service', right_on='service')"]);
    if (v.kind === 'list' && v.items.length === 0) return [];
    return columnNames(v, name);
  };
  const leftOn = keys('left_on');
  const rightOn = keys('right_on');
  let suffixes: [string, string] = ['_x', '_y'];
  const s = a.get('suffixes');
  if (s) {
    if (s.kind !== 'list' || s.items.length !== 2 || !s.items.every(str)) {
      throw new PxlError(PxlCode.type, `suffixes must be two strings, got ${describeValue(s)}`, s.at, ["suffixes=['', '_x']"]);
    }
    suffixes = [String((s.items[0] as Value & { kind: 'const' }).value), String((s.items[1] as Value & { kind: 'const' }).value)];
  }
  return newFrame(build.join(df.frame.plan, right.frame.plan, how, leftOn, rightOn, suffixes, at), at);
}

function aggregate(plan: FrameV['frame']['plan'], groups: readonly string[], args: readonly Value[], kwargs: Kwargs, at: Span): Value {
  if (args.length > 0) {
    throw new PxlError(PxlCode.arity, "agg takes keyword arguments only: name=('column', px.fn)", args[0]!.at, ["e.g. agg(throughput=('latency', px.count))"]);
  }
  const aggs: (AggExpr & { at: Span })[] = kwargs.map((k) => {
    const spec = k.v;
    if (spec.kind !== 'list' || spec.items.length !== 2) {
      throw new PxlError(PxlCode.type, `aggregate '${k.name}' must be a tuple ('column', px.fn), got ${describeValue(spec)}`, spec.at, [
        `e.g. ${k.name}=('latency', px.mean)`,
      ]);
    }
    const [col, fn] = spec.items as [Value, Value];
    if (!str(col)) throw new PxlError(PxlCode.type, `the column of aggregate '${k.name}' must be a name string, got ${describeValue(col)}`, col.at);
    if (fn.kind !== 'builtin' || fn.entry.kind !== 'aggregate') {
      const hint = fn.kind === 'builtin' ? `${fn.entry.spelling} is not an aggregate` : 'aggregates: px.count, px.sum, px.mean, px.min, px.max, px.any, px.quantiles';
      throw new PxlError(PxlCode.type, `the function of aggregate '${k.name}' must be an aggregate such as px.mean, got ${describeValue(fn)}`, fn.at, [hint]);
    }
    const arg = build.columnRef(plan, String(col.value), col.at);
    const sig = fn.entry.signatures.find((s) => s.args[0] === arg.type);
    if (!sig) {
      throw new PxlError(PxlCode.type, `${fn.entry.spelling} does not accept the ${arg.type} column '${String(col.value)}'`, spec.at, [
        `accepted: ${fn.entry.signatures.map((s) => s.args[0]).join(', ')}`,
      ]);
    }
    const semantic = sig.semantic ?? (fn.entry.semantic === 'first' ? arg.semantic : undefined);
    return { name: k.name, fn: fn.entry.name, args: [arg], type: sig.ret, ...(semantic && semantic !== 'ST_NONE' ? { semantic } : {}), at: k.nameSpan };
  });
  const groupsAt = groups.map((g) => ({ name: g, at }));
  return newFrame(build.aggregate(plan, groupsAt, aggs, at), at);
}
