// The demo's second device (issue 12 part 7) in headless Chromium against the real sync server
// (PGlite in a temp folder) on loopback: one user on two devices in one page, each with its own
// record and client id. One mines, the other shows "Mining on your other device" with the same
// balance, nothing goes to review, and the paused one mines again when the other stops. Time is
// manual on both sides, as in demo.test.js. Screenshots go to test-results/demo/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { DEMO_SHOTS as SHOTS, demoServerAndChromium, waitForText } from './demo-support.js';

const START_WALL = Date.UTC(2026, 0, 15, 9, 0, 0);
const MINUTE = 60_000;
const USER = 1001;

let serverWall = START_WALL;
const demo = demoServerAndChromium({
  dataDirPrefix: 'demo-devices-pglite-', now: () => serverWall, adminToken: 'demo-devices-admin-token-0123456789',
});

// Moves the server's clock and the page's (both devices share it) by `ms`. What the devices show
// is waited for where it is checked: a device that does not mine redraws nothing as time passes.
async function advance(page, ms) {
  serverWall += ms;
  await page.evaluate((step) => window.demo.clock.advance(step), ms);
}

const syncFirst = (page) => page.evaluate(() => window.demo.syncNow().then((outcome) => outcome.status));
const syncSecond = (page) => page.evaluate(() => window.demo.second.syncNow().then((outcome) => outcome.status));
// What both devices show once both have rendered the server's balance `total` (the page redraws
// at most once a second).
async function shownAt(page, total) {
  await page.waitForFunction(
    (expected) => window.demo.shown()?.syncedTotal === expected && window.demo.second.shown()?.syncedTotal === expected,
    total,
  );
  return page.evaluate(() => ({ first: window.demo.shown(), second: window.demo.second.shown() }));
}
const text = (page, testId) => page.textContent(`[data-testid="${testId}"]`);

async function serverRow() {
  const [row] = await demo.server.db.query(
    'SELECT total_earned::text AS total, pending_review::text AS review FROM user_earnings WHERE user_id = $1',
    [USER],
  );
  const [{ n }] = await demo.server.db.query('SELECT COUNT(*)::int AS n FROM earnings_review_queue WHERE user_id = $1', [USER]);
  return { ...row, reviewItems: n };
}

test('two devices of one user: one mines, the other shows "Mining on your other device" with the same balance; nothing is reviewed; the paused one mines when the other stops', async () => {
  const context = await demo.browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  await page.goto(`${demo.server.url}/?clock=manual&wall=${serverWall}&user=${USER}`);
  await page.waitForFunction(() => document.body.dataset.ready !== undefined);
  assert.equal(await page.evaluate(() => document.body.dataset.ready), 'true', await text(page, 'happenings'));
  await page.evaluate(() => window.demo.settled());

  // The second device opens for the same user (its own record and client id) and starts mining:
  // the demo tells the server at once, which gives it the user's mining lease.
  await page.click('[data-testid="second-open"]');
  await page.waitForFunction(() => window.demo.second?.shown() != null);
  await waitForText(page, 'second-status', /^Not mining$/);
  await page.click('[data-testid="second-toggle"]');
  await page.waitForFunction(() => window.demo.second.shown()?.isActive === true);
  await waitForText(page, 'second-status', /^Mining on this device$/);
  await advance(page, 2 * MINUTE);

  // The user starts mining on the first device: its explicit start takes the lease over, and the
  // second device, syncing right then, is credited its two minutes and pauses.
  await page.click('[data-testid="mining-toggle"]');
  await page.waitForFunction(() => window.demo.shown()?.isActive === true);
  assert.equal(await syncFirst(page), 'synced');
  assert.equal(await syncSecond(page), 'synced');
  await page.waitForFunction(() => window.demo.second.waiting() !== null);
  await waitForText(page, 'second-status', /^Mining on your other device/);
  await waitForText(page, 'second-toggle', /^Mine on this device instead$/);
  await waitForText(page, 'mining-status', /^Mining on this device$/);

  await advance(page, 2 * MINUTE);
  assert.equal(await syncFirst(page), 'synced');
  assert.equal(await syncSecond(page), 'synced');
  let row = await serverRow();
  // 1 TON/h for two minutes on each device in turn, each rounded down to 10^-8 TON.
  assert.equal(row.total, '0.06666666');
  let { first, second } = await shownAt(page, row.total);
  assert.equal(first.currentEarnings, row.total);
  assert.equal(second.currentEarnings, row.total, 'the paused device shows the server balance');
  assert.equal(second.pending, '0.00000000', 'it accrued nothing while the first device mined');
  await waitForText(page, 'balance', /^0\.06666666$/);
  await waitForText(page, 'second-balance', /^0\.06666666$/);
  await page.screenshot({ path: path.join(SHOTS, 'devices-1-one-mines.png'), fullPage: true });

  // The user stops on the first device: its release frees the lease, and the second takes it at
  // its next sync and mines again.
  await page.click('[data-testid="mining-toggle"]');
  await page.waitForFunction(() => window.demo.shown()?.isActive === false);
  assert.equal(await syncFirst(page), 'synced');
  assert.equal(await syncSecond(page), 'synced');
  await page.waitForFunction(() => window.demo.second.shown()?.isActive === true);
  await waitForText(page, 'second-status', /^Mining on this device$/);
  await waitForText(page, 'happenings', /Second device: mining again: the first device stopped/);
  await waitForText(page, 'mining-status', /^Not mining$/);
  await advance(page, MINUTE);
  assert.equal(await syncSecond(page), 'synced');
  row = await serverRow();
  // Five minutes, each counted once: two on the first device (0.03333333) and three on the second,
  // whose engine carries the sub-unit remainder across its pause (0.05000000).
  assert.equal(row.total, '0.08333333');
  await page.waitForFunction((total) => window.demo.second.shown()?.syncedTotal === total, row.total);
  await waitForText(page, 'second-balance', /^0\.08333333$/);
  // The first device, stopped by the user, neither mines nor waits, so it sends nothing and shows
  // the balance of its last exchange (as any device that is not mining).
  ({ first, second } = await page.evaluate(() => ({ first: window.demo.state(), second: window.demo.second.shown() })));
  assert.equal(first.currentEarnings, '0.06666666');
  assert.equal(first.isActive, false);

  // Nothing went to review, on the server or on either device, and nothing was claimed twice.
  assert.equal(row.review, '0.00000000');
  assert.equal(row.reviewItems, 0);
  for (const state of [first, second]) {
    assert.equal(state.underReview, '0.00000000');
    assert.equal(state.rejectedTotal, '0.00000000');
  }
  await page.screenshot({ path: path.join(SHOTS, 'devices-2-other-mines.png'), fullPage: true });
  await context.close();
});
