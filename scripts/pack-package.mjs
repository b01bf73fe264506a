// Packs the npm package as it is published: `npm pack` of the repository (its `files` list), with
// js/core.js and js/errors.js replaced by their minified form (scripts/minify-shipped.mjs). Prints
// the tarball's path. A plain `npm pack` or `npm publish` at the root ships the same files (its
// prepack rebuilds the wasm and swaps the minified files in: scripts/pack-minified.mjs); this one
// rebuilds nothing and never touches the working tree.
// REQUIRES: dist/ built (scripts/build-wasm.sh).
// Usage: node scripts/pack-package.mjs [destination folder, default build/package]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { MINIFIED_IN_PACKAGE, minifyShipped } from './minify-shipped.mjs';

const root = resolve(new URL('..', import.meta.url).pathname);
const destination = resolve(process.argv[2] ?? join(root, 'build/package'));
mkdirSync(destination, { recursive: true });
const stage = mkdtempSync(join(tmpdir(), 'earnings-pack-'));
try {
  const pack = (cwd, into) =>
    execFileSync('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', into], { cwd, encoding: 'utf8' })
      .trim().split('\n').pop();
  const readable = pack(root, stage);
  execFileSync('tar', ['-xzf', join(stage, readable), '-C', stage]);
  for (const path of MINIFIED_IN_PACKAGE) {
    writeFileSync(join(stage, 'package', path), minifyShipped(join(root, path)));
  }
  console.log(join(destination, pack(join(stage, 'package'), destination)));
} finally {
  rmSync(stage, { recursive: true, force: true });
}
