// Builds the plugin into dist/ with webpack (see webpack.config.mjs); exits non-zero on errors.
import webpack from 'webpack';
import config from './webpack.config.mjs';

const started = Date.now();
webpack(config(), (err, stats) => {
  if (err) {
    console.error(`plugin build: webpack failed to run: ${err.stack ?? err}`);
    process.exit(1);
  }
  const info = stats.toJson({ all: false, errors: true, warnings: true, assets: true });
  for (const w of info.warnings ?? []) console.warn(`plugin build warning: ${w.message}`);
  if (stats.hasErrors()) {
    for (const e of info.errors ?? []) console.error(`plugin build error: ${e.moduleName ?? ''} ${e.message}`);
    process.exit(1);
  }
  const size = info.assets.find((a) => a.name === 'module.js')?.size ?? 0;
  console.log(`plugin build: dist/module.js ${(size / 1024).toFixed(1)} KiB in ${Date.now() - started} ms`);
});
