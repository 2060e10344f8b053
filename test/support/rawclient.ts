/**
 * A raw TCP client run as a child process by end-to-end tests: reads its whole payload from
 * stdin, connects, sends the payload with ONE socket write (so pipelined requests leave in one
 * syscall), and reads until the peer closes, `--expect-bytes` arrived, or `--idle-ms` passed
 * with nothing new. Prints one JSON line: its local port, the latency it measured (write start
 * to last byte read) and what it received (base64).
 *
 *   node rawclient.js --host 127.0.0.1 --port PORT [--expect-bytes N] [--idle-ms 2000] < payload
 */
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    host: { type: 'string', default: '127.0.0.1' },
    port: { type: 'string' },
    'expect-bytes': { type: 'string' },
    'idle-ms': { type: 'string', default: '2000' },
  },
});

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const payload = Buffer.concat(chunks);
const expect = values['expect-bytes'] === undefined ? Infinity : Number(values['expect-bytes']);
const idleMs = Number(values['idle-ms']);

const received: Buffer[] = [];
let got = 0;
let started = 0n;
let last = 0n;
let localPort = 0;
const sock = net.connect({ host: values.host!, port: Number(values.port) });
sock.setNoDelay(true);
let idle: NodeJS.Timeout | undefined;
let done = false;
const finish = (): void => {
  if (done) return;
  done = true;
  clearTimeout(idle);
  sock.destroy();
  const latencyNs = (last > 0n ? last - started : 0n).toString();
  process.stdout.write(JSON.stringify({ localPort, latencyNs, bytes: got, received: Buffer.concat(received).toString('base64') }) + '\n');
};
const arm = (): void => {
  clearTimeout(idle);
  idle = setTimeout(finish, idleMs);
};
sock.once('connect', () => {
  localPort = sock.localPort!;
  started = process.hrtime.bigint();
  if (payload.length > 0) sock.write(payload);
  arm();
});
sock.on('data', (c: Buffer) => {
  last = process.hrtime.bigint();
  received.push(c);
  got += c.length;
  if (got >= expect) finish();
  else arm();
});
// A reset is an expected ending for the misbehaving peers some tests use.
sock.on('error', () => undefined);
sock.once('close', finish);
