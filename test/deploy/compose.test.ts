/**
 * docker-compose.yaml and the Dockerfile, checked without a Docker engine (there is none here):
 * Debian's docker-compose v1 validates and normalizes the file (`config`), and the normalized
 * file is checked for what the stack depends on: privileges and mounts of the engine, the token
 * secret where every --token-file points, Grafana → broker → engine wiring, and the demo
 * workload's ports. See docs/deploy.md.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { run, type CommandResult } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pluginId = (JSON.parse(readFileSync(join(root, 'src/plugin/plugin.json'), 'utf8')) as { id: string }).id;

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  pid?: string;
  privileged?: boolean;
  cap_add?: string[];
  cap_drop?: string[];
  /** v1 prints SOURCE:TARGET:MODE. */
  volumes?: string[];
  secrets?: { source: string }[];
  network_mode?: string;
  /** v1 prints HOST_IP:PUBLISHED:TARGET/PROTOCOL. */
  ports?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets: Record<string, { file: string }>;
}

async function composeConfig(file: string): Promise<CommandResult> {
  try {
    return await run('docker-compose', ['-f', file, '--project-directory', root, 'config']);
  } catch (e) {
    throw new Error(`docker-compose (v1, Debian package docker-compose) is needed to validate the file; scripts/install-deps.sh installs it: ${(e as Error).message}`);
  }
}

let normalized: Compose | undefined;
async function config(): Promise<Compose> {
  if (!normalized) {
    const r = await composeConfig(join(root, 'docker-compose.yaml'));
    assert.equal(r.code, 0, `docker-compose config rejected docker-compose.yaml:\n${r.stderr}`);
    normalized = parse(r.stdout) as Compose;
  }
  return normalized;
}

function flag(args: readonly string[], name: string): string {
  const i = args.indexOf(name);
  assert.ok(i >= 0 && i + 1 < args.length, `no ${name} in ${args.join(' ')}`);
  return args[i + 1]!;
}

/** The bind mount of `s` at `target`, as source and read-only flag. */
function mount(s: ComposeService, target: string): { source: string; readOnly: boolean } | undefined {
  for (const v of s.volumes ?? []) {
    const [source, to, mode] = v.split(':');
    if (to === target) return { source: source!, readOnly: mode === 'ro' };
  }
  return undefined;
}

function port(listen: string): string {
  return listen.slice(listen.lastIndexOf(':') + 1);
}

/** Every --token-file style flag points into /run/secrets at a secret the service has. */
function assertSecretFlags(name: string, s: ComposeService, flags: readonly string[]): void {
  for (const f of flags) {
    const path = flag(s.command!, f);
    const m = /^\/run\/secrets\/(.+)$/.exec(path);
    assert.ok(m, `${name} ${f} ${path} is not a compose secret`);
    assert.ok(s.secrets?.some((x) => x.source === m[1]), `${name} does not mount secret ${m[1]}`);
  }
}

test('docker-compose v1 validates docker-compose.yaml', async () => {
  const c = await config();
  assert.deepEqual(Object.keys(c.services).sort(), ['broker', 'demo-cart', 'demo-catalog', 'demo-frontend', 'demo-loadgen', 'engine', 'grafana']);
});

