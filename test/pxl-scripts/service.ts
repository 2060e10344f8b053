/**
 * The fixture of the Pixie-shaped script tests: one Node HTTP server in its own systemd-style
 * cgroup (so `ctx['service']` names it), a capturing Agent in this process, and the engine API
 * over it on a free loopback port.
 */
import { Agent, type AgentOptions } from '../../src/engine/agent.js';
import { LocalBackend } from '../../src/engine/api/local.js';
import { ApiMetrics } from '../../src/engine/api/metrics.js';
import { buildApi } from '../../src/engine/api/server.js';
import { makeCgroup, startIn } from '../capture-kernel/cgroups.js';
import type { Child } from '../capture-kernel/helpers.js';

export interface ServiceFixture {
  /** The server; its first line of output is its port. */
  readonly server: Child;
  /** The engine API's base URL. */
  readonly base: string;
  /** Stops the API, the Agent and the server, and removes the cgroup. */
  stop(): Promise<void>;
}

/** Starts `serverCode` (node -e) as `unit` in cgroup `cgroup`, then the Agent and its API. */
export async function startService(cgroup: string, unit: string, serverCode: string, agentOptions: AgentOptions = {}): Promise<ServiceFixture> {
  const cg = makeCgroup(cgroup);
  const server = await startIn(cg.sub(unit).path, process.execPath, ['-e', serverCode]);
  const agent = Agent.start(agentOptions);
  const app = buildApi({ backend: new LocalBackend(agent), metrics: new ApiMetrics() });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    server,
    base: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`,
    async stop() {
      agent.close();
      await app.close();
      server.proc.kill('SIGTERM');
      await server.exit;
      await cg.remove();
    },
  };
}
