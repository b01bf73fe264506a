// The client runtime in a real browser (headless Debian Chromium): real IndexedDB, localStorage,
// Web Locks and BroadcastChannel, pages served from 127.0.0.1 together with the fake sync server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../js/support/http-server.js';
import { launchChromium } from '../js/support/chromium.js';
import { toUnits } from '../js/support/fake-server.js';

// 3600 TON per hour is 0.001 TON per ms of real time: a test waits for a balance, never a time.
const RATE = '3600';
const ENGINE_CONFIG = { maxRatePerHour: '100000' };
let server;
let browser;

before(async () => {
  server = await startTestServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.close();
});

async function openPage(context, { userId, breakIndexedDb = false, tabs = true, legacyStorageKey } = {}) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('page error:', error.message));
  if (breakIndexedDb) {
    await page.addInitScript(() => {
      Object.defineProperty(window, 'indexedDB', { get() { throw new DOMException('blocked by policy', 'SecurityError'); } });
    });
  }
  await page.goto(`${server.origin}/tests/browser/client-page.html`);
  await page.waitForFunction(() => window.tegReady === true);
  const state = await page.evaluate(({ userId, config, tabs, legacyStorageKey }) => window.teg.open({ userId, engineConfig: config, tabs, legacyStorageKey }),
    { userId, config: ENGINE_CONFIG, tabs, legacyStorageKey });
  return { page, state };
}

function units(text) {
  return toUnits(text);
}

async function waitForEarnings(page, userId, atLeast) {
  await page.waitForFunction(({ userId, atLeast }) => {
    const text = window.teg.state(userId)?.currentEarnings ?? '0';
    const [whole, fraction = ''] = text.split('.');
    return BigInt(whole) * 100000000n + BigInt(fraction.padEnd(8, '0')) >= BigInt(atLeast);
  }, { userId, atLeast: String(atLeast) });
}

test('earnings persist in IndexedDB across a reload', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, { userId: 101 });
  assert.equal(await page.evaluate(() => window.teg.storeKind()), 'indexeddb');
  await page.evaluate((rate) => window.teg.mine(101, rate), RATE);
  await waitForEarnings(page, 101, units('0.5'));
  await page.evaluate(() => window.teg.earn(101, '0.00012345'));
  const beforeReload = await page.evaluate(() => window.teg.state(101));
  await page.reload();
  await page.waitForFunction(() => window.tegReady === true);
  const restored = await page.evaluate(({ config }) => window.teg.open({ userId: 101, engineConfig: config }), { config: ENGINE_CONFIG });
  assert.ok(units(restored.currentEarnings) >= units(beforeReload.currentEarnings),
    `${restored.currentEarnings} < ${beforeReload.currentEarnings}`);
  const synced = await page.evaluate(() => window.teg.sync(101));
  assert.equal(synced.status, 'synced');
  assert.equal(server.sync.creditedUnits(101), units(synced.state.syncedTotal));
  assert.equal(server.sync.users.get(101).applied.filter((op) => op.type === 'earnings_update').length, 1);
  await context.close();
});

test('falls back to localStorage when IndexedDB is unavailable, and still persists', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, { userId: 102, breakIndexedDb: true });
  assert.equal(await page.evaluate(() => window.teg.storeKind()), 'localstorage');
  await page.evaluate((rate) => window.teg.mine(102, rate), RATE);
  await waitForEarnings(page, 102, units('0.2'));
  await page.evaluate(() => window.teg.earn(102, '0.00000007'));
  const keys = await page.evaluate(() => Object.keys(localStorage));
  assert.ok(keys.includes('teg:record:102'), keys.join(','));
  const before = await page.evaluate(() => window.teg.state(102));
  await page.reload();
  await page.waitForFunction(() => window.tegReady === true);
  const restored = await page.evaluate(({ config }) => window.teg.open({ userId: 102, engineConfig: config }), { config: ENGINE_CONFIG });
  assert.ok(units(restored.currentEarnings) >= units(before.currentEarnings));
  await context.close();
});

test('two users on one device stay isolated', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, { userId: 103 });
  await page.evaluate(async ({ rate, config }) => {
    await window.teg.open({ userId: 104, engineConfig: config });
    await window.teg.mine(103, rate);
  }, { rate: RATE, config: ENGINE_CONFIG });
  await waitForEarnings(page, 103, units('0.3'));
  const [one, two] = await page.evaluate(() => [window.teg.state(103), window.teg.state(104)]);
  assert.ok(units(one.currentEarnings) >= units('0.3'));
  assert.equal(two.currentEarnings, '0.00000000');
  await page.evaluate(async () => {
    await window.teg.sync(103);
    await window.teg.sync(104);
  });
  assert.equal(server.sync.creditedUnits(104), 0n);
  assert.ok(server.sync.creditedUnits(103) >= units('0.3'));
  await context.close();
});

