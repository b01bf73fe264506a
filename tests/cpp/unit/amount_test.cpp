#include <catch2/catch.hpp>

#include "amount.h"

using namespace earnings;

TEST_CASE("amount parsing", "[amount]") {
  SECTION("whole, fractional and padded forms") {
    CHECK(parse_amount("0").value() == 0);
    CHECK(parse_amount("12").value() == 1200000000);
    CHECK(parse_amount("1.5").value() == 150000000);
    CHECK(parse_amount("0.00000001").value() == 1);
    CHECK(parse_amount("-0.5").value() == -50000000);
    CHECK(parse_amount("9999999999.99999999").value() == kMaxUnits);
  }
  SECTION("malformed text has a stable code") {
    for (const char* bad : {"", "-", ".5", "5.", "1e3", " 1", "1 ", "+1", "NaN", "Infinity", "1,5",
                            "0x10", "1.2.3", "--1"}) {
      INFO(bad);
      CHECK(parse_amount(bad).status().code() == ErrorCode::kAmountMalformed);
    }
  }
  SECTION("precision and overflow") {
    CHECK(parse_amount("0.000000001").status().code() == ErrorCode::kAmountPrecision);
    CHECK(parse_amount("10000000000").status().code() == ErrorCode::kAmountOverflow);
    CHECK(parse_amount("99999999999999999999999999").status().code() == ErrorCode::kAmountOverflow);
  }
  SECTION("negative where not allowed") {
    CHECK(parse_non_negative_amount("-1").status().code() == ErrorCode::kAmountNegative);
    CHECK(to_string(ErrorCode::kAmountNegative) == std::string("AMOUNT_NEGATIVE"));
  }
}

TEST_CASE("amount formatting", "[amount]") {
  CHECK(format_amount(0) == "0.00000000");
  CHECK(format_amount(150000000) == "1.50000000");
  CHECK(format_amount(-1) == "-0.00000001");
  CHECK(format_amount(kMaxUnits) == "9999999999.99999999");
  CHECK(format_amount(-kMaxUnits) == "-9999999999.99999999");
  CHECK(parse_amount(format_amount(123456789)).value() == 123456789);
}

TEST_CASE("checked arithmetic", "[amount]") {
  CHECK(add_amounts(1, 2).value() == 3);
  CHECK(add_amounts(kMaxUnits, 1).status().code() == ErrorCode::kAmountOverflow);
  CHECK(subtract_amounts(-kMaxUnits, 1).status().code() == ErrorCode::kAmountOverflow);
}

TEST_CASE("accrual carries the remainder", "[amount]") {
  SECTION("one TON per hour for one second") {
    auto a = accrue(kUnitsPerTon, 1000, 0).value();
    CHECK(a.units == 27777);
    CHECK(a.remainder == 2800000);
  }
  SECTION("3600 one-second ticks equal one hour") {
    Units total = 0;
    std::int64_t remainder = 0;
    for (int i = 0; i < 3600; ++i) {
      auto a = accrue(kUnitsPerTon, 1000, remainder).value();
      total += a.units;
      remainder = a.remainder;
    }
    CHECK(total == kUnitsPerTon);
    CHECK(remainder == 0);
  }
  SECTION("bad inputs") {
    CHECK(accrue(-1, 1, 0).status().code() == ErrorCode::kRateInvalid);
    CHECK(accrue(1, -1, 0).status().code() == ErrorCode::kTimeInvalid);
    CHECK(accrue(1, 1, kMsPerHour).status().code() == ErrorCode::kStateInvalid);
    CHECK(accrue(kMaxUnits, INT64_MAX, 0).status().code() == ErrorCode::kAmountOverflow);
  }
  SECTION("budget helpers") {
    CHECK(budget_for(kUnitsPerTon, kMsPerHour) == kUnitsPerTon);
    CHECK(ms_to_earn(kUnitsPerTon, kUnitsPerTon) == kMsPerHour);
    CHECK(ms_to_earn(1, kUnitsPerTon) == 1);  // 0.036 ms, rounded up
    CHECK(ms_to_earn(1, 1) == kMsPerHour);
  }
}
