// The client under a strict Content-Security-Policy, as many production frontends send it:
// scripts only from the page's origin, WebAssembly compilation allowed, and no 'unsafe-eval' (no
// eval, no `new Function`). The shipped client module must load, restore, mine, store and sync
// under it, and nothing in it may even try to evaluate a string (every attempt is a reported
// violation, caught here, even where a fallback would hide it).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../js/support/http-server.js';
import { launchChromium } from '../js/support/chromium.js';
import { toUnits } from '../js/support/fake-server.js';
import { STRICT_CSP, watchViolations } from '../js/support/csp.js';

let server;
let browser;

before(async () => {
  server = await startTestServer({ headers: { 'Content-Security-Policy': STRICT_CSP } });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('under script-src \'self\' \'wasm-unsafe-eval\' the client loads, mines, stores and syncs with no violation', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  const csp = await watchViolations(page);
  await page.goto(`${server.origin}/tests/browser/client-page.html`);
  await page.waitForFunction(() => window.tegReady === true);

  // The policy is in force: page script that evaluates a string is refused.
  await page.addScriptTag({ url: '/tests/browser/csp-probe.js' });
  assert.equal(await page.evaluate(() => window.cspProbe), 'EvalError',
    'the page runs without the strict policy: this test would prove nothing');
  await csp.clear();

  const opened = await page.evaluate(() => window.teg.open({ userId: 4242, engineConfig: { maxRatePerHour: '100000' } }));
  assert.equal(opened.userId, 4242);
  assert.equal(await page.evaluate(() => window.teg.storeKind()), 'indexeddb');
  // 3600 TON per hour is 0.001 TON per ms: the test waits for a balance, never a time.
  await page.evaluate(() => window.teg.mine(4242, '3600'));
  await page.waitForFunction(() => /^0\.0[1-9]|^0\.[1-9]|^[1-9]/.test(window.teg.state(4242)?.currentEarnings ?? '0'));
  await page.evaluate(() => window.teg.earn(4242, '0.00012345'));
  const synced = await page.evaluate(() => window.teg.sync(4242));
  assert.equal(synced.status, 'synced');
  assert.ok(server.sync.creditedUnits(4242) >= toUnits('0.01') + toUnits('0.00012345'));
  await page.evaluate(() => window.teg.dispose());

  assert.deepEqual(await csp.violations(), []);
  assert.deepEqual(pageErrors, []);
  await context.close();
});
