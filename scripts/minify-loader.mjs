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
const { code, errors } = minifySync(basename(output), readFileSync(input, 'utf8'));
if (errors.length > 0) {
  console.error(`minify-loader: ${input}: ${errors.map((error) => error.message).join('; ')}`);
  process.exit(1);
}
writeFileSync(output, code);
