// Test page for tests/browser/client*.test.js: the package as an app uses it (real IndexedDB,
// localStorage, Web Locks, BroadcastChannel, fetch), with a handle the test drives through
// page.evaluate. Nothing here decides anything about earnings.
import { createEarningsManager, detectStore, devAuth, loadCore, recordKey } from '/js/index.js';
import { withCompression } from '/js/storage/compress.js';

const events = [];
let manager = null;

window.teg = {
  events,
  async open({ userId, engineConfig, tabs = true, legacyStorageKey }) {
    manager ??= await createEarningsManager({
      endpoint: location.origin,
      auth: devAuth(),
      engineConfig,
      legacyStorageKey,
      ...(tabs ? {} : { tabs: null }),
    });
    for (const type of ['sync', 'corruption', 'storage-degraded', 'quota', 'conflict', 'error']) {
      manager.on(type, (detail) => events.push({ type, code: detail?.code ?? detail?.error?.code ?? null }));
    }
    manager.on('catch-up', ({ claimedMs, confirmedMs, refusedMs }) => events.push({ type: 'catch-up', claimedMs, confirmedMs, refusedMs }));
    manager.on('journal-quarantined', ({ code, replayed, quarantineKeys }) => events.push({ type: 'journal-quarantined', code, replayed, quarantineKeys }));
    return manager.initializeUser(userId);
  },
  storeKind: () => manager.storageKind,
  isLeader: (userId) => manager.isLeader(userId),
  mine: (userId, rate) => manager.setMining(userId, { active: true, rate }),
  stopMining: (userId) => manager.setMining(userId, { active: false }),
  // The tap journal's keys as IndexedDB holds them, and one entry damaged in place (a flipped
  // byte), read and written with the raw API so no part of the package is involved.
  journalKeys: (userId) => rawStore('readonly', (store) => store.getAllKeys(IDBKeyRange.bound(`teg:journal:${userId}:`, `teg:journal:${userId}:\uffff`))),
  async damage(key) {
    const value = await rawStore('readonly', (store) => store.get(key));
    const bytes = new Uint8Array(value);
    bytes[bytes.length - 1] ^= 0x5a;
    await rawStore('readwrite', (store) => store.put(bytes, key));
  },
  earn: (userId, amount) => manager.updateEarnings(userId, amount),
  async sync(userId) {
    const result = await manager.syncToDatabase(userId, true);
    return { status: result.status, state: result.state };
  },
  state: (userId) => manager.state(userId),
  settled: () => manager.settled(),
  // bench/client-restore.js: time from "module loaded" to "user's state restored and ready",
  // each run with a new manager and a new IndexedDB connection.
  async restoreTimes({ userId, runs, engineConfig }) {
    await loadCore();
    const times = [];
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      const fresh = await createEarningsManager({ endpoint: location.origin, auth: devAuth(), engineConfig, tabs: null });
      await fresh.initializeUser(userId);
      times.push(performance.now() - started);
      await fresh.dispose();
    }
    return times;
  },
  // bench/client-tap.js: updateEarnings until stored, `calls` in a row (ms each), then `burst`
  // calls at once (ms until all resolved), then the parts of a record write (a checkpoint) and of
  // a tap's journal write timed alone.
  async tapTimes({ userId, calls, burst }) {
    const inRow = [];
    for (let call = 0; call < calls; call += 1) {
      const started = performance.now();
      await manager.updateEarnings(userId, '0.00000001');
      inRow.push(performance.now() - started);
    }
    await manager.settled();
    const before = window.idbWrites ?? 0;
    const started = performance.now();
    await Promise.all(Array.from({ length: burst }, () => manager.updateEarnings(userId, '0.00000001')));
    const burstMs = performance.now() - started;
    const burstWrites = (window.idbWrites ?? 0) - before;
    const core = await loadCore();
    const { store } = await detectStore();
    const record = await withCompression(store).get(recordKey(userId));
    const engine = core.createEngine({ userId, clientId: 'bench', seed: 1 });
    engine.restore(record);
    const parts = { serialize: [], 'deflate-raw': [], 'IndexedDB put': [] };
    let stored = null;
    for (let run = 0; run < 50; run += 1) {
      let at = performance.now();
      engine.serialize();
      parts.serialize.push(performance.now() - at);
      at = performance.now();
      const deflate = new CompressionStream('deflate-raw');
      const writer = deflate.writable.getWriter();
      writer.write(record).catch(() => {});
      writer.close().catch(() => {});
      stored = new Uint8Array(await new Response(deflate.readable).arrayBuffer());
      parts['deflate-raw'].push(performance.now() - at);
      at = performance.now();
      await store.put('teg:bench', stored);
      parts['IndexedDB put'].push(performance.now() - at);
    }
    await store.delete('teg:bench');
    // What a tap stores instead (the tap journal): its entry, then one small put.
    parts['journal entry (addEarnings + journalEntry)'] = [];
    parts['IndexedDB put of the entry'] = [];
    engine.checkpoint();
    engine.stored();
    let entry = null;
    for (let run = 0; run < 50; run += 1) {
      let at = performance.now();
      engine.addEarnings('0.00000001', { wall: Date.now(), mono: Math.floor(performance.now()) });
      entry = engine.journalEntry().bytes;
      engine.stored();
      parts['journal entry (addEarnings + journalEntry)'].push(performance.now() - at);
      at = performance.now();
      await store.append('teg:bench', entry);
      parts['IndexedDB put of the entry'].push(performance.now() - at);
    }
    await store.delete('teg:bench');
    engine.dispose();
    return { inRow, burstMs, burstWrites, parts, recordBytes: record.length, storedBytes: stored.length, entryBytes: entry.length };
  },
  // bench/client-tap.js's baseline: `calls` puts of a 77-byte value in a row, each its own
  // transaction committed as the package commits its writes, in a database of its own; no package
  // code runs.
  async barePutTimes(calls) {
    const db = await new Promise((resolve, reject) => {
      const open = indexedDB.open('teg-bench-bare', 1);
      open.onupgradeneeded = () => open.result.createObjectStore('values');
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error);
    });
    const times = [];
    for (let call = 0; call < calls; call += 1) {
      const started = performance.now();
      await new Promise((resolve, reject) => {
        const tx = db.transaction('values', 'readwrite');
        tx.objectStore('values').put(new Uint8Array(77), call);
        tx.commit();
        tx.oncomplete = resolve;
        tx.onabort = () => reject(tx.error);
      });
      times.push(performance.now() - started);
    }
    db.close();
    return times;
  },
  dispose: () => manager.dispose(),
};
function rawStore(mode, body) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('ton-earnings-guard', 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const request = body(db.transaction('records', mode).objectStore('records'));
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        db.close();
        resolve(request.result);
      };
    };
  });
}

window.tegReady = true;
