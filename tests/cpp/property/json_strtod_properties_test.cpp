// The client module's strtod against the C library's correctly rounded one (native build only).
#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "json_strtod.h"
#include "leaf_property.h"

using earnings::json_strtod;
using earnings_test::deterministic_prop;

namespace {

// `digits` with a decimal point `point` places from its end and an exponent, as JSON writes it.
std::string json_number(const std::string& digits, std::size_t point, int exponent, bool negative) {
  std::string text = negative ? "-" : "";
  if (point == 0 || point >= digits.size()) {
    text += digits;
  } else {
    text += digits.substr(0, digits.size() - point) + "." + digits.substr(digits.size() - point);
  }
  if (exponent != 0) text += "e" + std::to_string(exponent);
  return text;
}

double library_strtod(const std::string& text) { return std::strtod(text.c_str(), nullptr); }

}  // namespace

TEST_CASE("json_strtod is exact on the fast path and within a few ulps elsewhere",
          "[json_strtod][property]") {
  deterministic_prop("digits up to 2^53 scaled by at most 10^22 read exactly", [] {
    const auto mantissa = *rc::gen::inRange<std::uint64_t>(0, (std::uint64_t{1} << 53) + 1);
    const std::string digits = std::to_string(mantissa);
    const auto point = *rc::gen::inRange<std::size_t>(0, digits.size() + 1);
    const int exponent = *rc::gen::inRange(-22, 23);
    // The fast path needs the exponent after moving the point to stay within +-22.
    RC_PRE(exponent - static_cast<int>(point < digits.size() ? point : 0) >= -22);
    const std::string text = json_number(digits, point, exponent, *rc::gen::arbitrary<bool>());
    char* end = nullptr;
    const double value = json_strtod(text.c_str(), &end);
    RC_ASSERT(end == text.c_str() + text.size());
    RC_ASSERT(value == library_strtod(text));
  });
  deterministic_prop("any 1 to 25 digit number across the double range reads within 1e-14", [] {
    const auto length = *rc::gen::inRange<std::size_t>(1, 26);
    std::string digits = *rc::gen::container<std::string>(length, rc::gen::inRange('0', static_cast<char>('9' + 1)));
    digits[0] = *rc::gen::inRange('1', static_cast<char>('9' + 1));
    const auto point = *rc::gen::inRange<std::size_t>(0, length + 1);
    const int exponent = *rc::gen::inRange(-290, 290);
    const std::string text = json_number(digits, point, exponent, *rc::gen::arbitrary<bool>());
    const double expected = library_strtod(text);
    const double value = json_strtod(text.c_str(), nullptr);
    RC_ASSERT(std::fabs(value - expected) <= 1e-14 * std::fabs(expected));
  });
}
