// The sync loop (js/sync-loop.js) driven through its delegate alone, as Replicache tests its
// connection loop: no manager, no engine, no network. The delegate below is an outbox the test
// controls (when it is due, whether the server answers) and a log of what the loop did to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyncLoop } from '../../../js/sync-loop.js';
import { FakeTime } from '../support/fake-time.js';

function loopWith({ due = 0, online = true } = {}) {
  const time = new FakeTime();
  const log = [];
  const exchanges = [];
  const delegate = {
    dueMs: due,
    online,
    canSync: () => delegate.online,
    dueInMs: () => delegate.dueMs,
    // Each exchange is held until the test answers it.
    exchange: ({ keepalive }) => new Promise((resolve) => {
      log.push(keepalive ? 'exchange keepalive' : 'exchange');
      // `dueAfter`: what the engine says once the answer is applied (by default nothing is due).
      exchanges.push((outcome, dueAfter = -1) => {
        delegate.dueMs = dueAfter;
        resolve(outcome);
      });
    }),
    scheduled: (retryInMs) => ({ status: 'scheduled', retryInMs }),
    due: () => {
      log.push('timer');
      return loop.sync(true);
    },
    failed: (error) => log.push(`failed ${error.message}`),
  };
  const timers = time.group();
  const loop = new SyncLoop(delegate, { clock: time.clock, timers });
  return { time, timers, loop, delegate, log, exchanges };
}

const drain = () => new Promise((resolve) => setImmediate(resolve));

// The armed timer fires `ms` from now and not a millisecond before; its sync goes out, is answered
// 'synced' and nothing is due after the answer, so no timer is left armed.
async function timerSyncsAt({ time, timers, log, exchanges }, ms) {
  const before = [...log];
  await time.advance(ms - 1);
  assert.deepEqual(log, before);
  const firing = time.advance(1);
  await drain();
  assert.deepEqual(log, [...before, 'timer', 'exchange']);
  exchanges.at(-1)({ status: 'synced' });
  await firing;
  assert.equal(timers.pending(), 0);
}

test('a sync that is neither forced nor due is not sent: it says when it will be', async () => {
  const { loop, delegate, log } = loopWith({ due: 4000 });
  assert.deepEqual(await loop.sync(false), { status: 'scheduled', retryInMs: 4000 });
  assert.deepEqual(log, []);
  delegate.dueMs = 0;
  loop.sync(false);
  await drain();
  assert.deepEqual(log, ['exchange']);
});

test('the timer is armed for the engine\'s due time and its sync goes through the delegate', async () => {
  const sync = loopWith({ due: 2500 });
  const { timers, loop } = sync;
  loop.schedule();
  assert.equal(timers.pending(), 1);
  await timerSyncsAt(sync, 2500);
});

test('one sync at a time: a sync asked for while one runs waits for it, then decides afresh', async () => {
  const { loop, log, exchanges } = loopWith();
  const first = loop.sync(true);
  const second = loop.sync(true, { keepalive: true });
  await drain();
  assert.deepEqual(log, ['exchange']);
  exchanges[0]({ status: 'synced', n: 1 });
  assert.deepEqual(await first, { status: 'synced', n: 1 });
  await drain();
  // Forced, so it is sent although nothing was due.
  assert.deepEqual(log, ['exchange', 'exchange keepalive']);
  exchanges[1]({ status: 'synced', n: 2 });
  assert.deepEqual(await second, { status: 'synced', n: 2 });
});

test('the server\'s Retry-After holds even a forced sync until it has passed, and the timer waits for it', async () => {
  const sync = loopWith();
  const { loop, delegate, log } = sync;
  loop.holdFor(30_000);
  assert.deepEqual(await loop.sync(true), { status: 'scheduled', retryInMs: 30_000 });
  assert.deepEqual(log, []);
  // The engine would send in 1 s; the server's word wins.
  delegate.dueMs = 1000;
  loop.schedule();
  await timerSyncsAt(sync, 30_000);
  // A zero or missing Retry-After holds nothing.
  loop.holdFor(0);
  loop.holdFor(undefined);
  assert.equal(loop.retryAfterWait(), 0);
});

test('offline or refused by the delegate: no timer; back online, the next schedule arms it', async () => {
  const { timers, loop, delegate } = loopWith({ due: 0, online: false });
  loop.schedule();
  assert.equal(timers.pending(), 0);
  delegate.online = true;
  loop.goOffline();
  loop.schedule();
  assert.equal(timers.pending(), 0);
  loop.setOffline(false);
  loop.schedule();
  assert.equal(timers.pending(), 1);
  // Going offline cancels the armed timer.
  loop.goOffline();
  assert.equal(timers.pending(), 0);
});

test('nothing to send (a negative or non-integer due time): no timer', () => {
  for (const due of [-1, null, Number.NaN, 1.5]) {
    const { timers, loop } = loopWith({ due });
    loop.schedule();
    assert.equal(timers.pending(), 0, `due ${due}`);
  }
});

test('a timer sync that fails is handed to the delegate, not thrown', async () => {
  const { time, loop, delegate, log } = loopWith({ due: 100 });
  delegate.due = () => Promise.reject(new Error('boom'));
  delegate.dueInMs = () => 100;
  loop.schedule();
  await time.advance(100);
  assert.deepEqual(log, ['failed boom']);
});

test('after every sent sync the next one is scheduled from what the engine says then', async () => {
  const sync = loopWith();
  const { timers, loop, exchanges } = sync;
  const sent = loop.sync(true);
  await drain();
  // The engine's backoff after a failed answer: 8 s.
  exchanges[0]({ status: 'failed' }, 8000);
  assert.deepEqual(await sent, { status: 'failed' });
  assert.equal(timers.pending(), 1);
  await timerSyncsAt(sync, 8000);
});
