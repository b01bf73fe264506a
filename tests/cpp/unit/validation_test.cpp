#include <catch2/catch.hpp>

#include "validation.h"

namespace earnings {
namespace {

constexpr Units kOneTon = 100000000;

EarningsState valid_state() {
  EarningsState s;
  s.user_id = 42;
  s.synced_total = 5 * kOneTon;
  s.pending = 3;
  s.current_earnings = 5 * kOneTon + 3;
  s.start_date = 1000;
  s.last_update = 2000;
  return s;
}

TEST_CASE("validate_amount (Property 16)") {
  SECTION("within rate x (elapsed + tolerance)") {
    // 1 TON/h for 1 h plus 36 s of tolerance allows 1.01 TON.
    CHECK(validate_amount(kOneTon, kOneTon, 3600000, 0).ok);
    CHECK(validate_amount(101000000, kOneTon, 3600000, 36000).ok);
    CHECK(validate_amount(0, 0, 0, 0).ok);
  }
  SECTION("one unit over the budget is refused and flagged") {
    const ValidationResult r = validate_amount(101000001, kOneTon, 3600000, 36000);
    CHECK_FALSE(r.ok);
    CHECK(r.code == ErrorCode::kAmountExceedsBudget);
    CHECK(r.flag_for_review);
    CHECK(r.message.find("1.01000001") != std::string::npos);
  }
  SECTION("negative amounts, rates and times") {
    CHECK(validate_amount(-1, kOneTon, 1000, 0).code == ErrorCode::kAmountNegative);
    CHECK_FALSE(validate_amount(-1, kOneTon, 1000, 0).flag_for_review);
    CHECK(validate_amount(1, -1, 1000, 0).code == ErrorCode::kRateInvalid);
    CHECK(validate_amount(1, kOneTon, -1, 0).code == ErrorCode::kTimeInvalid);
    CHECK(validate_amount(1, kOneTon, 0, -1).code == ErrorCode::kTimeInvalid);
  }
  SECTION("zero rate allows nothing") {
    CHECK(validate_amount(1, 0, 3600000, 30000).code == ErrorCode::kAmountExceedsBudget);
  }
  SECTION("status() carries code and message") {
    const Status s = validate_amount(-5, kOneTon, 0, 0).status();
    CHECK(s.code() == ErrorCode::kAmountNegative);
    CHECK(validate_amount(0, 0, 0, 0).status().ok());
  }
}

TEST_CASE("validate_timestamps (Property 17)") {
  SECTION("non-decreasing passes, equal neighbours included") {
    CHECK(validate_timestamps({}).ok);
    CHECK(validate_timestamps({5, 5, 6, 100}).ok);
  }
  SECTION("a step back is TIMESTAMP_ORDER, flagged") {
    const ValidationResult r = validate_timestamps({5, 7, 6});
    CHECK(r.code == ErrorCode::kTimestampOrder);
    CHECK(r.flag_for_review);
    CHECK(r.message.find("timestamp 2") != std::string::npos);
  }
  SECTION("negative or unsafe timestamps are TIME_INVALID") {
    CHECK(validate_timestamps({-1}).code == ErrorCode::kTimeInvalid);
    CHECK(validate_timestamps({1, 9007199254740992}).code == ErrorCode::kTimeInvalid);
  }
}

TEST_CASE("validate_state (Property 18)") {
  SECTION("a consistent state passes") { CHECK(validate_state(valid_state()).ok); }
  SECTION("current != synced + pending is flagged") {
    EarningsState s = valid_state();
    s.current_earnings += 1;
    const ValidationResult r = validate_state(s);
    CHECK(r.code == ErrorCode::kStateInvalid);
    CHECK(r.flag_for_review);
  }
  SECTION("each broken invariant is caught") {
    EarningsState s = valid_state();
    s.last_update = 999;
    CHECK(validate_state(s).code == ErrorCode::kStateInvalid);
    s = valid_state();
    s.accrual_remainder = kMsPerHour;
    CHECK(validate_state(s).code == ErrorCode::kStateInvalid);
    s = valid_state();
    s.held_for_verification = -1;
    CHECK(validate_state(s).code == ErrorCode::kStateInvalid);
    s = valid_state();
    s.unsynced_ms = -1;
    CHECK(validate_state(s).code == ErrorCode::kStateInvalid);
    s = valid_state();
    s.base_earning_rate = kMaxUnits + 1;
    CHECK(validate_state(s).code == ErrorCode::kStateInvalid);
  }
  SECTION("user id") {
    EarningsState s = valid_state();
    s.user_id = 0;
    CHECK(validate_state(s).code == ErrorCode::kUserIdInvalid);
  }
}

}  // namespace
}  // namespace earnings
