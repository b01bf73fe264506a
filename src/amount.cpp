#include "amount.h"

namespace earnings {
namespace {

constexpr int kDecimals = 8;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

Status malformed(const std::string& text) {
  return Status(ErrorCode::kAmountMalformed,
                "amount must be a decimal string like \"12.5\" (got \"" + text.substr(0, 40) + "\")");
}

}  // namespace

Result<Units> parse_amount(const std::string& text) {
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && text[i] == '-') {
    negative = true;
    ++i;
  }
  const std::size_t int_start = i;
  while (i < text.size() && is_digit(text[i])) ++i;
  const std::size_t int_digits = i - int_start;
  if (int_digits == 0) return malformed(text);

  std::size_t frac_digits = 0;
  std::size_t frac_start = i;
  if (i < text.size() && text[i] == '.') {
    ++i;
    frac_start = i;
    while (i < text.size() && is_digit(text[i])) ++i;
    frac_digits = i - frac_start;
    if (frac_digits == 0) return malformed(text);
  }
  if (i != text.size()) return malformed(text);
  if (frac_digits > kDecimals) {
    return Status(ErrorCode::kAmountPrecision, "amount has more than 8 decimals");
  }

  // Accumulate in units with an explicit bound so that no intermediate step can overflow.
  Units whole = 0;
  for (std::size_t k = int_start; k < int_start + int_digits; ++k) {
    if (whole > kMaxUnits / kUnitsPerTon) {
      return Status(ErrorCode::kAmountOverflow, "amount is larger than 9999999999.99999999");
    }
    whole = whole * 10 + (text[k] - '0');
  }
  if (whole > kMaxUnits / kUnitsPerTon) {
    return Status(ErrorCode::kAmountOverflow, "amount is larger than 9999999999.99999999");
  }
  Units fraction = 0;
  for (std::size_t k = 0; k < kDecimals; ++k) {
    fraction = fraction * 10 + (k < frac_digits ? text[frac_start + k] - '0' : 0);
  }
  const Units units = whole * kUnitsPerTon + fraction;
  return negative ? -units : units;
}

Result<Units> parse_non_negative_amount(const std::string& text) {
  auto parsed = parse_amount(text);
  if (!parsed.ok()) return parsed;
  if (parsed.value() < 0) return Status(ErrorCode::kAmountNegative, "amount must not be negative");
  return parsed;
}

std::string format_amount(Units units) {
  const bool negative = units < 0;
  // kMaxUnits bounds every Amount, so negation cannot overflow; clamp defensively anyway.
  std::uint64_t magnitude = negative ? static_cast<std::uint64_t>(-(units + 1)) + 1
                                     : static_cast<std::uint64_t>(units);
  const std::uint64_t whole = magnitude / kUnitsPerTon;
  std::uint64_t fraction = magnitude % kUnitsPerTon;
  std::string frac(kDecimals, '0');
  for (int k = kDecimals - 1; k >= 0; --k) {
    frac[k] = static_cast<char>('0' + fraction % 10);
    fraction /= 10;
  }
  return (negative ? "-" : "") + std::to_string(whole) + "." + frac;
}

Result<Units> add_amounts(Units a, Units b) {
  // Both operands are within +-kMaxUnits (< 2^63 / 9), so the sum itself cannot overflow int64.
  const Units sum = a + b;
  if (sum > kMaxUnits || sum < -kMaxUnits) {
    return Status(ErrorCode::kAmountOverflow, "amount sum exceeds 9999999999.99999999");
  }
  return sum;
}

Result<Units> subtract_amounts(Units a, Units b) { return add_amounts(a, -b); }

Result<Accrued> accrue(Units rate_per_hour, std::int64_t elapsed_ms, std::int64_t remainder) {
  if (rate_per_hour < 0 || rate_per_hour > kMaxUnits) {
    return Status(ErrorCode::kRateInvalid, "rate must be between 0 and 9999999999.99999999");
  }
  if (elapsed_ms < 0) return Status(ErrorCode::kTimeInvalid, "elapsed time must not be negative");
  if (remainder < 0 || remainder >= kMsPerHour) {
    return Status(ErrorCode::kStateInvalid, "accrual remainder out of range");
  }
  const __int128 numerator =
      static_cast<__int128>(rate_per_hour) * elapsed_ms + static_cast<__int128>(remainder);
  const __int128 units = numerator / kMsPerHour;
  if (units > kMaxUnits) {
    return Status(ErrorCode::kAmountOverflow, "accrued amount exceeds 9999999999.99999999");
  }
  Accrued out;
  out.units = static_cast<Units>(units);
  out.remainder = static_cast<std::int64_t>(numerator % kMsPerHour);
  return out;
}

std::int64_t ms_to_earn(Units units, Units rate_per_hour) {
  const __int128 numerator = static_cast<__int128>(units) * kMsPerHour;
  const __int128 ms = (numerator + rate_per_hour - 1) / rate_per_hour;
  return ms > INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(ms);
}

Units budget_for(Units rate_per_hour, std::int64_t ms) {
  if (rate_per_hour <= 0 || ms <= 0) return 0;
  const __int128 units = static_cast<__int128>(rate_per_hour) * ms / kMsPerHour;
  return units > kMaxUnits ? kMaxUnits : static_cast<Units>(units);
}

}  // namespace earnings
