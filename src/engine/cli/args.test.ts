import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, UsageError } from './args.js';
import { runBroker } from './broker.js';
import { runDemo } from './demo.js';
import { runEngine } from './engine.js';
import { runQuery } from './query.js';
import { runTail } from './tail.js';

const options = {
  from: { type: 'string' },
  to: { type: 'string' },
  var: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (...args: string[]) => parseCommandLine({ args, options, allowPositionals: true });

test('values that start with - are values: --from -5m --to -1m, --var K=-1', () => {
  const { values, positionals } = parse('--from', '-5m', '--to', '-1m', '--var', 'K=-1', '--var', '-x=2', 'file.pxl');
  assert.deepEqual({ ...values }, { from: '-5m', to: '-1m', var: ['K=-1', '-x=2'] });
  assert.deepEqual(positionals, ['file.pxl']);
});

test('--name=value, a lone - as value or positional, and an = value that starts with --', () => {
  const { values, positionals } = parse('--from=-5m', '--to', '-', '--var=--odd', '-');
  assert.deepEqual({ ...values }, { from: '-5m', to: '-', var: ['--odd'] });
  assert.deepEqual(positionals, ['-']);
});

test('after -- everything is positional', () => {
  const { values, positionals } = parse('--from', 'now', '--', '--to', '-1m');
  assert.deepEqual({ ...values }, { from: 'now' });
  assert.deepEqual(positionals, ['--to', '-1m']);
});

test('a missing value is a clear usage error', () => {
  assert.throws(() => parse('--from'), (e: unknown) => e instanceof UsageError && e.message === "option '--from' needs a value");
  assert.throws(() => parse('--from', '--to', 'now'), (e: unknown) =>
    e instanceof UsageError && e.message === "option '--from' needs a value, but the next argument '--to' is an option (write --from=--to if it is the value)");
  assert.throws(() => parse('--from', '--'), /option '--from' needs a value/);
});

test('unknown options and values given to a flag are usage errors', () => {
  assert.throws(() => parse('--frm', '-5m'), (e: unknown) => e instanceof UsageError && /Unknown option '--frm'/.test(e.message));
  assert.throws(() => parse('-5m'), (e: unknown) => e instanceof UsageError && /Unknown option '-5'/.test(e.message));
  assert.throws(() => parse('--help=yes'), (e: unknown) => e instanceof UsageError && /does not take an argument/.test(e.message));
});

test('every subcommand takes every value option with a leading -', async (t) => {
  const log = t.mock.method(console, 'log', () => undefined);
  const error = t.mock.method(console, 'error', () => undefined);
  const dashed = (...names: string[]): string[] => [...names.flatMap((n) => [`--${n}`, '-x']), '--help'];
  const commands: Array<[string, (argv: string[]) => Promise<number>, string[]]> = [
    ['query', runQuery, dashed('url', 'token-file', 'from', 'to', 'interval', 'var', 'format')],
    ['engine', runEngine, dashed('listen', 'token-file', 'budget-mib', 'sides', 'body-bytes', 'redact', 'redact-header', 'redact-query-param', 'conn-stats-period-ms', 'cgroup', 'kubernetes', 'node-name')],
    ['tail', runTail, dashed('format', 'sides', 'body-bytes', 'redact', 'redact-header', 'redact-query-param', 'conn-stats-period-ms')],
    ['demo', runDemo, dashed('listen', 'rps', 'duration', 'sides', 'body-bytes', 'redact', 'redact-header', 'redact-query-param', 'conn-stats-period-ms')],
    ['broker', runBroker, dashed('listen', 'token-file', 'engine-token-file', 'engines', 'kubernetes-service', 'engine-timeout')],
  ];
  for (const [name, run, argv] of commands) {
    log.mock.resetCalls();
    assert.equal(await run(argv), 0, `wisp ${name} ${argv.join(' ')}; stderr: ${error.mock.calls.map((c) => String(c.arguments[0])).join('\n')}`);
    assert.match(String(log.mock.calls[0]?.arguments[0]), new RegExp(`^usage: wisp ${name} `), `wisp ${name} printed its usage`);
  }
});
