// The demo page in headless Chromium against the real sync server (PGlite in a temp folder) on
// loopback. Time is manual on both sides: the page runs with ?clock=manual and the server with an
// injected `now`, and the test moves both together, so every expected amount is exact.
// Screenshots of each state go to test-results/demo/.
import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';

import { signInitData } from '../../server/auth.js';
import { DEMO_SHOTS as SHOTS, demoServerAndChromium, waitForText } from './demo-support.js';

const ADMIN_TOKEN = 'demo-test-admin-token-0123456789';
const BOT_TOKEN = '123456789:AAdemo-test-bot-token_0123456789';
// Beyond 32 bits, as real Telegram ids are.
const TELEGRAM_USER_ID = 5_000_000_001;
const START_WALL = Date.UTC(2026, 0, 15, 9, 0, 0);
const MINUTE = 60_000;
const HOUR_MS = 60 * MINUTE;

let serverWall = START_WALL;
const demo = demoServerAndChromium({
  dataDirPrefix: 'demo-test-pglite-', now: () => serverWall, adminToken: ADMIN_TOKEN, botToken: BOT_TOKEN,
});

// Every test starts from an empty server, as every browser context starts from empty storage, so
// each can use the demo's own users.
beforeEach(async () => {
  await demo.server.db.query(
    'TRUNCATE user_earnings, earnings_audit_log, sync_client_sequences, sync_op_results, earnings_review_queue',
  );
});

async function openDemo(context, userId) {
  const page = await context.newPage();
  page.on('pageerror', (error) => process.stderr.write(`page error: ${error.message}\n`));
  await page.goto(`${demo.server.url}/?clock=manual&wall=${serverWall}&user=${userId}`);
  await waitReady(page);
  return page;
}

async function waitReady(page) {
  await page.waitForFunction(() => document.body.dataset.ready !== undefined);
  const ready = await page.evaluate(() => document.body.dataset.ready);
  if (ready !== 'true') {
    throw new Error(`demo failed to start: ${await page.textContent('#startup-error')}`);
  }
  // A fresh or recovered session first asks the server for the user's state.
  await page.evaluate(() => window.demo.settled());
}

// Moves the server's clock and the page's clock by the same amount, then waits until the page has
// rendered a state accrued up to then (the manager ticks once a second and notifies the page).
async function advance(page, ms) {
  serverWall += ms;
  const target = await page.evaluate((step) => {
    window.demo.clock.advance(step);
    return window.demo.clock.wall();
  }, ms);
  await page.waitForFunction((wall) => window.demo.shown()?.lastUpdate >= wall, target);
}

const stateOf = (page) => page.evaluate(() => window.demo.state());

async function startMining(page) {
  await page.click('[data-testid="mining-toggle"]');
  await page.waitForFunction(() => window.demo.shown()?.isActive === true);
}

async function stopMining(page) {
  await page.click('[data-testid="mining-toggle"]');
  await page.waitForFunction(() => window.demo.shown()?.isActive === false);
}

async function syncNow(page) {
  return page.evaluate(() => window.demo.syncNow().then((outcome) => ({
    status: outcome.status,
    results: outcome.results ?? [],
    retryInMs: outcome.retryInMs,
  })));
}

async function serverTotal(userId) {
  const rows = await demo.server.db.query('SELECT total_earned::text AS total FROM user_earnings WHERE user_id = $1', [userId]);
  return rows.length === 0 ? null : rows[0].total;
}

// The feed's lines about clock jumps, without their time stamps.
const clockJumpLines = (page) =>
  page.$$eval('[data-testid="happenings"] li', (items) =>
    items.map((item) => item.lastChild.textContent).filter((text) => text.startsWith('Clock jump')));

