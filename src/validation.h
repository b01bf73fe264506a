// Checks of earnings data (Properties 16, 17, 18). Each check answers with a value, never an
// exception: ok, a stable ErrorCode, a human message, and whether a person should look at it.
// Malformed input is simply refused; what can only come from tampering, a bug or lost data
// (an amount beyond the time budget, time running backwards, a broken state invariant) is also
// flagged for review.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "amount.h"
#include "state.h"
#include "status.h"

namespace earnings {

struct ValidationResult {
  bool ok = true;
  ErrorCode code = ErrorCode::kOk;
  std::string message;
  bool flag_for_review = false;

  static ValidationResult pass() { return ValidationResult(); }
  static ValidationResult fail(ErrorCode code, std::string message, bool flag_for_review);
  Status status() const { return ok ? Status::Ok() : Status(code, message); }
};

// Property 16: an earning is positive-or-zero and at most rate x (elapsed + tolerance).
// REQUIRES nothing: negative rates or times are themselves reported.
ValidationResult validate_amount(Units amount, Units rate_per_hour, std::int64_t elapsed_ms,
                                 std::int64_t tolerance_ms);

// Property 17: every timestamp is a non-negative safe integer and none is earlier than the one
// before it.
ValidationResult validate_timestamps(const std::vector<std::int64_t>& timestamps);

// Property 18: the EarningsState invariants (see state.h): amounts within [0, kMaxUnits],
// current == synced + pending, startDate <= lastUpdate, remainder in [0, kMsPerHour), counters
// non-negative, positive user id, times safe integers.
ValidationResult validate_state(const EarningsState& state);

}  // namespace earnings
