// Requests per user per second, per process, as a store of @fastify/rate-limit: a token bucket per
// user holding up to `burst` requests and refilled at `perSecond`. The plugin keys, hooks and
// refuses; this store decides. It is ours because the plugin's own store counts fixed windows on
// Date.now, and the server's clock is injected (`now`, ms), so tests drive the limit with their
// own clock, and a bucket lets a quiet user burst without letting a busy one double its rate at a
// window's edge. Bounded memory: when `maxUsers` buckets exist, those full again are forgotten
// (a forgotten user starts with a full bucket, which is what it would have anyway); if none is,
// all are, which only lets some users burst once more.
export function userRequestStore({ perSecond, burst, now, maxUsers = 100_000 }) {
  const buckets = new Map();

  function refill(bucket, at) {
    // A clock that moved back refills nothing rather than draining the bucket.
    bucket.tokens = Math.min(burst, bucket.tokens + (Math.max(0, at - bucket.at) * perSecond) / 1000);
    bucket.at = at;
  }

  function forgetFull(at) {
    for (const [userId, bucket] of buckets) {
      refill(bucket, at);
      if (bucket.tokens >= burst) buckets.delete(userId);
    }
    if (buckets.size >= maxUsers) buckets.clear();
  }

  // 0 when `userId` may make a request now (and it is counted), else the ms to wait first.
  function take(userId) {
    const at = now();
    let bucket = buckets.get(userId);
    if (bucket) {
      refill(bucket, at);
    } else {
      if (buckets.size >= maxUsers) forgetFull(at);
      bucket = { tokens: burst, at };
      buckets.set(userId, bucket);
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) * 1000) / perSecond);
  }

  // The plugin's store contract: incr answers { current, ttl }; a request is refused when current
  // passes the route's max (the burst) and told to come back after ttl ms (Retry-After, rounded up
  // to seconds). Every route shares the one set of buckets (child).
  return class UserRequestBuckets {
    incr(userId, callback) {
      const waitMs = take(userId);
      callback(null, waitMs === 0 ? { current: 1, ttl: 0 } : { current: burst + 1, ttl: waitMs });
    }

    child() {
      return this;
    }
  };
}
