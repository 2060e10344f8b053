import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

/** Where the service-account token and CA of a pod are mounted. */
const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/**
 * How `--kubernetes` finds the API server: `in-cluster` (the pod's service account),
 * `auto` (in-cluster when running in a pod, else $KUBECONFIG or ~/.kube/config), or a kubeconfig
 * file path.
 */
export type KubernetesMode = 'auto' | 'in-cluster' | { readonly kubeconfig: string };

/** Reads the `--kubernetes` value: `auto`, `in-cluster`, or anything else as a kubeconfig path. */
export function parseKubernetesMode(text: string): KubernetesMode {
  if (text === 'auto' || text === 'in-cluster') return text;
  if (text === '') throw new Error('--kubernetes wants auto, in-cluster or a kubeconfig path (got an empty value)');
  return { kubeconfig: text };
}

/** How a mode is shown in messages and /readyz. */
export function describeMode(mode: KubernetesMode): string {
  return typeof mode === 'string' ? mode : `kubeconfig ${mode.kubeconfig}`;
}

/** Where {@link loadKubeConfig} looks; the defaults are the process's own. */
export interface KubeConfigSources {
  /** Read for KUBERNETES_SERVICE_HOST/PORT and KUBECONFIG. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * Prepended to the service-account directory, for a root file system mounted elsewhere
   * (e.g. `/host`). Default ''.
   */
  readonly root?: string;
}

function inCluster(env: NodeJS.ProcessEnv, root: string): KubeConfig {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) throw new Error('--kubernetes in-cluster: KUBERNETES_SERVICE_HOST/PORT are not set (is the engine running in a pod?)');
  for (const f of ['token', 'ca.crt']) {
    if (!existsSync(join(root + SERVICE_ACCOUNT_DIR, f))) {
      throw new Error(`--kubernetes in-cluster: ${join(root + SERVICE_ACCOUNT_DIR, f)} is missing (is automountServiceAccountToken off?)`);
    }
  }
  const kc = new KubeConfig();
  // The client re-reads the token file every minute, so rotated (projected) tokens keep working.
  kc.loadFromCluster(root);
  // loadFromCluster reads the server from process.env; `env` is what this function was given.
  const cluster = kc.getCurrentCluster()!;
  const shown = host.includes(':') ? `[${host}]` : host;
  kc.clusters = [{ ...cluster, server: `https://${shown}:${port}` }];
  return kc;
}

/**
 * The client configuration for `mode`. Throws a message naming what is missing: the service
 * account files, the kubeconfig file, or a current context.
 */
export function loadKubeConfig(mode: KubernetesMode, sources: KubeConfigSources = {}): KubeConfig {
  const env = sources.env ?? process.env;
  const root = sources.root ?? '';
  if (mode === 'in-cluster') return inCluster(env, root);
  let file: string;
  if (mode === 'auto') {
    if (env['KUBERNETES_SERVICE_HOST']) return inCluster(env, root);
    const candidates = [...(env['KUBECONFIG'] ?? '').split(':').filter((f) => f !== ''), join(homedir(), '.kube', 'config')];
    const found = candidates.find((f) => existsSync(f));
    if (found === undefined) {
      throw new Error(`--kubernetes auto: not in a pod and no kubeconfig found (looked at ${candidates.join(', ')})`);
    }
    file = found;
  } else file = mode.kubeconfig;
  if (!existsSync(file)) throw new Error(`--kubernetes: kubeconfig ${file} does not exist`);
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(file);
  } catch (e) {
    throw new Error(`--kubernetes: cannot read kubeconfig ${file}: ${(e as Error).message}`);
  }
  if (!kc.getCurrentCluster()) throw new Error(`--kubernetes: kubeconfig ${file} has no current context with a cluster`);
  return kc;
}
