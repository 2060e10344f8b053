import type { DataType, SemanticType } from '../schema.js';

/**
 * The one registry of PxL functions, operators and aggregates. The planner checks every call
 * against these signatures and emits `call`/agg nodes naming an entry; the executor implements
 * every entry by `name`; `/api/v1/schema` and the editor's completion read the same docs.
 *
 * `cast` entries (px.DurationNanos, px.Percent) only change a value's semantic type: the
 * planner folds them into the argument's `semantic`, so they never appear in a plan.
 */

export type FunctionKind = 'scalar' | 'operator' | 'aggregate' | 'cast';

export interface Signature {
  readonly args: readonly DataType[];
  readonly ret: DataType;
  /** Fixed semantic type of the result; otherwise the entry's `semantic` rule decides. */
  readonly semantic?: SemanticType;
}

export interface FunctionEntry {
  /** Stable name used in plans and by the executor. */
  readonly name: string;
  /** How scripts spell it (`px.bin`), or the operator symbol for operators. */
  readonly spelling: string;
  readonly kind: FunctionKind;
  readonly signatures: readonly Signature[];
  readonly doc: string;
  readonly example: string;
  /**
   * How the result's semantic type follows from the arguments' when the signature fixes none:
   * `first` keeps the first argument's, `shared` keeps one all non-plain arguments agree on.
   */
  readonly semantic?: 'first' | 'shared' | 'divide';
  /** Aggregates whose partial results from several nodes or windows merge exactly. */
  readonly mergeable?: boolean;
}

const NUMERIC: readonly DataType[] = ['INT64', 'FLOAT64'];
const ALL: readonly DataType[] = ['BOOLEAN', 'INT64', 'FLOAT64', 'STRING', 'TIME64NS', 'UINT128'];

/** Numeric pairs with Pixie's promotion: any FLOAT64 side makes the result FLOAT64. */
function numericPairs(intRet: DataType = 'INT64'): Signature[] {
  return [
    { args: ['INT64', 'INT64'], ret: intRet },
    { args: ['INT64', 'FLOAT64'], ret: 'FLOAT64' },
    { args: ['FLOAT64', 'INT64'], ret: 'FLOAT64' },
    { args: ['FLOAT64', 'FLOAT64'], ret: 'FLOAT64' },
  ];
}

function comparisons(ordered: boolean): Signature[] {
  const sigs: Signature[] = [
    ...numericPairs('BOOLEAN').map((s) => ({ ...s, ret: 'BOOLEAN' as const })),
    { args: ['STRING', 'STRING'], ret: 'BOOLEAN' },
    { args: ['TIME64NS', 'TIME64NS'], ret: 'BOOLEAN' },
    { args: ['TIME64NS', 'INT64'], ret: 'BOOLEAN' },
    { args: ['INT64', 'TIME64NS'], ret: 'BOOLEAN' },
  ];
  if (!ordered) sigs.push({ args: ['BOOLEAN', 'BOOLEAN'], ret: 'BOOLEAN' }, { args: ['UINT128', 'UINT128'], ret: 'BOOLEAN' });
  return sigs;
}

function op(name: string, symbol: string, signatures: Signature[], doc: string, example: string, semantic?: FunctionEntry['semantic']): FunctionEntry {
  return { name, spelling: symbol, kind: 'operator', signatures, doc, example, semantic };
}

function fn(name: string, signatures: Signature[], doc: string, example: string, semantic?: FunctionEntry['semantic']): FunctionEntry {
  return { name, spelling: `px.${name}`, kind: 'scalar', signatures, doc, example, semantic };
}

function lookup(name: string, from: DataType, semantic: SemanticType, doc: string, example: string): FunctionEntry {
  return fn(name, [{ args: [from], ret: name === 'upid_to_pid' ? 'INT64' : 'STRING', semantic }], doc, example);
}

function agg(name: string, signatures: Signature[], doc: string, example: string, mergeable: boolean, semantic?: FunctionEntry['semantic']): FunctionEntry {
  return { name, spelling: `px.${name}`, kind: 'aggregate', signatures, doc, example, mergeable, semantic };
}

