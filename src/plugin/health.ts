import type { EngineApi, HttpResult } from './api.js';
import type { ReadyzResponse } from './types.js';

/** One line of "Save & test". */
interface HealthCheck {
  name: 'engine' | 'token' | 'capture' | 'version';
  ok: boolean;
  detail: string;
}

/** The outcome of "Save & test", in the shape of Grafana's TestDataSourceResponse plus the checks. */
export interface HealthReport {
  status: 'success' | 'error';
  message: string;
  checks: HealthCheck[];
  details: { message: string; verboseMessage: string };
}

/** What the check needs to know about the saved settings. */
export interface HealthSettings {
  engineUrl?: string;
}

/**
 * Really checks the engine through the data proxy: reachable (GET /readyz), token accepted
 * (GET /api/v1/schema, 401 = rejected), capture running and how many events it holds, and the
 * engine version. Each check says why it failed; checks that depend on a failed one say so.
 */
export async function checkHealth(api: EngineApi, settings: HealthSettings): Promise<HealthReport> {
  const checks: HealthCheck[] = [];
  const where = settings.engineUrl ? ` at ${settings.engineUrl}` : '';
  if (!settings.engineUrl) {
    checks.push({ name: 'engine', ok: false, detail: 'no engine URL is set' });
    return report(checks);
  }

  const ready = await attempt(api, '/readyz');
  const readyz = ready.result && isReadyz(ready.result.data) ? ready.result.data : undefined;
  if (!readyz) {
    checks.push({ name: 'engine', ok: false, detail: `not reachable${where}: ${describeFailure(ready)}` });
    for (const name of ['token', 'capture', 'version'] as const) {
      checks.push({ name, ok: false, detail: 'not checked: the engine is not reachable' });
    }
    return report(checks);
  }
  checks.push({ name: 'engine', ok: true, detail: `reachable${where}` });

  const schema = await attempt(api, '/api/v1/schema');
  checks.push(tokenCheck(schema));
  checks.push(captureCheck(readyz));
  checks.push(
    readyz.version
      ? { name: 'version', ok: true, detail: `engine ${readyz.version}` }
      : { name: 'version', ok: false, detail: 'the engine did not report its version' }
  );
  return report(checks);
}

interface Attempt {
  result?: HttpResult;
  error?: string;
}

async function attempt(api: EngineApi, path: string): Promise<Attempt> {
  try {
    return { result: await api.request('GET', path) };
  } catch (e) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
}

function describeFailure(a: Attempt): string {
  if (a.error !== undefined) {
    return `no answer (${a.error})`;
  }
  const res = a.result;
  if (!res) {
    return 'no answer';
  }
  if (res.status === 502 || res.status === 504) {
    return `Grafana's data proxy could not reach it (HTTP ${res.status})`;
  }
  return `GET /readyz answered HTTP ${res.status} with a body that is not a Wisp engine's`;
}

// Grafana does not tell the browser whether a secret is set, so a 401 names both causes.
function tokenCheck(a: Attempt): HealthCheck {
  const status = a.result?.status;
  if (status === 200) {
    return { name: 'token', ok: true, detail: 'token accepted' };
  }
  if (status === 401) {
    return { name: 'token', ok: false, detail: 'the engine rejected the request: token missing or wrong (HTTP 401)' };
  }
  return {
    name: 'token',
    ok: false,
    detail: `GET /api/v1/schema failed: ${a.error ?? `HTTP ${status ?? 'no answer'}`}`,
  };
}

function captureCheck(r: ReadyzResponse): HealthCheck {
  const held = r.tables?.http_events?.rows;
  // Drop counters mix events and bytes, so each is named rather than summed.
  const drops = Object.entries(r.capture?.drops ?? {})
    .filter(([, n]) => n > 0)
    .map(([name, n]) => `${name} ${n}`);
  if (r.capture?.running) {
    const heldText = held === undefined ? '' : `, ${held} held in http_events`;
    return {
      name: 'capture',
      ok: true,
      detail: `running: ${r.capture.events} events captured${heldText}; ${drops.length > 0 ? `drops: ${drops.join(', ')}` : 'no drops'}`,
    };
  }
  const failed = (r.checks ?? []).filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? 'failed'}`);
  return {
    name: 'capture',
    ok: false,
    detail: `not running${failed.length > 0 ? ` (${failed.join('; ')})` : ''}`,
  };
}

function report(checks: HealthCheck[]): HealthReport {
  const failed = checks.filter((c) => !c.ok);
  const lines = checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`).join('\n');
  if (failed.length === 0) {
    const detail = (n: HealthCheck['name']) => checks.find((c) => c.name === n)?.detail ?? '';
    return {
      status: 'success',
      message: `${detail('version')} ${detail('engine')}; ${detail('token')}; capture ${detail('capture')}`,
      checks,
      details: { message: 'all checks passed', verboseMessage: lines },
    };
  }
  const causes = failed.filter((c) => !c.detail.startsWith('not checked'));
  return {
    status: 'error',
    message: `Failed: ${causes.map((c) => `${c.name}: ${c.detail}`).join('; ')}`,
    checks,
    details: { message: failed.map((c) => `${c.name}: ${c.detail}`).join('; '), verboseMessage: lines },
  };
}

function isReadyz(body: unknown): body is ReadyzResponse {
  return typeof body === 'object' && body !== null && typeof (body as { ready?: unknown }).ready === 'boolean';
}
