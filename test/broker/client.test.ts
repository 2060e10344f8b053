/**
 * The broker's engine client over real HTTP against scripted engines: lines are handed over as
 * they arrive (the broker merges while an engine is still sending, so it never holds a whole
 * answer), and an error line or a cut stream is a failure naming what happened.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { LineChecker } from '../../src/engine/broker/answers.js';
import { callEngine, type ReadOptions } from '../../src/engine/broker/client.js';
import { compile } from '../../src/engine/pxl/compile.js';
import { splitProgram } from '../../src/engine/pxl/distributed/broker/split.js';
import type { PartialLine } from '../../src/engine/pxl/distributed/wire/messages.js';
import { fixedOptions, httpCatalog } from '../../src/testkit/pxl-scripts/scripts.js';

const BODY = { nowNs: '0', fragments: [] };
/** The lines below answer this script's one fragment: a STRING key and a count. */
const READ: ReadOptions = {
  checker: new LineChecker(splitProgram(compile("import px\ndf = px.DataFrame(table='http_events')\npx.display(df.groupby('req_path').agg(n=('latency', px.count)))", fixedOptions, httpCatalog).program).fragments),
  maxLineBytes: 1 << 20,
};
const groups = (n: number): string => JSON.stringify({ t: 'groups', fragment: '0', n: 1, keys: [[`k${n}`]], partials: [[n]] }) + '\n';
const END = JSON.stringify({ t: 'end', stats: { rowsScanned: 7, bytesScanned: 70, executeMs: 1 }, warnings: [] }) + '\n';

async function engine(handler: (res: http.ServerResponse) => void): Promise<{ url: string; close(): void }> {
  const s = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      handler(res);
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as { port: number }).port}`,
    close: () => {
      s.closeAllConnections();
      s.close();
    },
  };
}

test('each line reaches the merger before the engine sends the next one', async () => {
  let seen: (() => void) | undefined;
  const firstSeen = new Promise<void>((r) => (seen = r));
  // The engine sends its second line only once the first was merged: a client that waited for
  // the whole answer would never finish.
  const e = await engine((res) => {
    res.write(groups(1).slice(0, 20));
    setTimeout(() => res.write(groups(1).slice(20)), 20);
    void firstSeen.then(() => {
      res.write(groups(2));
      res.end(END);
    });
  });
  try {
    const lines: PartialLine[] = [];
    const totals = await callEngine(e.url, undefined, BODY, AbortSignal.timeout(5000), READ, (l) => {
      lines.push(l);
      seen!();
    });
    assert.deepEqual(
      lines.map((l) => (l.t === 'groups' ? l.keys[0]![0] : l.t)),
      ['k1', 'k2'],
    );
    assert.equal(totals.rowsScanned, 7);
    assert.equal(totals.bytesReceived, groups(1).length + groups(2).length + END.length);
  } finally {
    e.close();
  }
});

test('an error line and a stream cut before its end are failures that say so', async () => {
  const failing = await engine((res) => {
    res.write(groups(1));
    res.end(JSON.stringify({ t: 'error', error: { severity: 'error', code: 'QUERY_TIMEOUT', message: 'partial query ran past the limit', hints: [] } }) + '\n');
  });
  const cut = await engine((res) => {
    res.write(groups(1));
    setTimeout(() => res.socket?.destroy(), 20);
  });
  try {
    await assert.rejects(
      callEngine(failing.url, undefined, BODY, AbortSignal.timeout(5000), READ, () => undefined),
      /failed: QUERY_TIMEOUT: partial query ran past the limit/,
    );
    await assert.rejects(callEngine(cut.url, undefined, BODY, AbortSignal.timeout(5000), READ, () => undefined), /terminated|before the end line/);
  } finally {
    failing.close();
    cut.close();
  }
});
