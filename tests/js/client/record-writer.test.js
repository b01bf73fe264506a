// Group commit of a user's record (js/record-writer.js, issue 12 part 6): a tap resolves only once
// a write that started after it is stored (a tap journal entry, or the record), and taps made
// while a write is in flight share the next write. Checked on the writer alone with a write the test releases by hand, and on a real manager
// (real core) whose store holds every put until the test lets it finish.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadCore } from '../../../js/core.js';
import { createEarningsManager, MemoryStore } from '../../../js/index.js';
import { RecordWriter } from '../../../js/record-writer.js';
import { journalKey, journalPrefix, recordKey } from '../../../js/storage/keys.js';
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

// A store whose writes of a record or a journal entry complete only when the test says so,
// recording what each held: `kind` 'journal' (append) or 'record' (put, checkpoint).
class HeldStore extends MemoryStore {
  constructor() {
    super();
    this.puts = [];
    this.hold = false;
  }

  held(kind, key, bytes, store) {
    const copy = Uint8Array.from(bytes);
    const stored = () => store(copy);
    if (!this.hold) return stored();
    return new Promise((resolve, reject) => {
      this.puts.push({ kind, key, bytes: copy, finish: () => stored().then(resolve), fail: reject });
    });
  }

  put(key, bytes) {
    if (!key.startsWith('teg:record:')) return super.put(key, bytes);
    return this.held('record', key, bytes, (copy) => super.put(key, copy));
  }

  checkpoint(key, bytes, journalPrefix) {
    return this.held('record', key, bytes, (copy) => super.checkpoint(key, copy, journalPrefix));
  }

  append(key, bytes) {
    return this.held('journal', key, bytes, (copy) => super.append(key, copy));
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

// The earnings a tap journal entry carries (src/journal.h: calls of kind 1, JournalCallKind::kEarning).
function earningsIn(core, bytes) {
  return core.decodeRecord(bytes).c.filter((call) => call.k === 1).length;
}

// The user's pending total as a new tab would restore it from the store: the record, then the
// journal entries after it.
async function storedPending(core, store, userId) {
  const engine = core.createEngine({ userId, clientId: 'c-check', seed: 1 });
  try {
    engine.restore(await store.get(recordKey(userId)));
    for (const { bytes } of await store.readJournal(journalPrefix(userId))) engine.replayJournal(bytes);
    return toUnits(engine.state().pending);
  } finally {
    engine.dispose();
  }
}

test('100 concurrent updateEarnings: two journal writes, each call resolved only after a write holding its earning', async () => {
  const store = new HeldStore();
  const { core, time, manager } = await openManager(store);
  const USER = 12;
  await manager.initializeUser(USER);
  // Mining off: each call's earning is exactly what the pending total gains.
  await manager.setMining(USER, { active: false, rate: '36' });
  await time.advance(60_000);
  await manager.settled();
  store.hold = true;

  const before = toUnits(manager.state(USER).pending);
  const calls = Array.from({ length: 100 }, () => settle(manager.updateEarnings(USER, '0.00000001')));
  await drain();
  assert.equal(store.puts.length, 1, 'the first call started a write; the rest wait for the next');
  assert.equal(store.puts[0].kind, 'journal', 'a tap stores only its change');
  assert.ok(calls.every((call) => !call.settled));

  store.puts[0].finish();
  await drain();
  const carriedByFirst = earningsIn(core, store.puts[0].bytes);
  assert.ok(carriedByFirst >= 1);
  assert.equal(calls.filter((call) => call.settled).length, carriedByFirst,
    'exactly the calls whose earnings the first write held have resolved');
  assert.equal(store.puts.length, 2, 'every other call shares the second write');
  assert.equal(store.puts[1].kind, 'journal');
  assert.equal(earningsIn(core, store.puts[1].bytes), 100 - carriedByFirst, 'the second write holds the other earnings');

  store.puts[1].finish();
  await drain();
  assert.ok(calls.every((call) => call.settled && !call.error));
  assert.equal(store.puts.length, 2);
  assert.equal(await storedPending(core, store, USER) - before, 100n, 'the record and its journal hold all 100 earnings');
  store.hold = false;
  await manager.dispose();
});

test('updateEarnings calls in a row: one journal write each, each resolved after its own; a checkpoint folds them', async () => {
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
    assert.equal(store.puts[i - 1].kind, 'journal');
    assert.equal(store.puts[i - 1].key, journalKey(USER, i - 1), 'entries are numbered from the checkpoint');
    assert.equal(earningsIn(core, store.puts[i - 1].bytes), 1);
    store.puts[i - 1].finish();
    await drain();
    assert.equal(call.settled, true);
  }
  assert.equal(await storedPending(core, store, USER) - before, 10n);
  assert.equal((await store.readJournal(journalPrefix(USER))).length, 5);
  store.hold = false;
  // Any other write is a checkpoint: the record then holds every earning and no entry is left.
  await manager.setMining(USER, { active: false });
  assert.equal(toUnits(core.decodeRecord(await store.get(recordKey(USER))).state.pending) - before, 10n);
  assert.deepEqual(await store.readJournal(journalPrefix(USER)), []);
  await manager.dispose();
});

test('a write shared by a tap and any other flush is a checkpoint; taps alone may store a journal entry', async () => {
  const { writes, write } = heldWrites(() => null);
  const kinds = [];
  const writer = new RecordWriter((options) => {
    kinds.push(options.checkpoint);
    return write();
  });
  writer.flush({ journal: true });
  writer.flush({ journal: true });
  writer.flush();
  writes[0].finish(true);
  await drain();
  writer.flush({ journal: true });
  writes[1].finish(true);
  await drain();
  writes[2].finish(true);
  await drain();
  assert.deepEqual(kinds, [false, true, false]);
});