const ENTRIES: readonly FunctionEntry[] = [
  op('add', '+', [
    ...numericPairs(),
    { args: ['STRING', 'STRING'], ret: 'STRING' },
    { args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' },
    { args: ['INT64', 'TIME64NS'], ret: 'TIME64NS' },
  ], 'Adds numbers, shifts a time by ns, or concatenates strings.', "df.id = df.source + '-' + df.target", 'shared'),
  op('subtract', '-', [
    ...numericPairs(),
    { args: ['TIME64NS', 'TIME64NS'], ret: 'INT64', semantic: 'ST_DURATION_NS' },
    { args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' },
  ], 'Subtracts numbers; time minus time is a duration in ns.', 'df.window = df.time_max - df.time_min', 'shared'),
  op('multiply', '*', numericPairs(), 'Multiplies numbers (the result has no unit: ns × 1e9 is no longer ns).', 'df.rps = df.per_ns * 1e9'),
  op('divide', '/', numericPairs('FLOAT64'), 'Divides numbers; always FLOAT64, as in Pixie.', 'df.rps = df.count / window_ns', 'divide'),
  op('modulo', '%', [{ args: ['INT64', 'INT64'], ret: 'INT64' }, { args: ['TIME64NS', 'INT64'], ret: 'INT64' }],
    'Remainder of integer division (sign of the dividend).', 'df.odd = df.remote_port % 2 == 1'),
  op('floorDivide', '//', numericPairs(), 'Division rounded down.', 'df.kb = df.resp_body_size // 1024'),
  op('negate', '-', [{ args: ['INT64'], ret: 'INT64' }, { args: ['FLOAT64'], ret: 'FLOAT64' }], 'Negates a number.', 'df.x = -df.latency', 'first'),
  op('equal', '==', comparisons(false), 'True where both sides are equal.', "df[df.req_method == 'GET']"),
  op('notEqual', '!=', comparisons(false), 'True where the sides differ.', "df[df.service != '']"),
  op('lessThan', '<', comparisons(true), 'True where the left side is smaller.', 'df[df.resp_status < 400]'),
  op('lessThanEqual', '<=', comparisons(true), 'True where the left side is smaller or equal.', 'df[df.resp_status <= 399]'),
  op('greaterThan', '>', comparisons(true), 'True where the left side is larger.', 'df[df.latency > 1000000]'),
  op('greaterThanEqual', '>=', comparisons(true), 'True where the left side is larger or equal.', 'df.failure = df.resp_status >= 400'),
  op('logicalAnd', 'and', [{ args: ['BOOLEAN', 'BOOLEAN'], ret: 'BOOLEAN' }], 'True where both conditions hold.', "df[df.a and df.b]"),
  op('logicalOr', 'or', [{ args: ['BOOLEAN', 'BOOLEAN'], ret: 'BOOLEAN' }], 'True where either condition holds.', "df[df.a or df.b]"),
  op('logicalNot', 'not', [{ args: ['BOOLEAN'], ret: 'BOOLEAN' }], 'Negates a condition.', 'df[not df.failure]'),

  fn('bin', [
    { args: ['TIME64NS', 'INT64'], ret: 'TIME64NS' },
    { args: ['INT64', 'INT64'], ret: 'INT64' },
  ], 'Rounds down to a multiple of the bin size (ns for times).', 'df.timestamp = px.bin(df.time_, __interval)', 'first'),
  fn('floor', [{ args: ['FLOAT64'], ret: 'FLOAT64' }, { args: ['INT64'], ret: 'INT64' }],
    'Rounds down to a whole number.', "px.floor(px.pluck_float64(df.q, 'p50'))", 'first'),
  fn('select', ALL.map((t) => ({ args: ['BOOLEAN', t, t], ret: t })),
    'Per row: the second argument where the condition holds, else the third.', 'px.select(df.resp_status >= 400, 1, 0)', 'shared'),
  fn('contains', [{ args: ['STRING', 'STRING'], ret: 'BOOLEAN' }], 'True where the first string contains the second.',
    "df[px.contains(df.req_path, '/api')]"),
  fn('regex_match', [{ args: ['STRING', 'STRING'], ret: 'BOOLEAN' }],
    'True where the whole second argument matches the regular expression given first (checked at compile time).',
    "df[px.regex_match('/api/v[0-9]+/.*', df.req_path)]"),
  fn('now', [{ args: [], ret: 'TIME64NS' }], 'The query time (fixed for the whole script).', 'px.now() - px.parse_duration(\'5m\')'),
  fn('parse_duration', [{ args: ['STRING'], ret: 'INT64', semantic: 'ST_DURATION_NS' }],
    "A duration such as '5m', '-30s', '1h30m' in ns.", "px.parse_duration('5m')"),
  fn('parse_time', [{ args: ['STRING'], ret: 'TIME64NS' }],
    "A time: relative to now ('-5m') or RFC 3339.", "px.parse_time('-5m')"),
  fn('pluck_float64', [{ args: ['STRING', 'STRING'], ret: 'FLOAT64' }],
    'A number from a JSON object, e.g. a percentile from px.quantiles.', "px.pluck_float64(df.latency_quantiles, 'p99')"),
  fn('pluck', [{ args: ['STRING', 'STRING'], ret: 'STRING' }], 'A value from a JSON object, as text.', "px.pluck(df.req_headers, 'Host')"),
  fn('pluck_int64', [{ args: ['STRING', 'STRING'], ret: 'INT64' }], 'An integer from a JSON object.', "px.pluck_int64(df.resp_headers, 'Content-Length')"),

  lookup('upid_to_pid', 'UINT128', 'ST_NONE', 'The process id of a UPID.', 'px.upid_to_pid(df.upid)'),
  lookup('upid_to_cmdline', 'UINT128', 'ST_NONE', 'The command line of a process.', 'px.upid_to_cmdline(df.upid)'),
  lookup('upid_to_container_id', 'UINT128', 'ST_NONE', 'The container id of a process, or empty.', 'px.upid_to_container_id(df.upid)'),
  lookup('upid_to_pod_id', 'UINT128', 'ST_NONE', 'The pod UID of a process, or empty.', 'px.upid_to_pod_id(df.upid)'),
  lookup('upid_to_pod_name', 'UINT128', 'ST_POD_NAME', 'The pod (namespace/name) of a process, or empty.', 'px.upid_to_pod_name(df.upid)'),
  lookup('upid_to_namespace', 'UINT128', 'ST_NAMESPACE_NAME', 'The namespace of a process, or empty.', 'px.upid_to_namespace(df.upid)'),
  lookup('upid_to_service_id', 'UINT128', 'ST_NONE', 'The service UID of a process, or empty.', 'px.upid_to_service_id(df.upid)'),
  lookup('upid_to_service_name', 'UINT128', 'ST_SERVICE_NAME', 'The service (namespace/name) of a process, or empty.', 'px.upid_to_service_name(df.upid)'),
  lookup('upid_to_node_name', 'UINT128', 'ST_NODE_NAME', 'The node a process runs on.', 'px.upid_to_node_name(df.upid)'),
  lookup('upid_to_hostname', 'UINT128', 'ST_NONE', 'The host name of a process.', 'px.upid_to_hostname(df.upid)'),
  lookup('ip_to_pod_id', 'STRING', 'ST_NONE', 'The UID of the pod with this IP, or empty.', 'px.ip_to_pod_id(df.remote_addr)'),
  lookup('ip_to_service_id', 'STRING', 'ST_NONE', 'The UID of the service with this IP, or empty.', 'px.ip_to_service_id(df.remote_addr)'),
  lookup('pod_id_to_pod_name', 'STRING', 'ST_POD_NAME', 'The pod (namespace/name) with this UID.', 'px.pod_id_to_pod_name(df.pod_id)'),
  lookup('pod_id_to_namespace', 'STRING', 'ST_NAMESPACE_NAME', 'The namespace of the pod with this UID.', 'px.pod_id_to_namespace(df.pod_id)'),
  lookup('pod_name_to_pod_ip', 'STRING', 'ST_IP_ADDRESS', 'The IP of the pod (namespace/name).', 'px.pod_name_to_pod_ip(df.pod)'),
  lookup('service_id_to_service_name', 'STRING', 'ST_SERVICE_NAME', 'The service (namespace/name) with this UID.',
    'px.service_id_to_service_name(df.service_id)'),
  lookup('pod_id_to_node_name', 'STRING', 'ST_NODE_NAME', 'The node of the pod with this UID (pods of this node only).', 'px.pod_id_to_node_name(df.pod_id)'),
  lookup('pod_id_to_service_id', 'STRING', 'ST_NONE', 'The UID of the service(s) of the pod with this UID; several as a JSON array.',
    'px.pod_id_to_service_id(df.pod_id)'),
  lookup('pod_id_to_service_name', 'STRING', 'ST_SERVICE_NAME', 'The service(s) (namespace/name) of the pod with this UID; several as a JSON array.',
    'px.pod_id_to_service_name(px.ip_to_pod_id(df.remote_addr))'),
  lookup('pod_name_to_pod_id', 'STRING', 'ST_NONE', 'The UID of the pod (namespace/name).', 'px.pod_name_to_pod_id(df.pod)'),
  lookup('service_name_to_service_id', 'STRING', 'ST_NONE', 'The UID of the service (namespace/name).', 'px.service_name_to_service_id(df.service)'),

  { name: 'DurationNanos', spelling: 'px.DurationNanos', kind: 'cast', signatures: NUMERIC.map((t) => ({ args: [t], ret: t, semantic: 'ST_DURATION_NS' as const })),
    doc: 'Marks a number as a duration in ns (Grafana unit "ns").', example: 'window_ns = px.DurationNanos(10 * 1000 * 1000 * 1000)' },
  { name: 'Percent', spelling: 'px.Percent', kind: 'cast', signatures: NUMERIC.map((t) => ({ args: [t], ret: t, semantic: 'ST_PERCENT' as const })),
    doc: 'Marks a ratio (0..1) as a percentage.', example: 'df.error_rate = px.Percent(df.errors / df.count)' },
  { name: 'Bytes', spelling: 'px.Bytes', kind: 'cast', signatures: NUMERIC.map((t) => ({ args: [t], ret: t, semantic: 'ST_BYTES' as const })),
    doc: 'Marks a number as a count of bytes.', example: 'df.size = px.Bytes(df.resp_body_size)' },

  agg('count', ALL.map((t) => ({ args: [t], ret: 'INT64' })), 'Number of rows in the group.', "throughput=('latency', px.count)", true),
  agg('sum', [
    { args: ['INT64'], ret: 'INT64' }, { args: ['FLOAT64'], ret: 'FLOAT64' }, { args: ['BOOLEAN'], ret: 'INT64' },
  ], 'Sum of the values (True counts 1).', "errors=('failure', px.sum)", true, 'first'),
  agg('mean', [
    { args: ['INT64'], ret: 'FLOAT64' }, { args: ['FLOAT64'], ret: 'FLOAT64' }, { args: ['BOOLEAN'], ret: 'FLOAT64' },
  ], 'Arithmetic mean (of True as 1 and False as 0 for booleans).', "error_rate=('failure', px.mean)", true, 'first'),
  agg('min', [
    { args: ['INT64'], ret: 'INT64' }, { args: ['FLOAT64'], ret: 'FLOAT64' }, { args: ['TIME64NS'], ret: 'TIME64NS' },
  ], 'Smallest value.', "time_min=('time_', px.min)", true, 'first'),
  agg('max', [
    { args: ['INT64'], ret: 'INT64' }, { args: ['FLOAT64'], ret: 'FLOAT64' }, { args: ['TIME64NS'], ret: 'TIME64NS' },
  ], 'Largest value.', "time_max=('time_', px.max)", true, 'first'),
  agg('any', ALL.map((t) => ({ args: [t], ret: t })), 'Any one value of the group.', "pod=('pod', px.any)", true, 'first'),
  agg('quantiles', NUMERIC.map((t) => ({ args: [t], ret: 'STRING' as const, semantic: 'ST_QUANTILES' as const })),
    'Percentiles p01, p10, p25, p50, p75, p90, p99 as a JSON object; read one with px.pluck_float64.',
    "latency_quantiles=('latency', px.quantiles)", true),
];

const BY_NAME = new Map(ENTRIES.map((e) => [e.name, e]));

/** Every registry entry, in a stable order. */
export function registryEntries(): readonly FunctionEntry[] {
  return ENTRIES;
}

/** The entry a plan names, if any. */
export function registryEntry(name: string): FunctionEntry | undefined {
  return BY_NAME.get(name);
}

/** The entry behind `px.<attr>`, or undefined when `px` has no such function. */
export function pxFunction(attr: string): FunctionEntry | undefined {
  const e = BY_NAME.get(attr);
  return e && e.kind !== 'operator' ? e : undefined;
}

/** Names a script may write after `px.`, for completion and "did you mean" hints. */
export function pxFunctionNames(): string[] {
  return ENTRIES.filter((e) => e.kind !== 'operator').map((e) => e.name);
}
