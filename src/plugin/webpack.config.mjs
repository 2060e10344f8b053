// Bundles the plugin the way @grafana/create-plugin does (see README.md "Build"): an AMD
// module.js whose Grafana-provided modules stay external, compiled by swc, plus the static
// files Grafana reads from the plugin folder.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const pluginJson = JSON.parse(fs.readFileSync(path.join(here, 'plugin.json'), 'utf8'));
const { version, homepage } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));

/**
 * Files copied next to module.js (dist path → source path, relative to src/plugin); plugin.json
 * and README.md get %VERSION%, %TODAY% and %HOMEPAGE% filled in. The dashboard plugin.json
 * `includes` is the provisioned one, so there is a single file to keep.
 */
const STATIC = {
  'plugin.json': 'plugin.json',
  'README.md': 'README.md',
  'CHANGELOG.md': 'CHANGELOG.md',
  LICENSE: 'LICENSE',
  'img/logo.svg': 'img/logo.svg',
  ...Object.fromEntries(pluginJson.info.screenshots.map((s) => [s.path, s.path])),
  ...Object.fromEntries(pluginJson.includes.map((i) => [i.path, `../../provisioning/${i.path}`])),
};

// The modules Grafana shares with plugins at runtime (create-plugin's externals list).
const EXTERNALS = [
  { 'amd-module': 'module' },
  'lodash',
  'jquery',
  'moment',
  'slate',
  'emotion',
  '@emotion/react',
  '@emotion/css',
  'prismjs',
  'slate-plain-serializer',
  '@grafana/slate-react',
  'react',
  'react-dom',
  'react-redux',
  'redux',
  'rxjs',
  'i18next',
  'react-router',
  'react-router-dom',
  'd3',
  'angular',
  /^@grafana\/ui/i,
  /^@grafana\/runtime/i,
  /^@grafana\/data/i,
];

class StaticFilesPlugin {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('StaticFilesPlugin', (compilation) => {
      compilation.hooks.processAssets.tap(
        { name: 'StaticFilesPlugin', stage: webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL },
        () => {
          const today = new Date().toISOString().slice(0, 10);
          for (const [rel, src] of Object.entries(STATIC)) {
            const file = path.join(here, src);
            compilation.fileDependencies.add(file);
            let body = fs.readFileSync(file);
            if (rel === 'plugin.json' || rel === 'README.md') {
              const text = body.toString('utf8').replaceAll('%VERSION%', version).replaceAll('%TODAY%', today);
              body = Buffer.from(text.replaceAll('%HOMEPAGE%', homepage));
            }
            compilation.emitAsset(rel, new webpack.sources.RawSource(body));
          }
        }
      );
    });
  }
}

/** The webpack configuration; `outDir` defaults to <repo>/dist. */
export default function config({ outDir = path.join(root, 'dist'), production = true } = {}) {
  return {
    mode: production ? 'production' : 'development',
    context: here,
    entry: { module: './module.ts' },
    devtool: 'source-map',
    externals: EXTERNALS,
    cache: { type: 'filesystem', cacheDirectory: path.join(root, 'node_modules/.cache/wisp-plugin-webpack') },
    module: {
      rules: [
        {
          test: /\.[tj]sx?$/,
          exclude: /node_modules/,
          use: {
            loader: 'swc-loader',
            options: {
              jsc: {
                target: 'es2015',
                parser: { syntax: 'typescript', tsx: true, decorators: false, dynamicImport: true },
                transform: { react: { runtime: 'classic' } },
              },
            },
          },
        },
      ],
    },
    output: {
      clean: true,
      filename: '[name].js',
      library: { type: 'amd' },
      path: outDir,
      publicPath: `public/plugins/${pluginJson.id}/`,
      uniqueName: pluginJson.id,
    },
    plugins: [new StaticFilesPlugin()],
    resolve: {
      extensions: ['.ts', '.tsx', '.js'],
      // Sources import './x.js' (NodeNext style); the file on disk is x.ts or x.tsx.
      extensionAlias: { '.js': ['.ts', '.tsx', '.js'] },
    },
    performance: { hints: false },
  };
}
