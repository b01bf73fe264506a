// Restore-and-ready time of the client runtime in headless Chromium: a user's record is read from
// IndexedDB, restored into a new engine and the manager is ready, with the core module already
// loaded (target: median under 30 ms). Prints a table; asserts nothing.
import { startTestServer } from '../tests/js/support/http-server.js';
import { launchChromium } from '../tests/js/support/chromium.js';

const RUNS = Number(process.env.RUNS ?? 40);
const server = await startTestServer();
const browser = await launchChromium();
try {
  const page = await browser.newPage();
  await page.goto(`${server.origin}/tests/browser/client-page.html`);
  await page.waitForFunction(() => window.tegReady === true);
  const engineConfig = { maxRatePerHour: '100000' };
  await page.evaluate(async ({ engineConfig }) => {
    await window.teg.open({ userId: 501, engineConfig, tabs: false });
    await window.teg.mine(501, '1');
    await window.teg.settled();
    await window.teg.dispose();
  }, { engineConfig });
  const times = await page.evaluate(({ runs, engineConfig }) => window.teg.restoreTimes({ userId: 501, runs, engineConfig }),
    { runs: RUNS, engineConfig });
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  console.log('\nClient: restore a user from IndexedDB and be ready (Chromium, core already loaded)');
  console.log('| runs | median ms | p95 ms | min ms | max ms | target |');
  console.log('|---:|---:|---:|---:|---:|---|');
  console.log(`| ${RUNS} | ${at(0.5).toFixed(2)} | ${at(0.95).toFixed(2)} | ${sorted[0].toFixed(2)} | ${sorted.at(-1).toFixed(2)} | median < 30 ms: ${at(0.5) < 30 ? 'met' : 'NOT met'} |`);
} finally {
  await browser.close();
  await server.close();
}
