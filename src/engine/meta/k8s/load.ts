import { hostname } from 'node:os';
import type { ProcessMetadata } from '../process.js';
import type { InformerOptions } from './informers.js';
import type { KubernetesMetadata } from './metadata.js';

/** This node's name: the flag, else $NODE_NAME (the DaemonSet sets it from spec.nodeName), else the host name. */
export function resolveNodeName(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env['NODE_NAME'] || hostname();
}

/**
 * What `wisp engine --kubernetes MODE` runs (with the node name from `resolveNodeName`): loads the Kubernetes client
 * (about a second of module loading, so only when asked for) and its configuration, and returns
 * what builds the metadata view for the agent. Throws naming what is missing.
 */
export async function loadKubernetesMetadata(
  mode: string,
  nodeName: string,
  informers?: InformerOptions,
): Promise<(processes: ProcessMetadata) => KubernetesMetadata> {
  const [{ KubernetesMetadata }, { parseKubernetesMode }] = await Promise.all([import('./metadata.js'), import('./config.js')]);
  return KubernetesMetadata.configure({ mode: parseKubernetesMode(mode), nodeName, ...(informers ? { informers } : {}) });
}
