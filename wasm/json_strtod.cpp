#include "json_strtod.h"

#include <cerrno>
#include <cmath>
#include <cstdint>

namespace earnings {
namespace {

// Every power of ten up to 10^22 is exactly representable as a double.
constexpr double kExactPowersOfTen[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                        1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                        1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr std::int64_t kMaxExactPower = 22;
constexpr std::uint64_t kMaxExactMantissa = std::uint64_t{1} << 53;
// 19 decimal digits always fit a uint64; later digits change the value by less than 10^-18 of it.
constexpr int kMaxMantissaDigits = 19;
// Larger exponents are out of range whatever the digits; the cap keeps the sum from overflowing.
constexpr std::int64_t kExponentCap = 100000;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

}  // namespace

double json_strtod(const char* text, char** end) {
  const char* p = text;
  while (is_space(*p)) ++p;
  const bool negative = *p == '-';
  if (*p == '-' || *p == '+') ++p;

  std::uint64_t mantissa = 0;
  int mantissa_digits = 0;
  std::int64_t exponent = 0;
  bool any_digit = false;
  for (; is_digit(*p); ++p) {
    any_digit = true;
    if (mantissa_digits < kMaxMantissaDigits) {
      mantissa = mantissa * 10 + static_cast<std::uint64_t>(*p - '0');
      if (mantissa != 0) ++mantissa_digits;
    } else {
      ++exponent;
    }
  }
  if (*p == '.') {
    ++p;
    for (; is_digit(*p); ++p) {
      any_digit = true;
      if (mantissa_digits < kMaxMantissaDigits) {
        mantissa = mantissa * 10 + static_cast<std::uint64_t>(*p - '0');
        if (mantissa != 0) ++mantissa_digits;
        --exponent;
      }
    }
  }
  if (!any_digit) {
    if (end != nullptr) *end = const_cast<char*>(text);
    return 0.0;
  }
  if (*p == 'e' || *p == 'E') {
    const char* q = p + 1;
    const bool exponent_negative = *q == '-';
    if (*q == '-' || *q == '+') ++q;
    if (is_digit(*q)) {
      std::int64_t written = 0;
      for (; is_digit(*q); ++q) {
        if (written < kExponentCap) written = written * 10 + (*q - '0');
      }
      exponent += exponent_negative ? -written : written;
      p = q;
    }
  }
  if (end != nullptr) *end = const_cast<char*>(p);

  double value = static_cast<double>(mantissa);
  if (mantissa == 0) return negative ? -0.0 : 0.0;
  if (mantissa <= kMaxExactMantissa && exponent >= -kMaxExactPower && exponent <= kMaxExactPower) {
    // Clinger's fast path: both operands exact, so the one IEEE operation rounds correctly.
    value = exponent < 0 ? value / kExactPowersOfTen[-exponent] : value * kExactPowersOfTen[exponent];
  } else {
    // Scaled in steps of at most 10^22, each rounding once.
    while (exponent > 0 && !std::isinf(value)) {
      const std::int64_t step = exponent < kMaxExactPower ? exponent : kMaxExactPower;
      value *= kExactPowersOfTen[step];
      exponent -= step;
    }
    while (exponent < 0 && value != 0.0) {
      const std::int64_t step = -exponent < kMaxExactPower ? -exponent : kMaxExactPower;
      value /= kExactPowersOfTen[step];
      exponent += step;
    }
    if (std::isinf(value) || value == 0.0) errno = ERANGE;
  }
  return negative ? -value : value;
}

}  // namespace earnings
