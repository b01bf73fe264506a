// The row cache's contract (server/row-cache.js): what it returns, for whom, and what it forgets.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { RowCache } from '../../server/row-cache.js';

test('a written row is returned to the client that wrote it only, until forgotten', () => {
  const cache = new RowCache();
  const row = { userId: 1, revision: '10', lastSeq: 3 };
  assert.equal(cache.rowFor(1, 'a'), undefined);
  cache.rememberWritten(1, 'a', row);
  assert.equal(cache.rowFor(1, 'a'), row);
  // The row carries client a's last_seq: another client of the user must read its own.
  assert.equal(cache.rowFor(1, 'b'), undefined);
  const newer = { userId: 1, revision: '11', lastSeq: 1 };
  cache.rememberWritten(1, 'b', newer);
  assert.equal(cache.rowFor(1, 'a'), undefined);
  assert.equal(cache.rowFor(1, 'b'), newer);
  cache.forgetRow(1);
  assert.equal(cache.rowFor(1, 'b'), undefined);
});

test('existing users are remembered until forgotten; forgetting a user also drops its row', () => {
  const cache = new RowCache();
  cache.markExisting([1, 2]);
  assert.equal(cache.exists(1), true);
  assert.equal(cache.exists(3), false);
  cache.rememberWritten(2, 'a', { userId: 2 });
  cache.forget(2);
  assert.equal(cache.exists(2), false);
  assert.equal(cache.rowFor(2, 'a'), undefined);
  assert.equal(cache.exists(1), true);
});

test('full, each part starts over rather than growing', () => {
  const cache = new RowCache({ limit: 3 });
  cache.markExisting([1, 2, 3]);
  cache.markExisting([4]);
  assert.deepEqual([1, 2, 3, 4].map((id) => cache.exists(id)), [false, false, false, true]);
  for (const id of [1, 2, 3]) cache.rememberWritten(id, 'a', { userId: id });
  // Rewriting a remembered user does not count as growing.
  cache.rememberWritten(3, 'a', { userId: 3, again: true });
  assert.equal(cache.rowFor(1, 'a')?.userId, 1);
  cache.rememberWritten(4, 'a', { userId: 4 });
  assert.deepEqual([1, 2, 3, 4].map((id) => cache.rowFor(id, 'a')?.userId), [undefined, undefined, undefined, 4]);
});
