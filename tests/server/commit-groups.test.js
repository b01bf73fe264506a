// Group commit (server/commit-groups.js): when syncs share a transaction, what happens when one
// member fails, and that an idle server never makes a sync wait for others. The transaction is a
// deferred the test settles by hand, so every interleaving here is chosen, not timed.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createCommitGroups } from '../../server/commit-groups.js';

// A commit function whose calls the test answers one by one.
function scriptedCommits() {
  const calls = [];
  const commit = (members) =>
    new Promise((resolve, reject) => {
      calls.push({ users: members.map((m) => m.userId), resolve, reject, members });
    });
  return { calls, commit };
}

const member = (userId, tag = '') => ({ userId, tag });
const answer = (members) => members.map((m) => ({ value: `${m.userId}${m.tag}` }));
const settled = () => new Promise((resolve) => setImmediate(resolve));

test('an idle server commits a sync at once, alone', async () => {
  const { calls, commit } = scriptedCommits();
  const groups = createCommitGroups({ commit, maxInFlight: 2, maxSize: 64 });
  const first = groups.submit(member(1));
  assert.deepEqual(calls.map((c) => c.users), [[1]]);
  calls[0].resolve(answer(calls[0].members));
  assert.equal(await first, '1');
});

test('syncs arriving while every transaction is busy share the next one, at most one per user, oldest first', async () => {
  const { calls, commit } = scriptedCommits();
  const groups = createCommitGroups({ commit, maxInFlight: 1, maxSize: 3 });
  const answers = [groups.submit(member(1))];
  for (const [userId, tag] of [[2, ''], [3, ''], [2, 'b'], [4, ''], [5, '']]) answers.push(groups.submit(member(userId, tag)));
  assert.deepEqual(calls.map((c) => c.users), [[1]], 'the others wait for the open transaction');
  calls[0].resolve(answer(calls[0].members));
  await settled();
  // User 2's second sync waits for a later group; the group is capped at 3.
  assert.deepEqual(calls[1].users, [2, 3, 4]);
  calls[1].resolve(answer(calls[1].members));
  await settled();
  assert.deepEqual(calls[2].users, [2, 5]);
  assert.equal(calls[2].members[0].tag, 'b');
  calls[2].resolve(answer(calls[2].members));
  assert.deepEqual(await Promise.all(answers), ['1', '2', '3', '2b', '4', '5']);
});

test('a failed group is committed again member by member, so only the culprit gets the error', async () => {
  const { calls, commit } = scriptedCommits();
  const groups = createCommitGroups({ commit, maxInFlight: 1, maxSize: 64 });
  const busy = groups.submit(member(1));
  const grouped = Promise.allSettled([2, 3, 4].map((userId) => groups.submit(member(userId))));
  calls[0].resolve(answer(calls[0].members));
  await busy;
  await settled();
  assert.deepEqual(calls[1].users, [2, 3, 4]);
  calls[1].reject(new Error('numeric field overflow'));
  for (const [index, userId] of [[2, 2], [3, 3], [4, 4]]) {
    await settled();
    assert.deepEqual(calls[index].users, [userId], 'each member alone, in order');
    if (userId === 3) calls[index].reject(new Error('numeric field overflow'));
    else calls[index].resolve(answer(calls[index].members));
  }
  const outcomes = await grouped;
  assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.equal(outcomes[1].reason.message, 'numeric field overflow');
  assert.deepEqual([outcomes[0].value, outcomes[2].value], ['2', '4']);
});

test('a member refused on its own gets its error; one sent back is committed again first', async () => {
  const { calls, commit } = scriptedCommits();
  const groups = createCommitGroups({ commit, maxInFlight: 1, maxSize: 2 });
  const busy = groups.submit(member(1));
  const pending = Promise.allSettled([2, 3, 4].map((userId) => groups.submit(member(userId))));
  calls[0].resolve(answer(calls[0].members));
  await busy;
  await settled();
  assert.deepEqual(calls[1].users, [2, 3]);
  const refusal = Object.assign(new Error('bad request'), { code: 'REQUEST_INVALID' });
  calls[1].resolve([{ error: refusal }, { again: true }]);
  await settled();
  assert.deepEqual(calls[2].users, [3, 4], 'the member sent back goes before those that came after it');
  calls[2].resolve(answer(calls[2].members));
  const outcomes = await pending;
  assert.equal(outcomes[0].reason, refusal);
  assert.deepEqual([outcomes[1].value, outcomes[2].value], ['3', '4']);
});

test('no more transactions open at once than maxInFlight', async () => {
  const { calls, commit } = scriptedCommits();
  const groups = createCommitGroups({ commit, maxInFlight: 2, maxSize: 64 });
  const pending = [1, 2, 3, 4].map((userId) => groups.submit(member(userId)));
  assert.deepEqual(calls.map((c) => c.users), [[1], [2]]);
  calls[1].resolve(answer(calls[1].members));
  await settled();
  assert.deepEqual(calls.map((c) => c.users), [[1], [2], [3, 4]]);
  calls[0].resolve(answer(calls[0].members));
  calls[2].resolve(answer(calls[2].members));
  assert.deepEqual(await Promise.all(pending), ['1', '2', '3', '4']);
});

test('with a shard map, a group holds syncs of the oldest waiting sync\'s shard only, oldest first', async () => {
  const { calls, commit } = scriptedCommits();
  // Even users on shard 0, odd on shard 1.
  const groups = createCommitGroups({ commit, maxInFlight: 1, maxSize: 64, shardOf: (userId) => userId % 2 });
  const answers = [groups.submit(member(10))];
  for (const userId of [3, 4, 5, 6, 7]) answers.push(groups.submit(member(userId)));
  calls[0].resolve(answer(calls[0].members));
  await settled();
  assert.deepEqual(calls.map((c) => c.users), [[10], [3, 5, 7]]);
  calls[1].resolve(answer(calls[1].members));
  await settled();
  assert.deepEqual(calls[2].users, [4, 6]);
  calls[2].resolve(answer(calls[2].members));
  assert.deepEqual(await Promise.all(answers), ['10', '3', '4', '5', '6', '7']);
});
