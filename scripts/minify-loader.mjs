// Minifies emscripten's generated loader for the client module: 3.1.6 only strips its whitespace
// (closure, which would rename, is not shipped with Debian's emscripten), and every mining app
// user downloads it. oxc's minifier, which rolldown (Vite's bundler) carries, renames locals and
// compresses: about 13.4 -> 9.7 KB gzip. Usage: node scripts/minify-loader.mjs <in.js> <out.mjs>
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

import { minifySync } from 'rolldown/utils';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node scripts/minify-loader.mjs <in.js> <out.mjs>');
  process.exit(2);
}
// MODULARIZE's tail exports the factory to CommonJS and AMD as well; in the ES module
// (wasm/esm-export.js adds `export default`) those lines are dead, and bundlers warn about them
// in every app that imports the package (Vite: COMMONJS_VARIABLE_IN_ESM). Emscripten writes them
// verbatim; a loader without them means emscripten changed, so this stops and says so.
const UMD_TAIL = `if (typeof exports === 'object' && typeof module === 'object')
  module.exports = createEarningsCore;
else if (typeof define === 'function' && define['amd'])
  define([], function() { return createEarningsCore; });
else if (typeof exports === 'object')
  exports["createEarningsCore"] = createEarningsCore;
`;
const loader = readFileSync(input, 'utf8');
if (!loader.includes(UMD_TAIL)) {
  console.error(`minify-loader: ${input} does not end with emscripten 3.1.6's CommonJS/AMD export lines`);
  process.exit(1);
}
const { code, errors } = minifySync(basename(output), loader.replace(UMD_TAIL, ''));
if (errors.length > 0) {
  console.error(`minify-loader: ${input}: ${errors.map((error) => error.message).join('; ')}`);
  process.exit(1);
}
writeFileSync(output, code);
