// Group commit of a user's record (js/record-writer.js, issue 12 part 6): a tap resolves only once
// a write that started after it is stored, and taps made while a write is in flight share the next
// write. Checked on the writer alone with a write the test releases by hand, and on a real manager
// (real core) whose store holds every put until the test lets it finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCore } from '../../../js/core.js';
import { createEarningsManager, MemoryStore } from '../../../js/index.js';
import { RecordWriter } from '../../../js/record-writer.js';
import { recordKey } from '../../../js/storage/keys.js';
import { FakeTime } from '../support/fake-time.js';
import { toUnits } from '../support/fake-server.js';

// Resolves after every promise callback queued so far has run (no timers involved).
const drain = () => new Promise((resolve) => setImmediate(resolve));

// A write per call, each held until the test releases it: `writes[i]` is the i-th write started,
// with the value it was given when it started (what it "serialized").
function heldWrites(current) {
  const writes = [];
  const write = () => new Promise((resolve, reject) => {
    writes.push({ carried: current(), finish: resolve, fail: reject });
  });
  return { writes, write };
}

function settle(promise) {
  const outcome = { settled: false };
  promise.then(
    (value) => Object.assign(outcome, { settled: true, value }),
    (error) => Object.assign(outcome, { settled: true, error }),
  );
  return outcome;
}

test('calls made while a write is in flight share the next write, and none settles before its own write', async () => {
  let changes = 0;
  const { writes, write } = heldWrites(() => changes);
  const writer = new RecordWriter(write);
  changes += 1;
  const first = settle(writer.flush());
  assert.equal(writes.length, 1, 'an idle writer starts a write at once');
  const later = [];
  for (let i = 0; i < 99; i += 1) {
    changes += 1;
    later.push(settle(writer.flush()));
  }
  await drain();
  assert.equal(writes.length, 1, 'nothing else starts while a write is in flight');
  assert.equal(writes[0].carried, 1);

  writes[0].finish('first');
  await drain();
  assert.deepEqual(first, { settled: true, value: 'first' });
  assert.ok(later.every((call) => !call.settled), 'the first write did not carry the later changes');
  assert.equal(writes.length, 2, 'the waiting calls share one write');
  assert.equal(writes[1].carried, 100, 'that write started after every one of their changes');

  writes[1].finish('second');
  await drain();
  assert.ok(later.every((call) => call.settled && call.value === 'second'));
  assert.equal(writes.length, 2);
});

test('a write failure rejects exactly the calls it carried; the next write carries on', async () => {
  const { writes, write } = heldWrites(() => null);
  const writer = new RecordWriter(write);
  const onFirst = settle(writer.flush());
  const onSecond = [settle(writer.flush()), settle(writer.flush())];
  writes[0].finish(true);
  await drain();
  const onThird = settle(writer.flush());
  writes[1].fail(Object.assign(new Error('disk gone'), { code: 'STORAGE_UNAVAILABLE' }));
  await drain();
  assert.deepEqual(onFirst, { settled: true, value: true });
  for (const call of onSecond) assert.equal(call.error?.code, 'STORAGE_UNAVAILABLE');
  assert.equal(onThird.settled, false, 'a call that came after the failed write waits for its own');
  assert.equal(writes.length, 3);
  writes[2].finish(true);
  await drain();
  assert.deepEqual(onThird, { settled: true, value: true });
});

test('a write that throws before returning rejects its calls and leaves the writer usable', async () => {
  let fail = true;
  const writer = new RecordWriter(() => {
    if (fail) throw Object.assign(new Error('trap'), { code: 'CORE_FAULT' });
    return 'stored';
  });
  await assert.rejects(writer.flush(), { code: 'CORE_FAULT' });
  fail = false;
  assert.equal(await writer.flush(), 'stored');
});

test('calls in a row each get a write of their own', async () => {
  let writes = 0;
  const writer = new RecordWriter(async () => {
    writes += 1;
    return writes;
  });
  for (let i = 1; i <= 5; i += 1) assert.equal(await writer.flush(), i);
});

