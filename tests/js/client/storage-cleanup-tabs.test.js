// The storage cleanup of a tab that does not lead a user never rewrites or deletes that user's
// record: the leading tab alone writes it and its tap journal (DESIGN.md "The tap journal"); nor
// does it act on a copy a leader changed, or added journal entries after, since it read it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBKeyRange } from 'fake-indexeddb';
import { createDevice } from '../support/harness.js';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';
import { withCompression } from '../../../js/storage/compress.js';
import { journalPrefix, recordKey } from '../../../js/storage/keys.js';
import { createEarningsManager } from '../../../js/index.js';

const RATE = '3.6';

// A tab of `device` on its own store handle whose reads of `key` after the first `afterReads` run
// `between` before they answer: another tab's writes land after this tab read its copy and before
// it acts. `core` is the tab's core (device.core unless a test watches it).
async function tabReadingLate(device, key, between, { afterReads = 1, core = device.core } = {}) {
  const inner = await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange });
  let reads = 0;
  const storage = new Proxy(inner, {
    get(target, name) {
      if (name === 'get') {
        return async (asked) => {
          const bytes = await target.get(asked);
          if (asked === key && ++reads > afterReads) await between();
          return bytes;
        };
      }
      const value = target[name];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return createEarningsManager({
    core, storage, transport: device.transport, clock: device.time.clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: device.browser.tab().services, seed: 7,
    randomBytes: device.randomBytes, storageBudgetBytes: 1, env: {},
  });
}

// A device whose tab leads user 2, mining and tapping for 20 s: a record with many audit entries
// and the latest taps as journal entries after it.
async function leaderThatTapped() {
  const device = await createDevice();
  const leader = await device.openTab();
  await leader.manager.initializeUser(2);
  await leader.manager.setMining(2, { active: true, rate: RATE });
  for (let i = 0; i < 20; i += 1) {
    await device.time.advance(1_000);
    await leader.manager.updateEarnings(2, '0.00001');
  }
  await leader.manager.settled();
  return { device, leader };
}

test('a tab\'s storage cleanup never rewrites the record of a user another tab leads; once no tab leads it, it trims it', async () => {
  const { device, leader } = await leaderThatTapped();
  // The leader stores a checkpoint (a new journal generation) and then a tap as a journal entry
  // that follows it. If another tab's cleanup is reading user 2's record, it does so then.
  let leaderWrote = false;
  let checkpointed = null;
  const leaderWrites = async () => {
    if (leaderWrote) return;
    leaderWrote = true;
    await leader.manager.setMining(2, { active: false });
    checkpointed = leader.manager.state(2).currentEarnings;
    await leader.manager.updateEarnings(2, '0.00002');
    await leader.manager.settled();
  };
  const other = await tabReadingLate(device, recordKey(2), leaderWrites);
  await other.initializeUser(1);  // leading user 1 runs a cleanup over a budget of one byte
  await other.settled();
  await leaderWrites();
  const expected = leader.manager.state(2).currentEarnings;
  const records = withCompression(await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange }));
  const whileLed = device.core.decodeRecord(await records.get(recordKey(2)));
  assert.equal(whileLed.state.currentEarnings, checkpointed, 'the stored record is the leader\'s checkpoint, not an older copy');

  // No tab leads user 2 any more: the same cleanup may now trim its stored audit.
  leader.kill();
  const freed = await other.cleanup.run(1);
  const trimmed = device.core.decodeRecord(await records.get(recordKey(2)));
  assert.ok(freed > 0 && trimmed.audit.entries.length < whileLed.audit.entries.length,
    'with no leader the cleanup trims user 2\'s record');

  const next = await device.openTab();
  const quarantined = [];
  next.manager.on('journal-quarantined', (event) => quarantined.push(event));
  await next.manager.initializeUser(2);
  assert.deepEqual(quarantined, [], 'the leader\'s journal entries still follow the stored record');
  assert.equal(next.manager.state(2).currentEarnings, expected, 'every earning of the leader is counted');
  await other.dispose();
  await next.manager.dispose();
});

const sameBytes = (a, b) => a.length === b.length && a.every((byte, i) => byte === b[i]);

