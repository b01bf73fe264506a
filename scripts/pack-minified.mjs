// npm's prepack and postpack for any pack of the repository itself (`npm pack`, `npm publish` at
// its root): the tarball gets js/core.js and js/errors.js minified, exactly as
// scripts/pack-package.mjs ships them (scripts/minify-shipped.mjs), and the repository keeps its
// readable sources. `minify` (prepack) moves each readable file aside to build/pack-readable/ and
// writes its minified form in its place; `restore` (postpack) moves the readable files back. A pack
// that died between the two leaves them aside: the next `minify` or `restore` puts them back
// first, so the minified form is never taken for a source to keep (tests/package checks the
// working tree after a pack).
// Usage: node scripts/pack-minified.mjs minify|restore
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

import { MINIFIED_IN_PACKAGE, minifyShipped } from './minify-shipped.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const aside = join(root, 'build/pack-readable');

function restore() {
  for (const path of MINIFIED_IN_PACKAGE) {
    const readable = join(aside, path);
    if (existsSync(readable)) renameSync(readable, join(root, path));
  }
  rmSync(aside, { recursive: true, force: true });
}

function minify() {
  restore();
  // Every minified form is made before any source moves, so a minifier error changes nothing.
  const minified = MINIFIED_IN_PACKAGE.map((path) => [path, minifyShipped(join(root, path))]);
  for (const [path, code] of minified) {
    mkdirSync(dirname(join(aside, path)), { recursive: true });
    renameSync(join(root, path), join(aside, path));
    writeFileSync(join(root, path), code);
  }
}

const command = process.argv[2];
if (command === 'minify') minify();
else if (command === 'restore') restore();
else {
  console.error('usage: node scripts/pack-minified.mjs minify|restore');
  process.exit(2);
}
