/**
 * PxL scripts for the red team, built from the grammar of docs/pxl.md: ordinary pipelines with
 * random expressions, and the pathological shapes an attacker (or an unlucky dashboard) sends —
 * deep nesting, long chains, long operator chains, huge literals, many outputs, deep helper call
 * chains, unknown functions and names, mutated real scripts.
 *
 * Left out on purpose, because issue 11 gives them to the compiler's own hardening (compile
 * budget, linear-time regexes, bounded joins and groups) and they would only measure that work
 * here: expressions that share sub-expressions by doubling (`a = a + a`), `px.regex_match` with
 * nested quantifiers, joins whose sides are not bounded by `head`, and group-bys with a group
 * per row (every column a key, quantiles per group: 280 MiB for one query of 10 000 rows).
 */
import { loadScript, scriptNames } from '../../src/testkit/pxl-scripts/scripts.js';

export type Rand = () => number;

const INT_COLS = ['latency', 'resp_status', 'remote_port', 'local_port', 'trace_role', 'req_body_size', 'resp_body_size', 'pid'];
const STR_COLS = ['req_path', 'req_method', 'remote_addr', 'resp_message', 'comm', 'req_headers'];
const AGGS = ['count', 'sum', 'mean', 'min', 'max', 'quantiles'];
const CTX = ['pod', 'service', 'namespace', 'node', 'pid', 'cmd', 'container', 'nope'];

const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function strLiteral(r: Rand): string {
  const bodies = ['', '/', 'GET', '/api', "it's", 'a\\nb', '\\u00e9', '%', '$service', '${ns}', '\\x00', '\\\\', '"', 'ÿ'];
  const b = pick(r, bodies);
  return r() < 0.5 ? `'${b.replace(/'/g, "\\'")}'` : `"${b.replace(/"/g, '\\"')}"`;
}

function intLiteral(r: Rand): string {
  return pick(r, ['0', '1', '-1', '200', '400', '1e9', '1_000', '0x1f', '9223372036854775807', '-9223372036854775808', '99999999999999999999', '1.5', '0.0', '1e308', '1e-308']);
}

/** A random expression of roughly the requested type; sometimes deliberately of the wrong one. */
function expr(r: Rand, kind: 'int' | 'str' | 'bool', depth: number): string {
  if (r() < 0.05) return pick(r, ['px.nope(df.latency)', 'df.no_such_column', 'undefined_name', 'px.count(df.latency)', 'df', 'px', 'None', "df.ctx['nope']", 'px.contains(df.latency)']);
  if (depth <= 0 || r() < 0.3) {
    if (kind === 'int') return r() < 0.6 ? `df.${pick(r, INT_COLS)}` : intLiteral(r);
    if (kind === 'str') return r() < 0.6 ? `df.${pick(r, STR_COLS)}` : r() < 0.5 ? strLiteral(r) : `df.ctx['${pick(r, CTX)}']`;
    return pick(r, ['True', 'False', `df.${pick(r, INT_COLS)} > ${intLiteral(r)}`, 'df.encrypted']);
  }
  const d = depth - 1;
  if (kind === 'int') {
    return pick(r, [
      () => `(${expr(r, 'int', d)} ${pick(r, ['+', '-', '*', '/', '//', '%'])} ${expr(r, 'int', d)})`,
      () => `-${expr(r, 'int', d)}`,
      () => `px.select(${expr(r, 'bool', d)}, ${expr(r, 'int', d)}, ${expr(r, 'int', d)})`,
      () => `px.bin(df.time_, px.DurationNanos(${intLiteral(r)}))`,
      () => `px.floor(${expr(r, 'int', d)})`,
      () => `px.upid_to_pid(df.upid)`,
    ])();
  }
  if (kind === 'str') {
    return pick(r, [
      () => `${expr(r, 'str', d)} + ${expr(r, 'str', d)}`,
      () => `px.select(${expr(r, 'bool', d)}, ${expr(r, 'str', d)}, ${expr(r, 'str', d)})`,
      () => `px.upid_to_pod_name(df.upid)`,
      () => `px.ip_to_pod_id(df.remote_addr)`,
    ])();
  }
  return pick(r, [
    () => `${expr(r, 'int', d)} ${pick(r, ['==', '!=', '<', '<=', '>', '>='])} ${expr(r, 'int', d)}`,
    () => `${expr(r, 'str', d)} == ${expr(r, 'str', d)}`,
    () => `px.contains(${expr(r, 'str', d)}, ${strLiteral(r)})`,
    () => `px.regex_match(${pick(r, ["'^/api/'", "'[0-9]+'", "'x|y'", "'('"])}, ${expr(r, 'str', d)})`,
    () => `not ${expr(r, 'bool', d)}`,
    () => `(${expr(r, 'bool', d)} ${pick(r, ['and', 'or'])} ${expr(r, 'bool', d)})`,
  ])();
}