test('two tabs of one user: one leader, the follower forwards, nothing is counted twice', async () => {
  const context = await browser.newContext();
  const a = await openPage(context, { userId: 105 });
  const b = await openPage(context, { userId: 105 });
  assert.deepEqual([await a.page.evaluate(() => window.teg.isLeader(105)), await b.page.evaluate(() => window.teg.isLeader(105))], [true, false]);
  await b.page.evaluate((rate) => window.teg.mine(105, rate), RATE);
  await waitForEarnings(b.page, 105, units('0.3'));
  await b.page.evaluate(() => window.teg.earn(105, '0.00000003'));
  await a.page.evaluate(() => window.teg.sync(105));
  await b.page.evaluate(() => window.teg.sync(105));
  const final = await a.page.evaluate(() => window.teg.sync(105));
  const applied = server.sync.users.get(105).applied;
  assert.equal(applied.filter((op) => op.type === 'earnings_update').length, 1);
  // Time accrued by two tabs would show as overlapping spans.
  const spans = applied.filter((op) => op.type === 'accrual').sort((x, y) => x.from - y.from);
  for (let i = 1; i < spans.length; i += 1) assert.ok(spans[i].from >= spans[i - 1].to, `overlap ${JSON.stringify(spans.slice(i - 1, i + 1))}`);
  assert.equal(server.sync.creditedUnits(105), units(final.state.syncedTotal ?? final.state.currentEarnings));
  await context.close();
});

test('a tab killed between an earning and its sync loses nothing: the next tab sends it once', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, { userId: 106 });
  await page.evaluate((rate) => window.teg.mine(106, rate), RATE);
  await waitForEarnings(page, 106, units('0.1'));
  await page.evaluate(() => window.teg.earn(106, '0.00004321'));
  // Page.crash kills the renderer with no unload, pagehide or pending task run; the CDP call itself
  // never answers, so the crash event is what is awaited.
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent('crash');
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  await page.close().catch(() => {});
  const { page: next } = await openPage(context, { userId: 106 });
  const synced = await next.evaluate(() => window.teg.sync(106));
  const applied = server.sync.users.get(106).applied;
  assert.equal(applied.filter((op) => op.type === 'earnings_update' && op.amount === '0.00004321').length, 1);
  assert.equal(server.sync.creditedUnits(106), units(synced.state.syncedTotal));
  await context.close();
});

// Page.crash kills the renderer with no unload, pagehide or pending task run; the CDP call itself
// never answers, so the crash event is what is awaited.
async function crash(context, page) {
  const cdp = await context.newCDPSession(page);
  const crashed = page.waitForEvent('crash');
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  await page.close().catch(() => {});
}

// Taps awaited one by one with mining off (each tap is exactly what the balance gains), then the
// page crashes before any checkpoint: what is stored is the record and a journal entry per tap.
async function tapThenCrash(context, userId, taps) {
  const { page } = await openPage(context, { userId });
  await page.evaluate((userId) => window.teg.stopMining(userId), userId);
  const before = units((await page.evaluate((userId) => window.teg.state(userId), userId)).currentEarnings);
  for (let tap = 0; tap < taps; tap += 1) await page.evaluate((userId) => window.teg.earn(userId, '0.00000001'), userId);
  const keys = await page.evaluate((userId) => window.teg.journalKeys(userId), userId);
  await crash(context, page);
  return { before, keys };
}

test('taps stored as journal entries survive a renderer crash before any checkpoint, each restored and sent once', async () => {
  const context = await browser.newContext();
  const { before, keys } = await tapThenCrash(context, 111, 20);
  assert.ok(keys.length >= 19, `a tap stores a journal entry, not the record (${keys.length} entries)`);
  const { page, state } = await openPage(context, { userId: 111 });
  assert.equal(units(state.currentEarnings) - before, 20n, 'every tap restored, none twice');
  const synced = await page.evaluate(() => window.teg.sync(111));
  const earned = server.sync.users.get(111).applied.filter((op) => op.type === 'earnings_update');
  assert.equal(earned.reduce((sum, op) => sum + units(op.amount), 0n), 20n, 'and sent once');
  assert.equal(server.sync.creditedUnits(111), units(synced.state.syncedTotal));
  assert.deepEqual(await page.evaluate(() => window.teg.journalKeys(111)), [], 'the sync\'s checkpoint folded the entries in');
  await context.close();
});

