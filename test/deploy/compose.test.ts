/**
 * docker-compose.yaml and the Dockerfile, checked without a Docker engine (there is none here):
 * Debian's docker-compose v1 validates and normalizes the file (`config`), and the normalized
 * file is checked for what the stack depends on: privileges and mounts of the engine, where
 * every token comes from (init-secrets, run here for real on temp folders standing in for its
 * volumes) and who can read it, Grafana's login, Grafana → broker → engine wiring, and the demo
 * workload's ports. See docs/deploy.md.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { run, type CommandResult } from '../support/peers.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pluginId = (JSON.parse(readFileSync(join(root, 'src/plugin/plugin.json'), 'utf8')) as { id: string }).id;
/** The user grafana/grafana's image runs as (uid 472, group 0): a fact of the image, not of this file. */
const grafanaUser = { uid: 472, gid: 0 };

interface ComposeService {
  image?: string;
  build?: { context: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  pid?: string;
  privileged?: boolean;
  user?: string;
  cap_add?: string[];
  cap_drop?: string[];
  /** v1 prints SOURCE:TARGET:MODE; SOURCE is a volume name or an absolute host path. */
  volumes?: string[];
  secrets?: { source: string }[];
  network_mode?: string;
  /** v1 prints HOST_IP:PUBLISHED:TARGET/PROTOCOL. */
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file?: string }>;
  volumes?: Record<string, unknown>;
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

interface Mount {
  /** A named volume, or an absolute host path for a bind mount. */
  source: string;
  target: string;
  readOnly: boolean;
}

function mounts(s: ComposeService): Mount[] {
  return (s.volumes ?? []).map((v) => {
    const [source, target, mode] = v.split(':');
    return { source: source!, target: target!, readOnly: mode === 'ro' };
  });
}

/** The mount of `s` at `target`, as source and read-only flag. */
function mount(s: ComposeService, target: string): { source: string; readOnly: boolean } | undefined {
  const m = mounts(s).find((x) => x.target === target);
  return m && { source: m.source, readOnly: m.readOnly };
}

function port(listen: string): string {
  return listen.slice(listen.lastIndexOf(':') + 1);
}

/** A file inside a named volume: the volume and the file's path relative to the volume's root. */
interface VolumeFile {
  volume: string;
  file: string;
}

/** Where `path` (as `name` sees it) lives: it must be in a named volume mounted read-only. */
function inVolume(name: string, s: ComposeService, path: string): VolumeFile {
  const m = mounts(s).find((x) => path.startsWith(`${x.target}/`));
  assert.ok(m, `${name}: ${path} is on no volume of ${name}`);
  assert.ok(!m.source.startsWith('/'), `${name}: ${path} comes from the host (${m.source}), not from a volume init-secrets fills`);
  assert.equal(m.readOnly, true, `${name} mounts ${m.source} read-only`);
  return { volume: m.source, file: posix.relative(m.target, path) };
}

/** The file a `$__file{PATH}` value of Grafana's provisioning reads. */
function fileRef(value: string): string {
  const m = /^\$__file\{(\/[^}]+)\}$/.exec(value);
  assert.ok(m, `${value} is not $__file{/absolute/path}`);
  return m[1]!;
}

/** The files init-secrets writes, by volume file, with the owner uid each is made for. */
function initSecrets(c: Compose): { service: ComposeService; files: Map<string, { arg: string; owner: number }> } {
  const service = c.services['init-secrets'];
  assert.ok(service, 'a service init-secrets makes the secrets at the first start');
  const files = new Map<string, { arg: string; owner: number }>();
  for (const arg of service.command ?? []) {
    const [path, owner] = arg.split(':');
    const m = mounts(service).find((x) => path!.startsWith(`${x.target}/`));
    assert.ok(m && !m.source.startsWith('/') && !m.readOnly, `init-secrets writes ${path} into a named volume it mounts read-write`);
    files.set(`${m.source}/${posix.relative(m.target, path!)}`, { arg, owner: owner === undefined ? 0 : Number(owner) });
  }
  return { service, files };
}

