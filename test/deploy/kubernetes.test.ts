/**
 * deploy/kubernetes: every manifest against the Kubernetes OpenAPI schemas (kubernetes-models),
 * unknown fields included, and the properties the deployment depends on: the ClusterRole's exact
 * grants, the engine's privileges and mounts, probes, and that selectors, ports, the Secret and
 * the ServiceAccount refer to things that exist. There is no API server here, so nothing is
 * applied; see docs/deploy.md.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadManifests, problems, type Manifest } from './kube.js';

const dir = fileURLToPath(new URL('../../../deploy/kubernetes/', import.meta.url));

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

test('the ClusterRole grants get/list/watch on pods, services, endpointslices and nodes, nothing more', () => {
  const role = find('ClusterRole', 'wisp') as Manifest & {
    rules: { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[]; nonResourceURLs?: string[] }[];
  };
  const grants = new Set<string>();
  for (const r of role.rules) {
    assert.equal(r.resourceNames, undefined);
    assert.equal(r.nonResourceURLs, undefined);
    for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) grants.add(`${g}/${res}:${v}`);
  }
  const want = new Set<string>();
  for (const res of ['/pods', '/services', '/nodes', 'discovery.k8s.io/endpointslices']) {
    for (const v of ['get', 'list', 'watch']) want.add(`${res}:${v}`);
  }
  assert.deepEqual([...grants].sort(), [...want].sort());
  const binding = find('ClusterRoleBinding', 'wisp') as Manifest & {
    roleRef: { kind: string; name: string };
    subjects: { kind: string; name: string; namespace: string }[];
  };
  assert.deepEqual(binding.roleRef, { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'wisp' });
  assert.deepEqual(binding.subjects, [{ kind: 'ServiceAccount', name: 'wisp', namespace: 'wisp' }]);
  find('ServiceAccount', 'wisp');
  for (const w of [engine, broker]) assert.equal(w.spec.template.spec.serviceAccountName, 'wisp');
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
  for (const [path, readOnly] of [['/sys/kernel/tracing', false], ['/sys/fs/bpf', false], ['/sys/fs/cgroup', true]] as const) {
    const m = mounts.get(path);
    assert.ok(m, `no mount at ${path}`);
    assert.equal(hostPaths.get(m.name), path, `${path} comes from the node's ${path}`);
    assert.equal(m.readOnly === true, readOnly, `${path} read-only`);
  }

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

test('the token: both workloads read the Secret wisp-token where their --token-file points', () => {
  const secret = find('Secret', 'wisp-token') as Manifest & { stringData: Record<string, string> };
  assert.ok(secret.stringData['token'], 'the Secret has a token key');
  for (const [w, flags] of [[engine, ['--token-file']], [broker, ['--token-file', '--engine-token-file']]] as const) {
    const pod = w.spec.template.spec;
    const c = pod.containers[0]!;
    const vol = pod.volumes.find((v) => v.secret?.secretName === 'wisp-token');
    assert.ok(vol, `${w.metadata.name} mounts the Secret`);
    const mount = c.volumeMounts.find((m) => m.name === vol.name)!;
    assert.equal(mount.readOnly, true);
    for (const f of flags) assert.equal(flag(c, f), `${mount.mountPath}/token`, `${w.metadata.name} ${f}`);
  }
  const engineVol = engine.spec.template.spec.volumes.find((v) => v.secret)!;
  assert.equal(engineVol.secret!.defaultMode, 0o400, 'YAML 1.1 octal, as Kubernetes reads it');
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
