#include "backoff.h"

#include "json_fields.h"
#include "state.h"

namespace earnings {
namespace {

// Beyond this many doublings every sane ceiling is the cap; saturating keeps the counter and
// the shift bounded however long a device stays offline.
constexpr std::int64_t kMaxCountedFailures = 1000000;
constexpr std::int64_t kMaxShift = 62;

}  // namespace

std::uint64_t SeededRandom::next() {
  state_ += 0x9E3779B97F4A7C15ULL;
  std::uint64_t z = state_;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

std::int64_t SeededRandom::uniform_inclusive(std::int64_t bound) {
  if (bound <= 0) return 0;
  const std::uint64_t range = static_cast<std::uint64_t>(bound) + 1;
  // Reject the top partial block so every value in [0, bound] is equally likely.
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  std::uint64_t draw = next();
  while (draw >= limit) draw = next();
  return static_cast<std::int64_t>(draw % range);
}

std::int64_t backoff_ceiling(const BackoffPolicy& policy, std::int64_t attempt) {
  if (policy.base_ms <= 0 || policy.cap_ms <= 0) return 0;
  if (attempt < 0) attempt = 0;
  std::int64_t ceiling = policy.base_ms;
  for (std::int64_t i = 0; i < attempt && i < kMaxShift; ++i) {
    if (ceiling >= policy.cap_ms) break;
    ceiling = ceiling > INT64_MAX / 2 ? INT64_MAX : ceiling * 2;
  }
  return ceiling < policy.cap_ms ? ceiling : policy.cap_ms;
}

std::int64_t Backoff::on_failure(const BackoffPolicy& policy, std::int64_t now, SeededRandom& random) {
  const std::int64_t delay = random.uniform_inclusive(backoff_ceiling(policy, failures_));
  if (failures_ < kMaxCountedFailures) ++failures_;
  waiting_ = true;
  next_retry_at_ = now > kMaxSafeInteger - delay ? kMaxSafeInteger : now + delay;
  return delay;
}

void Backoff::reset() {
  failures_ = 0;
  waiting_ = false;
  next_retry_at_ = 0;
}

void Backoff::release(std::int64_t now) {
  if (waiting_) next_retry_at_ = now;
  waiting_ = false;
}

std::int64_t Backoff::ms_until_retry(std::int64_t now) const {
  if (!waiting_ || next_retry_at_ <= now) return 0;
  return next_retry_at_ - now;
}

Bytes Backoff::to_document() const {
  return Fields().add("failures", failures_).add("waiting", waiting_).add("nextRetryAt", next_retry_at_).bytes();
}

Result<Backoff> Backoff::from_document(const Node& value) {
  constexpr ErrorCode kCorrupt = ErrorCode::kRecordCorrupt;
  if (!value.is_map()) return Status(kCorrupt, "backoff must be an object");
  Backoff backoff;
  FieldReader read(value, kCorrupt);
  read.integer("failures", 0, kMaxCountedFailures, &backoff.failures_);
  read.boolean("waiting", &backoff.waiting_);
  read.integer("nextRetryAt", 0, &backoff.next_retry_at_);
  if (!read.ok()) return Status(kCorrupt, "backoff: " + read.status().message());
  return backoff;
}

}  // namespace earnings