// Mines a minute, moves the device's wall clock an hour with `button`, mines another minute and
// syncs: the two minutes of real (monotonic) time are credited, here and on the server, the hour
// the wall clock moved is not, and the feed shows the jump once, as `line`, the sync's detection
// as the server's confirmation of it.
async function mineAcrossClockJump(page, userId, button, line) {
  await startMining(page);
  await advance(page, MINUTE);
  await page.click(`[data-testid="${button}"]`);
  await advance(page, MINUTE);
  await stopMining(page);
  assert.equal((await syncNow(page)).status, 'synced');
  assert.equal((await stateOf(page)).currentEarnings, '0.03333333');
  assert.equal(await serverTotal(userId), '0.03333333');
  await waitForText(page, 'happenings', /the server confirmed it at the next sync/);
  assert.deepEqual(await clockJumpLines(page), [line]);
  // The sync's time is the moved clock's, an hour off the audit log's: the page says so.
  await waitForText(page, 'last-sync', button === 'clock-forward' ? /by this device's clock, 60 min ahead$/ : /by this device's clock, 60 min behind$/);
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

// Mines two minutes and syncs them (the server holds 0.03333333), then (with `offline`, the
// network off first) flips a byte of the stored record with the demo's button, which reloads.
async function syncedThenCorrupted(page, { offline = false } = {}) {
  await startMining(page);
  await advance(page, 2 * MINUTE);
  await stopMining(page);
  assert.equal((await syncNow(page)).status, 'synced');
  assert.equal(await serverTotal(await page.evaluate(() => window.demo.userId)), '0.03333333');
  if (offline) await page.check('[data-testid="fault-offline"]');
  await Promise.all([page.waitForEvent('load'), page.click('[data-testid="corrupt"]')]);
  await waitReady(page);
}

describe('demo page', () => {
  test('mining persists across a reload', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1001);
    await startMining(page);
    await advance(page, MINUTE);
    // 1 TON/h for one minute, in 10^-8 TON units rounded down: 0.01666666.
    assert.equal((await stateOf(page)).currentEarnings, '0.01666666');
    await waitForText(page, 'balance', /^0\.01666666$/);
    await shot(page, '01-mining');

    await page.reload();
    await waitReady(page);
    const restored = await stateOf(page);
    assert.equal(restored.isActive, true);
    assert.equal(restored.currentEarnings, '0.01666666');
    await advance(page, MINUTE);
    assert.equal((await stateOf(page)).currentEarnings, '0.03333333');
    await waitForText(page, 'balance', /^0\.03333333$/);
    await shot(page, '02-after-reload');
    await context.close();
  });

  test('offline, then online with the first response lost: the server credits the earned amount exactly once', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1002);
    await startMining(page);
    await page.check('[data-testid="fault-offline"]');
    await advance(page, 10 * MINUTE);
    const offline = await syncNow(page);
    assert.equal(offline.status, 'failed');
    await page.waitForFunction(() => window.demo.state().syncStatus !== 'synced');
    assert.equal(await serverTotal(1002), '0.00000000');
    await waitForText(page, 'happenings', /Sync failed/);
    await shot(page, '03-offline');

    // Back online, but the answer to the first sync is lost after the server committed it.
    await page.evaluate(() => { window.demo.faults.network.dropNextResponses = 1; });
    await page.uncheck('[data-testid="fault-offline"]');
    await page.waitForFunction(() => window.demo.faults.network.counts.responsesDropped === 1);
    await page.evaluate(() => window.demo.settled());
    assert.equal(await serverTotal(1002), '0.16666666');

    // The lost answer's ops are resent with the same ids, either by the client on its own (the
    // retry timer) before this call or by this call: in both cases the server answers 'duplicate'
    // (the feed line below only appears for duplicate answers) and credits nothing more.
    const resent = await syncNow(page);
    assert.equal(resent.status, 'synced');
    await waitForText(page, 'happenings', /duplicates: credited once/);
    await page.waitForFunction(() => window.demo.state().syncStatus === 'synced');
    assert.equal(await serverTotal(1002), '0.16666666');
    const state = await stateOf(page);
    assert.equal(state.currentEarnings, '0.16666666');
    assert.equal(state.syncedTotal, '0.16666666');
    // Conservation: what the per-op answers credited adds up to the row's total.
    const [credited] = await demo.server.db.query(
      'SELECT sum(credited)::text AS sum FROM sync_op_results WHERE user_id = $1', [1002],
    );
    assert.equal(credited.sum, '0.16666666');
    await waitForText(page, 'happenings', /duplicates: credited once/);
    await waitForText(page, 'sync-status', /^synced$/);
    await shot(page, '04-back-online');
    await context.close();
  });

  test('flaky network: dropped requests fail with a retry countdown; latency shows on the chart; nothing lost', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1001);
    await startMining(page);
    await page.selectOption('[data-testid="fault-drop-requests"]', '1');
    await advance(page, MINUTE);
    const failed = await syncNow(page);
    assert.equal(failed.status, 'failed');
    await waitForText(page, 'happenings', /Sync failed: Failed to fetch \(demo: request dropped\)/);
    // The countdown shows the backoff the core chose (seeded, so the same every run); the
    // manager may retry meanwhile, which fails again and sets a new one.
    assert.ok(failed.retryInMs > 0);
    await waitForText(page, 'retry-in', /^in \d+(\.\d)? s$/);
    assert.equal(await serverTotal(1001), '0.00000000');
    assert.ok(await page.evaluate(() => window.demo.faults.network.counts.requestsDropped) >= 1);
    await shot(page, '03b-requests-dropped');

    await page.selectOption('[data-testid="fault-drop-requests"]', '0');
    await page.selectOption('[data-testid="fault-latency"]', '300');
    await stopMining(page);
    assert.equal((await syncNow(page)).status, 'synced');
    assert.equal(await serverTotal(1001), '0.01666666');
    const latency = Number((await page.textContent('#latency-last')).match(/last (\d+) ms/)[1]);
    assert.ok(latency >= 300, `latency chart shows ${latency} ms`);
    await context.close();
  });

  test('a corrupted local record is detected, quarantined, recovered from the server and shown', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1003);
    await syncedThenCorrupted(page);
    await waitForText(page, 'alert', /Corruption detected \(RECORD_CORRUPT\).*recovered from server/);
    await waitForText(page, 'happenings', /Flipped a byte/);
    const recovered = await stateOf(page);
    assert.equal(recovered.syncedTotal, '0.03333333');
    assert.equal(recovered.currentEarnings, '0.03333333');
    const quarantined = await page.evaluate(() => window.demo.manager.listQuarantine(window.demo.userId));
    assert.equal(quarantined.length, 1);
    await shot(page, '05-corruption-recovered');
    await context.close();
  });

  test('a record corrupted while offline: the alert says recovery will be retried, and once back online that the record is rebuilt', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1003);
    await syncedThenCorrupted(page, { offline: true });
    await waitForText(page, 'alert', /Corruption detected \(RECORD_CORRUPT\).*server recovery will be retried/);
    await page.uncheck('[data-testid="fault-offline"]');
    await waitForText(page, 'alert', /The server answered: the corrupted record is rebuilt from it \(0\.03333333 TON synced\)/);
    assert.equal(await page.getAttribute('[data-testid="alert"]', 'data-tone'), 'good');
    assert.equal((await stateOf(page)).syncedTotal, '0.03333333');
    await context.close();
  });

  test('two users on one device stay isolated, locally and on the server', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1001);
    await startMining(page);
    await advance(page, MINUTE);
    await stopMining(page);
    await syncNow(page);

    await Promise.all([page.waitForEvent('load'), page.selectOption('[data-testid="user-select"]', '1002')]);
    await waitReady(page);
    assert.equal(await page.evaluate(() => window.demo.userId), 1002);
    assert.equal((await stateOf(page)).currentEarnings, '0.00000000');
    await startMining(page);
    await advance(page, 3 * MINUTE);
    await stopMining(page);
    await syncNow(page);
    assert.equal((await stateOf(page)).currentEarnings, '0.05000000');
    await shot(page, '06-second-user');

    await Promise.all([page.waitForEvent('load'), page.selectOption('[data-testid="user-select"]', '1001')]);
    await waitReady(page);
    assert.equal((await stateOf(page)).currentEarnings, '0.01666666');
    assert.equal(await serverTotal(1001), '0.01666666');
    assert.equal(await serverTotal(1002), '0.05000000');
    await context.close();
  });

  test('a wall-clock jump forward is flagged and not credited', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1003);
    await mineAcrossClockJump(page, 1003, 'clock-forward',
      'Clock jump detected: the device clock moved forward 60 min against real time; the jumped time is not credited; the server confirmed it at the next sync');
    // The audit keeps both detections (the tick's and the sync's); the feed showed the jump once.
    const flagged = await page.$$eval('[data-testid="audit"] tr[data-operation="clock_jump"]', (rows) => rows.length);
    assert.equal(flagged, 2);
    await shot(page, '07-clock-jump');
    await context.close();
  });
  test('a wall clock moved back never takes earnings away or pays them twice', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1002);
    await mineAcrossClockJump(page, 1002, 'clock-back',
      'Clock jump detected: the device clock moved back 60 min against real time; the jumped time is not credited; the server confirmed it at the next sync');
    await context.close();
  });

  test('reloaded offline after the device clock moved an hour forward: Unconfirmed shows the claim beside the balance, and the server judges it once back', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1003);
    await startMining(page);
    await advance(page, MINUTE);
    assert.equal((await syncNow(page)).status, 'synced');
    await waitForText(page, 'unconfirmed', /^0\.00000000 TON$/);

    // The person turns the network off (the box holds across reloads) and closes the app; a
    // minute passes while the device clock is moved an hour forward; the app opens again.
    await page.check('[data-testid="fault-offline"]');
    serverWall += MINUTE;
    const reopened = new URL(page.url());
    reopened.searchParams.set('wall', String(serverWall + HOUR_MS));
    await page.goto(reopened.href);
    await waitReady(page);
    assert.equal(await page.isChecked('[data-testid="fault-offline"]'), true);
    await waitForText(page, 'sync-status', /server unreachable/);
    // 61 minutes the device clock claims at 1 TON/h, beside the balance, not in it.
    await waitForText(page, 'unconfirmed', /^1\.01666666 TON$/);
    await waitForText(page, 'balance', /^0\.01666666$/);
    await shot(page, '14-unconfirmed');

    // Network back: the server's clock judges the closed time (a minute counted, the hour refused).
    await page.uncheck('[data-testid="fault-offline"]');
    await waitForText(page, 'unconfirmed', /^0\.00000000 TON$/);
    await waitForText(page, 'balance', /^0\.03333333$/);
    await waitForText(page, 'happenings', /The server's clock judged the time the app was closed: 60 s counted; 60 min more that the device clock claimed refused/);
    await page.evaluate(() => window.demo.settled());
    assert.equal((await syncNow(page)).status, 'synced');
    await waitForText(page, 'sync-status', /^synced$/);
    assert.equal(await serverTotal(1003), '0.03333333');
    await context.close();
  });

  test('beyond the offline cap the excess is queued for review; the operator approves it from the page', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1001);
    await startMining(page);
    await page.check('[data-testid="fault-offline"]');
    // Nine hours offline against the default 8 h cap: 8 TON accrue, 1 TON is held for verification.
    await advance(page, 9 * 60 * MINUTE);
    await waitForText(page, 'held', /^1\.00000000 TON$/);
    await stopMining(page);
    await page.uncheck('[data-testid="fault-offline"]');
    await page.evaluate(() => window.demo.settled());
    assert.equal((await syncNow(page)).status, 'synced');
    assert.equal(await serverTotal(1001), '8.00000000');
    await waitForText(page, 'happenings', /1\.00000000 TON queued for manual review/);
    await waitForText(page, 'happenings', /Offline past the 8 h cap/);
    await page.waitForFunction(() => window.demo.shown()?.syncStatus === 'synced');

    await page.fill('[data-testid="admin-token"]', ADMIN_TOKEN);
    await page.click('[data-testid="admin-load"]');
    const row = page.locator('[data-testid="reviews"] tbody tr');
    await row.first().waitFor();
    assert.equal(await row.count(), 1);
    assert.match(await row.first().textContent(), /1001.*1\.00000000 TON/);
    await shot(page, '08-review-queue');
    await row.first().locator('button[data-action="approve"]').click();
    await waitForText(page, 'admin-message', /No reviews pending/);
    assert.equal(await serverTotal(1001), '9.00000000');
    const [review] = await demo.server.db.query('SELECT status, amount::text AS amount FROM earnings_review_queue');
    assert.deepEqual({ ...review }, { status: 'approved', amount: '1.00000000' });
    await context.close();
  });

  test('the review queue refuses a wrong admin token and says so', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1001);
    await page.fill('[data-testid="admin-token"]', 'not-the-token-at-all');
    await page.click('[data-testid="admin-load"]');
    await waitForText(page, 'admin-message', /FORBIDDEN/);
    assert.equal(await page.locator('[data-testid="reviews"] tbody tr').count(), 0);
    await context.close();
  });

  test('a second tab of the same user follows the leader, and takes over when the leader closes', async () => {
    const context = await demo.browser.newContext();
    const first = await openDemo(context, 1001);
    await waitForText(first, 'leader', /^leader/);
    const second = await openDemo(context, 1001);
    await waitForText(second, 'leader', /^follower/);
    assert.equal(await second.isDisabled('[data-testid="corrupt"]'), true);
    await startMining(first);
    await advance(first, MINUTE);
    await second.waitForFunction(() => window.demo.shown()?.currentEarnings === '0.01666666');
    await shot(second, '09-follower-tab');
    await first.close();
    await waitForText(second, 'leader', /^leader/);
    await second.waitForFunction(() => !document.querySelector('[data-testid="corrupt"]').disabled);
    await waitForText(second, 'happenings', /this tab took over/);
    // Leave nothing owed: closing a page with unsynced earnings sends a keepalive sync, which
    // would land in the next test's freshly emptied database.
    await stopMining(second);
    assert.equal((await syncNow(second)).status, 'synced');
    await context.close();
  });

  test('storage full: another user\'s synced record is evicted, the active user\'s record is kept', async () => {
    const context = await demo.browser.newContext();
    const page = await openDemo(context, 1002);
    await startMining(page);
    await advance(page, MINUTE);
    await stopMining(page);
    assert.equal((await syncNow(page)).status, 'synced');

    await Promise.all([page.waitForEvent('load'), page.selectOption('[data-testid="user-select"]', '1001')]);
    await waitReady(page);
    await startMining(page);
    await advance(page, MINUTE);
    await page.click('[data-testid="fill-quota"]');
    await waitForText(page, 'happenings', /QuotaExceededError/);
    await waitForText(page, 'happenings', /evicted teg:record:1002/);
    await waitForText(page, 'happenings', /active user stored again/);
    await page.waitForFunction(() => window.demo.shown()?.syncStatus === 'synced');
    const keys = await page.evaluate(async () => (await window.demo.faults.storage.inner.list('teg:record:')).map((entry) => entry.key));
    assert.deepEqual(keys, ['teg:record:1001']);
    await shot(page, '10-storage-full');
    await stopMining(page);
    assert.equal((await syncNow(page)).status, 'synced');
    assert.equal(await serverTotal(1001), '0.01666666');
    assert.equal(await serverTotal(1002), '0.01666666');
    await context.close();
  });

  test('layout: readable on a phone and on a desktop, nothing wider than the screen', async () => {
    for (const [name, viewport] of [['phone', { width: 390, height: 844 }], ['desktop', { width: 1280, height: 900 }]]) {
      const context = await demo.browser.newContext({ viewport });
      const page = await openDemo(context, 1001);
      await startMining(page);
      await advance(page, MINUTE);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${name}: page is ${overflow}px wider than the viewport`);
      const balanceBox = await page.locator('[data-testid="balance"]').boundingBox();
      assert.ok(balanceBox.y < viewport.height / 2, `${name}: the balance is above the fold`);
      await page.screenshot({ path: path.join(SHOTS, `layout-${name}.png`) });
      await context.close();
    }
  });
  // Telegram's own script is replaced by one that does what it does for the page: expose
  // Telegram.WebApp with the launch's initData and set the chat's theme colours.
  async function openInTelegram(context, initData) {
    const page = await context.newPage();
    await page.route('https://telegram.org/js/telegram-web-app.js', (route) => route.fulfill({
      contentType: 'text/javascript',
      body: `
        const theme = { bg_color: '#17212b', secondary_bg_color: '#232e3c', text_color: '#f5f5f5',
          hint_color: '#708499', link_color: '#6ab3f3', button_color: '#5288c1', button_text_color: '#ffffff' };
        for (const [key, value] of Object.entries(theme)) {
          document.documentElement.style.setProperty('--tg-theme-' + key.replaceAll('_', '-'), value);
        }
        window.Telegram = { WebApp: { initData: ${JSON.stringify(initData)}, initDataUnsafe: {}, themeParams: theme,
          ready() {}, expand() {}, onEvent() {}, offEvent() {} } };
      `,
    }));
    const launch = new URLSearchParams({ tgWebAppData: initData, tgWebAppVersion: '8.0', tgWebAppPlatform: 'android' });
    await page.goto(`${demo.server.url}/?clock=manual&wall=${serverWall}#${launch}`);
    return page;
  }

  function telegramInitData(botToken) {
    return signInitData({
      query_id: 'AAHdF6IQAAAAAN0XohDhrOrc',
      user: JSON.stringify({ id: TELEGRAM_USER_ID, first_name: 'Dana', language_code: 'en' }),
      auth_date: String(Math.floor(serverWall / 1000)),
    }, botToken);
  }

  test('inside Telegram: the user comes from signed initData, the server validates it and credits that user', async () => {
    const context = await demo.browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await openInTelegram(context, telegramInitData(BOT_TOKEN));
    await waitReady(page);
    assert.equal(await page.evaluate(() => window.demo.userId), TELEGRAM_USER_ID);
    await waitForText(page, 'telegram-user', new RegExp(`Telegram user ${TELEGRAM_USER_ID}`));
    assert.equal(await page.isVisible('[data-testid="user-select"]'), false);
    await startMining(page);
    await advance(page, MINUTE);
    await stopMining(page);
    assert.equal((await syncNow(page)).status, 'synced');
    assert.equal(await serverTotal(TELEGRAM_USER_ID), '0.01666666');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    assert.equal(background, 'rgb(23, 33, 43)');
    await page.waitForFunction(() => window.demo.shown()?.syncStatus === 'synced');
    await shot(page, '11-telegram');
    await context.close();
  });

  test('a wrong endpoint (a static host answering 404) shows "server unreachable", names it, and loses nothing once fixed', async () => {
    const context = await demo.browser.newContext();
    // What a proxy that is not routing yet, or a static host, answers for the sync API.
    await context.route('**/v1/**', (route) => route.fulfill({ status: 404, contentType: 'text/html', body: '<html><h1>404 Not Found</h1></html>' }));
    const page = await openDemo(context, 1002);
    await waitForText(page, 'sync-status', /server unreachable/);
    assert.equal(await page.getAttribute('[data-testid="sync-status"]', 'data-status'), 'unreachable');
    await waitForText(page, 'happenings', new RegExp(`unreachable at ${demo.server.url}/v1/state.*HTTP 404`));
    await startMining(page);
    await advance(page, MINUTE);
    assert.equal((await syncNow(page)).status, 'failed');
    await waitForText(page, 'sync-status', /server unreachable/);
    await shot(page, '12-unreachable');
    const state = await stateOf(page);
    assert.equal(state.rejectedTotal, '0.00000000');
    assert.equal(state.pending, state.currentEarnings);
    await context.unroute('**/v1/**');
    const fixed = await syncNow(page);
    assert.equal(fixed.status, 'synced');
    await waitForText(page, 'sync-status', /^synced$/);
    // Everything mined reached the server (credited, or queued for review beyond its budget for a
    // row it first saw now); nothing was refused.
    const after = await stateOf(page);
    assert.equal(after.pending, '0.00000000');
    assert.equal(after.rejectedTotal, '0.00000000');
    assert.notEqual(await serverTotal(1002), null);
    await context.close();
  });

  test('inside Telegram with initData signed by another bot: refused, nothing credited, the page says why', async () => {
    const context = await demo.browser.newContext();
    const page = await openInTelegram(context, telegramInitData('987654321:AAsome-other-bot-token_98765432'));
    await waitReady(page);
    // Never a green "synced" for a user the server refused, from the first answer on.
    await waitForText(page, 'sync-status', /not authorized/);
    assert.equal(await page.getAttribute('[data-testid="sync-status"]', 'data-status'), 'unauthorized');
    await startMining(page);
    await advance(page, MINUTE);
    const outcome = await syncNow(page);
    assert.equal(outcome.status, 'failed');
    await waitForText(page, 'happenings', /signature does not match/);
    assert.equal(await serverTotal(TELEGRAM_USER_ID), null);
    await context.close();
  });
});
