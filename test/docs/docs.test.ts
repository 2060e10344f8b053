/**
 * Docs that cannot go stale: every fenced block of README.md, docs/*.md and src/plugin/README.md
 * is run or checked, one test per block named by its file and line, against a live `wisp
 * engine` capturing real loopback traffic. What each kind of block gets, the doctest comments
 * that say otherwise, and what "matches" means for shown outputs: test/README.md, "The docs'
 * examples". A page added under docs/ is picked up as it is.
 *
 * Blocks run in a sandbox folder in document order, so a block can write a file (`file NAME`)
 * that a later one runs: the sandbox links every top-level entry of the repository except
 * `deploy/`, which it copies, so `mkdir -p deploy/site` and its token files stay in the sandbox.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { nodeClient } from '../support/capture.js';
import { nodeServer, wispEngine, type Peer } from '../support/peers.js';
import { directive, docFiles, extractBlocks, type Block } from './blocks.js';
import { matchJson, matchText } from './match.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const HINT =
  'hint: run the block by hand from the repository root (with WISP_URL set to a running engine) and fix the doc or the code; ' +
  "a block that cannot run here takes a <!-- doctest: ... --> comment right above its fence (test/README.md, \"The docs' examples\")";

let engine: Peer & { url: string };
let server: Peer;
let sandbox: string;

/** What the last command block of each file printed, for an `output` block after it. */
const lastRun = new Map<string, { block: Block; stdout: string; stderr: string; code: number | null }>();
/** The engine's answer to the last `request` block of each file, for a `response` block after it. */
const lastAnswer = new Map<string, { status: number; body: unknown }>();

before(async () => {
  engine = await wispEngine();
  server = await nodeServer(`
import http from 'node:http';
process.title = 'wisp-doctest';
const s = http.createServer((req, res) => { res.writeHead(req.url.includes('missing') ? 404 : 200, {'content-length': 2}); res.end('ok'); });
s.listen(0, '127.0.0.1', () => console.log('listening ' + s.address().port));`);
  const c = await nodeClient(`http://127.0.0.1:${server.port}`, { n: 40, concurrency: 2, prefix: '/doctest/' });
  assert.ok(c.results.every((r) => r.status === 200 || r.status === 404));
  sandbox = makeSandbox();
});

after(async () => {
  await server?.stop();
  await engine?.stop();
  if (sandbox) rmSync(sandbox, { recursive: true, force: true });
});

function makeSandbox(): string {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-doctest-'));
  for (const entry of readdirSync(root)) {
    if (entry === '.git') continue;
    if (entry === 'deploy') cpSync(join(root, entry), join(dir, entry), { recursive: true, filter: (src) => !src.startsWith(join(root, 'deploy', 'site') + '/') && src !== join(root, 'deploy', 'site') });
    else symlinkSync(join(root, entry), join(dir, entry));
  }
  return dir;
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `bash -euo pipefail -c script` in the sandbox, killed (its whole group) after `ms`; with
 * `interruptMs`, its group gets SIGINT then, as Ctrl-C in a terminal would send.
 */
function bash(script: string, ms = 60_000, interruptMs?: number): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], { cwd: sandbox, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WISP_URL: engine.url } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL');
      reject(new Error(`still running after ${ms / 1000} s (a command that runs until stopped wants <!-- doctest: background --> or interrupt N); output so far:\n${stdout}${stderr}`));
    }, ms);
    const interrupt = interruptMs !== undefined ? setTimeout(() => process.kill(-child.pid!, 'SIGINT'), interruptMs) : undefined;
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(interrupt);
      // As a shell reports it: 128 + the signal's number for a process a signal ended.
      resolve({ code: code ?? 128 + (signal !== null ? constants.signals[signal] : 0), stdout, stderr });
    });
  });
}

/** Commands as written, with the local stack's default address pointed at the test's engine. */
function localised(text: string): string {
  return text.replaceAll('127.0.0.1:7070', new URL(engine.url).host).replaceAll('localhost:7070', new URL(engine.url).host);
}

/**
 * What a block that needs Docker or a cluster becomes here, command by command. Each rewrite
 * checks what can be checked without the daemon or the API server: the compose file with
 * docker-compose v1's `config`, the Dockerfile's stage, the manifests rendered by `kubectl
 * kustomize` and validated against the Kubernetes OpenAPI schemas.
 */
