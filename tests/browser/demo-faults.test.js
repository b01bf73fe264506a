// The demo's fault wrappers must break things exactly as advertised, or the browser tests built on
// them prove nothing. These run in Node against in-memory doubles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ClockFaults, NetworkFaults, StorageFaults, manualTimeSource, seededRandom,
} from '../../web-demo/faults.js';
import { formatDuration, formatTon } from '../../web-demo/format.js';
import { MemoryStore } from '../../js/storage/memory.js';

function countingTransport() {
  const calls = [];
  return {
    calls,
    async sync(request) {
      calls.push(request);
      return { status: 200, text: '{"ok":true}' };
    },
  };
}

test('offline: no request leaves, the client sees a status-0 failure', async () => {
  const inner = countingTransport();
  const faults = new NetworkFaults();
  const transport = faults.wrap(inner);
  faults.offline = true;
  const answer = await transport.sync({ n: 1 });
  assert.equal(answer.status, 0);
  assert.equal(inner.calls.length, 0);
  faults.offline = false;
  assert.equal((await transport.sync({ n: 2 })).status, 200);
  assert.deepEqual(inner.calls, [{ n: 2 }]);
});

test('dropped response: the server got the request, the client got a failure', async () => {
  const inner = countingTransport();
  const faults = new NetworkFaults();
  const seen = [];
  faults.onFault((fault) => seen.push(fault.kind));
  const transport = faults.wrap(inner);
  faults.dropNextResponses = 1;
  assert.equal((await transport.sync({ n: 1 })).status, 0);
  assert.equal(inner.calls.length, 1);
  assert.equal((await transport.sync({ n: 2 })).status, 200);
  assert.deepEqual(seen, ['response-dropped']);
});

test('dropped request: the server never sees it', async () => {
  const inner = countingTransport();
  const faults = new NetworkFaults({ random: () => 0 });
  faults.dropRequestRate = 0.5;
  const transport = faults.wrap(inner);
  assert.equal((await transport.sync({})).status, 0);
  assert.equal(inner.calls.length, 0);
  assert.equal(faults.counts.requestsDropped, 1);
});

test('latency waits through the injected delay before the request goes out', async () => {
  const inner = countingTransport();
  const waited = [];
  const faults = new NetworkFaults({ delay: async (ms) => { waited.push(ms); } });
  faults.latencyMs = 1500;
  await faults.wrap(inner).sync({});
  assert.deepEqual(waited, [1500]);
  assert.equal(inner.calls.length, 1);
});

test('seeded drop decisions repeat for the same seed', () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const first = Array.from({ length: 5 }, () => a());
  assert.deepEqual(first, Array.from({ length: 5 }, () => b()));
  assert.ok(first.every((x) => x >= 0 && x < 1));
});

test('clock jump moves the wall clock only', () => {
  const source = manualTimeSource({ wall: 1_700_000_000_000 });
  const clock = new ClockFaults(source);
  source.advance(1000);
  clock.jump(3_600_000);
  assert.equal(clock.wall(), 1_700_000_000_000 + 1000 + 3_600_000);
  assert.equal(clock.mono(), 1000);
  clock.jump(-7_200_000);
  assert.equal(clock.wall(), 1_700_000_000_000 + 1000 - 3_600_000);
  assert.equal(clock.mono(), 1000);
});

test('corrupt flips stored bytes behind the client, and reports nothing stored as false', async () => {
  const faults = new StorageFaults();
  const store = faults.wrap(new MemoryStore());
  assert.equal(await faults.corrupt('teg:record:1'), false);
  await store.put('teg:record:1', Uint8Array.from([1, 2, 3, 4]));
  assert.equal(await faults.corrupt('teg:record:1'), true);
  assert.notDeepEqual(await store.get('teg:record:1'), Uint8Array.from([1, 2, 3, 4]));
});

test('full quota: growth throws until something is evicted; shrinking still fits', async () => {
  const faults = new StorageFaults();
  const store = faults.wrap(new MemoryStore());
  await store.put('teg:record:1', new Uint8Array(100));
  await store.put('teg:record:2', new Uint8Array(50));
  faults.fillQuota();
  await assert.rejects(store.put('teg:record:1', new Uint8Array(120)), { name: 'QuotaExceededError' });
  await store.put('teg:record:1', new Uint8Array(90));
  await store.delete('teg:record:2');
  await store.put('teg:record:1', new Uint8Array(130));
  await assert.rejects(store.put('teg:record:1', new Uint8Array(200)), { name: 'QuotaExceededError' });
  faults.freeQuota();
  await store.put('teg:record:1', new Uint8Array(200));
  assert.equal(faults.counts.quotaErrors, 2);
});

test('display formatting keeps money as text and shows short backoffs', () => {
  assert.equal(formatTon('1234567.50000000'), '1\u2009234\u2009567.50000000');
  assert.equal(formatTon('0.00000001'), '0.00000001');
  assert.equal(formatTon('-12.5'), '-12.5');
  assert.equal(formatTon(12.5), '-');
  assert.equal(formatTon('1e5'), '-');
  assert.equal(formatDuration(0), 'now');
  assert.equal(formatDuration(240), 'in 0.2 s');
  assert.equal(formatDuration(9_999), 'in 10.0 s');
  assert.equal(formatDuration(45_000), 'in 45 s');
  assert.equal(formatDuration(600_000), 'in 10 min');
  assert.equal(formatDuration(-1), '-');
});
