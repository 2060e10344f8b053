/**
 * Throwaway cgroup v2 directories for scoping tests, and children started inside them. A child
 * moves itself into its cgroup before exec (`echo $$ > cgroup.procs; exec ...`), so none of
 * its traffic happens outside.
 */
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Mount } from '../../src/engine/capture/cgroup.js';
import { start, type Child } from './helpers.js';

/** A cgroup this test made; `remove` waits for it to empty, then deletes it and its children. */
export interface TestCgroup {
  readonly path: string;
  /** Makes a cgroup below this one. */
  sub(name: string): TestCgroup;
  remove(): Promise<void>;
}

/** Makes a fresh cgroup (unique name) directly under the cgroup2 mount. */
export function makeCgroup(prefix: string): TestCgroup {
  const mount = cgroup2Mount();
  if (mount === undefined) throw new Error('no cgroup2 filesystem is mounted (mount -t cgroup2 none /sys/fs/cgroup)');
  return at(join(mount, `${prefix}-${process.pid}-${Date.now().toString(36)}`));
}

function at(path: string): TestCgroup {
  mkdirSync(path);
  const subs: TestCgroup[] = [];
  return {
    path,
    sub(name) {
      const s = at(join(path, name));
      subs.push(s);
      return s;
    },
    async remove() {
      for (const s of subs) await s.remove();
      // Killed children leave the cgroup a moment after their exit is reported.
      const deadline = Date.now() + 5000;
      while (readFileSync(join(path, 'cgroup.procs'), 'utf8').trim() !== '' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      rmdirSync(path);
    },
  };
}

/** Starts `cmd args` inside `cgroup`, resolving once it printed its first line. */
export function startIn(cgroup: string, cmd: string, args: readonly string[]): Promise<Child> {
  return start('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup, cmd, ...args]);
}

/** A Node HTTP server printing its port; answers every request with its own path. */
export const PATH_SERVER = `
  const s = require('http').createServer((req, res) => res.end('path ' + req.url));
  s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
