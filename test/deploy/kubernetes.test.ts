/**
 * deploy/kubernetes (the base) and deploy/site-example (the overlay a site copies): every manifest
 * against the Kubernetes OpenAPI schemas (kubernetes-models), unknown fields included, and the
 * properties the deployment depends on: each workload's ServiceAccount and exact grants, one
 * token per hop and none committed, the engine's privileges and mounts, probes, and that
 * selectors, ports and Secrets refer to things that exist. `kubectl kustomize` renders both for
 * real. There is no API server here, so nothing is applied; see docs/deploy.md.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { run, type CommandResult } from '../support/peers.js';
import { loadManifests, parseManifests, problems, type Manifest } from './kube.js';

const deploy = fileURLToPath(new URL('../../../deploy/', import.meta.url));
const dir = `${deploy}kubernetes/`;

interface Kustomization {
  namespace: string;
  resources: string[];
  images: { name: string }[];
}

const kustomization = loadManifests(`${dir}kustomization.yaml`)[0] as unknown as Kustomization;
const all: Manifest[] = kustomization.resources.flatMap((f) => loadManifests(dir + f));

function find(kind: string, name: string): Manifest {
  const m = all.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `no ${kind} ${name} in deploy/kubernetes`);
  return m;
}

// Loose views of the parts the checks read.
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports: { name: string; containerPort: number }[];
  readinessProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  securityContext: { privileged?: boolean; capabilities: { add?: string[]; drop?: string[] }; runAsUser?: number };
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName: string;
  hostPID?: boolean;
  hostNetwork?: boolean;
  securityContext?: { fsGroup?: number };
  containers: Container[];
  volumes: { name: string; hostPath?: { path: string }; secret?: { secretName: string; defaultMode?: number } }[];
}
interface Workload extends Manifest {
  spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } };
}
interface ServiceSpec {
  clusterIP?: string;
  selector: Record<string, string>;
  ports: { name: string; port: number; targetPort: string }[];
}

const engine = find('DaemonSet', 'wisp-engine') as Workload;
const broker = find('Deployment', 'wisp-broker') as Workload;
const engineSvc = find('Service', 'wisp-engine') as Manifest & { spec: ServiceSpec };
const brokerSvc = find('Service', 'wisp') as Manifest & { spec: ServiceSpec };

/** The value after `flag` in a container's args. */
function flag(c: Container, name: string): string {
  const i = c.args.indexOf(name);
  assert.ok(i >= 0 && i + 1 < c.args.length, `${c.name}: no ${name} in args ${c.args.join(' ')}`);
  return c.args[i + 1]!;
}

function containsLabels(labels: Record<string, string>, selector: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** The Secret whose key `token` the file behind `flagName` is, checked to be mounted read-only. */
function tokenSecret(w: Workload, flagName: string): string {
  const c = w.spec.template.spec.containers[0]!;
  const path = flag(c, flagName);
  const m = c.volumeMounts.find((x) => path === `${x.mountPath}/token`);
  assert.ok(m, `${w.metadata.name} ${flagName} ${path} is the key token of a mounted volume`);
  assert.equal(m.readOnly, true, `${w.metadata.name} mounts ${m.name} read-only`);
  const vol = w.spec.template.spec.volumes.find((v) => v.name === m.name);
  assert.ok(vol?.secret, `${w.metadata.name} volume ${m.name} is a Secret`);
  return vol.secret.secretName;
}

/** The Secrets a workload's pods mount. */
function mountedSecrets(w: Workload): string[] {
  return w.spec.template.spec.volumes.flatMap((v) => (v.secret ? [v.secret.secretName] : [])).sort();
}

async function kustomize(path: string): Promise<CommandResult> {
  try {
    return await run('kubectl', ['kustomize', path]);
  } catch (e) {
    throw new Error(`kubectl (its built-in kustomize renders deploy/; the machine image's kubectl 1.32 does) is needed: ${(e as Error).message}`);
  }
}

type Rbac = Manifest & {
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }[];
  roleRef?: { apiGroup: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace: string }[];
};