test('a damaged journal entry after a crash is refused and quarantined, the app is told, and the taps before it count once', async () => {
  const context = await browser.newContext();
  const { before, keys } = await tapThenCrash(context, 112, 6);
  assert.ok(keys.length >= 5);
  const { page: probe } = await openPage(context, { userId: 113 });
  await probe.evaluate((key) => window.teg.damage(key), keys.at(-1));
  await probe.close();
  const { page, state } = await openPage(context, { userId: 112 });
  assert.equal(units(state.currentEarnings) - before, 5n, 'the last tap\'s entry is refused; the five before it count once');
  const told = (await page.evaluate(() => window.teg.events)).filter((event) => event.type === 'journal-quarantined');
  assert.equal(told.length, 1);
  assert.equal(told[0].code, 'RECORD_CORRUPT');
  assert.equal(told[0].replayed, keys.length - 1);
  assert.equal(told[0].quarantineKeys.length, 1, 'the refused entry is kept in quarantine');
  assert.deepEqual(await page.evaluate(() => window.teg.journalKeys(112)), []);
  await context.close();
});

test('the leader tab crashes: the follower takes over from the stored record, nothing lost, nothing twice', async () => {
  const context = await browser.newContext();
  const a = await openPage(context, { userId: 107 });
  const b = await openPage(context, { userId: 107 });
  await a.page.evaluate((rate) => window.teg.mine(107, rate), RATE);
  await waitForEarnings(a.page, 107, units('0.2'));
  await b.page.evaluate(() => window.teg.earn(107, '0.00000011'));
  await a.page.evaluate(() => window.teg.sync(107));
  const cdp = await context.newCDPSession(a.page);
  const crashed = a.page.waitForEvent('crash');
  cdp.send('Page.crash').catch(() => {});
  await crashed;
  await b.page.waitForFunction(() => window.teg.isLeader(107));
  await b.page.evaluate(() => window.teg.earn(107, '0.00000013'));
  const final = await b.page.evaluate(() => window.teg.sync(107));
  const applied = server.sync.users.get(107).applied;
  assert.deepEqual(applied.filter((op) => op.type === 'earnings_update').map((op) => op.amount).sort(), ['0.00000011', '0.00000013']);
  const spans = applied.filter((op) => op.type === 'accrual').sort((x, y) => x.from - y.from);
  // Back to back: no time counted twice (overlap) and none lost across the takeover (gap).
  for (let i = 1; i < spans.length; i += 1) assert.equal(spans[i].from, spans[i - 1].to, JSON.stringify(spans.slice(i - 1, i + 1)));
  assert.equal(server.sync.creditedUnits(107), units(final.state.syncedTotal));
  await context.close();
});

