import { readFileSync } from 'node:fs';

/** What Wisp knows about one process. Empty strings and 0n when it could not be read. */
export interface ProcessInfo {
  readonly pid: number;
  readonly comm: string;
  /** Arguments joined by single spaces. */
  readonly cmdline: string;
  /** Full container id (64 hex digits) from the cgroup path, '' outside containers. */
  readonly containerId: string;
  /**
   * What the process runs as on a host without Kubernetes, from its cgroup path: the systemd
   * unit (`system.slice/nginx.service` → `nginx`), or a container's short id; '' for neither.
   */
  readonly service: string;
  /** Process start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  readonly startTicks: bigint;
}

/** Options of {@link ProcessMetadata}. */
export interface ProcessMetadataOptions {
  /** Where procfs is mounted (a container sees the host's at e.g. /host/proc). Default /proc. */
  readonly procRoot?: string;
  /** Most processes cached; the least recently used goes first. Default 8192. */
  readonly maxEntries?: number;
  /** How long a cached entry is trusted before its start time is checked again. Default 1000 ms. */
  readonly revalidateMs?: number;
}

/**
 * Field 22 (starttime) of /proc/<pid>/stat. The command name (field 2) is in parentheses and
 * may itself contain spaces and ')', so fields are counted after the last ')'.
 */
export function parseStatStartTicks(stat: string): bigint | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // After ')' come field 3 (state) onwards; starttime is the 20th of those.
  const rest = stat.slice(close + 1).trim().split(/\s+/);
  const v = rest[19];
  return v !== undefined && /^\d+$/.test(v) ? BigInt(v) : undefined;
}

const CONTAINER_ID = /(?:^|[/-])([0-9a-f]{64})(?:\.scope)?$/;

/**
 * The container id in /proc/<pid>/cgroup text: docker (`/docker/<id>`, `docker-<id>.scope`),
 * containerd and Kubernetes (`/kubepods/.../<id>`, `cri-containerd-<id>.scope`), cri-o
 * (`crio-<id>.scope`), podman (`libpod-<id>.scope`, with an optional `/container` leaf). The
 * conmon monitor's `libpod-conmon-<id>.scope` is not the container. '' when none matches.
 */
export function parseContainerId(cgroup: string): string {
  for (const line of cgroup.split('\n')) {
    // hierarchy-ID:controller-list:cgroup-path; the path may itself contain ':'.
    const second = line.indexOf(':', line.indexOf(':') + 1);
    if (second < 0) continue;
    const segments = line.slice(second + 1).trim().split('/');
    for (let i = segments.length - 1; i >= 0; i--) {
      const seg = segments[i]!;
      if (seg.includes('conmon')) break;
      const m = CONTAINER_ID.exec(seg);
      if (m) return m[1]!;
    }
  }
  return '';
}

/**
 * The cgroup path systemd units show in: the unified (v2) hierarchy's, else (a hybrid host
 * whose unified tree is empty, or a v1-only one) systemd's own named v1 hierarchy's.
 */