/** What each ServiceAccount may do, as `namespace|*` `group/resource:verb`, from every (Cluster)Role bound to it. */
function grantsOf(objects: readonly Manifest[], account: string): string[] {
  const out = new Set<string>();
  for (const b of objects as Rbac[]) {
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    if (!b.subjects!.some((s) => s.kind === 'ServiceAccount' && s.name === account && s.namespace === 'wisp')) continue;
    const role = (objects as Rbac[]).find((r) => r.kind === b.roleRef!.kind && r.metadata.name === b.roleRef!.name);
    assert.ok(role, `${b.kind} ${b.metadata.name} refers to ${b.roleRef!.kind} ${b.roleRef!.name}, which exists`);
    const scope = b.kind === 'RoleBinding' ? b.metadata.namespace! : '*';
    for (const r of role.rules!) {
      assert.equal(r.resourceNames, undefined);
      assert.equal(r.nonResourceURLs, undefined);
      for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) out.add(`${scope} ${g}/${res}:${v}`);
    }
  }
  return [...out].sort();
}

test('kustomization.yaml lists every manifest in deploy/kubernetes, in namespace wisp', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort();
  assert.deepEqual([...kustomization.resources].sort(), files);
  assert.equal(kustomization.namespace, 'wisp');
  assert.equal(find('Namespace', 'wisp').metadata.name, 'wisp');
  for (const m of all) {
    if (m.kind === 'Namespace' || m.kind.startsWith('Cluster')) continue;
    assert.equal(m.metadata.namespace, 'wisp', `${m.kind} ${m.metadata.name}`);
  }
  const images = new Set([engine, broker].map((w) => w.spec.template.spec.containers[0]!.image));
  assert.deepEqual([...images], kustomization.images.map((i) => i.name), 'the image kustomize rewrites is the one the pods use');
});

test('every manifest validates against the Kubernetes OpenAPI schemas, with no unknown fields', () => {
  assert.ok(all.length >= 10, `only ${all.length} objects`);
  for (const m of all) {
    assert.deepEqual(problems(m), [], `${m.kind} ${m.metadata.name}`);
  }
});

test('the schema check rejects a wrong type and a misspelt field', () => {
  const bad = structuredClone(engine);
  const c = bad.spec.template.spec.containers[0]!;
  c.ports[0]!.containerPort = 'api' as unknown as number;
  (bad.spec.template.spec as unknown as Record<string, unknown>)['hostPid'] = true;
  (bad.metadata as Record<string, unknown>)['lables'] = { a: 'b' };
  const found = problems(bad);
  assert.ok(found.some((p) => /containerPort must be integer/.test(p)), found.join('\n'));
  assert.ok(found.includes('unknown field /spec/template/spec/hostPid'), found.join('\n'));
  assert.ok(found.includes('unknown field /metadata/lables'), found.join('\n'));
  assert.equal(found.length, 3, found.join('\n'));
});

test('the engine and the broker each have their own ServiceAccount, allowed exactly the list and watch calls their code makes', () => {
  assert.equal(engine.spec.template.spec.serviceAccountName, 'wisp-engine');
  assert.equal(broker.spec.template.spec.serviceAccountName, 'wisp-broker');
  for (const name of ['wisp-engine', 'wisp-broker']) find('ServiceAccount', name);
  assert.deepEqual(all.filter((m) => m.kind === 'ServiceAccount').map((m) => m.metadata.name).sort(), ['wisp-broker', 'wisp-engine']);
  const lw = (scope: string, resources: string[]): string[] => resources.flatMap((r) => [`${scope} ${r}:list`, `${scope} ${r}:watch`]);
  // src/engine/meta/k8s/informers.ts: this node's pods, every service and endpointslice. No
  // nodes: the node name comes from the downward API.
  assert.deepEqual(grantsOf(all, 'wisp-engine'), lw('*', ['/pods', '/services', 'discovery.k8s.io/endpointslices']).sort());
  // src/engine/broker/engines.ts: the endpointslices of wisp/wisp-engine, in namespace wisp only.
  assert.deepEqual(grantsOf(all, 'wisp-broker'), lw('wisp', ['discovery.k8s.io/endpointslices']).sort());
});