// A store whose puts complete only when the test says so, recording what each put held.
class HeldStore extends MemoryStore {
  constructor() {
    super();
    this.puts = [];
    this.hold = false;
  }

  put(key, bytes) {
    const copy = Uint8Array.from(bytes);
    const stored = () => super.put(key, copy);
    if (!this.hold || !key.startsWith('teg:record:')) return stored();
    return new Promise((resolve, reject) => {
      this.puts.push({ key, bytes: copy, finish: () => stored().then(resolve), fail: reject });
    });
  }
}

async function openManager(store) {
  const core = await loadCore();
  const time = new FakeTime();
  const manager = await createEarningsManager({
    core,
    storage: store,
    // Offline: only updateEarnings writes the record while the test holds puts.
    transport: {
      sync: async () => ({ status: 0, text: '', error: 'offline' }),
      fetchState: async () => ({ status: 0, text: '', error: 'offline' }),
    },
    clock: time.clock,
    timers: time.group(),
    lifecycle: { isOnline: () => false, on: () => () => {} },
    telegram: null,
    tabs: null,
    seed: 1,
    randomBytes: (count) => new Uint8Array(count),
    // The puts hold the core's record bytes as they are, for the test to read.
    compress: false,
    env: {},
  });
  return { core, time, manager };
}

test('100 concurrent updateEarnings: two record writes, each call resolved only after a write holding its earning', async () => {
  const store = new HeldStore();
  const { core, time, manager } = await openManager(store);
  const USER = 12;
  await manager.initializeUser(USER);
  // Mining off: each call's earning is exactly what the record's pending total gains.
  await manager.setMining(USER, { active: false, rate: '36' });
  await time.advance(60_000);
  await manager.settled();
  store.hold = true;

  const pendingIn = (bytes) => toUnits(core.decodeRecord(bytes).state.pending);
  const before = toUnits(manager.state(USER).pending);
  const calls = Array.from({ length: 100 }, () => settle(manager.updateEarnings(USER, '0.00000001')));
  await drain();
  assert.equal(store.puts.length, 1, 'the first call started a write; the rest wait for the next');
  assert.ok(calls.every((call) => !call.settled));

  store.puts[0].finish();
  await drain();
  const carriedByFirst = Number(pendingIn(store.puts[0].bytes) - before);
  assert.ok(carriedByFirst >= 1);
  assert.equal(calls.filter((call) => call.settled).length, carriedByFirst,
    'exactly the calls whose earnings the first write held have resolved');
  assert.equal(store.puts.length, 2, 'every other call shares the second write');
  assert.equal(pendingIn(store.puts[1].bytes) - before, 100n, 'the second write holds all 100 earnings');

  store.puts[1].finish();
  await drain();
  assert.ok(calls.every((call) => call.settled && !call.error));
  assert.equal(store.puts.length, 2);
  assert.equal(pendingIn(await store.get(recordKey(USER))) - before, 100n);
  store.hold = false;
  await manager.dispose();
});

test('updateEarnings calls in a row: one write each, each resolved after its own', async () => {
  const store = new HeldStore();
  const { core, time, manager } = await openManager(store);
  const USER = 13;
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: false, rate: '36' });
  await time.advance(60_000);
  await manager.settled();
  store.hold = true;
  const before = toUnits(manager.state(USER).pending);
  for (let i = 1; i <= 5; i += 1) {
    const call = settle(manager.updateEarnings(USER, '0.00000002'));
    await drain();
    assert.equal(store.puts.length, i);
    assert.equal(call.settled, false);
    assert.equal(toUnits(core.decodeRecord(store.puts[i - 1].bytes).state.pending) - before, BigInt(2 * i));
    store.puts[i - 1].finish();
    await drain();
    assert.equal(call.settled, true);
  }
  store.hold = false;
  await manager.dispose();
});
