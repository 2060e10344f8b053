/**
 * A load client run as a child process by end-to-end tests: sends `n` requests with unique paths
 * (`<prefix><i>`) over `concurrency` keep-alive connections and prints one JSON line per request
 * with the status, the bytes received, the latency it measured itself and its local port, so
 * tests can bound what the engine captured by what the client saw.
 *
 * An https URL goes through Node's TLS (any certificate is accepted: tests use self-signed ones).
 *
 *   node client.js --url http://127.0.0.1:PORT --n 100 [--concurrency 4] [--method GET]
 *                  [--prefix /r/] [--body-bytes 0] [--no-keepalive]
 */
import http from 'node:http';
import https from 'node:https';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    n: { type: 'string', default: '1' },
    concurrency: { type: 'string', default: '1' },
    method: { type: 'string', default: 'GET' },
    prefix: { type: 'string', default: '/r/' },
    'body-bytes': { type: 'string', default: '0' },
    'no-keepalive': { type: 'boolean', default: false },
  },
});
const base = new URL(values.url!);
const n = Number(values.n);
const concurrency = Number(values.concurrency);
const body = Buffer.alloc(Number(values['body-bytes']), 'x');
const tls = base.protocol === 'https:';
const agentOpts = { keepAlive: !values['no-keepalive'], maxSockets: concurrency };
const agent = tls ? new https.Agent({ ...agentOpts, rejectUnauthorized: false }) : new http.Agent(agentOpts);
const request = tls ? https.request : http.request;

function one(i: number): Promise<void> {
  const path = `${values.prefix}${i}`;
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const req = request(
      {
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        path,
        method: values.method,
        agent,
        headers: body.length > 0 ? { 'content-length': body.length } : {},
      },
      (res) => {
        // Read now: a keep-alive socket goes back to the agent's pool once the response ends.
        const localPort = res.socket.localPort;
        let bytes = 0;
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          const ns = process.hrtime.bigint() - started;
          process.stdout.write(JSON.stringify({ path, status: res.statusCode, bytes, latencyNs: ns.toString(), localPort }) + '\n');
          resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(body.length > 0 ? body : undefined);
  });
}

let next = 0;
async function worker(): Promise<void> {
  while (next < n) await one(next++);
}
await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
agent.destroy();
