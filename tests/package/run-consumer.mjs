// Serves a built consumer page from 127.0.0.1 with the strict Content-Security-Policy of
// tests/js/support/csp.js and checks in headless Chromium that the package loaded its wasm from
// the bundle and opened a user, with no policy violation.
import assert from 'node:assert/strict';
import { startTestServer } from '../js/support/http-server.js';
import { launchChromium } from '../js/support/chromium.js';
import { STRICT_CSP, watchViolations } from '../js/support/csp.js';

const root = process.argv[2];
const server = await startTestServer({ root, headers: { 'Content-Security-Policy': STRICT_CSP } });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const failed = [];
  page.on('requestfailed', (request) => failed.push(request.url()));
  const csp = await watchViolations(page);
  await page.goto(`${server.origin}/index.html`);
  await page.waitForFunction(() => window.result !== undefined);
  const result = await page.evaluate(() => window.result);
  assert.deepEqual(failed, []);
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.userId, 7);
  assert.deepEqual(await csp.violations(), []);
  console.log(`chromium consumer ok under ${STRICT_CSP}: ${JSON.stringify(result)}`);
} finally {
  await browser.close();
  await server.close();
}
