// The client module's snprintf against the C library's (native build only).
#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

#include "integer_format.h"
#include "leaf_property.h"

using earnings_test::deterministic_prop;

namespace {

std::string ours(std::size_t size, const char* pattern, ...) {
  std::string buffer(size + 1, '#');
  va_list args;
  va_start(args, pattern);
  const int length = earnings::format_integers(&buffer[0], size, pattern, args);
  va_end(args);
  return std::to_string(length) + ":" + buffer;
}

std::string library(std::size_t size, const char* pattern, ...) {
  std::string buffer(size + 1, '#');
  va_list args;
  va_start(args, pattern);
  const int length = std::vsnprintf(&buffer[0], size, pattern, args);
  va_end(args);
  return std::to_string(length) + ":" + buffer;
}

}  // namespace

TEST_CASE("format_integers answers as the C library for every integer directive",
          "[integer_format][property]") {
  deterministic_prop("random flags, width, precision and conversion on random integers", [] {
    std::string directive = "%";
    if (*rc::gen::arbitrary<bool>()) directive += *rc::gen::element<std::string>("0", "-");
    if (*rc::gen::arbitrary<bool>()) directive += std::to_string(*rc::gen::inRange(0, 12));
    if (*rc::gen::arbitrary<bool>()) directive += "." + std::to_string(*rc::gen::inRange(0, 12));
    const bool wide = *rc::gen::arbitrary<bool>();
    directive += wide ? "ll" : "";
    const char conversion = *rc::gen::element('d', 'i', 'u', 'x', 'X');
    directive += conversion;
    const std::string pattern = "<" + directive + "|" + directive + ">";
    const auto size = *rc::gen::inRange<std::size_t>(0, 48);
    const auto a = *rc::gen::arbitrary<std::int64_t>();
    const auto b = *rc::gen::arbitrary<std::int64_t>();
    if (wide) {
      RC_ASSERT(ours(size, pattern.c_str(), static_cast<long long>(a), static_cast<long long>(b)) ==
                library(size, pattern.c_str(), static_cast<long long>(a), static_cast<long long>(b)));
    } else {
      RC_ASSERT(ours(size, pattern.c_str(), static_cast<int>(a), static_cast<int>(b)) ==
                library(size, pattern.c_str(), static_cast<int>(a), static_cast<int>(b)));
    }
  });
}