const HEAD = "import px\ndf = px.DataFrame(table='http_events', start_time='-5m')\n";

/** An ordinary script: a source, a few random steps, one or more outputs. */
function pipeline(r: Rand): string {
  let s = r() < 0.1 ? `import px\ndf = px.DataFrame(table=${pick(r, ["'http_events'", "'nope'", '5', "'conn_stats'"])}, start_time=${pick(r, ["'-5m'", "'-1h'", '__time_from', '0', "'now'", "'yesterday'", '-1'])})\n` : HEAD;
  const steps = int(r, 1, 12);
  for (let i = 0; i < steps; i++) {
    s += pick(r, [
      () => `df = df[${expr(r, 'bool', 3)}]\n`,
      () => `df.c${i} = ${expr(r, pick(r, ['int', 'str', 'bool'] as const), 3)}\n`,
      () => `df = df.head(${pick(r, ['0', '1', '10', '100000', '-1', "'x'"])})\n`,
      () => `df = df.groupby(${pick(r, ["'req_path'", "['req_path', 'resp_status']", "'upid'", '[]', "'nope'"])}).agg(n=('latency', px.${pick(r, AGGS)}))\n`,
      () => `df = df.drop(${pick(r, ["'req_body'", "['resp_body', 'req_headers']", "'nope'"])})\n`,
      () => `df = df[[${pick(r, ["'req_path'", "'latency', 'req_path'", "'n'"])}]]\n`,
      () => `df.k = df.ctx['${pick(r, CTX)}']\n`,
    ])();
  }
  s += `px.display(df${r() < 0.5 ? `, '${pick(r, ['out', 'x y', "o'", ''])}'` : ''})\n`;
  if (r() < 0.2) s += 'px.display(df)\n';
  return s;
}

/**
 * Statement chains are kept below what the compiler's plan limits do not yet cover (issue 11
 * gives plan-size limits to the compiler's hardening): 3000 column assignments cost 4 s of
 * synchronous compile and 1.3 GiB (each map node lists every column: quadratic), and filter or
 * column chains of 2000–4000 overflow the executor's stack (a 500).
 */
const CHAIN = 1000;
const COLUMNS = 300;
/** 2000 outputs compile and run for 0.5–0.7 s in one piece on this machine: more only measures the compiler's budget. */
const OUTPUTS = 500;