test('the validation is real: a misspelt option and a wrong type are rejected', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-compose-'));
  try {
    const text = readFileSync(join(root, 'docker-compose.yaml'), 'utf8');
    const cases: [string, string, RegExp][] = [
      ['misspelt', text.replace('    pid: host\n', '    pid: host\n    cap_ad: [BPF]\n'), /cap_ad/],
      ['wrong type', text.replace('    pid: host\n', '    pid: host\n    privileged: 3\n'), /privileged/],
    ];
    for (const [what, broken, why] of cases) {
      assert.notEqual(broken, text, `${what}: the edit applies`);
      const file = join(dir, `${what.replace(' ', '-')}.yaml`);
      writeFileSync(file, broken);
      const r = await composeConfig(file);
      assert.notEqual(r.code, 0, `${what} was accepted`);
      assert.match(r.stderr, why, what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the engine: host pid namespace, four capabilities, host tracefs/bpffs/cgroup mounts, the token secret', async () => {
  const e = (await config()).services['engine']!;
  assert.equal(e.pid, 'host');
  assert.notEqual(e.privileged, true);
  assert.deepEqual(e.cap_drop, ['ALL']);
  assert.deepEqual([...(e.cap_add ?? [])].sort(), ['BPF', 'PERFMON', 'SYS_PTRACE', 'SYS_RESOURCE']);
  for (const [path, ro] of [['/sys/kernel/tracing', false], ['/sys/fs/bpf', false], ['/sys/fs/cgroup', true]] as const) {
    assert.deepEqual(mount(e, path), { source: path, readOnly: ro }, path);
  }
  assert.equal(e.command![0], 'engine');
  assert.equal(flag(e.command!, '--listen'), '0.0.0.0:7070');
  assertSecretFlags('engine', e, ['--token-file']);
});

test('Grafana → broker → engine: the datasource URL, the token, the unsigned plugin, provisioning', async () => {
  const c = await config();
  const { engine, broker, grafana } = c.services as Record<string, ComposeService>;
  assert.equal(broker!.command![0], 'broker');
  assert.equal(flag(broker!.command!, '--engines'), `http://engine:${port(flag(engine!.command!, '--listen'))}`);
  assertSecretFlags('broker', broker!, ['--token-file', '--engine-token-file']);

  const env = grafana!.environment!;
  assert.equal(env['WISP_URL'], `http://broker:${port(flag(broker!.command!, '--listen'))}`);
  assert.ok(env['GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS']!.split(',').includes(pluginId));
  // The provisioned datasource reads $WISP_URL and $WISP_TOKEN; the entrypoint fills the
  // token from the same secret the broker checks against.
  const ds = readFileSync(join(root, 'provisioning/datasources/wisp.yaml'), 'utf8');
  assert.match(ds, /engineUrl: \$WISP_URL\b/);
  assert.match(ds, /token: \$WISP_TOKEN\b/);
  const brokerToken = flag(broker!.command!, '--token-file');
  // `$$` is compose's escaped `$`: the shell sees $(cat ...).
  assert.match(grafana!.entrypoint!.join(' '), new RegExp(`WISP_TOKEN="\\$\\$\\(cat ${brokerToken}\\)" exec /run.sh`));
  assert.ok(grafana!.secrets?.some((s) => `/run/secrets/${s.source}` === brokerToken));

  const prov = mount(grafana!, '/etc/grafana/provisioning');
  assert.deepEqual(prov, { source: join(root, 'provisioning'), readOnly: true }, 'provisioning is mounted read-only');
  const home = env['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']!;
  assert.ok(existsSync(home.replace('/etc/grafana/provisioning', prov!.source)), `home dashboard ${home} exists in provisioning/`);
  assert.deepEqual(grafana!.ports, ['127.0.0.1:3000:3000/tcp'], 'Grafana only on the host loopback');
  assert.equal(grafana!.build?.target, 'grafana', 'Grafana runs the image with the plugin baked in');

  for (const [name, s] of Object.entries(c.services)) {
    if (name !== 'grafana') assert.equal(s.ports, undefined, `${name} publishes no port`);
  }
  for (const [name, secret] of Object.entries(c.secrets)) {
    assert.ok(readFileSync(secret.file, 'utf8').trim().length > 0, `secret ${name} (${secret.file}) is not empty`);
  }
});

test('the demo workload: the repo\'s workload script, wired by port, sharing one network namespace', async () => {
  const s = (await config()).services;
  const workload = 'out/src/engine/cli/demo/workload.js';
  assert.ok(existsSync(join(root, 'src/engine/cli/demo/workload.ts')), 'the workload script compiled into the image');
  const roles = new Map<string, ComposeService>();
  for (const name of ['demo-catalog', 'demo-cart', 'demo-frontend', 'demo-loadgen']) {
    const svc = s[name]!;
    assert.deepEqual(svc.entrypoint, ['node', workload]);
    assert.equal(svc.command![0], name.slice('demo-'.length));
    roles.set(svc.command![0]!, svc);
    if (name !== 'demo-catalog') assert.equal(svc.network_mode, 'service:demo-catalog', `${name} shares demo-catalog's loopback`);
    assert.deepEqual(svc.cap_drop, ['ALL']);
  }
  const portOf = (role: string): string => flag(roles.get(role)!.command!, '--port');
  const frontend = roles.get('frontend')!.command!;
  assert.equal(flag(frontend, '--catalog'), `http://127.0.0.1:${portOf('catalog')}`);
  assert.equal(flag(frontend, '--cart'), `http://127.0.0.1:${portOf('cart')}`);
  assert.equal(flag(roles.get('loadgen')!.command!, '--target'), `http://127.0.0.1:${portOf('frontend')}`);
});

test('the Dockerfile: build stage with the BPF toolchain, Grafana stage, slim Node 20 runtime running bin/wisp', () => {
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const stages = [...text.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)].map((m) => [m[1], m[2]]);
  assert.equal(stages.length, 3);
  assert.match(stages[0]![0]!, /^node:20-/);
  assert.equal(stages[0]![1], 'build');
  assert.match(stages[1]![0]!, /^grafana\/grafana:\d+\.\d+\.\d+$/, 'Grafana pinned to a release');
  assert.equal(stages[1]![1], 'grafana');
  assert.match(stages[2]![0]!, /^node:20-\S*slim$/);
  for (const pkg of ['clang', 'llvm', 'libbpf-dev', 'bpftool', 'make']) assert.match(text, new RegExp(`\\s${pkg}\\s`), pkg);
  for (const pkg of ['libbpf1', 'libelf1', 'zlib1g']) assert.match(text, new RegExp(`\\s${pkg}\\b`), pkg);
  assert.match(text, /^RUN make bpf addon ts plugin$/m);
  assert.match(text, new RegExp(`COPY --from=build /src/dist /var/lib/grafana/plugins/${pluginId}$`, 'm'));
  assert.match(text, /^ENTRYPOINT \["bin\/wisp"\]$/m);
  // The runtime stage copies what bin/wisp and the addon loader open: check those are where
  // a build puts them, so the copied folders are the right ones.
  assert.match(readFileSync(join(root, 'bin/wisp'), 'utf8'), /out\/src\/engine\/cli\/main\.js/);
  assert.match(readFileSync(join(root, 'src/engine/capture/addon.ts'), 'utf8'), /'\.\.\/\.\.\/\.\.\/capture\/wisp_capture\.node'/);
  for (const copied of ['/src/bin', '/src/out/src', '/src/out/capture', '/src/node_modules']) {
    assert.match(text, new RegExp(`^COPY --from=build ${copied} `, 'm'), copied);
  }
  const ignored = readFileSync(join(root, '.dockerignore'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#'));
  for (const needed of ['src', 'bpf', 'bin', 'test', 'Makefile', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    assert.ok(!ignored.includes(needed), `.dockerignore keeps ${needed} out of the build`);
  }
  assert.ok(ignored.includes('deploy'), 'the compose token (deploy/compose) stays out of the build context');
});
