// When to retry a failed sync (Properties 3, 12). Capped exponential backoff with full jitter:
// the n-th consecutive failure waits a uniformly random time in [0, min(cap, base * 2^n)], so
// many clients that failed together do not come back together. The random source is injected
// (SeededRandom, splitmix64) and its state is part of the engine's stored record, so a restored
// engine continues the same sequence and tests are reproducible.
//
// Backoff never gives up on earnings: after max_retries consecutive failures it reports
// `failed` (shown to the user as syncStatus "failed") and keeps retrying with the cap as ceiling.
// A success resets it.
#pragma once

#include <cstdint>

#include "document.h"
#include "status.h"

namespace earnings {

class SeededRandom {
 public:
  explicit SeededRandom(std::uint64_t seed = 0) : state_(seed) {}

  std::uint64_t next();
  // Uniform in [0, bound], without modulo bias. REQUIRES: bound >= 0.
  std::int64_t uniform_inclusive(std::int64_t bound);

  std::uint64_t state() const { return state_; }

 private:
  std::uint64_t state_;
};

struct BackoffPolicy {
  std::int64_t base_ms = 1000;
  std::int64_t cap_ms = 60000;
  std::int64_t max_retries = 8;
};

// The ceiling of the delay after `attempt` consecutive failures (attempt 0 = first failure):
// min(cap, base * 2^attempt), without overflow for any attempt >= 0.
std::int64_t backoff_ceiling(const BackoffPolicy& policy, std::int64_t attempt);

class Backoff {
 public:
  // Records one more failure at `now` and returns the delay before the next attempt, drawn from
  // `random`. The attempt counter saturates: the ceiling is capped long before it matters.
  std::int64_t on_failure(const BackoffPolicy& policy, std::int64_t now, SeededRandom& random);
  void reset();
  // A retry may run now (e.g. the network came back): clears the wait, keeps the failure count.
  void release(std::int64_t now);

  std::int64_t failures() const { return failures_; }
  bool failed(const BackoffPolicy& policy) const { return failures_ >= policy.max_retries; }
  bool waiting() const { return waiting_; }
  std::int64_t next_retry_at() const { return next_retry_at_; }
  std::int64_t ms_until_retry(std::int64_t now) const;

  // {"failures","waiting","nextRetryAt"}; from_document validates (kRecordCorrupt).
  Bytes to_document() const;
  static Result<Backoff> from_document(const Node& value);

 private:
  std::int64_t failures_ = 0;
  bool waiting_ = false;
  std::int64_t next_retry_at_ = 0;
};

}  // namespace earnings
