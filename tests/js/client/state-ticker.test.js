// When a user's balance moves for watchers and the record is checkpointed (js/state-ticker.js),
// driven through its delegate alone with fake timers: no manager, no engine. The delegate's
// ticks log the time they ran and whether a checkpoint was due, and "store" when it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateTicker } from '../../../js/state-ticker.js';
import { FakeTime } from '../support/fake-time.js';

function tickerWith({ watchers = 0, ticking = true, failing = false } = {}) {
  const time = new FakeTime({ mono: 0 });
  const timers = time.group();
  const log = [];
  const delegate = {
    watchers,
    isTicking: ticking,
    lastStored: 0,
    ticking: () => delegate.isTicking,
    watched: () => delegate.watchers > 0,
    tick: async ({ checkpointDue }) => {
      const due = checkpointDue(delegate.lastStored);
      log.push(`tick at ${time.clock.mono()}${due ? ' + checkpoint' : ''}`);
      if (due) delegate.lastStored = time.clock.mono();
      if (failing) throw new Error('engine gone');
    },
    failed: (error) => log.push(`failed: ${error.message}`),
  };
  const ticker = new StateTicker(delegate, { clock: time.clock, timers, tickMs: 1000, checkpointMs: 30_000 });
  return { time, timers, ticker, delegate, log };
}

test('nobody watching: no tick is armed; a watcher arms one a tick ahead and it re-arms itself, checkpointing every 30 s', async () => {
  const { time, timers, ticker, delegate, log } = tickerWith();
  ticker.schedule();
  assert.equal(timers.pending(), 0);
  delegate.watchers = 1;
  ticker.watch();
  assert.equal(ticker.armed, true);
  await time.advance(61_000);
  const checkpoints = log.filter((line) => line.endsWith('checkpoint'));
  assert.equal(log.length, 61);
  assert.deepEqual(checkpoints, ['tick at 30000 + checkpoint', 'tick at 60000 + checkpoint']);
  assert.equal(timers.pending(), 1);
});

test('a watcher joining does not push the armed tick away; the last watcher leaving stops ticks after the next', async () => {
  const { time, timers, ticker, delegate, log } = tickerWith({ watchers: 1 });
  ticker.schedule();
  await time.advance(600);
  ticker.watch();
  await time.advance(400);
  assert.deepEqual(log, ['tick at 1000']);
  delegate.watchers = 0;
  await time.advance(5000);
  assert.deepEqual(log, ['tick at 1000', 'tick at 2000']);
  assert.equal(timers.pending(), 0);
});

test('a failed tick is reported and the next is armed; cancel and a stopped engine end the ticks', async () => {
  const { time, timers, ticker, delegate, log } = tickerWith({ watchers: 1, failing: true });
  ticker.schedule();
  await time.advance(2000);
  assert.deepEqual(log, ['tick at 1000', 'failed: engine gone', 'tick at 2000', 'failed: engine gone']);
  ticker.cancel();
  assert.equal(ticker.armed, false);
  await time.advance(5000);
  assert.equal(log.length, 4);
  ticker.schedule();
  delegate.isTicking = false;
  await time.advance(5000);
  assert.equal(log.length, 4);
  assert.equal(timers.pending(), 0);
});
