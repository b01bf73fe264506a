// A tap in headless Chromium: `updateEarnings` until the earning is stored in IndexedDB, through
// the public API (issue 12's target: p50 <= 2 ms, p95 <= 5 ms for calls in a row), then a burst
// of concurrent calls (they share writes: how many IndexedDB write transactions it took), then
// the parts of a record write (a checkpoint) and of a tap's journal entry write timed alone.
// Prints tables; asserts nothing.
//
// Each measurement gets its own browser and runs twice: at once when the page has opened (and
// the app started), and once the page has been open SETTLE_MS more. For a second or two after a
// page opens, the browser's start-up of its new renderer slows every IndexedDB transaction
// (docs/PERFORMANCE.md, "A tap"): a bare 77-byte put with no package code, timed the same way in
// a page of its own, shows how much of a tap's tail is the browser's.
// CALLS=n, BURST=n and SETTLE_MS=n change the sample.
import { startTestServer } from '../tests/js/support/http-server.js';
import { launchChromium } from '../tests/js/support/chromium.js';

const CALLS = Number(process.env.CALLS ?? 200);
const BURST = Number(process.env.BURST ?? 100);
const SETTLE_MS = Number(process.env.SETTLE_MS ?? 2000);
const USER = 601;
const server = await startTestServer();

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
};
const ms = (value) => value.toFixed(2);

// A fresh browser and page; `measure` runs in the page, waiting `settleMs` before it times anything.
async function inBrowser(settleMs, measure) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    // Counts IndexedDB write transactions: each is one record write reaching the store.
    await page.addInitScript(() => {
      window.idbWrites = 0;
      const open = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function transaction(names, mode, ...rest) {
        if (mode === 'readwrite') window.idbWrites += 1;
        return open.call(this, names, mode, ...rest);
      };
    });
    await page.goto(`${server.origin}/tests/browser/client-page.html`);
    await page.waitForFunction(() => window.tegReady === true);
    return await page.evaluate(measure, { userId: USER, calls: CALLS, burst: BURST, settleMs });
  } finally {
    await browser.close();
  }
}

async function taps({ userId, calls, burst, settleMs }) {
  await window.teg.open({ userId, engineConfig: { maxRatePerHour: '100000' }, tabs: false });
  // Mining, so every call also finds accrual to settle, as in a mining app.
  await window.teg.mine(userId, '3600');
  await window.teg.settled();
  await new Promise((resolve) => { setTimeout(resolve, settleMs); });
  return window.teg.tapTimes({ userId, calls, burst });
}

async function barePuts({ calls, settleMs }) {
  await new Promise((resolve) => { setTimeout(resolve, settleMs); });
  return window.teg.barePutTimes(calls);
}

try {
  const conditions = [['at once', 0], [`${SETTLE_MS / 1000} s later`, SETTLE_MS]];
  const runs = [];
  for (const [when, settleMs] of conditions) {
    runs.push({ when, tap: await inBrowser(settleMs, taps), bare: await inBrowser(settleMs, barePuts) });
  }

  console.log('\nClient: updateEarnings until stored in IndexedDB (Chromium; a tap journal entry, a deflated record at checkpoints)');
  console.log(`| page open, then | ${CALLS} calls in a row: p50 ms | p95 ms | max ms | a bare 77 B put: p50 ms | p95 ms | target p50 <= 2, p95 <= 5 |`);
  console.log('|---|---:|---:|---:|---:|---:|---|');
  for (const { when, tap, bare } of runs) {
    const p50 = quantile(tap.inRow, 0.5);
    const p95 = quantile(tap.inRow, 0.95);
    console.log(`| ${when} | ${ms(p50)} | ${ms(p95)} | ${ms(Math.max(...tap.inRow))} | ${ms(quantile(bare, 0.5))} | ${ms(quantile(bare, 0.95))} | ${p50 <= 2 && p95 <= 5 ? 'met' : 'NOT met'} |`);
  }
  console.log(`\n| page open, then | ${BURST} calls at once: all resolved in ms | IndexedDB write transactions |`);
  console.log('|---|---:|---:|');
  for (const { when, tap } of runs) console.log(`| ${when} | ${ms(tap.burstMs)} | ${tap.burstWrites} |`);

  const { tap } = runs.at(-1);
  console.log(`\nOne write's parts, timed alone, ${runs.at(-1).when} (record ${tap.recordBytes} B, stored ${tap.storedBytes} B; a tap's journal entry ${tap.entryBytes} B; 50 runs)`);
  console.log('| part | p50 ms | p95 ms |');
  console.log('|---|---:|---:|');
  for (const [part, times] of Object.entries(tap.parts)) {
    console.log(`| ${part} | ${ms(quantile(times, 0.5))} | ${ms(quantile(times, 0.95))} |`);
  }
} finally {
  await server.close();
}
