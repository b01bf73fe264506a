// Serves a built consumer page from 127.0.0.1 and checks in headless Chromium that the package
// loaded its wasm from the bundle and opened a user.
import assert from 'node:assert/strict';
import { startTestServer } from '../js/support/http-server.js';
import { launchChromium } from '../js/support/chromium.js';

const root = process.argv[2];
const server = await startTestServer({ root });
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  const failed = [];
  page.on('requestfailed', (request) => failed.push(request.url()));
  await page.goto(`${server.origin}/index.html`);
  await page.waitForFunction(() => window.result !== undefined);
  const result = await page.evaluate(() => window.result);
  assert.deepEqual(failed, []);
  assert.equal(result.ok, true, JSON.stringify(result));
  assert.equal(result.userId, 7);
  console.log(`chromium consumer ok: ${JSON.stringify(result)}`);
} finally {
  await browser.close();
  await server.close();
}
