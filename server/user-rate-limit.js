// Requests per user per second, per process: a token bucket per user holding up to `burst`
// requests and refilled at `perSecond`. It runs on the server's clock (`now`, ms), so tests drive it
// with their own. Bounded memory: when `maxUsers` buckets exist, those full again are forgotten
// (a forgotten user starts with a full bucket, which is what it would have anyway); if none is,
// all are, which only lets some users burst once more.
export function createUserRateLimit({ perSecond, burst, now, maxUsers = 100_000 }) {
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

  return {
    // 0 when `userId` may make a request now (and it is counted), else the ms to wait first.
    take(userId) {
      if (perSecond === 0) return 0;
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
    },
  };
}
