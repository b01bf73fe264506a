// Moving a user from the seed's plain-JSON localStorage entry (format v1) to a new engine. The old
// app's books cannot be trusted (float money, syncs that failed silently, tabs counting twice), so
// nothing it claims is credited on its word: its rate and mining flag carry over, and the earnings
// its pending operations still claimed become one `verification` op, which the server queues for
// a person to approve (Properties 26, 28). What the old app had synced is already in the server's
// row and comes back with the first sync answer.
#include <algorithm>
#include <limits>
#include <optional>

#include "codec.h"
#include "engine.h"

namespace earnings {
namespace {

// The delta a pending `earnings_update` op claimed: data.amount, else data.earnings (decimal
// strings after decode_legacy_v1). The other amounts an op may carry (currentEarnings,
// totalEarned) are snapshots of a balance and say nothing about what was never delivered.
std::optional<Units> claimed_delta(const Node& op) {
  if (op.find("type").text() != "earnings_update") return std::nullopt;
  const Node data = op.find("data");
  for (const char* key : {"amount", "earnings"}) {
    const Node found = data.find(key);
    if (!found.is_string()) continue;
    auto units = parse_amount(found.text());
    if (units.ok() && units.value() > 0) return units.value();
  }
  return std::nullopt;
}

// A member decode_legacy_v1 has checked. REQUIRES: it is a safe integer.
std::int64_t checked_integer(const Node& object, const char* key) {
  std::int64_t value = 0;
  object.find(key).as_int64(&value);
  return value;
}

}  // namespace

Status Engine::import_legacy(const std::string& text, std::int64_t wall, std::int64_t mono) {
  close_journal();
  if (state_.has_clock || !outbox_.empty()) {
    return Status(ErrorCode::kStateInvalid, "a legacy entry is imported into a new engine only");
  }
  auto decoded = decode_legacy_v1(text);
  if (!decoded.ok()) return decoded.status();
  const Node legacy = decoded.value().root();
  const Node old_state = legacy.find("state");
  if (checked_integer(old_state, "userId") != state_.user_id) {
    return Status(ErrorCode::kRecordUserMismatch, "the legacy entry belongs to another user");
  }
  auto rate = parse_amount(old_state.find("baseEarningRate").text());
  if (!rate.ok()) return rate.status();
  if (rate.value() > config_.max_rate_per_hour) {
    return Status(ErrorCode::kRateInvalid, "the legacy rate " + format_amount(rate.value()) +
                                               " is above maxRatePerHour " +
                                               format_amount(config_.max_rate_per_hour));
  }
  Units claimed = 0;
  std::int64_t claimed_ops = 0;
  std::int64_t from = std::numeric_limits<std::int64_t>::max();
  std::int64_t to = 0;
  const Node pending = legacy.find("pendingOperations");
  for (Node op : pending.elements()) {
    const auto delta = claimed_delta(op);
    if (!delta) continue;
    auto sum = add_amounts(claimed, *delta);
    if (!sum.ok()) return Status(ErrorCode::kAmountOverflow, "the legacy claims exceed the largest amount");
    claimed = sum.value();
    ++claimed_ops;
    const std::int64_t at = checked_integer(op, "timestamp");
    from = std::min(from, at);
    to = std::max(to, at);
  }
  // Everything that can refuse the import has been checked; the clock is the last.
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  state_.base_earning_rate = rate.value();
  state_.is_active = old_state.find("isActive").boolean();
  const std::int64_t started = checked_integer(old_state, "startDate");
  if (started > 0 && started < state_.start_date) state_.start_date = started;
  if (claimed > 0) {
    Status added = outbox_.add(OpType::kVerification, claimed, from, to, rate.value(), 0);
    if (!added.ok()) return added;
    if (dirty_since_ < 0) dirty_since_ = state_.last_update;
    push_event(Fields().add("type", "review_needed").add("reason", "legacy_import").amount("amount", claimed));
  }
  refresh_from_outbox();
  const auto pending_ops = static_cast<std::int64_t>(pending.size());
  audit("legacy_import", AuditSource::kLocal, std::nullopt, claimed,
        Fields()
            .add("legacyCurrentEarnings", old_state.find("currentEarnings").text())
            .add("legacyLastUpdate", checked_integer(old_state, "lastUpdate"))
            .add("claimedOps", claimed_ops)
            .add("otherOps", pending_ops - claimed_ops)
            .amount("rate", rate.value()));
  return Status::Ok();
}

}  // namespace earnings
