// Regenerates docs/demo.png (the README's screenshot) and a phone-sized companion in
// test-results/demo/: `node web-demo/screenshot.js`. It plays a short session on the demo (mining,
// a few syncs, an outage, a response lost after commit, a clock jump) against a throwaway server,
// with both clocks manual so the picture is the same every time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pino from 'pino';

import { createServer } from '../server/app.js';
import { launchChromium } from '../tests/js/support/chromium.js';
import { demoServerOptions } from './launch.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const START_WALL = Date.UTC(2026, 0, 15, 9, 0, 0);

async function playSession(page, clock) {
  const advance = async (ms) => {
    clock.wall += ms;
    const target = await page.evaluate((step) => {
      window.demo.clock.advance(step);
      return window.demo.clock.wall();
    }, ms);
    await page.waitForFunction((wall) => window.demo.shown()?.lastUpdate >= wall, target);
  };
  const sync = () => page.evaluate(() => window.demo.syncNow().then((outcome) => outcome.status));

  await page.click('[data-testid="mining-toggle"]');
  await page.waitForFunction(() => window.demo.shown()?.isActive === true);
  for (const latency of [0, 120, 40, 300, 80]) {
    await page.evaluate((ms) => { window.demo.faults.network.latencyMs = ms; }, latency);
    await advance(30_000);
    await sync();
  }
  await page.evaluate(() => { window.demo.faults.network.latencyMs = 0; });
  await page.check('[data-testid="fault-offline"]');
  await advance(5 * 60_000);
  await sync();
  await page.evaluate(() => { window.demo.faults.network.dropNextResponses = 1; });
  await page.uncheck('[data-testid="fault-offline"]');
  await page.waitForFunction(() => window.demo.faults.network.counts.responsesDropped === 1);
  await page.evaluate(() => window.demo.settled());
  await sync();
  await page.click('[data-testid="clock-forward"]');
  await advance(30_000);
  await sync();
  await page.waitForFunction(() => window.demo.shown()?.syncStatus === 'synced');
  await page.waitForFunction(() => /Clock jump detected/.test(document.querySelector('[data-testid="happenings"]').textContent));
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'demo-screenshot-'));
  const clock = { wall: START_WALL };
  const server = await createServer({
    ...demoServerOptions({}),
    port: 0,
    dataDir,
    now: () => clock.wall,
    logger: pino({ level: 'error' }),
  });
  await server.listen();
  const browser = await launchChromium();
  try {
    const shots = path.join(ROOT, 'test-results', 'demo');
    fs.mkdirSync(shots, { recursive: true });
    for (const [file, viewport, userId] of [
      [path.join(ROOT, 'docs', 'demo.png'), { width: 1200, height: 860 }, 1001],
      [path.join(shots, 'readme-phone.png'), { width: 390, height: 844 }, 1002],
    ]) {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      await page.goto(`${server.url}/?clock=manual&wall=${clock.wall}&user=${userId}`);
      await page.waitForFunction(() => document.body.dataset.ready === 'true');
      await page.evaluate(() => window.demo.settled());
      await playSession(page, clock);
      await page.screenshot({ path: file });
      process.stdout.write(`wrote ${path.relative(ROOT, file)}\n`);
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`screenshot failed: ${error.stack ?? error}\n`);
  process.exit(1);
});
