// Group commit for syncs. Every sync is one transaction on the user's row, and on a real server
// what a transaction costs is mostly fixed: round trips, BEGIN/COMMIT, a WAL flush. So syncs of
// different users that arrive while the database is busy share one transaction: their rows are
// locked together, each is planned by the core on its own row, and everything is written by one
// statement. Nobody waits for a timer: a sync that arrives while fewer than `maxInFlight`
// transactions are open starts its own group at once, so an idle server answers as fast as
// before, and grouping only happens under load, which is when it pays.
//
// `commit(members)` runs one group and resolves with one outcome per member, in order:
// { value } (that member's answer), { error } (refused on its own, e.g. by the core), or
// { again: true } (not handled in this group; queued again at the front). When it rejects, the
// transaction rolled back for everyone; since one member's write can fail a whole group (say an
// amount overflow), each member is then committed alone, so only the culprit gets the error.
// `onWaiting(n)` hears how many syncs wait for a transaction whenever that changes. `shardOf`
// (userId -> shard, server/shards.js), when given, keeps each group to the shard of its oldest
// member, so on a distributed database a group's statement runs on one node and commits there.
export function createCommitGroups({ commit, maxInFlight, maxSize, shardOf = null, onWaiting = () => {} }) {
  const waiting = [];
  let inFlight = 0;

  // The oldest waiting syncs, at most one per user: a user's second sync waits for a later group
  // (the row lock would serialise them anyway, and one plan per row keeps the write one row each).
  // With a shard map, only syncs of the oldest one's shard.
  function takeGroup() {
    const group = [];
    const users = new Set();
    const shard = shardOf && waiting.length > 0 ? shardOf(waiting[0].member.userId) : null;
    let kept = 0;
    for (const entry of waiting) {
      const { userId } = entry.member;
      if (group.length < maxSize && !users.has(userId) && (shard === null || shardOf(userId) === shard)) {
        group.push(entry);
        users.add(userId);
      } else {
        waiting[kept] = entry;
        kept += 1;
      }
    }
    waiting.length = kept;
    onWaiting(kept);
    return group;
  }

  async function run(group) {
    let outcomes;
    try {
      outcomes = await commit(group.map((entry) => entry.member));
    } catch (error) {
      if (group.length === 1) {
        group[0].reject(error);
        return;
      }
      for (const entry of group) await run([entry]);
      return;
    }
    const again = [];
    group.forEach((entry, index) => {
      const outcome = outcomes[index];
      if (outcome.again) again.push(entry);
      else if (outcome.error) entry.reject(outcome.error);
      else entry.resolve(outcome.value);
    });
    waiting.unshift(...again);
    onWaiting(waiting.length);
  }

  function pump() {
    while (inFlight < maxInFlight && waiting.length > 0) {
      const group = takeGroup();
      inFlight += 1;
      run(group).finally(() => {
        inFlight -= 1;
        pump();
      });
    }
  }

  return {
    submit(member) {
      return new Promise((resolve, reject) => {
        waiting.push({ member, resolve, reject });
        onWaiting(waiting.length);
        pump();
      });
    },
  };
}
