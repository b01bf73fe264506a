import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';
import { LocalStorageStore } from '../../../js/storage/localstorage.js';
import { MemoryStore } from '../../../js/storage/memory.js';
import { TelegramDeviceStore } from '../../../js/storage/telegram.js';
import { detectStore } from '../../../js/storage/detect.js';
import { recordKey, quarantineKey, RECORD_PREFIX, userIdOfRecordKey } from '../../../js/storage/keys.js';
import { bytesToBase64, base64ToBytes } from '../../../js/storage/encoding.js';
import { FakeDeviceStorage, FakeLocalStorage } from '../support/fake-web-storage.js';

const media = {
  memory: async () => new MemoryStore(),
  indexeddb: async () => IndexedDbStore.open(new IDBFactory(), { keyRange: IDBKeyRange }),
  localstorage: async () => LocalStorageStore.open(new FakeLocalStorage()),
  'telegram-device': async () => new TelegramDeviceStore(new FakeDeviceStorage()),
};

const bytesArb = fc.uint8Array({ minLength: 0, maxLength: 300 });
const userIdArb = fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER));

for (const [kind, open] of Object.entries(media)) {
  describe(`${kind} record store`, () => {
    test('round-trips bytes exactly and reports its kind', async () => {
      const store = await open();
      assert.equal(store.kind, kind);
      const bytes = Uint8Array.from([0, 1, 2, 250, 255, 128]);
      await store.put(recordKey(7), bytes);
      assert.deepEqual(await store.get(recordKey(7)), bytes);
      assert.equal(await store.get(recordKey(8)), null);
      await store.delete(recordKey(7));
      assert.equal(await store.get(recordKey(7)), null);
      store.close();
    });

    test('a stored record is independent of the caller buffer', async () => {
      const store = await open();
      const bytes = Uint8Array.from([1, 2, 3]);
      await store.put(recordKey(1), bytes);
      bytes[0] = 9;
      assert.deepEqual(await store.get(recordKey(1)), Uint8Array.from([1, 2, 3]));
    });

    test('Property 7: User Data Isolation - writes and deletes of one user never change another user\'s record', async () => {
      await fc.assert(fc.asyncProperty(
        fc.array(fc.record({ userId: userIdArb, op: fc.constantFrom('put', 'delete', 'quarantine'), bytes: bytesArb }),
          { minLength: 1, maxLength: 12 }),
        async (ops) => {
          const store = await open();
          const model = new Map();
          for (const { userId, op, bytes } of ops) {
            if (op === 'put') {
              await store.put(recordKey(userId), bytes);
              model.set(userId, bytes);
            } else if (op === 'delete') {
              await store.delete(recordKey(userId));
              model.delete(userId);
            } else {
              await store.put(quarantineKey(userId, 5), bytes);
            }
          }
          const listed = (await store.list(RECORD_PREFIX)).map((entry) => userIdOfRecordKey(entry.key));
          assert.deepEqual(listed.sort((a, b) => a - b), [...model.keys()].sort((a, b) => a - b));
          for (const [userId, bytes] of model) assert.deepEqual(await store.get(recordKey(userId)), bytes);
          store.close();
        },
      ), { numRuns: 100 });
    });
  });
}

test('list reports each record with its stored size and only under the prefix', async () => {
  const store = await media.indexeddb();
  await store.put(recordKey(1), new Uint8Array(10));
  await store.put(recordKey(12), new Uint8Array(20));
  await store.put(quarantineKey(1, 3), new Uint8Array(5));
  assert.deepEqual(await store.list(RECORD_PREFIX), [
    { key: recordKey(1), bytes: 10 }, { key: recordKey(12), bytes: 20 }]);
});

test('IndexedDB reopens a connection that was closed under it instead of reusing it', async () => {
  const store = await media.indexeddb();
  await store.put(recordKey(3), Uint8Array.from([4]));
  const db = await store.connection;
  db.close();
  assert.deepEqual(await store.get(recordKey(3)), Uint8Array.from([4]));
  assert.notEqual(await store.connection, db);
});

test('localStorage quota failure is STORAGE_QUOTA and leaves the previous record intact', async () => {
  const local = new FakeLocalStorage({ quotaChars: 200 });
  const store = LocalStorageStore.open(local);
  await store.put(recordKey(1), new Uint8Array(30));
  await assert.rejects(store.put(recordKey(1), new Uint8Array(300)), { code: 'STORAGE_QUOTA' });
  assert.deepEqual(await store.get(recordKey(1)), new Uint8Array(30));
});

test('Telegram DeviceStorage quota failure is STORAGE_QUOTA', async () => {
  const store = new TelegramDeviceStore(new FakeDeviceStorage({ quotaChars: 100 }));
  await assert.rejects(store.put(recordKey(1), new Uint8Array(300)), { code: 'STORAGE_QUOTA' });
});

test('a broken localStorage fails to open with STORAGE_UNAVAILABLE', () => {
  const broken = { setItem() { throw new Error('SecurityError'); }, removeItem() {} };
  assert.throws(() => LocalStorageStore.open(broken), { code: 'STORAGE_UNAVAILABLE' });
});

describe('store detection', () => {
  test('prefers IndexedDB', async () => {
    const { store, degraded } = await detectStore({ indexedDB: new IDBFactory(), IDBKeyRange, localStorage: new FakeLocalStorage() });
    assert.equal(store.kind, 'indexeddb');
    assert.deepEqual(degraded, []);
  });

  test('falls back to localStorage when IndexedDB is missing or broken', async () => {
    const brokenIdb = { open() { throw new Error('InvalidStateError: private mode'); } };
    for (const env of [{ localStorage: new FakeLocalStorage() }, { indexedDB: brokenIdb, localStorage: new FakeLocalStorage() }]) {
      const { store, degraded } = await detectStore(env);
      assert.equal(store.kind, 'localstorage');
      assert.equal(degraded[0].kind, 'indexeddb');
    }
  });

  test('uses Telegram DeviceStorage inside Telegram before localStorage', async () => {
    const env = { Telegram: { WebApp: { DeviceStorage: new FakeDeviceStorage() } }, localStorage: new FakeLocalStorage() };
    assert.equal((await detectStore(env)).store.kind, 'telegram-device');
  });

  test('ends in memory and says so when nothing durable works', async () => {
    const env = { get localStorage() { throw new Error('SecurityError'); } };
    const { store, degraded } = await detectStore(env);
    assert.equal(store.kind, 'memory');
    assert.equal(store.durable, false);
    assert.deepEqual(degraded.map((entry) => entry.kind), ['indexeddb', 'localstorage']);
  });
});

test('base64 codec round-trips any bytes and maps garbage to bytes instead of throwing', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 70000 }), (bytes) => {
    assert.deepEqual(base64ToBytes(bytesToBase64(bytes)), bytes);
  }), { numRuns: 100 });
  assert.ok(base64ToBytes('%%not base64%%') instanceof Uint8Array);
});
