/**
 * docs/pxl.md's function reference is the registry's: the table between the `registry:functions`
 * markers must equal what the registry says (on a mismatch the expected table is printed, to
 * paste), and each row of "Not supported" must give, when compiled, exactly the error it shows.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { HTTP_EVENTS_SCHEMA } from '../../http/schema.js';
import { compile, languageSchema } from '../compile.js';
import { PxlError } from '../diagnostic.js';

const DOC = readFileSync(new URL('../../../../../docs/pxl.md', import.meta.url), 'utf8');

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The function table as the registry gives it. */
function registryTable(): string {
  const rows = languageSchema().functions.map((f) => {
    const sigs = f.signatures.map((s) => `\`(${[...s.args, ...(s.rest ? [`${s.rest}…`] : [])].join(', ')}) → ${s.ret}\``).join('<br>');
    return `| \`${f.name}\` | ${f.kind} | ${sigs} | ${cell(f.doc)} |`;
  });
  return ['| Function | Kind | Signatures | What it does |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

function between(start: string, end: string): string {
  const i = DOC.indexOf(start);
  const j = DOC.indexOf(end);
  assert.ok(i >= 0 && j > i, `docs/pxl.md has ${start} … ${end}`);
  return DOC.slice(i + start.length, j).trim();
}

test('docs/pxl.md lists every registry function with its signatures, and nothing else', () => {
  const want = registryTable();
  assert.ok(between('<!-- registry:functions -->', '<!-- /registry:functions -->') === want, `replace the table in docs/pxl.md with:\n${want}`);
});

test("each example of docs/pxl.md's \"Not supported\" gives the error the page shows", () => {
  const rows = between('<!-- unsupported -->', '<!-- /unsupported -->')
    .split('\n')
    .filter((l) => l.startsWith('| `'))
    .map((l) => /^\| `(.+?)` \| .* \| `(PXL_[A-Z_]+): (.+)` \|$/.exec(l));
  assert.ok(rows.length >= 5 && rows.every((r) => r !== null), 'rows read: | `example` | why | `CODE: message` |');
  const catalog = { table: (n: string) => (n === 'http_events' ? HTTP_EVENTS_SCHEMA : undefined), tables: () => [HTTP_EVENTS_SCHEMA] };
  for (const [, example, code, message] of rows as RegExpExecArray[]) {
    const script = `import px\ndf = px.DataFrame(table='http_events', start_time='-5m')\ndf.x = ${example!.replace(/\\\|/g, '|')}\npx.display(df)\n`;
    assert.throws(
      () => compile(script, { fromNs: 0n, toNs: 1n, nowNs: 1n, intervalNs: 1n, maxDataPoints: 100 }, catalog),
      (e: unknown) => e instanceof PxlError && e.diagnostic.code === code && e.diagnostic.message === message,
      example,
    );
  }
});
