// The README's import-map example (the ```html block holding an importmap), run as a page in
// headless Chromium from a folder where the packed package is installed, with no bundler: the
// map resolves the package by name, the core's wasm is fetched from next to it, and the page
// shows a user's balance. Usage: node tests/package/run-importmap.mjs <folder with node_modules>
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../js/support/http-server.js';
import { launchChromium } from '../js/support/chromium.js';

const root = path.resolve(process.argv[2]);
const readme = readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../README.md'), 'utf8');
const example = [...readme.matchAll(/^```html\n([\s\S]*?)^```/gm)].map((match) => match[1]).find((html) => html.includes('"importmap"'));
assert.ok(example, 'README.md has no ```html block with an import map');
writeFileSync(path.join(root, 'importmap.html'), `<!doctype html>\n<meta charset="utf-8">\n${example}`);

const server = await startTestServer({ root });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const failed = [];
  const errors = [];
  page.on('requestfailed', (request) => failed.push(request.url()));
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.origin}/importmap.html`);
  await page.waitForFunction(() => /^\d+\.\d{8}$/.test(document.querySelector('#balance')?.textContent ?? ''), null, { timeout: 20_000 })
    .catch(() => {});
  const balance = await page.evaluate(() => document.querySelector('#balance')?.textContent);
  assert.deepEqual(errors, []);
  assert.deepEqual(failed, []);
  assert.match(balance ?? '', /^\d+\.\d{8}$/, `the page shows ${JSON.stringify(balance)}`);
  const wasm = await page.evaluate(() => performance.getEntriesByType('resource').map((entry) => entry.name).filter((name) => name.endsWith('.wasm')));
  assert.deepEqual(wasm.map((name) => new URL(name).pathname), ['/node_modules/ton-earnings-guard/dist/earnings-core.wasm']);
  console.log(`chromium import map ok: balance ${balance}, wasm from ${wasm[0]}`);
} finally {
  await browser.close();
  await server.close();
}
