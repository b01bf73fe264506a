#include "validation.h"

namespace earnings {
namespace {

bool is_time(std::int64_t ms) { return ms >= 0 && ms <= kMaxSafeInteger; }
bool is_money(Units units) { return units >= 0 && units <= kMaxUnits; }

ValidationResult broken(const std::string& message) {
  return ValidationResult::fail(ErrorCode::kStateInvalid, "state invariant broken: " + message, true);
}

}  // namespace

ValidationResult ValidationResult::fail(ErrorCode code, std::string message, bool flag_for_review) {
  ValidationResult result;
  result.ok = false;
  result.code = code;
  result.message = std::move(message);
  result.flag_for_review = flag_for_review;
  return result;
}

ValidationResult validate_amount(Units amount, Units rate_per_hour, std::int64_t elapsed_ms,
                                 std::int64_t tolerance_ms) {
  if (amount < 0) {
    return ValidationResult::fail(ErrorCode::kAmountNegative, "earnings must not be negative", false);
  }
  if (amount > kMaxUnits) {
    return ValidationResult::fail(ErrorCode::kAmountOverflow, "earnings exceed 9999999999.99999999",
                                  false);
  }
  if (rate_per_hour < 0 || rate_per_hour > kMaxUnits) {
    return ValidationResult::fail(ErrorCode::kRateInvalid, "rate out of range", false);
  }
  if (elapsed_ms < 0 || tolerance_ms < 0) {
    return ValidationResult::fail(ErrorCode::kTimeInvalid, "elapsed time must not be negative", false);
  }
  // Saturating: two safe integers cannot overflow int64 when added.
  const Units budget = budget_for(rate_per_hour, elapsed_ms + tolerance_ms);
  if (amount > budget) {
    return ValidationResult::fail(
        ErrorCode::kAmountExceedsBudget,
        format_amount(amount) + " exceeds the budget " + format_amount(budget) + " (rate " +
            format_amount(rate_per_hour) + "/h over " + std::to_string(elapsed_ms) + " ms + " +
            std::to_string(tolerance_ms) + " ms tolerance)",
        true);
  }
  return ValidationResult::pass();
}

ValidationResult validate_timestamps(const std::vector<std::int64_t>& timestamps) {
  for (std::size_t i = 0; i < timestamps.size(); ++i) {
    if (!is_time(timestamps[i])) {
      return ValidationResult::fail(ErrorCode::kTimeInvalid,
                                    "timestamp " + std::to_string(i) + " is not a safe integer >= 0",
                                    false);
    }
    if (i > 0 && timestamps[i] < timestamps[i - 1]) {
      return ValidationResult::fail(ErrorCode::kTimestampOrder,
                                    "timestamp " + std::to_string(i) + " (" +
                                        std::to_string(timestamps[i]) + ") is earlier than the one before (" +
                                        std::to_string(timestamps[i - 1]) + ")",
                                    true);
    }
  }
  return ValidationResult::pass();
}

ValidationResult validate_state(const EarningsState& state) {
  if (state.user_id <= 0 || state.user_id > kMaxSafeInteger) {
    return ValidationResult::fail(ErrorCode::kUserIdInvalid, "userId must be a positive safe integer",
                                  false);
  }
  if (!is_money(state.current_earnings)) return broken("currentEarnings out of range");
  if (!is_money(state.base_earning_rate)) return broken("baseEarningRate out of range");
  if (!is_money(state.synced_total)) return broken("syncedTotal out of range");
  if (!is_money(state.pending)) return broken("pending out of range");
  if (!is_money(state.held_for_verification)) return broken("heldForVerification out of range");
  if (!is_money(state.under_review)) return broken("underReview out of range");
  if (state.current_earnings != state.synced_total + state.pending) {
    return broken("currentEarnings " + format_amount(state.current_earnings) +
                  " != syncedTotal " + format_amount(state.synced_total) + " + pending " +
                  format_amount(state.pending));
  }
  if (!is_time(state.start_date) || !is_time(state.last_update)) {
    return broken("startDate and lastUpdate must be safe integers >= 0");
  }
  if (state.last_update < state.start_date) return broken("lastUpdate is before startDate");
  if (state.accrual_remainder < 0 || state.accrual_remainder >= kMsPerHour) {
    return broken("accrual remainder out of range");
  }
  if (!is_time(state.unsynced_ms) || !is_time(state.budget_ms)) {
    return broken("unsyncedMs and budgetMs must be safe integers >= 0");
  }
  if (!is_time(state.last_wall) || !is_time(state.last_mono)) {
    return broken("last clock observation must be safe integers >= 0");
  }
  if (state.server_offset_ms < -kMaxSafeInteger || state.server_offset_ms > kMaxSafeInteger) {
    return broken("serverOffsetMs out of range");
  }
  return ValidationResult::pass();
}

}  // namespace earnings
