/**
 * The dependency rules (.dependency-cruiser.cjs) on a small house of their own: each forbidden
 * kind of import is written once into a fixture tree and must be reported under its rule, and
 * the allowed arrows in the same tree must not be. `make test` runs the same rules on the real
 * tree (scripts/check-house.sh); this proves they would catch a back-arrow there.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The fixture house: path → source. Comments name the rule an import must trip, if any. */
const FILES: Record<string, string> = {
  'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src', 'test'] }),
  'src/engine/schema.ts': 'export type Rows = number;\n',
  // Allowed: each floor imports the ground floor and the floors below it.
  'src/engine/pxl/compile.ts': "import type { Rows } from '../schema.js';\nexport function compile(): Rows {\n  return 1;\n}\n",
  'src/engine/api/server.ts': "import { compile } from '../pxl/compile.js';\nexport const served = compile();\n",
  'src/engine/cli/main.ts': "import { served } from '../api/server.js';\nimport { compile } from '../pxl/compile.js';\nexport const main = served + compile();\n",
  // no-arrow-up-from-store: the store is below the compiler.
  'src/engine/store/table.ts': "import { compile } from '../pxl/compile.js';\nexport const table = compile();\n",
  // engine-floors-only: a folder no floor names.
  'src/engine/annex/extra.ts': "import type { Rows } from '../schema.js';\nexport const extra: Rows = 2;\n",
  // plugin-sees-only-the-api-contract.
  'src/plugin/datasource.ts': "import { served } from '../engine/api/server.js';\nexport const ds = served;\n",
  // no-import-loops: two files of one floor that import each other.
  'src/engine/http/parse.ts': "import { pair } from './pair.js';\nexport const parse = (): number => pair();\n",
  'src/engine/http/pair.ts': "import { parse } from './parse.js';\nexport const pair = (): number => (parse ? 1 : 0);\n",
  // production-code-imports-no-test-support.
  'src/testkit/rng.ts': 'export const rng = (): number => 4;\n',
  'src/engine/meta/host.ts': "import { rng } from '../../testkit/rng.js';\nexport const host = rng();\n",
  // unit-tests-import-no-end-to-end-support (a unit test may use the kit: not reported).
  'test/support/peers.ts': 'export const peer = 5;\n',
  'src/engine/meta/host.test.ts': "import { peer } from '../../../test/support/peers.js';\nimport { rng } from '../../testkit/rng.js';\nexport const t = peer + rng();\n",
};

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

function cruise(dir: string): Promise<Violation[]> {
  const bin = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
  const args = [bin, 'src', 'test', '--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'];
  return new Promise((resolve, reject) => {
    // It exits non-zero when it finds violations: the report on stdout is what counts.
    execFile(process.execPath, args, { cwd: dir, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      try {
        resolve((JSON.parse(stdout) as { summary: { violations: Violation[] } }).summary.violations);
      } catch {
        reject(new Error(`dependency-cruiser gave no report: ${err?.message ?? ''} ${stderr}`));
      }
    });
  });
}

test('every forbidden import is reported under its rule, and no allowed one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wisp-house-'));
  try {
    for (const [path, text] of Object.entries(FILES)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const found = (await cruise(dir)).map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    assert.deepEqual(found, [
      'engine-floors-only: src/engine/annex/extra.ts → src/engine/schema.ts',
      'no-arrow-up-from-store: src/engine/store/table.ts → src/engine/pxl/compile.ts',
      'no-import-loops: src/engine/http/pair.ts → src/engine/http/parse.ts',
      'plugin-sees-only-the-api-contract: src/plugin/datasource.ts → src/engine/api/server.ts',
      'production-code-imports-no-test-support: src/engine/meta/host.ts → src/testkit/rng.ts',
      'unit-tests-import-no-end-to-end-support: src/engine/meta/host.test.ts → test/support/peers.ts',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
