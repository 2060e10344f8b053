/**
 * Every way a syscall's bytes reach the ring keeps them exact: single buffers written straight
 * into records of each size class (and around each class boundary), small iovec arrays
 * gathered into one record, bigger ones assembled a chunk at a time, and syscalls above a
 * chunk split into chunks.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { datas, nodeServer, opens, record, run, waitFor } from './helpers.js';

// A cap above the biggest write, so every byte is copied and a 40000-byte write is split into chunks.
const rec = record({ maxBytesPerSyscall: 64 * 1024 });
after(() => rec.tracer.close());

const CHUNK = 16 * 1024;
const boundaries = [128, 256, 512, 1024, 2048, 4096, 8192, CHUNK].flatMap((c) => [c - 1, c, c + 1]);
const single = [1, 8, ...boundaries, 40_000];
// iovec segment lengths per writev: small arrays (gathered), one past the small limit, and
// one whose bytes pass a chunk (assembled).
const vectors = [[9, 300], [1, 127, 129, 4000], [CHUNK - 100, 99], [CHUNK - 100, 100, 1], [10, 20, 30, 40, 50], [8000, 9000]];

// A request line, then every write of the plan as its own syscall, each byte a function of its
// stream offset so any misplaced byte shows. The server reads the whole body before answering.
const script = String.raw`
import json, os, socket, sys
plan = json.loads(sys.argv[2])
total = sum(plan['single']) + sum(sum(v) for v in plan['vectors'])
s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))
head = b'POST /sizes HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n' % total
os.write(s.fileno(), head)
pos = len(head)
def pattern(n):
    global pos
    b = bytes((pos + i) * 7 % 251 for i in range(n))
    pos += n
    return b
for n in plan['single']:
    assert os.write(s.fileno(), pattern(n)) == n
for v in plan['vectors']:
    assert os.writev(s.fileno(), [pattern(n) for n in v]) == sum(v)
r = b''
while not r.endswith(b'done'):
    r += s.recv(1000)
print(len(head))
`;

const expected = (from: number, n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => ((from + i) * 7) % 251));

test('single buffers of every size class and iovec arrays arrive byte-exact, one record per syscall up to a chunk', async () => {
  const server = await nodeServer('127.0.0.1', "req.resume(); req.on('end', () => res.end('done'));");
  after(() => server.proc.kill());
  const plan = { single, vectors };
  const py = await run('python3', ['-c', script, server.firstLine, JSON.stringify(plan)]);
  const headLen = Number(py.stdout);
  const sizes = [headLen, ...single, ...vectors.map((v) => v.reduce((a, b) => a + b, 0))];
  const total = sizes.reduce((a, b) => a + b, 0);
  await waitFor(rec, 'every write of the client', () => {
    const [o] = opens(rec.events, py.pid);
    const last = o && datas(rec.events, o.connKey, 'egress').at(-1);
    return last !== undefined && Number(last.pos) + last.size === total;
  });
  const [o] = opens(rec.events, py.pid);
  const records = datas(rec.events, o!.connKey, 'egress');
  let pos = 0;
  let at = 0;
  for (const size of sizes) {
    const mine = [];
    while (records[at]?.pos === BigInt(pos)) mine.push(records[at++]!);
    assert.ok(mine.length > 0, `a record for the ${size}-byte syscall at ${pos}`);
    assert.equal(mine.length, Math.max(1, Math.ceil(size / CHUNK)), `records of the ${size}-byte syscall`);
    let offset = 0;
    for (const r of mine) {
      assert.equal(r.size, size);
      assert.equal(r.chunkOffset, offset, `chunks of the ${size}-byte syscall tile it`);
      if (pos > 0) assert.ok(Buffer.from(r.data).equals(expected(pos + offset, r.data.byteLength)), `bytes of the ${size}-byte syscall at ${pos + offset}`);
      offset += r.data.byteLength;
    }
    assert.equal(offset, size, `all ${size} bytes captured`);
    pos += size;
  }
  assert.equal(at, records.length, 'no other records');
});
