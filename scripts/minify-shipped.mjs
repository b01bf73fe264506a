// What the npm package ships of the core's JS (js/core.js and js/errors.js), which every page using
// the package downloads: the repository keeps them as readable source, the tarball
// (scripts/pack-package.mjs) holds them minified by oxc, the minifier rolldown (Vite's bundler)
// carries. bench/core-size.js measures the same output, so the size it prints is what ships.
//
// Names are shortened and whitespace and comments go; the code is not otherwise rewritten
// (`compress: false`). Exported names, error class names (set explicitly in errors.js) and
// messages are unchanged. js/loader.js ships as written: its Node-only `import(fsModule)` needs
// its `/* @vite-ignore */` comment, which the minifier drops, or every app's Vite build warns
// that it externalized node:fs/promises for the browser.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

import { minifySync } from 'rolldown/utils';

export const MINIFIED_IN_PACKAGE = ['js/core.js', 'js/errors.js'];

export function minifyShipped(path) {
  const source = readFileSync(path, 'utf8');
  const { code, errors } = minifySync(basename(path), source, { module: true, compress: false });
  if (errors.length > 0) {
    throw new Error(`minify-shipped: ${path}: ${errors.map((error) => error.message).join('; ')}`);
  }
  return code;
}
