// What `make plugin` leaves in dist/: the files Grafana loads, an AMD module.js that imports
// Grafana's shared modules instead of bundling them, and a plugin.json that validates against
// Grafana's own schema (vendored in test/plugin/schema/, see the README there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const dist = path.join(root, 'dist');
const schemaFile = path.join(root, 'test/plugin/schema/plugin.schema.json');

function listFiles(dir: string, base = ''): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(path.join(dir, e.name), `${base}${e.name}/`) : [`${base}${e.name}`]
  );
}

test('dist/ holds exactly what Grafana loads', () => {
  assert.ok(fs.existsSync(dist), 'dist/ is missing: run `make plugin` first');
  assert.deepEqual(listFiles(dist).sort(), [
    'CHANGELOG.md',
    'LICENSE',
    'README.md',
    'dashboards/http-overview.json',
    'dashboards/network.json',
    'img/logo.svg',
    'img/screenshots/adhoc-filter.png',
    'img/screenshots/annotations.png',
    'img/screenshots/logs.png',
    'img/screenshots/pixie-dashboard.png',
    'module.js',
    'module.js.map',
    'plugin.json',
  ]);
  const version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string;
  const readme = fs.readFileSync(path.join(dist, 'README.md'), 'utf8');
  assert.ok(readme.includes(`Version ${version}.`));
  assert.ok(!readme.includes('%VERSION%'));
  assert.match(fs.readFileSync(path.join(dist, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  assert.match(fs.readFileSync(path.join(dist, 'img/logo.svg'), 'utf8'), /^<svg /);
});

test('module.js is an AMD module whose dependencies are Grafana shared modules, not bundled copies', () => {
  const js = fs.readFileSync(path.join(dist, 'module.js'), 'utf8');
  const m = /^define\((\[[^\]]*\]),/.exec(js);
  assert.ok(m, 'module.js must start with define([...], factory)');
  const deps = JSON.parse(m[1]) as string[];
  assert.deepEqual(deps.sort(), ['@grafana/data', '@grafana/runtime', '@grafana/ui', 'react', 'rxjs']);
  // Markers of copies that must not be inside: React's internals, rxjs's Observable class, monaco.
  for (const marker of ['__SECRET_INTERNALS', 'react.production', 'class Observable', 'monaco-editor']) {
    assert.ok(!js.includes(marker), `module.js bundles something Grafana shares (${marker})`);
  }
  assert.ok(js.length < 200_000, `module.js is ${js.length} bytes`);
});

test('plugin.json validates against Grafana\'s schema and declares the route that injects the token', () => {
  assert.ok(fs.existsSync(schemaFile), `Grafana's plugin.json schema is missing at ${schemaFile}`);
  const schema = JSON.parse(fs.readFileSync(schemaFile, 'utf8')) as object;
  // Grafana's schema escapes '-' in patterns, which the unicode (u) flag refuses.
  const ajv = new Ajv({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  const validate = ajv.compile(schema);
  const pluginJson = JSON.parse(fs.readFileSync(path.join(dist, 'plugin.json'), 'utf8')) as {
    id: string;
    type: string;
    metrics: boolean;
    logs: boolean;
    annotations: boolean;
    info: {
      version: string;
      updated: string;
      keywords: string[];
      author: { name: string; url: string };
      links: Array<{ name: string; url: string }>;
      screenshots: Array<{ name: string; path: string }>;
    };
    includes: Array<{ type: string; name: string; path: string }>;
    routes: Array<{ path: string; url: string; headers: Array<{ name: string; content: string }> }>;
    dependencies: { grafanaDependency: string };
  };
  assert.ok(validate(pluginJson), ajv.errorsText(validate.errors));
  assert.equal(pluginJson.id, 'wisp-ebpf-datasource');
  assert.equal(pluginJson.type, 'datasource');
  assert.equal(pluginJson.metrics, true);
  assert.equal(pluginJson.logs, true);
  assert.equal(pluginJson.annotations, true);
  // Keywords name features the plugin has: no traces, so no "tracing".
  assert.ok(!pluginJson.info.keywords.includes('tracing'), pluginJson.info.keywords.join(', '));
  const homepage = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { homepage: string }).homepage;
  assert.equal(pluginJson.info.author.url, homepage);
  assert.ok(pluginJson.info.links.length >= 3 && pluginJson.info.links.every((l) => l.url.startsWith(homepage)), JSON.stringify(pluginJson.info.links));
  // Screenshots are real PNGs shipped beside module.js.
  assert.ok(pluginJson.info.screenshots.length >= 3);
  for (const shot of pluginJson.info.screenshots) {
    const png = fs.readFileSync(path.join(dist, shot.path));
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG', shot.path);
  }
  // The provisioned dashboards are the ones the plugin includes, byte for byte.
  assert.deepEqual(pluginJson.includes, [
    { type: 'dashboard', name: 'HTTP overview', path: 'dashboards/http-overview.json' },
    { type: 'dashboard', name: 'Network', path: 'dashboards/network.json' },
  ]);
  for (const i of pluginJson.includes) assert.deepEqual(fs.readFileSync(path.join(dist, i.path)), fs.readFileSync(path.join(root, 'provisioning', i.path)));
  assert.equal(pluginJson.dependencies.grafanaDependency, '>=11.0.0');
  assert.match(pluginJson.info.version, /^\d+\.\d+\.\d+$/);
  assert.match(pluginJson.info.updated, /^\d{4}-\d{2}-\d{2}$/);
  assert.deepEqual(pluginJson.routes, [
    {
      path: 'engine',
      url: '{{ .JsonData.engineUrl }}',
      headers: [{ name: 'Authorization', content: 'Bearer {{ .SecureJsonData.token }}' }],
    },
  ]);

  // The same validator refuses a plugin.json that is wrong, so the check above can fail.
  assert.equal(validate({ ...pluginJson, type: 'not-a-type' }), false);
});
