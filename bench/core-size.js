// What a browser downloads for the core: the .wasm plus the loader JS (emscripten's glue and
// js/core.js, loader.js, errors.js as the npm package ships them: core.js and errors.js minified
// by scripts/minify-shipped.mjs), raw, gzip -9 and brotli. Target: <= 80 KB gzip in all. The
// server's build (with the crediting planners, built for speed) is listed apart: it never
// reaches a browser.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

import { MINIFIED_IN_PACKAGE, minifyShipped } from '../scripts/minify-shipped.mjs';
import { printTable } from './core-table.js';

const root = new URL('../', import.meta.url);
const shipped = [
  ['dist/earnings-core.wasm', 'the core (C++ -> wasm)'],
  ['dist/earnings-core.mjs', 'emscripten loader + embind glue, minified'],
  ['js/core.js', 'friendly API, minified as packed'],
  ['js/loader.js', 'fetch/compile'],
  ['js/errors.js', 'error classes, minified as packed'],
];

const kb = (bytes) => (bytes / 1024).toFixed(1);

function sizes(files) {
  const totals = { raw: 0, gzip: 0, brotli: 0 };
  const rows = files.map(([path, what]) => {
    const file = fileURLToPath(new URL(path, root));
    const bytes = MINIFIED_IN_PACKAGE.includes(path) ? Buffer.from(minifyShipped(file)) : readFileSync(file);
    const gzip = gzipSync(bytes, { level: 9 }).length;
    const brotli = brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    totals.raw += bytes.length;
    totals.gzip += gzip;
    totals.brotli += brotli;
    return [path, what, kb(bytes.length), kb(gzip), kb(brotli)];
  });
  rows.push(['total', '', kb(totals.raw), kb(totals.gzip), kb(totals.brotli)]);
  return rows;
}

const header = ['file', 'what', 'raw', 'gzip -9', 'brotli 11'];
printTable('Shipped client size (KB; target <= 80 KB gzip)', header, sizes(shipped));
printTable('Server build, for comparison (KB; not shipped to browsers)', header, sizes([
  ['dist/earnings-core-server.wasm', 'the core + crediting planners, -O2'],
  ['dist/earnings-core-server.mjs', 'emscripten loader + embind glue'],
]));
