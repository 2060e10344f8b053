/**
 * Schema checks for the manifests in deploy/kubernetes, offline: kubernetes-models' validators
 * are generated from the Kubernetes OpenAPI schemas. Those schemas accept unknown fields (the API
 * server drops or rejects them later), so {@link unknownFields} adds what `kubectl apply
 * --validate=strict` would say about a misspelt field.
 */
import { readFileSync } from 'node:fs';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { validate as namespaceSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Namespace';
import { validate as secretSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Secret';
import { validate as serviceSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1Service';
import { validate as serviceAccountSchema } from 'kubernetes-models/_schemas/IoK8sApiCoreV1ServiceAccount';
import { validate as daemonSetSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1DaemonSet';
import { validate as deploymentSchema } from 'kubernetes-models/_schemas/IoK8sApiAppsV1Deployment';
import { validate as clusterRoleSchema } from 'kubernetes-models/_schemas/IoK8sApiRbacV1ClusterRole';
import { validate as clusterRoleBindingSchema } from 'kubernetes-models/_schemas/IoK8sApiRbacV1ClusterRoleBinding';
import { validate as roleSchema } from 'kubernetes-models/_schemas/IoK8sApiRbacV1Role';
import { validate as roleBindingSchema } from 'kubernetes-models/_schemas/IoK8sApiRbacV1RoleBinding';
import { validate as networkPolicySchema } from 'kubernetes-models/_schemas/IoK8sApiNetworkingV1NetworkPolicy';
import { validate as objectMetaSchema } from '@kubernetes-models/apimachinery/_schemas/IoK8sApimachineryPkgApisMetaV1ObjectMeta';
import { parseAllDocuments } from 'yaml';

/** A parsed manifest: plain JSON as the API server would receive it. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

interface Kind {
  /** The model's own validate(): the OpenAPI schema, throwing with the failing path. */
  check(doc: Manifest): void;
  /** The same generated schema function, called directly so its reads can be observed. */
  schema: (data: unknown) => boolean;
}

function kind(Model: new (data: never) => { validate(): void }, schema: (data: unknown) => boolean): Kind {
  return { check: (doc) => new Model(doc as never).validate(), schema };
}

/** Every kind deploy/kubernetes may use, by `apiVersion/kind`. */
const KINDS: Readonly<Record<string, Kind>> = {
  'v1/Namespace': kind(Namespace, namespaceSchema),
  'v1/Secret': kind(Secret, secretSchema),
  'v1/Service': kind(Service, serviceSchema),
  'v1/ServiceAccount': kind(ServiceAccount, serviceAccountSchema),
  'apps/v1/DaemonSet': kind(DaemonSet, daemonSetSchema),
  'apps/v1/Deployment': kind(Deployment, deploymentSchema),
  'rbac.authorization.k8s.io/v1/ClusterRole': kind(ClusterRole, clusterRoleSchema),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': kind(ClusterRoleBinding, clusterRoleBindingSchema),
  'rbac.authorization.k8s.io/v1/Role': kind(Role, roleSchema),
  'rbac.authorization.k8s.io/v1/RoleBinding': kind(RoleBinding, roleBindingSchema),
  'networking.k8s.io/v1/NetworkPolicy': kind(NetworkPolicy, networkPolicySchema),
};

/**
 * Parses a multi-document YAML file the way Kubernetes does (YAML 1.1: `0400` is octal);
 * a syntax error names the file and position.
 */
export function loadManifests(file: string): Manifest[] {
  return parseManifests(readFileSync(file, 'utf8'), file);
}

/** {@link loadManifests} for text, e.g. what `kubectl kustomize` prints; `where` names it in errors. */
export function parseManifests(text: string, where: string): Manifest[] {
  const docs = parseAllDocuments(text, { version: '1.1' });
  const out: Manifest[] = [];
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) throw new Error(`${where}: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value = doc.toJS() as Manifest | null;
    if (value !== null) out.push(value);
  }
  return out;
}

/**
 * Fields of `doc` the schema never looked at. The generated validators read every property
 * their schema declares and enumerate free-form maps (labels, stringData); a key they never
 * touch is one the schema does not know, i.e. a typo the API server would drop or reject.
 */
function unknownFields(schema: (data: unknown) => boolean, doc: unknown): string[] {
  // One proxy and one read-set per object, however often the validator reaches it.
  const seen = new Map<object, { path: string; proxy: object; read: Set<string> }>();
  const wrap = (value: unknown, path: string): unknown => {
    if (value === null || typeof value !== 'object') return value;
    const known = seen.get(value);
    if (known) return known.proxy;
    const read = new Set<string>();
    const proxy = new Proxy(value, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return wrap(Reflect.get(target, key), `${path}/${String(key)}`);
      },
      has(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.has(target, key);
      },
      ownKeys(target) {
        const keys = Reflect.ownKeys(target);
        for (const k of keys) if (typeof k === 'string') read.add(k);
        return keys;
      },
    });
    seen.set(value, { path, proxy, read });
    return proxy;
  };
  schema(wrap(doc, ''));
  const unknown: string[] = [];
  for (const [obj, { path, read }] of seen) {
    for (const key of Object.keys(obj)) if (!read.has(key)) unknown.push(`${path}/${key}`);
  }
  return unknown;
}

/** Validates one manifest; returns what is wrong, empty when it is valid. */
export function problems(doc: Manifest): string[] {
  const k = KINDS[`${doc.apiVersion}/${doc.kind}`];
  if (!k) return [`no schema for ${doc.apiVersion} ${doc.kind} (add it to KINDS in test/deploy/kube.ts)`];
  const out: string[] = [];
  try {
    k.check(doc);
  } catch (e) {
    out.push((e as Error).message);
  }
  // Some kinds' schemas (Namespace's) leave metadata unchecked; ObjectMeta's own schema covers it.
  const both = (d: unknown): boolean => k.schema(d) && objectMetaSchema((d as Manifest).metadata);
  for (const f of unknownFields(both, doc)) out.push(`unknown field ${f}`);
  return out;
}
