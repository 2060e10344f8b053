// Builds everything the plugin's tests run, with esbuild (fast on two cores):
// - unit tests src/plugin/**/*.test.ts → out/src/plugin/*.test.js and the browser/dist tests
//   test/plugin/*.test.ts → out/test/plugin/*.test.js, each one ESM file for node --test.
//   @grafana/data is bundled in because its ESM build does not load in plain Node.
// - the harness page → out/test/plugin/harness/ (see README.md).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const started = Date.now();

function find(dir, pattern) {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => pattern.test(f) && !f.includes('node_modules'))
    .map((f) => path.join(dir, f));
}

const tests = [...find(path.join(root, 'src/plugin'), /\.test\.ts$/), ...find(here, /^[^/]+\.test\.ts$/)];
await esbuild.build({
  entryPoints: tests,
  outbase: root,
  outdir: path.join(root, 'out'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  external: ['playwright-core', 'ajv', 'ajv-formats', 'esbuild'],
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __wispRequire } from 'node:module'; const require = __wispRequire(import.meta.url);" },
  logLevel: 'warning',
});

const harnessOut = path.join(root, 'out/test/plugin/harness');
await esbuild.build({
  entryPoints: {
    harness: path.join(here, 'harness/harness.tsx'),
    'editor.worker': path.join(root, 'node_modules/monaco-editor/esm/vs/editor/editor.worker.js'),
  },
  outdir: harnessOut,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  target: 'es2020',
  minify: true,
  sourcemap: false,
  jsx: 'transform',
  loader: { '.ttf': 'file' },
  // The core editor with all its contributions (suggest, markers, hover) but no bundled languages.
  alias: { 'monaco-editor': 'monaco-editor/esm/vs/editor/edcore.main.js' },
  define: { 'process.env.NODE_ENV': '"production"', global: 'window' },
  logLevel: 'warning',
});
fs.copyFileSync(path.join(here, 'harness/index.html'), path.join(harnessOut, 'index.html'));
console.log(`plugin tests build: ${tests.length} test files and the harness in ${Date.now() - started} ms`);
