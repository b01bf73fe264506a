// Money as fixed point. An Amount is a count of 10^-8 TON ("units"), the scale of the
// database's NUMERIC(18,8). Floating point never touches money: decimal strings are parsed and
// printed exactly, and every arithmetic step is checked so that overflow is an error instead of
// a silent wrap.
#pragma once

#include <cstdint>
#include <string>

#include "status.h"

namespace earnings {

using Units = std::int64_t;

constexpr Units kUnitsPerTon = 100000000;  // 10^8, NUMERIC(18,8)
constexpr Units kMaxUnits = 999999999999999999;  // 10^18 - 1: largest NUMERIC(18,8)
constexpr std::int64_t kMsPerHour = 3600000;

// Parses "12", "-0.5", "12.34567890". Rejects exponents, spaces, '+', a bare or leading '.',
// more than 8 decimals (kAmountPrecision) and magnitudes above kMaxUnits (kAmountOverflow).
Result<Units> parse_amount(const std::string& text);

// Like parse_amount, but negative amounts are kAmountNegative.
Result<Units> parse_non_negative_amount(const std::string& text);

// Always 8 decimals: 150000000 -> "1.50000000", -1 -> "-0.00000001".
std::string format_amount(Units units);

// Checked arithmetic within [-kMaxUnits, kMaxUnits].
Result<Units> add_amounts(Units a, Units b);
Result<Units> subtract_amounts(Units a, Units b);

// Earnings for `elapsed_ms` at `rate_per_hour`, exact: the sub-unit remainder (numerator modulo
// kMsPerHour) is taken from and returned to `remainder`, so splitting a period into any number of
// ticks yields the same total as one tick.
// REQUIRES: rate_per_hour >= 0, elapsed_ms >= 0, 0 <= remainder < kMsPerHour.
struct Accrued {
  Units units = 0;
  std::int64_t remainder = 0;
};
Result<Accrued> accrue(Units rate_per_hour, std::int64_t elapsed_ms, std::int64_t remainder);

// The whole milliseconds needed to earn `units` at `rate_per_hour`, rounded up. Used to advance
// a token-bucket anchor by what was actually spent. REQUIRES: rate_per_hour > 0, units >= 0.
std::int64_t ms_to_earn(Units units, Units rate_per_hour);

// rate x ms, rounded down, saturating at kMaxUnits (a budget, not a credit).
Units budget_for(Units rate_per_hour, std::int64_t ms);

}  // namespace earnings