/** A shape an attacker sends: sized to stay under the 256 KiB script limit most of the time. */
function pathological(r: Rand): string {
  const n = pick(r, [10, 100, 1000, 5000, 20_000]);
  return pick(r, [
    () => `${HEAD}df.x = ${'('.repeat(n)}df.latency${')'.repeat(n)}\npx.display(df)\n`,
    () => `${HEAD}df = df[${'not '.repeat(n)}(df.latency > 1)]\npx.display(df)\n`,
    () => `${HEAD}df.x = ${'-'.repeat(n)}df.latency\npx.display(df)\n`,
    () => `${HEAD}df.x = ${Array.from({ length: n }, (_, i) => `df.latency * ${i}`).join(' + ')}\npx.display(df)\n`,
    () => `${HEAD}df = df[${Array.from({ length: n }, (_, i) => `df.resp_status != ${i}`).join(' and ')}]\npx.display(df)\n`,
    () => `${HEAD}x = ${'px.select(df.latency > 1, '.repeat(Math.min(n, 2000))}df.latency${', df.latency)'.repeat(Math.min(n, 2000))}\ndf.x = x\npx.display(df)\n`,
    () => `${HEAD}${Array.from({ length: Math.min(n, CHAIN) }, (_, i) => `df = df[df.latency > ${i}]\n`).join('')}px.display(df)\n`,
    () => `${HEAD}${Array.from({ length: Math.min(n, COLUMNS) }, (_, i) => `df.c${i} = df.latency + ${i}\n`).join('')}px.display(df)\n`,
    () => `${HEAD}${'df = df.head(1000)\n'.repeat(Math.min(n, CHAIN))}px.display(df)\n`,
    () => `${HEAD}${Array.from({ length: Math.min(n, OUTPUTS) }, (_, i) => `px.display(df.head(1), 'o${i}')\n`).join('')}`,
    () => `${HEAD}df.s = '${'A'.repeat(Math.min(n * 10, 200_000))}'\npx.display(df.head(2))\n`,
    () => `${HEAD}df = df[df.latency > ${'9'.repeat(Math.min(n, 5000))}]\npx.display(df)\n`,
    () => `${HEAD}df.f = df.latency * 1e${n}\npx.display(df.head(5))\n`,
    () => `import px\n${Array.from({ length: Math.min(n, 2000) }, (_, i) => (i === 0 ? "def f0():\n    return px.DataFrame(table='http_events', start_time='-5m')\n" : `def f${i}():\n    return f${i - 1}()\n`)).join('')}px.display(f${Math.min(n, 2000) - 1}())\n`,
    () => `${HEAD}a = df.head(${int(r, 1, 100)})\nb = df.head(${int(r, 1, 100)})\nj = a.merge(b, how='${pick(r, ['inner', 'left', 'outer'])}', left_on=['req_path'], right_on=['req_path'], suffixes=['', '_r'])\npx.display(j)\n`,
    () => `${HEAD}df = df.groupby(['req_path', 'resp_status', 'remote_addr']).agg(q=('latency', px.quantiles), n=('latency', px.count), m=('resp_body_size', px.max))\npx.display(df)\n`,
    () => `${HEAD}df = df.${pick(r, ['sort_values("latency")', 'rename(columns={})', '__class__', 'to_csv()', 'apply(print)'])}\npx.display(df)\n`,
    () => `import ${pick(r, ['os', 'sys', 'pxviews', 'px.os'])}\n${pick(r, ["__import__('os').system('id')", "eval('1')", "open('/etc/passwd')", 'exec("x")'])}\n`,
    () => `${HEAD}df.x = ${'['.repeat(Math.min(n, 3000))}1${']'.repeat(Math.min(n, 3000))}\npx.display(df)\n`,
    () => `${HEAD}${'\n'.repeat(n)}${' '.repeat(n)}# ${'x'.repeat(n)}\npx.display(df)\n`,
    () => `${HEAD}df.t = $__timeFrom() + $__interval_ms * ${intLiteral(r)}\ndf.v = ${pick(r, ['$service', '${ns}', '$__range', '$__from'])}\npx.display(df)\n`,
  ])();
}

/** Mutations of the compatibility scripts: the grammar's real shapes, slightly broken. */
function mutated(r: Rand): string {
  let s = loadScript(pick(r, scriptNames()));
  for (let k = int(r, 1, 6); k > 0; k--) {
    const at = Math.floor(r() * (s.length + 1));
    s = pick(r, [
      () => s.slice(0, at) + s.slice(at + int(r, 1, 20)),
      () => s.slice(0, at) + pick(r, ['(', ')', '[', ']', "'", '"', '\\', '\n', ':', '.', '=', 'px.', 'df.', '$', '#', '\u0000', '\u{1F600}']) + s.slice(at),
      () => s.slice(0, at) + s.slice(Math.floor(r() * s.length), Math.floor(r() * s.length)) + s.slice(at),
    ])();
  }
  return s;
}

/** One script: mostly ordinary pipelines, then pathological shapes, then mutations. */
export function pxlScript(r: Rand): string {
  const x = r();
  return x < 0.45 ? pipeline(r) : x < 0.8 ? pathological(r) : mutated(r);
}
