// The tap journal through the wasm engine (src/journal.h, DESIGN.md "The tap journal"): a store
// is simulated as the client keeps it (the last checkpoint and the journal entries stored after
// it), and an engine restored from it must be, byte for byte, the engine as it was at the last
// stored write; a damaged, foreign, missing, repeated or reordered entry is refused, never
// applied twice, never half-applied, and never crashes the core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { loadCore } from '../../../js/core.js';
import { EngineStepPlayer } from '../support/engine-steps.js';

const T0 = 1_700_000_000_000;
const USER = 41;
const CONFIG = { maxRatePerHour: '100000', auditCapacity: 30 };
const RECORD_ERRORS = new Set(['RECORD_CORRUPT', 'RECORD_USER_MISMATCH']);

const step = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('earn'), ms: fc.integer({ min: 0, max: 5_000 }), amount: fc.constantFrom('0.00000001', '0.0001', '0.5', '1000000') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick'), ms: fc.integer({ min: 0, max: 120_000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('write'), checkpoint: fc.boolean() }) },
  fc.record({ kind: fc.constant('mining'), active: fc.boolean() }),
  fc.record({ kind: fc.constant('sync-fails'), status: fc.constantFrom(0, 503) }),
  fc.record({ kind: fc.constant('read'), what: fc.constantFrom('audit', 'serialize') }),
  fc.record({ kind: fc.constant('reload'), ms: fc.integer({ min: 0, max: 60_000 }) }),
);

// Runs `steps` on an engine the way the client stores it; returns what the store holds and, for
// each stored write, the engine's own record right after it (what a restore must reproduce).
function run(core, steps) {
  const create = () => core.createEngine({ userId: USER, clientId: 'c-jour', seed: 9, config: CONFIG });
  const player = new EngineStepPlayer(create(), T0);
  const store = { record: null, entries: [] };
  const history = [];
  const write = (checkpoint) => {
    const { engine } = player;
    const entry = checkpoint ? null : engine.journalEntry();
    if (entry === null) {
      store.record = engine.checkpoint();
      store.entries = [];
    } else if (entry.bytes.length > 0) {
      assert.equal(entry.seq, store.entries.length, 'an entry takes the next place after its checkpoint');
      store.entries.push(entry.bytes);
    } else {
      return;
    }
    engine.stored();
    history.push({ entries: store.entries.length, record: store.record, entry: entry?.bytes ?? null, expected: engine.serialize() });
  };
  player.engine.setRate('3600');
  player.engine.setActive(true, player.now());
  write(true);
  try {
    for (const s of steps) {
      if (player.play(s)) continue;
      if (s.kind === 'write') {
        write(s.checkpoint);
      } else if (s.kind === 'read') {
        if (s.what === 'audit') player.engine.audit();
        else player.engine.serialize();
      } else {
        // The tab is killed: what the store holds is all that is left, and a new page goes on.
        const restored = create();
        restored.restore(store.record);
        for (const bytes of store.entries) restored.replayJournal(bytes);
        player.engine.dispose();
        player.reloaded(restored, s.ms);
        restored.tick(player.now());
      }
    }
    write(false);
  } finally {
    player.engine.dispose();
  }
  return { store, history, create };
}

// What RecordRestore does: the record, then entries in order until one is refused; a refusal
// part-way through an entry's calls is undone by restoring again with the entries before it.
function restoreFrom(create, record, entries) {
  let engine = create();
  engine.restore(record);
  for (let i = 0; i < entries.length; i += 1) {
    try {
      engine.replayJournal(entries[i]);
    } catch (error) {
      assert.ok(RECORD_ERRORS.has(error.code), `a refused entry is a RECORD_* error, not ${error.code}: ${error.message}`);
      engine.dispose();
      engine = create();
      engine.restore(record);
      for (const bytes of entries.slice(0, i)) engine.replayJournal(bytes);
      return { engine, replayed: i };
    }
  }
  return { engine, replayed: entries.length };
}

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

// The entry with one payload byte changed behind a checksum made valid again (Property 15).
function resealed(bytes, at, value) {
  const copy = bytes.slice();
  copy[12 + (at % (copy.length - 12))] = value;
  const view = new DataView(copy.buffer, copy.byteOffset);
  view.setUint32(8, crc32([...copy.subarray(3, 8), ...copy.subarray(12)]), true);
  return copy;
}

