// Which shard of a distributed PostgreSQL (Citus) holds a user, computed the way Citus places a
// row of a hash-distributed table: the distribution column's hash (PostgreSQL's hashint8 for a
// BIGINT user_id) falls in one of `shardCount` equal ranges of the 32-bit hash space, in shard
// order. This holds for tables distributed with create_distributed_table(..., shard_count => N)
// and never rebalanced by splitting shards (docs/SCALING.md); tests/server/distribution-rules
// checks it against hashint8 in PostgreSQL itself. Commit groups use it so that one group's
// statement touches one shard, and never needs a two-phase commit.
const INT32_MIN = -(2 ** 31);
const HASH_TOKEN_COUNT = 2 ** 32;

const rotl = (x, k) => ((x << k) | (x >>> (32 - k))) >>> 0;

// PostgreSQL's hash_bytes_uint32 (Bob Jenkins' lookup3 final mix of one 32-bit word).
function hashUint32(k) {
  let a = (0x9e3779b9 + 4 + 3923095 + k) >>> 0;
  let b = (0x9e3779b9 + 4 + 3923095) >>> 0;
  let c = b;
  c = ((c ^ b) - rotl(b, 14)) >>> 0;
  a = ((a ^ c) - rotl(c, 11)) >>> 0;
  b = ((b ^ a) - rotl(a, 25)) >>> 0;
  c = ((c ^ b) - rotl(b, 16)) >>> 0;
  a = ((a ^ c) - rotl(c, 4)) >>> 0;
  b = ((b ^ a) - rotl(a, 14)) >>> 0;
  c = ((c ^ b) - rotl(b, 24)) >>> 0;
  return c | 0;
}

// PostgreSQL's hashint8: folds the high half into the low one (inverted for negative values),
// so that equal int2/int4/int8 values hash alike. REQUIRES: a safe integer.
export function hashint8(value) {
  const big = BigInt(value);
  const low = Number(big & 0xffffffffn);
  const high = Number((big >> 32n) & 0xffffffffn);
  return hashUint32((low ^ (big >= 0n ? high : ~high >>> 0)) >>> 0);
}

// The shard index (0 .. shardCount - 1) of a user; Citus gives shard i the hash range starting
// at INT32_MIN + i * floor(2^32 / shardCount), the last one running to INT32_MAX.
export function shardOf(userId, shardCount) {
  const increment = Math.floor(HASH_TOKEN_COUNT / shardCount);
  return Math.min(Math.floor((hashint8(userId) - INT32_MIN) / increment), shardCount - 1);
}

// The shard map commit groups use: null with no shards configured (one database).
export function shardMap(shardCount) {
  return shardCount > 0 ? (userId) => shardOf(userId, shardCount) : null;
}