const OFFLINE: readonly [RegExp, string][] = [
  [/docker compose (?:up|down)\b[^&|;\n]*/g, 'docker-compose config -q'],
  [/docker compose exec (\S+)[^&|;\n]*/g, 'docker-compose config --services | grep -x $1 > /dev/null'],
  [/docker build [^&|;\n]*--target (\S+)[^&|;\n]*/g, "grep -Eiq '^FROM .* AS $1$' Dockerfile"],
  [/docker build [^&|;\n]*/g, 'test -f Dockerfile'],
  [/docker push [^&|;\n]*/g, 'true'],
  [/kubectl apply -k (\S+)/g, 'kubectl kustomize $1 > /dev/null'],
  [/kubectl apply -f -/g, `node ${join(root, 'out/test/docs/manifests.js')}`],
  [/kubectl (?:-n \S+ )?(?:get|delete|describe|logs)\b[^&|;\n]*/g, 'true'],
];

function offline(text: string): string {
  return OFFLINE.reduce((t, [re, to]) => t.replace(re, to), text);
}

/** Fails naming the block's file and line, with the hint. */
function fail(block: Block, what: string): never {
  assert.fail(`${block.file}:${block.line}: ${what}\n${HINT}`);
}

/** A directive's number argument, or a failure naming the block. */
function number(block: Block, arg: string): number {
  const n = Number(arg);
  if (arg.trim() === '' || !Number.isFinite(n) || n < 0) fail(block, `a doctest directive wants a number here, got '${arg}'`);
  return n;
}

async function runCommands(block: Block, command?: string): Promise<void> {
  const text = command ?? (directive(block, 'offline') ? offline(block.text) : localised(block.text));
  const interrupt = directive(block, 'interrupt');
  const r = await bash(text, 60_000, interrupt ? number(block, interrupt.arg) * 1000 : undefined).catch((e: Error) => fail(block, e.message));
  lastRun.set(block.file, { block, ...r });
  const want = number(block, directive(block, 'exit')?.arg ?? '0');
  if (r.code !== want) fail(block, `exited ${r.code}, the doc expects ${want}\n--- ran:\n${text}\n--- stdout:\n${r.stdout}\n--- stderr:\n${r.stderr}`);
}

/**
 * A TypeScript example: transpiled and run with node from inside the repository, so that
 * `import … from 'wisp/client'` resolves to this checkout's build as it would in a project that
 * installed the package.
 */
async function runTypeScript(block: Block): Promise<void> {
  const out = ts.transpileModule(localised(block.text), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    reportDiagnostics: true,
  });
  const problems = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (problems.length > 0) fail(block, `does not parse as TypeScript: ${problems.join('; ')}`);
  const dir = join(root, 'out/doctest');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${block.file.replace(/\W/g, '_')}-${block.line}.mjs`);
  writeFileSync(file, out.outputText);
  return runCommands(block, `node ${file}`);
}

/**
 * PromQL: each expression parses (`promtool check rules` over a rule file made of them) and
 * every `wisp_…` metric it names is one the engine's /metrics declares.
 */
async function checkPromql(block: Block): Promise<void> {
  const exprs = block.text.split('\n').filter((l) => l.trim() !== '' && !l.trimStart().startsWith('#'));
  const rules = { groups: [{ name: 'doc', rules: exprs.map((expr, i) => ({ record: `doc:expr_${i}`, expr })) }] };
  writeFileSync(join(sandbox, 'doc-rules.json'), JSON.stringify(rules));
  const r = await bash('promtool check rules doc-rules.json');
  if (r.code !== 0) fail(block, `promtool check rules: ${r.stdout}${r.stderr}`);
  const declared = new Set([...(await (await fetch(`${engine.url}/metrics`)).text()).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!));
  const unknown = [...new Set(exprs.flatMap((e) => [...e.matchAll(/\bwisp_\w+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''))))].filter((n) => !declared.has(n));
  if (unknown.length > 0) fail(block, `metrics the engine's /metrics does not declare: ${unknown.join(', ')}`);
}

/**
 * `make T` lines: `make -n T` (the target exists and its recipe resolves); `make run` also runs
 * the last line of its recipe (`bin/wisp demo`) the way `background` blocks run.
 */
async function runMake(block: Block): Promise<void> {
  for (const line of block.text.split('\n').filter((l) => l.trim() !== '')) {
    const target = /^make (\S+)/.exec(line)![1]!;
    // Under `make test` MAKELEVEL > 0 turns on -w: its "Entering/Leaving directory" lines would
    // end the recipe printed.
    const r = await bash(`make --no-print-directory -n ${target}`);
    if (r.code !== 0) fail(block, `make -n ${target} failed:\n${r.stderr}`);
    if (target === 'run') {
      const recipe = r.stdout.trim().split('\n').pop()!;
      await runBackground(block, recipe);
    }
  }
}