test('Property 22: a record and the journal entries stored after it restore to exactly the engine at its last stored write', async () => {
  const core = await loadCore();
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 50 }), (steps) => {
      const { store, history, create } = run(core, steps);
      const last = history.at(-1);
      const { engine, replayed } = restoreFrom(create, store.record, store.entries);
      try {
        assert.equal(replayed, store.entries.length, 'every entry the tab stored replays');
        assert.deepEqual(engine.serialize(), last.expected, 'same balance, outbox, op numbers, audit, metrics');
      } finally {
        engine.dispose();
      }
    }),
    { numRuns: 120, seed: 1206 },
  );
});

const damage = fc.oneof(
  fc.record({ kind: fc.constant('flip'), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate'), keep: fc.nat() }),
  fc.record({ kind: fc.constant('resealed'), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('duplicate') }),
  fc.record({ kind: fc.constant('drop') }),
  fc.record({ kind: fc.constant('swap') }),
  fc.record({ kind: fc.constant('other-user') }),
  fc.record({ kind: fc.constant('stale') }),
);

test('Property 8: a damaged, foreign, missing, repeated or reordered journal entry is refused; the entries before it restore exactly, none twice', async () => {
  const core = await loadCore();
  // Another user's entries, and this user's from an older checkpoint, to put in the journal.
  const other = core.createEngine({ userId: USER + 1, clientId: 'c-other', seed: 9, config: CONFIG });
  other.setRate('3600');
  other.setActive(true, { wall: T0, mono: 1_000 });
  other.checkpoint();
  other.stored();
  other.addEarnings('0.0001', { wall: T0 + 10, mono: 1_010 });
  const foreign = other.journalEntry().bytes;
  other.dispose();
  const writesAndEarnings = fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('earn'), ms: fc.integer({ min: 0, max: 5_000 }), amount: fc.constant('0.0001') }),
      fc.record({ kind: fc.constant('tick'), ms: fc.integer({ min: 0, max: 60_000 }) }),
      fc.record({ kind: fc.constant('write'), checkpoint: fc.constant(false) }),
    ),
    { minLength: 4, maxLength: 30 },
  );
  fc.assert(
    fc.property(writesAndEarnings, damage, fc.nat(), (steps, hurt, where) => {
      // A checkpoint in the middle leaves entries of the older checkpoint to play stale ones.
      const half = Math.floor(steps.length / 2);
      const { store, history, create } = run(core, [...steps.slice(0, half), { kind: 'write', checkpoint: true }, ...steps.slice(half)]);
      const older = history.filter((h) => h.record !== store.record && h.entry !== null).map((h) => h.entry);
      const entries = store.entries.slice();
      fc.pre(entries.length >= 2);
      const k = where % entries.length;
      let firstBad = k;
      switch (hurt.kind) {
        case 'flip':
          entries[k] = entries[k].slice();
          entries[k][hurt.at % entries[k].length] ^= 1 << hurt.bit;
          break;
        case 'truncate':
          entries[k] = entries[k].slice(0, hurt.keep % entries[k].length);
          break;
        case 'resealed':
          entries[k] = resealed(entries[k], hurt.at, hurt.value);
          // The same byte written again is no damage.
          if (entries[k].every((byte, i) => byte === store.entries[k][i])) firstBad = entries.length;
          break;
        case 'duplicate':
          entries.splice(k + 1, 0, entries[k]);
          firstBad = k + 1;
          break;
        case 'drop':
          entries.splice(k, 1);
          if (k === entries.length) firstBad = entries.length;
          break;
        case 'swap':
          if (k + 1 < entries.length) [entries[k], entries[k + 1]] = [entries[k + 1], entries[k]];
          else firstBad = entries.length;
          break;
        case 'other-user':
          entries.splice(k, 0, foreign);
          break;
        case 'stale':
          fc.pre(older.length > 0);
          entries.splice(k, 0, older[where % older.length]);
          break;
        default:
          throw new Error(hurt.kind);
      }
      const { engine, replayed } = restoreFrom(create, store.record, entries);
      const expected = history.filter((h) => h.record === store.record).find((h) => h.entries === replayed).expected;
      try {
        if (hurt.kind === 'resealed' && replayed > firstBad) {
          // A changed payload behind a valid checksum can still be an entry; it is applied only
          // when it replays to the state it recorded (say, a tick moved between two others).
          const recorded = create();
          recorded.restore(expected);
          assert.deepEqual(engine.state(), recorded.state());
          recorded.dispose();
          return;
        }
        assert.equal(replayed, Math.min(firstBad, entries.length));
        assert.deepEqual(engine.serialize(), expected, 'the record and the entries before the first refused one, each once');
      } finally {
        engine.dispose();
      }
    }),
    { numRuns: 200, seed: 815 },
  );
});
