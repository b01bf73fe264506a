// The storage cleanup of a tab that does not lead a user never rewrites or deletes that user's
// record: the leading tab alone writes it and its tap journal (DESIGN.md "The tap journal").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBKeyRange } from 'fake-indexeddb';
import { createDevice } from '../support/harness.js';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';
import { withCompression } from '../../../js/storage/compress.js';
import { recordKey } from '../../../js/storage/keys.js';
import { createEarningsManager } from '../../../js/index.js';

const RATE = '3.6';

// A tab of `device` on its own store handle whose reads of `key` after the first run `between`
// (once) before they answer: another tab's writes land after this tab read its copy and before it acts.
async function tabReadingLate(device, key, between) {
  const inner = await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange });
  let reads = 0;
  const storage = new Proxy(inner, {
    get(target, name) {
      if (name === 'get') {
        return async (asked) => {
          const bytes = await target.get(asked);
          if (asked === key && ++reads > 1) await between();
          return bytes;
        };
      }
      const value = target[name];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return createEarningsManager({
    core: device.core, storage, transport: device.transport, clock: device.time.clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: device.browser.tab().services, seed: 7,
    randomBytes: device.randomBytes, storageBudgetBytes: 1, env: {},
  });
}

test('a tab\'s storage cleanup never rewrites the record of a user another tab leads; once no tab leads it, it trims it', async () => {
  const device = await createDevice();
  const leader = await device.openTab();
  await leader.manager.initializeUser(2);
  await leader.manager.setMining(2, { active: true, rate: RATE });
  for (let i = 0; i < 20; i += 1) {
    await device.time.advance(1_000);
    await leader.manager.updateEarnings(2, '0.00001');
  }
  await leader.manager.settled();
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