function unitPath(cgroup: string): string {
  let unified = '';
  let systemd = '';
  for (const line of cgroup.split('\n')) {
    const first = line.indexOf(':');
    const second = line.indexOf(':', first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const path = line.slice(second + 1).trim();
    if (line.slice(0, first) === '0' && controllers === '') unified = path;
    if (controllers === 'name=systemd') systemd = path;
  }
  return unified !== '' && unified !== '/' ? unified : systemd;
}

/**
 * The service a process runs as on a plain host, from /proc/<pid>/cgroup text: a container
 * is named by its short id (12 hex digits, as `docker ps` shows it); otherwise the innermost
 * systemd service or scope unit of the path, without its suffix (`system.slice/nginx.service`
 * → `nginx`, `getty@tty1.service` → `getty@tty1`, `run-r1.scope` → `run-r1`). Slices group
 * units and name none. '' when the process is in neither (the root cgroup, a plain directory).
 */
export function parseServiceUnit(cgroup: string, containerId = parseContainerId(cgroup)): string {
  if (containerId !== '') return containerId.slice(0, 12);
  const segments = unitPath(cgroup).split('/');
  for (let i = segments.length - 1; i >= 0; i--) {
    const m = /^(.+)\.(service|scope)$/.exec(segments[i]!);
    if (m) return m[1]!;
  }
  return '';
}

interface Entry {
  info: ProcessInfo;
  checkedAtMs: number;
}

/**
 * pid → process metadata from procfs, cached with a bounded LRU. An entry is re-checked after
 * `revalidateMs`: when the pid's start time changed, the pid was reused and everything is read
 * again. A process that has exited keeps what was cached; one never seen gives empty values.
 * Never throws.
 */
export class ProcessMetadata {
  private readonly procRoot: string;
  private readonly maxEntries: number;
  private readonly revalidateMs: number;
  private readonly cache = new Map<number, Entry>();

  constructor(opts: ProcessMetadataOptions = {}) {
    this.procRoot = opts.procRoot ?? '/proc';
    this.maxEntries = Math.max(1, opts.maxEntries ?? 8192);
    this.revalidateMs = opts.revalidateMs ?? 1000;
  }

  /** Metadata of `pid`, read from procfs or the cache. */
  lookup(pid: number): ProcessInfo {
    const now = Date.now();
    const hit = this.cache.get(pid);
    if (hit && now - hit.checkedAtMs < this.revalidateMs) return hit.info;
    const startTicks = this.readStartTicks(pid);
    if (startTicks === undefined) return hit?.info ?? emptyInfo(pid);
    const info = hit && hit.info.startTicks === startTicks
      ? hit.info
      : processInfo(pid, startTicks, { comm: this.read(pid, 'comm'), cmdline: this.read(pid, 'cmdline'), cgroup: this.read(pid, 'cgroup') });
    this.keep(pid, info, now);
    return info;
  }

  /**
   * What /proc said of a process earlier (`files` as read then), kept as if looked up now: the
   * capture reads a process's files as its first connection opens, so a client that exits
   * before its rows are stored still gets its command line and container. An entry of the same
   * process (same start time) already cached wins; files that were all empty say nothing.
   */
  remember(pid: number, startTicks: bigint, files: ProcFiles): void {
    if (files.comm === '' && files.cmdline === '' && files.cgroup === '') return;
    const hit = this.cache.get(pid);
    if (hit && hit.info.startTicks === startTicks) return;
    this.keep(pid, processInfo(pid, startTicks, files), Date.now());
  }

  private keep(pid: number, info: ProcessInfo, now: number): void {
    this.cache.delete(pid);
    this.cache.set(pid, { info, checkedAtMs: now });
    if (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Number of cached processes. */
  get size(): number {
    return this.cache.size;
  }

  private readStartTicks(pid: number): bigint | undefined {
    const stat = this.read(pid, 'stat');
    return stat === '' ? undefined : parseStatStartTicks(stat);
  }

  private read(pid: number, file: string): string {
    try {
      return readFileSync(`${this.procRoot}/${pid}/${file}`, 'utf8');
    } catch {
      // The process exited or procfs hides it: callers treat '' as unknown.
      return '';
    }
  }
}

/** The text of a process's /proc files (comm, cmdline, cgroup), '' when unreadable. */
export interface ProcFiles {
  readonly comm: string;
  readonly cmdline: string;
  readonly cgroup: string;
}

function processInfo(pid: number, startTicks: bigint, files: ProcFiles): ProcessInfo {
  const containerId = parseContainerId(files.cgroup);
  return {
    pid,
    comm: files.comm.replace(/\n$/, ''),
    cmdline: files.cmdline.replace(/\0+$/, '').split('\0').join(' '),
    containerId,
    service: parseServiceUnit(files.cgroup, containerId),
    startTicks,
  };
}

function emptyInfo(pid: number): ProcessInfo {
  return { pid, comm: '', cmdline: '', containerId: '', service: '', startTicks: 0n };
}
