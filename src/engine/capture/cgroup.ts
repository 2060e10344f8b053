/**
 * Checks a cgroup path before the kernel is asked to scope capture to it, so a wrong path gets
 * an error that says what is wrong and where the cgroup v2 hierarchy is on this host.
 */
import { readFileSync, statSync, statfsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';

/** statfs f_type of a cgroup2 filesystem (linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Where cgroup2 is mounted on this host (the first mount in /proc/self/mounts), if anywhere. */
export function cgroup2Mount(): string | undefined {
  let mounts: string;
  try {
    mounts = readFileSync('/proc/self/mounts', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of mounts.split('\n')) {
    const [, dir, type] = line.split(' ');
    // /proc/mounts escapes blanks in paths as octal.
    if (type === 'cgroup2' && dir) return dir.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  }
  return undefined;
}

/**
 * Returns `path` made absolute once it names a directory on a cgroup v2 filesystem; throws an
 * Error naming the path, what is wrong, and where cgroup2 is mounted here.
 */
export function checkCgroupDir(path: string): string {
  if (typeof path !== 'string' || path.length === 0) throw new RangeError('wisp capture: option cgroup must be a non-empty path');
  const abs = isAbsolute(path) ? path : resolve(path);
  const where = (): string => {
    const m = cgroup2Mount();
    return m ? `cgroup2 is mounted at ${m} on this host` : 'no cgroup2 filesystem is mounted on this host (mount -t cgroup2 none /sys/fs/cgroup)';
  };
  let isDir: boolean;
  try {
    isDir = statSync(abs).isDirectory();
  } catch (e) {
    throw new Error(`wisp capture: cgroup ${abs} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; ${where()}`, { cause: e });
  }
  if (!isDir) throw new Error(`wisp capture: cgroup ${abs} is not a directory; ${where()}`);
  if (statfsSync(abs).type !== CGROUP2_SUPER_MAGIC) throw new Error(`wisp capture: ${abs} is not a cgroup v2 directory; ${where()}`);
  return abs;
}
