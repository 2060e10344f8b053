import { hostname } from 'node:os';
import type { MetadataView } from './types.js';
import { parseUpid } from './upid.js';
import { ProcessMetadata, type ProcessInfo } from './process.js';

/**
 * The metadata view of a host without Kubernetes: process keys come from procfs, the service is
 * the systemd unit or container a process runs in (its cgroup path), every other Kubernetes key
 * (pod, namespace, node) is the empty string, the hostname is the machine's.
 */
export class HostMetadata implements MetadataView {
  private readonly processes: ProcessMetadata;
  private readonly host: string;

  constructor(opts: { processes?: ProcessMetadata; hostname?: string } = {}) {
    this.processes = opts.processes ?? new ProcessMetadata();
    this.host = opts.hostname ?? hostname();
  }

  upidToPid(upid: string): number {
    return parseUpid(upid)?.pid ?? 0;
  }

  upidToCmdline(upid: string): string {
    return this.info(upid)?.cmdline ?? '';
  }

  upidToContainerId(upid: string): string {
    return this.info(upid)?.containerId ?? '';
  }

  upidToPodId(): string {
    return '';
  }

  upidToPodName(): string {
    return '';
  }

  upidToNamespace(): string {
    return '';
  }

  upidToServiceId(): string {
    return '';
  }

  upidToServiceName(upid: string): string {
    return this.info(upid)?.service ?? '';
  }

  upidToNodeName(): string {
    return '';
  }

  upidToHostname(upid: string): string {
    return parseUpid(upid) ? this.host : '';
  }

  ipToPodId(): string {
    return '';
  }

  ipToServiceId(): string {
    return '';
  }

  podIdToPodName(): string {
    return '';
  }

  podIdToNamespace(): string {
    return '';
  }

  podNameToPodIp(): string {
    return '';
  }

  serviceIdToServiceName(): string {
    return '';
  }

  /**
   * The process a UPID names. A start time of 0 (a process already gone when its first row was
   * made) matches whatever the pid has; otherwise a different start time means the pid was
   * reused and this UPID's process is gone.
   */
  private info(upid: string): ProcessInfo | undefined {
    const u = parseUpid(upid);
    if (!u) return undefined;
    const info = this.processes.lookup(u.pid);
    if (u.startTicks !== 0n && info.startTicks !== 0n && info.startTicks !== u.startTicks) return undefined;
    return info;
  }
}
