import { lookupService } from 'node:dns';
import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import { cpus, hostname } from 'node:os';
import type { FunctionEntry } from './entry.js';
import { perString } from './vectorized.js';

/*
 * What the machine running the query knows: its name, its CPUs, and names for addresses
 * (px.nslookup). These are evaluated where the plan puts them: on the engines for anything
 * below a broker's aggregation (as Pixie runs them on the agent that holds the rows), on the
 * broker above it.
 */

/** Most addresses remembered, as Pixie's DNS cache. */
const CACHE_SIZE = 1024;
/**
 * Reverse lookups under way at once. They run on libuv's thread pool (4 threads), which file
 * reads share; a slow resolver must not take all of it.
 */
const MAX_PENDING = 2;

/**
 * Names of addresses for px.nslookup. The query evaluates synchronously, so a name comes from
 * /etc/hosts (read again when it changes) or from earlier reverse lookups; an address seen for
 * the first time starts one in the background (the system resolver's getnameinfo, as Pixie's)
 * and reads as itself until it answers — Pixie's answer for an address without a name.
 */
class AddressNames {
  private hosts = new Map<string, string>();
  private hostsMtimeMs = -1;
  private readonly names = new Map<string, string>();
  private readonly pending = new Set<string>();

  constructor(private readonly hostsFile: string) {}

  /** Re-reads the hosts file if it changed; once per evaluation, not per value. */
  refresh(): void {
    let mtime: number;
    try {
      mtime = statSync(this.hostsFile).mtimeMs;
    } catch {
      mtime = 0;
    }
    if (mtime === this.hostsMtimeMs) return;
    this.hostsMtimeMs = mtime;
    this.hosts = new Map();
    let text = '';
    try {
      text = readFileSync(this.hostsFile, 'utf8');
    } catch {
      return;
    }
    for (const line of text.split('\n')) {
      const [addr, name] = line.replace(/#.*/, '').trim().split(/\s+/);
      if (addr && name && !this.hosts.has(addr)) this.hosts.set(addr, name);
    }
  }

  name(addr: string): string {
    const fromHosts = this.hosts.get(addr);
    if (fromHosts !== undefined) return fromHosts;
    const known = this.names.get(addr);
    if (known !== undefined) {
      this.names.delete(addr);
      this.names.set(addr, known);
      return known;
    }
    if (isIP(addr) !== 0 && this.pending.size < MAX_PENDING && !this.pending.has(addr)) {
      this.pending.add(addr);
      lookupService(addr, 0, (err, host) => {
        this.pending.delete(addr);
        this.names.set(addr, err || !host ? addr : host);
        if (this.names.size > CACHE_SIZE) this.names.delete(this.names.keys().next().value!);
      });
    }
    return addr;
  }
}

const addressNames = new AddressNames('/etc/hosts');

/** px.nslookup, px._exec_hostname, px._exec_host_num_cpus. */
export const HOST: readonly FunctionEntry[] = [
  {
    name: 'nslookup',
    spelling: 'px.nslookup',
    kind: 'scalar',
    signatures: [{ args: ['STRING'], ret: 'STRING' }],
    doc: 'The host name of an IP address (/etc/hosts, then reverse DNS, looked up in the background and remembered); the address itself until a name is known, or when there is none.',
    example: 'df.remote_name = px.nslookup(df.remote_addr)',
    eval: (call) => {
      addressNames.refresh();
      return perString((s) => addressNames.name(s), call, call.args[0]!);
    },
  },
  {
    name: '_exec_hostname',
    spelling: 'px._exec_hostname',
    kind: 'scalar',
    signatures: [{ args: [], ret: 'STRING' }],
    doc: 'The host name of the machine evaluating the expression (the engine that holds the rows, below a broker).',
    example: 'df.hostname = px._exec_hostname()',
    eval: () => ({ t: 'scalar', v: hostname() }),
  },
  {
    name: '_exec_host_num_cpus',
    spelling: 'px._exec_host_num_cpus',
    kind: 'scalar',
    signatures: [{ args: [], ret: 'INT64' }],
    doc: 'The number of CPUs of the machine evaluating the expression.',
    example: 'df.num_cpus = px._exec_host_num_cpus()',
    eval: () => ({ t: 'scalar', v: cpus().length }),
  },
];
