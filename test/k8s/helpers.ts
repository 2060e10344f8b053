/**
 * Shared pieces of the Kubernetes metadata tests: objects shaped like the real API's, a bounded
 * wait, and a metadata view started against the API-server double with short backoff.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { ProcessMetadata } from '../../src/engine/meta/process.js';
import { KubernetesMetadata } from '../../src/engine/meta/k8s/metadata.js';
import type { K8sApiServer, KObject } from '../support/k8sApiServer.js';

/** A random 64-hex-digit container id. */
export function containerId(): string {
  return randomBytes(32).toString('hex');
}

/** A running pod on `node` with one container; `ip` '' leaves it without an IP (pending). */
export function pod(opts: { namespace: string; name: string; node: string; ip?: string; container?: string; runtime?: string; hostNetwork?: boolean; phase?: string; uid?: string }): KObject {
  return {
    metadata: { name: opts.name, namespace: opts.namespace, ...(opts.uid ? { uid: opts.uid } : {}), labels: { app: opts.name } },
    spec: { nodeName: opts.node, hostNetwork: opts.hostNetwork ?? false, containers: [{ name: 'main', image: 'example/app:1' }] },
    status: {
      phase: opts.phase ?? 'Running',
      ...(opts.ip ? { podIP: opts.ip, podIPs: [{ ip: opts.ip }] } : {}),
      containerStatuses: opts.container
        ? [{ name: 'main', ready: true, restartCount: 0, image: 'example/app:1', imageID: '', containerID: `${opts.runtime ?? 'containerd'}://${opts.container}` }]
        : [],
    },
  };
}

/** A ClusterIP service. */
export function service(namespace: string, name: string, clusterIP: string): KObject {
  return {
    metadata: { name, namespace },
    spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ port: 80, protocol: 'TCP' }], selector: { app: name } },
  };
}

/** An EndpointSlice of `svc` with one endpoint per pod (targetRef by UID). */
export function slice(namespace: string, svc: string, pods: readonly { name: string; uid: string; ip: string; node?: string }[]): KObject {
  return {
    metadata: { name: `${svc}-${randomUUID().slice(0, 5)}`, namespace, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({
      addresses: [p.ip],
      conditions: { ready: true },
      ...(p.node ? { nodeName: p.node } : {}),
      targetRef: { kind: 'Pod', name: p.name, namespace, uid: p.uid },
    })),
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

/** Polls `cond` every 20 ms; fails after `ms` naming `what` and, if given, the state seen last. */
export async function waitFor(what: string, cond: () => boolean, ms = 10_000, seen?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${seen ? `; last seen: ${seen()}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A metadata view watching `api` as node `node`, retrying fast (100 ms doubling to 400 ms). */
export function watching(api: K8sApiServer, node: string, processes = new ProcessMetadata()): KubernetesMetadata {
  const build = KubernetesMetadata.configure({
    mode: { kubeconfig: api.writeKubeconfig() },
    nodeName: node,
    informers: { initialBackoffMs: 100, maxBackoffMs: 400 },
  });
  return build(processes);
}

/** Whether every informer of `md` is live (list done, watch open). */
export function live(md: KubernetesMetadata): boolean {
  return md.checks().every((c) => c.ok);
}

/** The kubernetes check's detail, for failure messages. */
export function detail(md: KubernetesMetadata): string {
  return md.checks().map((c) => c.detail).join('; ');
}