test('the engine DaemonSet: hostPID, four capabilities and not privileged, host mounts, node name, probes, resources', () => {
  const pod = engine.spec.template.spec;
  const c = pod.containers[0]!;
  assert.equal(pod.hostPID, true);
  assert.notEqual(pod.hostNetwork, true);
  assert.notEqual(c.securityContext.privileged, true);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.deepEqual([...(c.securityContext.capabilities.add ?? [])].sort(), ['BPF', 'PERFMON', 'SYS_PTRACE', 'SYS_RESOURCE']);

  const hostPaths = new Map(pod.volumes.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath!.path]));
  const mounts = new Map(c.volumeMounts.map((m) => [m.mountPath, m]));
  for (const [path, readOnly] of [['/sys/kernel/tracing', false], ['/sys/fs/cgroup', true]] as const) {
    const m = mounts.get(path);
    assert.ok(m, `no mount at ${path}`);
    assert.equal(hostPaths.get(m.name), path, `${path} comes from the node's ${path}`);
    assert.equal(m.readOnly === true, readOnly, `${path} read-only`);
  }
  // Nothing else from the node; no bpffs, as the engine pins nothing.
  assert.deepEqual([...hostPaths.values()].sort(), ['/sys/fs/cgroup', '/sys/kernel/tracing']);

  const nodeName = c.env?.find((e) => e.name === 'NODE_NAME');
  assert.equal(nodeName?.valueFrom?.fieldRef?.fieldPath, 'spec.nodeName');
  assert.equal(flag(c, '--node-name'), '$(NODE_NAME)');
  assert.equal(flag(c, '--kubernetes'), 'in-cluster');
  assert.equal(c.args[0], 'engine');

  const port = c.ports.find((p) => p.name === 'api')!;
  assert.equal(flag(c, '--listen'), `0.0.0.0:${port.containerPort}`);
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'api' });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'api' });
  for (const kind of ['requests', 'limits'] as const) {
    assert.ok(c.resources[kind]['cpu'] && c.resources[kind]['memory'], `${kind} for cpu and memory`);
  }
});

test('one token per hop: the engine mounts only its own, the broker checks Grafana\'s and presents the engine\'s', () => {
  const engineToken = tokenSecret(engine, '--token-file');
  const brokerToken = tokenSecret(broker, '--token-file');
  assert.equal(engineToken, 'wisp-engine-token');
  assert.equal(brokerToken, 'wisp-broker-token');
  assert.equal(tokenSecret(broker, '--engine-token-file'), engineToken, 'the broker presents the token the engines check');
  assert.deepEqual(mountedSecrets(engine), [engineToken]);
  assert.deepEqual(mountedSecrets(broker), [brokerToken, engineToken]);
  // Only the owner reads a token: the engine is root; the broker is uid 1000 and reads through
  // its fsGroup, which Kubernetes gives the Secret volumes' files.
  const modes = (w: Workload) => w.spec.template.spec.volumes.filter((v) => v.secret).map((v) => v.secret!.defaultMode);
  assert.deepEqual(modes(engine), [0o400], 'YAML 1.1 octal, as Kubernetes reads it');
  assert.deepEqual(modes(broker), [0o440, 0o440]);
  assert.equal(broker.spec.template.spec.securityContext?.fsGroup, broker.spec.template.spec.containers[0]!.securityContext.runAsUser);
});

