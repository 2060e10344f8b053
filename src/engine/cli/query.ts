import { readFile } from 'node:fs/promises';
import { WispClient, WispError } from '../api/client.js';
import type { QueryRequest } from '../api/contract.js';
import { parseCommandLine, UsageError } from './args.js';
import { renderDiagnostic } from './diagnostic.js';
import { follow } from './follow.js';
import { resultAsCsv, resultAsText } from './format.js';
import { parseDurationMs, parseTimeMs } from './time.js';

const QUERY_USAGE = `usage: wisp query [--url U] [--token-file F] [--from T] [--to T] [--interval D]
                  [--var NAME=VALUE]... [--fn NAME [--arg KEY=VALUE]...]
                  [--format table|csv|json] [--explain] FILE|-
       wisp query --follow [--format table|csv|jsonl] [same options] FILE|-
  Runs a PxL script on an engine (or broker) and prints its outputs.
  --fn runs that function of the script with the --arg values instead (Pixie's
  'px run px/service -- --start_time -5m'): each value is read as its parameter's type
  (annotation, else default), and what the function returns is the output.
  --explain prints the physical plan the script would run instead, and runs nothing.
  --follow streams: the stored rows the script selects, then new rows as they are captured
  (windowed aggregates per closed window), until interrupted; it reconnects on its own and
  resumes where it was. jsonl: one JSON object per row.
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
      follow: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(QUERY_USAGE);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one script file (or - for stdin), got ${positionals.length === 0 ? 'none' : positionals.map((p) => `'${p}'`).join(' ')}`);
  const format = values.format;
  if (values.follow) {
    if (values.explain) throw new UsageError('--follow and --explain do not go together');
    if (format !== 'table' && format !== 'csv' && format !== 'jsonl') throw new UsageError(`--follow takes --format table, csv or jsonl (got '${format}')`);
  } else if (format !== 'table' && format !== 'csv' && format !== 'json') {
    throw new UsageError(`--format must be table, csv or json (got '${format}')`);
  }
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
  optionValue('url', () => new URL('/api/v1/query', values.url));
  const file = positionals[0]!;
  const script = file === '-' ? await readStdin() : await readFile(file, 'utf8');
  const request: QueryRequest = {
    script,
    range,
    ...(intervalMs !== undefined ? { intervalMs } : {}),
    variables: Object.fromEntries(Object.entries(variables).map(([k, vs]) => [k, vs.length === 1 ? vs[0]! : vs])),
    ...(values.fn !== undefined ? { function: { name: values.fn, args } } : {}),
  };
  const token = values['token-file'] ? (await readFile(values['token-file'], 'utf8')).trim() : undefined;
  const client = new WispClient({ url: values.url, ...(token !== undefined ? { token } : {}) });
  const name = file === '-' ? '<stdin>' : file;
  try {
    if (values.follow) {
      await follow(client, request, format as 'table' | 'csv' | 'jsonl', (d) => console.error(renderDiagnostic(d, script, name)));
      return 0;
    }
    if (values.explain) {
      const plan = await client.explain(request);
      console.log(format === 'json' ? JSON.stringify(plan, null, 2) : plan.plan);
      for (const w of plan.warnings) console.error(renderDiagnostic(w, script, name));
      return 0;
    }
    const result = await client.query(request);
    if (format === 'json') {
      console.log(JSON.stringify(result, null, 2));
    } else {
      const blocks = result.tables.map((t) => `# ${t.name}\n${format === 'csv' ? resultAsCsv(t) : resultAsText(t)}`);
      console.log(blocks.join('\n\n'));
    }
    for (const w of result.warnings) console.error(renderDiagnostic(w, script, name));
    return 0;
  } catch (e) {
    if (!(e instanceof WispError)) throw e;
    console.error(renderDiagnostic(e.diagnostic, script, name));
    return 1;
  }
}