test('a user of the old app is imported from its localStorage entry once, then the entry is gone', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${server.origin}/tests/browser/client-page.html`);
  // What the old app left: JSON.stringify of its LocalEarningsData, float money included.
  await page.evaluate(() => {
    const entry = {
      state: { userId: 171, currentEarnings: 3.3, baseEarningRate: 0.5, lastUpdate: 1_700_000_000_000, startDate: 1_690_000_000_000, isActive: false, syncStatus: 'failed' },
      pendingOperations: [0.1, 0.2].map((amount, i) => ({ id: `old-${i}`, userId: 171, type: 'earnings_update', data: { amount }, timestamp: 1_700_000_000_000 + i, retryCount: 5, maxRetries: 5 })),
      lastCleanup: 0,
      version: 1,
    };
    localStorage.setItem('earningsData', JSON.stringify({ 171: entry }));
  });
  await page.close();
  const { page: app, state } = await openPage(context, { userId: 171, legacyStorageKey: 'earningsData' });
  assert.equal(state.heldForVerification, '0.30000000');
  assert.equal(await app.evaluate(() => localStorage.getItem('earningsData')), null);
  const synced = await app.evaluate(() => window.teg.sync(171));
  assert.equal(synced.status, 'synced');
  assert.deepEqual(server.sync.users.get(171).applied.map((op) => [op.type, op.amount]), [['verification', '0.30000000']]);
  // A reload restores the new record; nothing is imported twice.
  await app.reload();
  await app.waitForFunction(() => window.tegReady === true);
  const restored = await app.evaluate(() => window.teg.open({ userId: 171, legacyStorageKey: 'earningsData' }));
  assert.equal(restored.heldForVerification, '0.00000000');
  await context.close();
});

test('a clock moved forward while the app was closed, reloaded with the server unreachable: the hour is unconfirmed, never in the balance, across a reload, and refused once the server answers', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, { userId: 108 });
  await page.evaluate((rate) => window.teg.mine(108, rate), RATE);
  await waitForEarnings(page, 108, units('0.1'));
  const synced = await page.evaluate(() => window.teg.sync(108));
  assert.equal(synced.status, 'synced');
  const balance = units(synced.state.currentEarnings);
  // The server's rate (its answer set it) is what accrues from here on. While the app is closed
  // the user moves the device clock an hour forward and the sync server becomes unreachable.
  await context.addInitScript(() => {
    const realNow = Date.now.bind(Date);
    Date.now = () => realNow() + 3_600_000;
  });
  await context.route('**/v1/**', (route) => route.abort('connectionrefused'));
  const hour = units(synced.state.baseEarningRate);
  // Seconds of real time pass in this test: less than a minute's worth, far below the hour.
  const fewSeconds = hour / 60n;
  for (let reload = 0; reload < 2; reload += 1) {
    await page.reload();
    await page.waitForFunction(() => window.tegReady === true);
    const state = await page.evaluate(({ config }) => window.teg.open({ userId: 108, engineConfig: config }), { config: ENGINE_CONFIG });
    assert.equal(state.syncStatus, 'unreachable');
    assert.ok(units(state.unconfirmed) >= hour, `unconfirmed ${state.unconfirmed}`);
    const shown = await page.evaluate(() => window.teg.state(108));
    assert.ok(units(shown.currentEarnings) - balance < fewSeconds, `balance ${shown.currentEarnings} holds the moved hour`);
  }
  await context.unroute('**/v1/**');
  const judged = await page.evaluate(() => window.teg.sync(108));
  assert.equal(judged.status, 'synced');
  assert.equal(judged.state.unconfirmed, '0.00000000');
  assert.ok(units(judged.state.currentEarnings) - balance < fewSeconds, `balance ${judged.state.currentEarnings}`);
  const told = (await page.evaluate(() => window.teg.events)).filter((event) => event.type === 'catch-up');
  assert.equal(told.length, 1);
  assert.ok(told[0].refusedMs >= 3_600_000 - 2_000, JSON.stringify(told[0]));
  assert.ok(told[0].confirmedMs < 60_000, JSON.stringify(told[0]));
  const final = await page.evaluate(async () => {
    await window.teg.settled();
    return window.teg.state(108);
  });
  assert.equal(server.sync.creditedUnits(108), units(final.syncedTotal));
  await context.close();
});

test('the start\'s answer that comes after the 5 s start timeout is applied when it comes: the moved hour refused, no longer connecting, judged once', async () => {
  const context = await browser.newContext();
  const { page } = await openPage(context, { userId: 109 });
  await page.evaluate((rate) => window.teg.mine(109, rate), RATE);
  await waitForEarnings(page, 109, units('0.1'));
  const synced = await page.evaluate(() => window.teg.sync(109));
  const balance = units(synced.state.currentEarnings);
  // While the app is closed the user moves the device clock an hour forward; after the reload the
  // sync server answers the start's GET /v1/state only once initializeUser gave up waiting.
  await context.addInitScript(() => {
    const realNow = Date.now.bind(Date);
    Date.now = () => realNow() + 3_600_000;
  });
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  const asked = [];
  await context.route('**/v1/**', async (route) => {
    const { pathname } = new URL(route.request().url());
    asked.push(pathname);
    if (pathname === '/v1/state' && asked.filter((path) => path === pathname).length === 1) await held;
    await route.continue();
  });
  const hour = units(synced.state.baseEarningRate);
  const fewSeconds = hour / 60n;
  await page.reload();
  await page.waitForFunction(() => window.tegReady === true);
  const started = await page.evaluate(({ config }) => window.teg.open({ userId: 109, engineConfig: config }), { config: ENGINE_CONFIG });
  assert.equal(started.syncStatus, 'connecting');
  assert.ok(units(started.unconfirmed) >= hour, `unconfirmed ${started.unconfirmed}`);

  release();
  await page.waitForFunction(() => window.teg.events.some((event) => event.type === 'catch-up'));
  const judged = await page.evaluate(() => window.teg.state(109));
  assert.notEqual(judged.syncStatus, 'connecting');
  assert.equal(judged.unconfirmed, '0.00000000');
  assert.ok(units(judged.currentEarnings) - balance < fewSeconds, `balance ${judged.currentEarnings} holds the moved hour`);
  const told = (await page.evaluate(() => window.teg.events)).filter((event) => event.type === 'catch-up');
  assert.equal(told.length, 1);
  assert.ok(told[0].refusedMs >= 3_600_000 - 2_000, JSON.stringify(told[0]));
  // The start's answer judged it: no sync asked for the row again.
  const final = await page.evaluate(() => window.teg.sync(109));
  assert.equal(final.status, 'synced');
  assert.deepEqual(asked.filter((path) => path === '/v1/state'), ['/v1/state'], asked.join(' '));
  assert.equal(server.sync.creditedUnits(109), units(final.state.syncedTotal));
  await context.close();
});