test('no token is committed: deploy/kubernetes has no Secret, and the site overlay renders only from token files you make', async () => {
  // Applied as it is, the base cannot run with a known token: its pods wait for Secrets it does not hold.
  assert.deepEqual(all.filter((m) => m.kind === 'Secret').map((m) => m.metadata.name), []);
  const tmp = mkdtempSync(join(tmpdir(), 'wisp-kustomize-'));
  try {
    cpSync(dir, join(tmp, 'kubernetes'), { recursive: true });
    cpSync(join(deploy, 'site-example'), join(tmp, 'site'), { recursive: true });
    const site = join(tmp, 'site');
    const none = await kustomize(site);
    assert.notEqual(none.code, 0, 'rendered without token files');
    assert.match(none.stderr, /engine-token: no such file/);
    writeFileSync(join(site, 'engine-token'), 'e'.repeat(64));
    const one = await kustomize(site);
    assert.notEqual(one.code, 0, 'rendered with one token file of two');
    assert.match(one.stderr, /broker-token: no such file/);
    writeFileSync(join(site, 'broker-token'), 'b'.repeat(64));
    const both = await kustomize(site);
    assert.equal(both.code, 0, both.stderr);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('the site overlay, rendered by kubectl: valid objects, the image, and each token file in the Secret of its hop', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'wisp-kustomize-'));
  try {
    cpSync(dir, join(tmp, 'kubernetes'), { recursive: true });
    cpSync(join(deploy, 'site-example'), join(tmp, 'site'), { recursive: true });
    const tokens = { 'engine-token': 'e1'.repeat(32), 'broker-token': 'b2'.repeat(32) };
    for (const [f, v] of Object.entries(tokens)) writeFileSync(join(tmp, 'site', f), `${v}\n`);
    const r = await kustomize(join(tmp, 'site'));
    assert.equal(r.code, 0, r.stderr);
    const objects = parseManifests(r.stdout, 'kubectl kustomize deploy/site');
    const secrets = objects.filter((m) => m.kind === 'Secret') as (Manifest & { data: Record<string, string> })[];
    // kustomize wraps base64 at 70 columns; the API server's decoder (Go's encoding/base64)
    // skips the newlines, the schema's format check does not.
    for (const s of secrets) for (const k of Object.keys(s.data)) s.data[k] = s.data[k]!.replace(/\n/g, '');
    for (const m of objects) assert.deepEqual(problems(m), [], `${m.kind} ${m.metadata.name}`);
    const one = (kind: string, name: string) => {
      const m = objects.find((x) => x.kind === kind && x.metadata.name === name);
      assert.ok(m, `rendered ${kind} ${name}`);
      return m as Workload;
    };
    const [e, b] = [one('DaemonSet', 'wisp-engine'), one('Deployment', 'wisp-broker')];
    assert.equal(secrets.length, 2);
    const valueOf = (name: string): string => {
      const s = secrets.find((x) => x.metadata.name === name);
      assert.ok(s, `the Secret ${name} the pods mount is rendered`);
      assert.equal(s.metadata.namespace, 'wisp');
      return Buffer.from(s.data['token']!, 'base64').toString();
    };
    // Kustomize names each Secret after its content's hash and rewrites the pods' references.
    assert.match(tokenSecret(e, '--token-file'), /^wisp-engine-token-[a-z0-9]+$/);
    assert.equal(valueOf(tokenSecret(e, '--token-file')), `${tokens['engine-token']}\n`);
    assert.equal(valueOf(tokenSecret(b, '--engine-token-file')), `${tokens['engine-token']}\n`);
    assert.equal(valueOf(tokenSecret(b, '--token-file')), `${tokens['broker-token']}\n`);
    assert.deepEqual(mountedSecrets(e), [tokenSecret(e, '--token-file')]);
    for (const w of [e, b]) assert.equal(w.spec.template.spec.containers[0]!.image, 'wisp:0.1.0');
    assert.equal(objects.length, all.length + 2, 'the base and the two Secrets, nothing else');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('kubectl kustomize renders the base: the objects of the files, in namespace wisp, with the image', async () => {
  const r = await kustomize(dir);
  assert.equal(r.code, 0, r.stderr);
  const objects = parseManifests(r.stdout, 'kubectl kustomize deploy/kubernetes');
  const ids = (ms: readonly Manifest[]) => ms.map((m) => `${m.kind}/${m.metadata.name}`).sort();
  assert.deepEqual(ids(objects), ids(all));
  for (const m of objects) {
    assert.deepEqual(problems(m), [], `${m.kind} ${m.metadata.name}`);
    assert.equal(m.metadata.labels?.['app.kubernetes.io/part-of'], 'wisp', `${m.kind} ${m.metadata.name}`);
  }
});

test('Services select the pods and ports that exist; the broker finds engines through the headless one', () => {
  for (const [svc, w] of [[engineSvc, engine], [brokerSvc, broker]] as const) {
    assert.ok(containsLabels(w.spec.template.metadata.labels, svc.spec.selector), `${svc.metadata.name} selects ${w.metadata.name}`);
    assert.ok(containsLabels(w.spec.template.metadata.labels, w.spec.selector.matchLabels));
    const names = w.spec.template.spec.containers[0]!.ports.map((p) => p.name);
    for (const p of svc.spec.ports) assert.ok(names.includes(p.targetPort), `${svc.metadata.name} targets port ${p.targetPort}`);
  }
  assert.equal(engineSvc.spec.clusterIP, 'None', 'headless: one endpoint per engine');
  assert.notEqual(brokerSvc.spec.clusterIP, 'None');
  const b = broker.spec.template.spec.containers[0]!;
  assert.equal(b.args[0], 'broker');
  assert.equal(flag(b, '--kubernetes-service'), `${engineSvc.metadata.namespace}/${engineSvc.metadata.name}`);
  assert.equal(flag(b, '--listen'), `0.0.0.0:${brokerSvc.spec.ports[0]!.port}`);
  assert.notEqual(b.securityContext.privileged, true);
  assert.equal(b.securityContext.capabilities.add, undefined, 'the broker needs no capability');
});

test('NetworkPolicies: engines take API traffic only from the broker, the broker only from Grafana', () => {
  type Peer = { podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: { matchLabels: Record<string, string> } };
  type Policy = Manifest & {
    spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from: Peer[]; ports: { port: number; protocol: string }[] }[] };
  };
  const enginePolicy = find('NetworkPolicy', 'wisp-engine') as Policy;
  const brokerPolicy = find('NetworkPolicy', 'wisp-broker') as Policy;
  const enginePort = engine.spec.template.spec.containers[0]!.ports[0]!.containerPort;
  const brokerPort = broker.spec.template.spec.containers[0]!.ports[0]!.containerPort;

  assert.ok(containsLabels(engine.spec.template.metadata.labels, enginePolicy.spec.podSelector.matchLabels));
  assert.ok(!containsLabels(broker.spec.template.metadata.labels, enginePolicy.spec.podSelector.matchLabels), 'the engine policy does not select the broker');
  assert.deepEqual(enginePolicy.spec.policyTypes, ['Ingress']);
  assert.equal(enginePolicy.spec.ingress.length, 1);
  const [fromBroker] = enginePolicy.spec.ingress[0]!.from;
  assert.equal(enginePolicy.spec.ingress[0]!.from.length, 1);
  assert.ok(containsLabels(broker.spec.template.metadata.labels, fromBroker!.podSelector!.matchLabels));
  assert.ok(!containsLabels(engine.spec.template.metadata.labels, fromBroker!.podSelector!.matchLabels), 'engines cannot query each other');
  assert.deepEqual(enginePolicy.spec.ingress[0]!.ports, [{ protocol: 'TCP', port: enginePort }]);

  assert.ok(containsLabels(broker.spec.template.metadata.labels, brokerPolicy.spec.podSelector.matchLabels));
  assert.ok(!containsLabels(engine.spec.template.metadata.labels, brokerPolicy.spec.podSelector.matchLabels));
  assert.equal(brokerPolicy.spec.ingress.length, 1);
  const [fromGrafana] = brokerPolicy.spec.ingress[0]!.from;
  assert.equal(brokerPolicy.spec.ingress[0]!.from.length, 1);
  assert.ok(fromGrafana!.namespaceSelector && fromGrafana!.podSelector, 'Grafana pods AND Grafana namespace, in one peer');
  assert.deepEqual(brokerPolicy.spec.ingress[0]!.ports, [{ protocol: 'TCP', port: brokerPort }]);
});