/** The secret files each service reads, as volume files. */
function secretReads(c: Compose): Record<'engine' | 'broker' | 'grafana', Record<string, VolumeFile>> {
  const { engine, broker, grafana } = c.services as Record<string, ComposeService>;
  const ds = parse(readFileSync(join(root, 'provisioning/datasources/wisp.yaml'), 'utf8')) as { datasources: { secureJsonData: { token: string } }[] };
  return {
    engine: { '--token-file': inVolume('engine', engine!, flag(engine!.command!, '--token-file')) },
    broker: {
      '--token-file': inVolume('broker', broker!, flag(broker!.command!, '--token-file')),
      '--engine-token-file': inVolume('broker', broker!, flag(broker!.command!, '--engine-token-file')),
    },
    grafana: {
      'datasource token': inVolume('grafana', grafana!, fileRef(ds.datasources[0]!.secureJsonData.token)),
      'admin password': inVolume('grafana', grafana!, grafana!.environment!['GF_SECURITY_ADMIN_PASSWORD__FILE'] ?? '(no GF_SECURITY_ADMIN_PASSWORD__FILE)'),
    },
  };
}

const key = (f: VolumeFile): string => `${f.volume}/${f.file}`;

test('docker-compose v1 validates docker-compose.yaml', async () => {
  const c = await config();
  assert.deepEqual(Object.keys(c.services).sort(), ['broker', 'demo-cart', 'demo-catalog', 'demo-frontend', 'demo-loadgen', 'engine', 'grafana', 'init-secrets']);
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

test('the engine: host pid namespace, four capabilities, host tracefs and cgroup mounts and nothing else from the host', async () => {
  const e = (await config()).services['engine']!;
  assert.equal(e.pid, 'host');
  assert.notEqual(e.privileged, true);
  assert.deepEqual(e.cap_drop, ['ALL']);
  assert.deepEqual([...(e.cap_add ?? [])].sort(), ['BPF', 'PERFMON', 'SYS_PTRACE', 'SYS_RESOURCE']);
  // No bpffs: the engine pins nothing, so /sys/fs/bpf would only hand it the host's pins.
  const fromHost = mounts(e).filter((m) => m.source.startsWith('/'));
  assert.deepEqual(fromHost, [
    { source: '/sys/kernel/tracing', target: '/sys/kernel/tracing', readOnly: false },
    { source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', readOnly: true },
  ]);
  assert.equal(e.command![0], 'engine');
  assert.equal(flag(e.command!, '--listen'), '0.0.0.0:7070');
});

test('no secret is committed: every token and the Grafana password come from volumes init-secrets fills at the first start', async () => {
  const c = await config();
  // Compose secrets are files next to the compose file, i.e. in the repository.
  assert.deepEqual(Object.keys(c.secrets ?? {}), [], 'no compose secret from a file');
  for (const s of Object.values(c.services)) assert.equal(s.secrets, undefined);
  const { service, files } = initSecrets(c);
  for (const [name, reads] of Object.entries(secretReads(c))) {
    for (const [what, f] of Object.entries(reads)) {
      assert.ok(files.has(key(f)), `${name} ${what} (${key(f)}) is a file init-secrets makes`);
      assert.ok(f.volume in (c.volumes ?? {}), `${f.volume} is a named volume of the stack`);
      // Grafana's image runs as uid 472: its files are its own, whatever group it runs with.
      if (name === 'grafana') assert.equal(files.get(key(f))!.owner, grafanaUser.uid, `${what} is made for Grafana's uid`);
    }
    const dep = c.services[name]!.depends_on?.['init-secrets'];
    assert.equal(dep?.condition, 'service_completed_successfully', `${name} starts after init-secrets has finished`);
  }
  // It runs the script of this repository, once, with no network and only CAP_CHOWN.
  assert.deepEqual(service.entrypoint, ['/bin/sh', '/init-secrets.sh']);
  assert.deepEqual(mount(service, '/init-secrets.sh'), { source: join(root, 'deploy/compose/init-secrets.sh'), readOnly: true });
  assert.equal(service.network_mode, 'none');
  assert.deepEqual(service.cap_drop, ['ALL']);
  assert.deepEqual(service.cap_add, ['CHOWN']);
  assert.equal(service.restart, 'no');
});

test('one token per hop: the engine sees only its own, Grafana only the broker\'s', async () => {
  const c = await config();
  const reads = secretReads(c);
  const engineToken = reads.engine['--token-file']!;
  const brokerToken = reads.broker['--token-file']!;
  assert.equal(key(reads.broker['--engine-token-file']!), key(engineToken), 'the broker presents the token the engine checks');
  assert.equal(key(reads.grafana['datasource token']!), key(brokerToken), 'Grafana presents the token the broker checks');
  assert.notEqual(brokerToken.volume, engineToken.volume, 'two tokens in two volumes');
  const volumesOf = (name: string): string[] => mounts(c.services[name]!).filter((m) => !m.source.startsWith('/')).map((m) => m.source).sort();
  assert.deepEqual(volumesOf('engine'), [engineToken.volume]);
  assert.deepEqual(volumesOf('broker'), [brokerToken.volume, engineToken.volume].sort());
  assert.deepEqual(volumesOf('grafana'), [reads.grafana['admin password']!.volume, brokerToken.volume].sort());
  for (const name of ['demo-catalog', 'demo-cart', 'demo-frontend', 'demo-loadgen']) assert.deepEqual(volumesOf(name), [], name);
});

test('Grafana asks for a login: no anonymous viewers, no sign-up, an admin password made at the first start', async () => {
  const env = (await config()).services['grafana']!.environment!;
  // Grafana cannot restrict what a viewer sends through a datasource: anyone who can open the
  // dashboard can run any PxL over every captured request. So nobody is let in unasked.
  assert.equal(env['GF_AUTH_ANONYMOUS_ENABLED'], 'false');
  assert.equal(env['GF_AUTH_ANONYMOUS_ORG_ROLE'], undefined);
  assert.equal(env['GF_USERS_ALLOW_SIGN_UP'], 'false');
  assert.equal(env['GF_SECURITY_ADMIN_USER'], 'admin');
  assert.equal(env['GF_SECURITY_ADMIN_PASSWORD'], undefined, 'no password written into the file');
  assert.ok(env['GF_SECURITY_ADMIN_PASSWORD__FILE'], "the image's run.sh reads the password from this file");
});

test('init-secrets, run for real: makes every secret once, keeps what is there, and each service can read what it needs', async () => {
  if (process.getuid?.() !== 0) assert.fail('this test needs root: init-secrets chowns files to Grafana\'s uid, and the read checks switch users with setpriv');
  const c = await config();
  const { service, files } = initSecrets(c);
  const script = mount(service, '/init-secrets.sh')!.source;
  const dir = mkdtempSync(join(tmpdir(), 'wisp-init-secrets-'));
  try {
    // One folder per named volume, root's and 0755 as Docker creates them.
    chmodSync(dir, 0o755);
    const host = new Map<string, string>();
    for (const m of mounts(service).filter((x) => !x.source.startsWith('/'))) {
      host.set(m.target, join(dir, m.source));
      mkdirSync(join(dir, m.source), { mode: 0o755 });
    }
    const hostPath = (f: string): string => join(dir, f);
    const args = [...files.values()].map(({ arg }) => {
      const target = [...host.keys()].find((t) => arg.startsWith(`${t}/`))!;
      return host.get(target)! + arg.slice(target.length);
    });
    const init = () => run('sh', [script, ...args]);

    const first = await init();
    assert.equal(first.code, 0, first.stderr);
    const made = new Map<string, string>();
    for (const [f, { owner }] of files) {
      const text = readFileSync(hostPath(f), 'utf8');
      assert.match(text, /^[0-9a-f]{64}\n$/, `${f}: 256 random bits as hex`);
      const st = statSync(hostPath(f));
      assert.equal((st.mode & 0o777).toString(8), '440', `${f} mode`);
      assert.deepEqual([st.uid, st.gid], [owner, 0], `${f} owner`);
      made.set(f, text);
      assert.ok(!first.stdout.includes(text.trim()), 'no secret is printed');
    }
    assert.equal(new Set(made.values()).size, files.size, 'every secret is its own');

    // A second start keeps them; so does a token the user put there; an empty file is replaced.
    const [custom, emptied] = [...files.keys()];
    writeFileSync(hostPath(custom!), 'my-own-token\n');
    writeFileSync(hostPath(emptied!), '');
    const again = await init();
    assert.equal(again.code, 0, again.stderr);
    assert.equal(readFileSync(hostPath(custom!), 'utf8'), 'my-own-token\n');
    assert.match(readFileSync(hostPath(emptied!), 'utf8'), /^[0-9a-f]{64}\n$/);
    assert.notEqual(readFileSync(hostPath(emptied!), 'utf8'), made.get(emptied!));
    for (const f of [...files.keys()].slice(2)) assert.equal(readFileSync(hostPath(f), 'utf8'), made.get(f), `${f} kept`);
    assert.equal(again.stdout.match(/kept /g)?.length, files.size - 1, again.stdout);

    // Each service reads its files as the user it runs as, without CAP_DAC_OVERRIDE (the engine
    // and the broker drop ALL; Grafana is an unprivileged user).
    const readAs = (who: { uid: number; gid: number }, file: string) =>
      run('setpriv', [`--reuid=${who.uid}`, `--regid=${who.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', 'cat', file]);
    const identity = { engine: { uid: 0, gid: 0 }, broker: { uid: 0, gid: 0 }, grafana: grafanaUser };
    for (const [name, reads] of Object.entries(secretReads(c)) as [keyof typeof identity, Record<string, VolumeFile>][]) {
      for (const [what, f] of Object.entries(reads)) {
        const r = await readAs(identity[name], hostPath(key(f)));
        assert.equal(r.code, 0, `${name} cannot read its ${what}: ${r.stderr}`);
        assert.equal(r.stdout, readFileSync(hostPath(key(f)), 'utf8'));
      }
    }
    // The check is real: root without capabilities cannot read another user's 0400 file.
    const foreign = join(dir, 'foreign');
    writeFileSync(foreign, 'x', { mode: 0o400 });
    chownSync(foreign, grafanaUser.uid, grafanaUser.gid);
    assert.notEqual((await readAs({ uid: 0, gid: 0 }, foreign)).code, 0, 'setpriv dropped CAP_DAC_OVERRIDE');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('Grafana → broker → engine: the datasource URL, the unsigned plugin, provisioning', async () => {
  const c = await config();
  const { engine, broker, grafana } = c.services as Record<string, ComposeService>;
  assert.equal(broker!.command![0], 'broker');
  assert.equal(flag(broker!.command!, '--engines'), `http://engine:${port(flag(engine!.command!, '--listen'))}`);

  const env = grafana!.environment!;
  assert.equal(env['WISP_URL'], `http://broker:${port(flag(broker!.command!, '--listen'))}`);
  assert.ok(env['GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS']!.split(',').includes(pluginId));
  // The provisioned datasource reads $WISP_URL; its token is a file (checked above).
  const ds = readFileSync(join(root, 'provisioning/datasources/wisp.yaml'), 'utf8');
  assert.match(ds, /engineUrl: \$WISP_URL\b/);
  assert.equal(grafana!.entrypoint, undefined, "Grafana starts with its image's own /run.sh");

  const prov = mount(grafana!, '/etc/grafana/provisioning');
  assert.deepEqual(prov, { source: join(root, 'provisioning'), readOnly: true }, 'provisioning is mounted read-only');
  const home = env['GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH']!;
  assert.ok(existsSync(home.replace('/etc/grafana/provisioning', prov!.source)), `home dashboard ${home} exists in provisioning/`);
  assert.deepEqual(grafana!.ports, ['127.0.0.1:3000:3000/tcp'], 'Grafana only on the host loopback');
  assert.equal(grafana!.build?.target, 'grafana', 'Grafana runs the image with the plugin baked in');

  for (const [name, s] of Object.entries(c.services)) {
    if (name !== 'grafana') assert.equal(s.ports, undefined, `${name} publishes no port`);
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
  assert.ok(ignored.includes('deploy'), 'deploy (with your tokens in deploy/site) stays out of the build context');
});
