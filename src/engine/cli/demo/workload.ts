/**
 * The demo workload behind `wisp demo`: three small services on loopback that call each other
 * over HTTP/1.1 keep-alive, and a load generator. Each runs as its own process (so the engine,
 * which never traces itself, sees all of them) named `demo-<role>` in /proc.
 *
 *   loadgen → frontend → catalog
 *                      → cart      (cart fails ~3% of writes with 500, catalog 404s on unknown ids)
 *
 * Run as: node workload.js <role> [--port N] [--catalog URL] [--cart URL] [--target URL] [--rps N]
 */
import http from 'node:http';
import { parseArgs } from 'node:util';

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

function call(url: string, method = 'GET', body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, agent, headers: body ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function reply(res: http.ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function serve(port: number, handle: (req: http.IncomingMessage, body: string) => Promise<[number, unknown]>): void {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, Buffer.concat(chunks).toString()).then(
        ([status, value]) => reply(res, status, value),
        (e: Error) => reply(res, 502, { error: e.message }),
      );
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(port, '127.0.0.1', () => {
    const addr = server.address();
    // The parent reads the bound port from this line.
    process.stdout.write(`listening ${typeof addr === 'object' && addr ? addr.port : port}\n`);
  });
}

const ITEMS = ['lamp', 'desk', 'chair', 'shelf', 'rug', 'sofa', 'bed', 'mirror'];

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      port: { type: 'string', default: '0' },
      catalog: { type: 'string' },
      cart: { type: 'string' },
      target: { type: 'string' },
      rps: { type: 'string', default: '50' },
    },
  });
  const role = positionals[0];
  process.title = `demo-${role}`;
  const port = Number(values.port);
  switch (role) {
    case 'catalog':
      return serve(port, async (req) => {
        const m = /^\/items\/(\d+)$/.exec(req.url ?? '');
        if (req.url === '/items') return [200, ITEMS.map((name, id) => ({ id, name }))];
        if (m && Number(m[1]) < ITEMS.length) return [200, { id: Number(m[1]), name: ITEMS[Number(m[1])] }];
        return [404, { error: 'no such item' }];
      });
    case 'cart':
      return serve(port, async (req, body) => {
        if (req.method === 'POST' && Math.random() < 0.03) return [500, { error: 'cart store unavailable' }];
        return [req.method === 'POST' ? 201 : 200, { cart: req.url, added: body ? JSON.parse(body) : null }];
      });
    case 'frontend':
      return serve(port, async (req) => {
        const catalog = values.catalog!;
        const cart = values.cart!;
        if (req.url === '/') {
          const items = await call(`${catalog}/items`);
          return [items.status, { page: 'home', items: JSON.parse(items.body) }];
        }
        const item = /^\/item\/(\d+)$/.exec(req.url ?? '');
        if (item) {
          const r = await call(`${catalog}/items/${item[1]}`);
          return [r.status, JSON.parse(r.body)];
        }
        if (req.url === '/checkout' && req.method === 'POST') {
          const user = Math.floor(Math.random() * 100);
          await call(`${cart}/cart/${user}`);
          const r = await call(`${cart}/cart/${user}`, 'POST', JSON.stringify({ item: Math.floor(Math.random() * 10) }));
          return [r.status === 201 ? 200 : 503, { checkout: r.status === 201 ? 'ok' : 'failed' }];
        }
        return [404, { error: 'not found' }];
      });
    case 'loadgen': {
      const target = values.target!;
      const interval = 1000 / Math.max(1, Number(values.rps));
      setInterval(() => {
        const pick = Math.random();
        const p =
          pick < 0.5 ? call(`${target}/`) : pick < 0.85 ? call(`${target}/item/${Math.floor(Math.random() * 10)}`) : call(`${target}/checkout`, 'POST');
        p.catch(() => undefined);
      }, interval);
      return;
    }
    default:
      console.error(`demo workload: unknown role '${role}' (catalog, cart, frontend, loadgen)`);
      process.exitCode = 2;
  }
}

main();