/**
 * A command that runs until stopped: started with its API on a port of its own (`--listen
 * HOST:0`), checked it comes up (it prints `listening on URL` or `API on URL`, and `/readyz` there
 * answers 200), then stopped with SIGTERM, which must end it with status 0 within 10 s.
 */
async function runBackground(block: Block, command: string): Promise<void> {
  const cmd = /--listen \S+/.test(command) ? command.replace(/--listen (\S+):\d+/, '--listen $1:0') : `${command} --listen 127.0.0.1:0`;
  const child = spawn('bash', ['-c', `exec ${cmd}`], { cwd: sandbox, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const deadline = Date.now() + 30_000;
    let url: string | undefined;
    while (url === undefined && Date.now() < deadline && child.exitCode === null) {
      url = /(?:listening on|API on) (http:\/\/[^\s;)]+)/.exec(out)?.[1];
      await new Promise((r) => setTimeout(r, 100));
    }
    if (url === undefined) fail(block, `\`${cmd}\` did not print the URL it serves within 30 s; output:\n${out}`);
    const ready = await fetch(`${url}/readyz`);
    if (ready.status !== 200) fail(block, `\`${cmd}\`: GET /readyz answered ${ready.status}: ${await ready.text()}`);
  } finally {
    child.kill('SIGTERM');
  }
  const code = await Promise.race([exited, new Promise<'late'>((r) => setTimeout(() => r('late'), 10_000))]);
  if (code === 'late') {
    child.kill('SIGKILL');
    fail(block, `\`${cmd}\` did not stop within 10 s of SIGTERM`);
  }
  if (code !== 0) fail(block, `\`${cmd}\` exited ${code} on SIGTERM; output:\n${out}`);
}

/** `$ command` lines, each followed by the output it shows. */
async function runConsole(block: Block): Promise<void> {
  const steps: { cmd: string; shown: string[] }[] = [];
  for (const line of block.text.split('\n')) {
    if (line.startsWith('$ ')) steps.push({ cmd: line.slice(2), shown: [] });
    else if (steps.length === 0) fail(block, `a console block starts with '$ command'; got \`${line}\``);
    else steps[steps.length - 1]!.shown.push(line);
  }
  for (const s of steps) {
    const r = await bash(localised(s.cmd)).catch((e: Error) => fail(block, e.message));
    const diff = matchText(s.shown.join('\n'), r.stdout + r.stderr);
    if (diff !== undefined) fail(block, `\`${s.cmd}\` (exit ${r.code}): ${diff}`);
  }
}

async function api(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(new URL(path, engine.url), {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(text) as unknown) : text };
}

function parseJson(block: Block): unknown {
  try {
    return JSON.parse(block.text);
  } catch (e) {
    return fail(block, `not valid JSON: ${(e as Error).message}`);
  }
}

/** `[METHOD PATH] [status N]` of a request or response directive. */
function endpoint(block: Block, arg: string): { method?: string; path?: string; status: number } {
  const m = /^(?:(GET|POST)\s+(\S+))?\s*(?:status\s+(\d+))?$/.exec(arg.trim());
  if (!m) fail(block, `want '[METHOD PATH] [status N]', got '${arg}'`);
  return { ...(m[1] !== undefined ? { method: m[1], path: m[2]! } : {}), status: Number(m[3] ?? 200) };
}

async function checkJson(block: Block): Promise<void> {
  const value = parseJson(block);
  const req = directive(block, 'request');
  const res = directive(block, 'response');
  if (req) {
    const e = endpoint(block, req.arg);
    if (e.method === undefined) fail(block, 'a request block names its METHOD PATH');
    const answer = await api(e.method, e.path!, value);
    lastAnswer.set(block.file, answer);
    if (answer.status !== e.status) fail(block, `${e.method} ${e.path} answered ${answer.status}, the doc expects ${e.status}: ${JSON.stringify(answer.body)}`);
  } else if (res) {
    const e = endpoint(block, res.arg);
    const answer = e.method !== undefined ? await api(e.method, e.path!) : lastAnswer.get(block.file);
    if (!answer) fail(block, 'a response block with no request block above it in the same file (or write `response GET /path`)');
    if (answer.status !== e.status) fail(block, `the answer's status is ${answer.status}, the doc shows ${e.status}: ${JSON.stringify(answer.body)}`);
    const list = (name: string): string[] => (directive(block, name)?.arg ?? '').split(/[\s,]+/).filter(Boolean);
    const diffs = matchJson(value, answer.body, { varies: list('varies'), sample: list('sample') });
    if (diffs.length > 0) fail(block, `the answer differs from the doc:\n  ${diffs.join('\n  ')}\nthe answer: ${JSON.stringify(answer.body)}`);
  }
}

