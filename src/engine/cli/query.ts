import { readFile } from 'node:fs/promises';
import type { ErrorResponse, ExplainResponse, QueryRequest, QueryResponse } from '../api/contract.js';
import { parseCommandLine, UsageError } from './args.js';
import { renderDiagnostic } from './diagnostic.js';
import { resultAsCsv, resultAsText } from './format.js';
import { parseDurationMs, parseTimeMs } from './time.js';

const QUERY_USAGE = `usage: wisp query [--url U] [--token-file F] [--from T] [--to T] [--interval D]
                  [--var NAME=VALUE]... [--fn NAME [--arg KEY=VALUE]...]
                  [--format table|csv|json] [--explain] FILE|-
  Runs a PxL script on an engine (or broker) and prints its outputs.
  --fn runs that function of the script with the --arg values instead (Pixie's
  'px run px/service -- --start_time -5m'): each value is read as its parameter's type
  (annotation, else default), and what the function returns is the output.
  --explain prints the physical plan the script would run instead, and runs nothing.
  T: now, -5m, RFC 3339 or epoch ms (default: --from -5m --to now). D: 500ms, 10s, 1m.
  Values may start with '-' (--from -5m --to -1m, --arg start_time=-5m) or be attached
  with '=' (--from=-5m).
  --url defaults to $WISP_URL, else http://127.0.0.1:7070.
  --var may repeat; several values for one name make a multi-value variable.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** An option's value parsed by `parse`, whose error becomes a UsageError naming the option. */
function optionValue<T>(name: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError(`--${name}: ${(e as Error).message}`);
  }
}

/** `wisp query`: returns the process exit code. */
export async function runQuery(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string', default: process.env['WISP_URL'] ?? 'http://127.0.0.1:7070' },
      'token-file': { type: 'string' },
      from: { type: 'string', default: '-5m' },
      to: { type: 'string', default: 'now' },
      interval: { type: 'string' },
      var: { type: 'string', multiple: true, default: [] },
      fn: { type: 'string' },
      arg: { type: 'string', multiple: true, default: [] },
      format: { type: 'string', default: 'table' },
      explain: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(QUERY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one script file (or - for stdin), got ${positionals.length === 0 ? 'none' : positionals.map((p) => `'${p}'`).join(' ')}`);
  const format = values.format;
  if (format !== 'table' && format !== 'csv' && format !== 'json') throw new UsageError(`--format must be table, csv or json (got '${format}')`);
  const now = Date.now();
  const variables: Record<string, string[]> = {};
  for (const v of values.var) {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new UsageError(`--var wants NAME=VALUE (got '${v}')`);
    (variables[v.slice(0, eq)] ??= []).push(v.slice(eq + 1));
  }
  if (values.arg.length > 0 && values.fn === undefined) throw new UsageError('--arg gives an argument to the function --fn names; add --fn NAME');
  const args: Record<string, string> = {};
  for (const a of values.arg) {
    const eq = a.indexOf('=');
    if (eq <= 0) throw new UsageError(`--arg wants KEY=VALUE (got '${a}')`);
    const key = a.slice(0, eq);
    if (Object.hasOwn(args, key)) throw new UsageError(`--arg ${key} is given twice`);
    args[key] = a.slice(eq + 1);
  }
  const range = { from: optionValue('from', () => parseTimeMs(values.from, now)), to: optionValue('to', () => parseTimeMs(values.to, now)) };
  const intervalMs = values.interval !== undefined ? optionValue('interval', () => parseDurationMs(values.interval!)) : undefined;
  const url = optionValue('url', () => new URL('/api/v1/query', values.url).toString());
  const file = positionals[0]!;
  const script = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  const request: QueryRequest = {
    script,
    range,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    variables: Object.fromEntries(Object.entries(variables).map(([k, vs]) => [k, vs.length === 1 ? vs[0]! : vs])),
    ...(values.explain ? { explain: true } : {}),
    ...(values.fn !== undefined ? { function: { name: values.fn, args } } : {}),
  };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (values['token-file']) headers['authorization'] = `Bearer ${(await readFile(values['token-file'], 'utf8')).trim()}`;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(request) });
  } catch (e) {
    throw new Error(`cannot reach the engine at ${values.url}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`engine answered ${res.status} with a body that is not JSON: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const err = (body as ErrorResponse).error;
    if (!err) throw new Error(`engine answered ${res.status}: ${text.slice(0, 200)}`);
    console.error(renderDiagnostic(err, script, file === '-' ? '<stdin>' : file));
    return 1;
  }
  if (values.explain) {
    const plan = body as ExplainResponse;
    console.log(format === 'json' ? JSON.stringify(plan, null, 2) : plan.plan);
    for (const w of plan.warnings) console.error(renderDiagnostic(w, script, file === '-' ? '<stdin>' : file));
    return 0;
  }
  const result = body as QueryResponse;
  if (format === 'json') {
    console.log(JSON.stringify(result, null, 2));
  } else {
    const blocks = result.tables.map((t) => `# ${t.name}\n${format === 'csv' ? resultAsCsv(t) : resultAsText(t)}`);
    console.log(blocks.join('\n\n'));
  }
  for (const w of result.warnings) console.error(renderDiagnostic(w, script, file === '-' ? '<stdin>' : file));
  return 0;
}