// User 2's record is fully synced, so a cleanup plans to evict it. After the cleanup read it and
// before it asks for the user's leader lock, the tab leading user 2 runs `writes` and closes (so
// the lock is free). Answers what that tab left stored and what the next tab to lead user 2
// restores.
async function cleanupRacingAClosingLeader(writes) {
  const device = await createDevice();
  const leader = await device.openTab();
  await leader.manager.initializeUser(2);
  await leader.manager.setMining(2, { active: true, rate: RATE });
  await device.time.advance(2_000);
  await leader.manager.syncToDatabase(2, true);
  await leader.manager.setMining(2, { active: false });
  await leader.manager.syncToDatabase(2, true);
  await leader.manager.settled();
  const records = withCompression(await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange }));
  const synced = await records.get(recordKey(2));
  assert.equal(device.core.decodeRecord(synced).state.pending, '0.00000000');
  assert.deepEqual(await records.list(journalPrefix(2)), []);

  let left = null;
  const leaderWritesAndCloses = async () => {
    if (left) return;
    await writes(leader.manager);
    await leader.manager.settled();
    left = {
      earnings: leader.manager.state(2).currentEarnings,
      recordChanged: !sameBytes(await records.get(recordKey(2)), synced),
      journalEntries: (await records.list(journalPrefix(2))).length,
    };
    leader.kill();
  };
  const other = await tabReadingLate(device, recordKey(2), leaderWritesAndCloses, { afterReads: 0 });
  await other.initializeUser(1);  // leading user 1 runs a cleanup over a budget of one byte
  await other.settled();
  assert.ok(left, 'the cleanup read user 2\'s record');
  assert.ok(await records.get(recordKey(2)), 'user 2\'s record is not evicted');

  const next = await device.openTab();
  const quarantined = [];
  next.manager.on('journal-quarantined', (event) => quarantined.push(event));
  await next.manager.initializeUser(2);
  const restored = { quarantined, earnings: next.manager.state(2).currentEarnings };
  await other.dispose();
  await next.manager.dispose();
  return { left, restored };
}

test('a tab\'s storage cleanup never evicts a record whose leading tab tapped (journal entries) and closed between the cleanup\'s read and its lock', async () => {
  const { left, restored } = await cleanupRacingAClosingLeader(async (manager) => {
    await manager.updateEarnings(2, '0.00003');
  });
  assert.deepEqual({ recordChanged: left.recordChanged, journalEntries: left.journalEntries }, { recordChanged: false, journalEntries: 1 });
  assert.deepEqual(restored.quarantined, [], 'the journal entries still follow the stored record');
  assert.equal(restored.earnings, left.earnings, 'the tap is counted');
});

test('a tab\'s storage cleanup never evicts a record whose leading tab stored a newer checkpoint and closed between the cleanup\'s read and its lock', async () => {
  const { left, restored } = await cleanupRacingAClosingLeader(async (manager) => {
    await manager.setMining(2, { active: true, rate: RATE });
    await manager.updateEarnings(2, '0.00003');
    await manager.setMining(2, { active: false });
  });
  assert.ok(left.recordChanged && left.journalEntries === 0, 'the tab left a newer checkpoint and no journal entry');
  assert.deepEqual(restored.quarantined, []);
  assert.equal(restored.earnings, left.earnings, 'the newer checkpoint\'s earnings are counted');
});

test('a tab\'s storage cleanup never trims a record whose leading tab stored a newer checkpoint and closed between the cleanup\'s read and its lock', async () => {
  const { device, leader } = await leaderThatTapped();
  // Taps stored as journal entries keep user 2's record from eviction: the cleanup plans a trim.
  const records = withCompression(await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange }));
  assert.ok((await records.list(journalPrefix(2))).length > 0);
  const read = await records.get(recordKey(2));

  // After the cleanup read user 2's record, its leading tab taps, stores a newer checkpoint (with
  // more audit entries than the plan weighed) and closes, so the user's leader lock is free.
  let left = null;
  const leaderWritesAndCloses = async () => {
    if (left) return;
    await leader.manager.updateEarnings(2, '0.00003');
    await leader.manager.setMining(2, { active: false });
    await leader.manager.settled();
    left = { earnings: leader.manager.state(2).currentEarnings, record: await records.get(recordKey(2)) };
    left.journalEntries = (await records.list(journalPrefix(2))).length;
    leader.kill();
  };
  const plans = [];
  const watched = new Proxy(device.core, {
    get: (target, name) => {
      if (name === 'planStorageCleanup') return (input) => { const plan = target.planStorageCleanup(input); plans.push(plan); return plan; };
      const value = target[name];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const other = await tabReadingLate(device, recordKey(2), leaderWritesAndCloses, { afterReads: 0, core: watched });
  await other.initializeUser(1);  // leading user 1 runs a cleanup over a budget of one byte
  await other.settled();
  assert.ok(left, 'the cleanup read user 2\'s record');
  assert.ok(!sameBytes(left.record, read) && left.journalEntries === 0, 'the tab left a newer checkpoint and no journal entry');
  assert.ok(device.core.decodeRecord(left.record).audit.entries.length > device.core.decodeRecord(read).audit.entries.length);
  assert.ok(plans.some((plan) => (plan.trimAudit ?? []).some((trim) => trim.userId === 2 && trim.key === recordKey(2))),
    'the plan, made from the older record, trims user 2\'s audit');
  assert.ok(plans.every((plan) => !(plan.evictions ?? []).some((eviction) => eviction.key === recordKey(2))));

  // Under the lock the cleanup re-read a record other than the one it planned from: it wrote
  // nothing, neither the older copy trimmed nor the newer one trimmed by the older plan.
  assert.ok(sameBytes(await records.get(recordKey(2)), left.record), 'the stored record is the one the leader left');
  const next = await device.openTab();
  const quarantined = [];
  next.manager.on('journal-quarantined', (event) => quarantined.push(event));
  await next.manager.initializeUser(2);
  assert.deepEqual(quarantined, []);
  assert.equal(next.manager.state(2).currentEarnings, left.earnings, 'the newer checkpoint\'s earnings are counted');
  await other.dispose();
  await next.manager.dispose();
});