async function runPxl(block: Block): Promise<void> {
  const answer = await api('POST', '/api/v1/query', { script: block.text });
  if (answer.status !== 200) fail(block, `the script does not run: ${answer.status} ${JSON.stringify(answer.body)}`);
}

function checkOutput(block: Block): void {
  const ran = lastRun.get(block.file);
  if (!ran) fail(block, 'an output block with no command block above it in the same file');
  const diff = matchText(block.text, ran.stdout + ran.stderr);
  if (diff !== undefined) fail(block, `the output of the block at line ${ran.block.line} differs from the one shown: ${diff}`);
}

function checkPaths(block: Block): void {
  const missing = block.text
    .split('\n')
    .filter((l) => /^\S/.test(l))
    .map((l) => l.split(/\s+/)[0]!)
    .filter((p) => !existsSync(join(root, p)));
  if (missing.length > 0) fail(block, `names paths the repository does not have: ${missing.join(', ')}`);
}

function checkExcerpt(block: Block, file: string): void {
  const source = readFileSync(join(root, file), 'utf8').split('\n').map((l) => l.trimEnd());
  let at = 0;
  for (const line of block.text.split('\n')) {
    if (line.trim() === '...' || line.trim() === '') continue;
    const found = source.findIndex((l, i) => i >= at && l.includes(line.trim()));
    if (found < 0) fail(block, `\`${line}\` is not in ${file} (in this order)`);
    at = found + 1;
  }
}

/** Checks one block by its directives, else by its language (`text` blocks never get here). */
async function checkBlock(block: Block): Promise<void> {
  const has = (n: string): boolean => directive(block, n) !== undefined;
  const fileName = directive(block, 'file')?.arg;
  if (fileName !== undefined) {
    writeFileSync(join(sandbox, fileName), block.text + '\n');
    if (block.lang === 'yaml') {
      const r = await bash('docker-compose config -q');
      if (r.code !== 0) fail(block, `docker-compose config with this file beside docker-compose.yaml: ${r.stderr}`);
    }
    return;
  }
  if (has('output')) return checkOutput(block);
  if (has('paths')) return checkPaths(block);
  if (has('excerpt')) return checkExcerpt(block, directive(block, 'excerpt')!.arg);
  if (has('background')) return runBackground(block, block.text.trim());
  switch (block.lang) {
    case 'sh':
    case 'bash':
    case 'shell':
      if (block.text.split('\n').every((l) => l.trim() === '' || /^make \S+(\s+#.*)?$/.test(l))) return runMake(block);
      return runCommands(block);
    case 'console':
      return runConsole(block);
    case 'ts':
      return runTypeScript(block);
    case 'promql':
      return checkPromql(block);
    case 'python':
    case 'pxl':
      return runPxl(block);
    case 'json':
      return checkJson(block);
    case 'yaml':
      try {
        parseYaml(block.text);
      } catch (e) {
        fail(block, `not valid YAML: ${(e as Error).message}`);
      }
      return;
    default:
      fail(block, `a \`${block.lang || 'bare'}\` block this test does not know how to check; give it a language (sh, console, python, ts, promql, json, yaml) or mark what it is (<!-- doctest: output --> after a command, <!-- doctest: text --> for a figure)`);
  }
}

for (const file of docFiles(root)) {
  let blocks: Block[];
  try {
    blocks = extractBlocks(root, file);
  } catch (e) {
    test(`${file}: its code fences and doctest comments`, () => assert.fail(`${(e as Error).message}\n${HINT}`));
    continue;
  }
  for (const block of blocks) {
    if (directive(block, 'text')) continue;
    test(`${block.file}:${block.line} (${block.lang || 'bare'}${block.directives.length > 0 ? `; ${block.directives.map((d) => d.name).join(', ')}` : ''})`, () => checkBlock(block));
  }
}

test('inline commands in the prose: each `bin/wisp …` parses (run with --help appended), each `make T` names a target (make -n)', async () => {
  const problems: string[] = [];
  for (const file of docFiles(root)) {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    for (const [i, line] of lines.entries()) {
      for (const m of line.matchAll(/`((?:bin\/wisp|make) [^`]*)`/g)) {
        const cmd = m[1]!;
        const check = cmd.startsWith('make ') ? `make -n ${cmd.slice(5)} > /dev/null` : `${cmd} --help > /dev/null`;
        const r = await bash(check);
        if (r.code !== 0) problems.push(`${file}:${i + 1}: \`${cmd}\` (${check}) exited ${r.code}: ${r.stderr.trim()}`);
      }
    }
  }
  assert.deepEqual(problems, [], `${problems.join('\n')}\n${HINT}`);
});
