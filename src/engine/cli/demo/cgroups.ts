import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Mount } from '../../capture/cgroup.js';

/**
 * The demo's services as systemd would run them: a slice of one `<name>.service` cgroup per
 * service, so that `df.ctx['service']` names each (meta/process.ts reads the unit from the
 * cgroup path) and the service scripts and dashboards show the demo on a plain host.
 */
export interface DemoCgroups {
  /** The cgroup directory of a service, made on first use. */
  service(name: string): string;
  /** Removes the cgroups once their processes have gone (waits up to 3 s for them to leave). */
  remove(): Promise<void>;
}

const SLICE = /^wisp-demo-(\d+)\.slice$/;

/**
 * Removes the empty slices of demos that are gone: one killed (SIGKILL, or a second signal that
 * exits at once) cannot remove its own.
 */
function removeStale(mount: string): void {
  for (const name of readdirSync(mount)) {
    const m = SLICE.exec(name);
    if (!m || existsSync(`/proc/${m[1]}`)) continue;
    const slice = join(mount, name);
    try {
      for (const e of readdirSync(slice, { withFileTypes: true })) if (e.isDirectory()) rmdirSync(join(slice, e.name));
      rmdirSync(slice);
    } catch {
      // Still has processes (a workload outlived its demo): left for the administrator.
    }
  }
}

/** The slice under the cgroup2 mount, or why there cannot be one (no cgroup2, not allowed). */
export function demoCgroups(): DemoCgroups | { readonly unavailable: string } {
  const mount = cgroup2Mount();
  if (mount === undefined) return { unavailable: 'no cgroup2 filesystem is mounted' };
  removeStale(mount);
  const slice = join(mount, `wisp-demo-${process.pid}.slice`);
  try {
    mkdirSync(slice);
  } catch (e) {
    return { unavailable: `cannot create ${slice}: ${(e as Error).message}` };
  }
  const made: string[] = [];
  return {
    service(name) {
      const dir = join(slice, `${name}.service`);
      mkdirSync(dir);
      made.push(dir);
      return dir;
    },
    async remove() {
      const deadline = Date.now() + 3000;
      for (const dir of [...made, slice]) {
        // An exited process leaves its cgroup a moment after its exit is reported.
        while (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        try {
          rmdirSync(dir);
        } catch (e) {
          console.error(`wisp demo: could not remove ${dir}: ${(e as Error).message}`);
        }
      }
    },
  };
}
