// Size of one user's stored record (Property 22): a day of offline accrual and 100 audit entries,
// against plain JSON.stringify of the seed's LocalEarningsData holding the same facts (the seed's
// state with money as JS numbers, its pending SyncOperations, and the same audit entries as the
// seed's EarningsAuditLog objects). Target: under half. Prints a table; asserts nothing.
import { loadCore } from '../js/core.js';
import { withCompression } from '../js/storage/compress.js';
import { MemoryStore } from '../js/storage/memory.js';

const core = await loadCore();
const userId = 5_123_456_789;
const clientId = 'c-0123456789abcdef01234567';
let engine = core.createEngine({ userId, clientId, seed: 7 });
const start = 1_700_000_000_000;
let wall = start;
let mono = 1_000;
const now = () => ({ wall, mono });
const pass = (ms) => {
  wall += ms;
  mono += ms;
};

engine.tick(now());
engine.setRate('0.25');
engine.setActive(true, now());
// An online morning: a sync every minute, each answered, until the audit log holds 100 entries.
let seq = 0;
while (engine.audit().length < 100) {
  pass(60_000);
  engine.tick(now());
  const request = engine.nextSyncRequest(now(), { force: true });
  if (!request) continue;
  const state = engine.state();
  const results = request.ops.map((op) => ({ id: op.id, seq: op.seq, status: 'applied', credited: op.amount, review: '0.00000000' }));
  seq = request.ops.at(-1).seq;
  engine.applySyncResponse({
    results,
    state: {
      userId, totalEarned: state.currentEarnings, currentEarnings: state.currentEarnings, baseEarningRate: '0.25000000',
      pendingReview: '0.00000000', lastSeq: seq, lastUpdate: wall, startDate: start, isActive: true, syncStatus: 'synced',
    },
    serverTime: wall,
  }, now());
}
// Then a day offline: the app is opened now and then (a reload restores the record into a new
// engine, a new session) and accrues; beyond the offline cap the core holds time for review.
for (let hour = 0; hour < 24; hour += 1) {
  const stored = engine.serialize();
  engine.dispose();
  engine = core.createEngine({ userId, clientId, seed: 7 });
  engine.restore(stored);
  wall += 3_600_000;
  mono = 1_000;
  engine.tick(now());
}
const record = engine.serialize();
// What the client runtime actually stores by default: the record deflated (js/storage/compress.js).
const memory = new MemoryStore();
await withCompression(memory).put('record', record);
const stored = await memory.get('record');
const state = engine.state();
const audit = engine.audit().slice(-100);

// The seed's layout: money as JS numbers, one SyncOperation per queued update (the seed queues an
// update per sync attempt; a day offline with a sync every minute is 1440 of them) and the audit
// log kept alongside.
const seedState = {
  userId, currentEarnings: Number(state.currentEarnings), baseEarningRate: Number(state.baseEarningRate),
  lastUpdate: state.lastUpdate, startDate: state.startDate, isActive: state.isActive, syncStatus: state.syncStatus,
};
const pendingPerMinute = Array.from({ length: 1440 }, (_, i) => ({
  id: `op-${userId}-${i}`, userId, type: 'earnings_update',
  data: { amount: Number(state.baseEarningRate) / 60, from: wall - (1440 - i) * 60_000, to: wall - (1439 - i) * 60_000 },
  timestamp: wall - (1439 - i) * 60_000, retryCount: 0, maxRetries: 5,
}));
const seedAudit = audit.map((entry, i) => ({
  id: i + 1, user_id: userId, operation_type: entry.operationType ?? entry.operation_type ?? entry.op ?? 'accrual',
  old_value: Number(entry.oldValue ?? entry.old_value ?? 0), new_value: Number(entry.newValue ?? entry.new_value ?? 0),
  timestamp: new Date(entry.timestamp ?? entry.at ?? wall).toISOString(), source: entry.source ?? 'local', metadata: entry.metadata ?? {},
}));
const seedOneOp = [{ ...pendingPerMinute[0], data: { amount: Number(state.pending), from: wall - 86_400_000, to: wall } }];
const seedBytes = (pendingOperations) => new TextEncoder().encode(JSON.stringify({
  [String(userId)]: { state: seedState, pendingOperations, auditLog: seedAudit, lastCleanup: wall, version: 1 },
})).length;

const withMinuteOps = seedBytes(pendingPerMinute);
const withOneOp = seedBytes(seedOneOp);
console.log('\nClient: stored record of one user (a day offline, 100 audit entries)');
console.log('| record | bytes | vs seed JSON, one op | vs seed JSON, op per minute |');
console.log('|---|---:|---:|---:|');
const row = (name, bytes) => console.log(`| ${name} | ${bytes} | ${(bytes / withOneOp * 100).toFixed(1)}% | ${(bytes / withMinuteOps * 100).toFixed(1)}% |`);
row('stored by the client (record, deflate-raw)', stored.length);
row('engine.serialize() (envelope + MessagePack)', record.length);
console.log(`| seed LocalEarningsData, one pending op | ${withOneOp} | 100% | |`);
console.log(`| seed LocalEarningsData, 1440 pending ops | ${withMinuteOps} | | 100% |`);
console.log(`\naudit entries in the record: ${engine.audit().length}; pending ${state.pending}, held ${state.heldForVerification}; target under half of the one-op seed JSON: ${stored.length * 2 < withOneOp ? 'met' : 'NOT met'} (stored), ${record.length * 2 < withOneOp ? 'met' : 'NOT met'} (uncompressed record)`);
engine.dispose();
