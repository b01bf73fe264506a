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

using Formatter = int (*)(char*, std::size_t, const char*, va_list);

// What `format` writes into a `size`-byte buffer (and past it: the buffer is one '#' longer) and
// the length it answers.
std::string render(Formatter format, std::size_t size, const char* pattern, ...) {
  std::string buffer(size + 1, '#');
  va_list args;
  va_start(args, pattern);
  const int length = format(&buffer[0], size, pattern, args);
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
    const auto both = [&](auto first, auto second) {
      RC_ASSERT(render(earnings::format_integers, size, pattern.c_str(), first, second) ==
                render(std::vsnprintf, size, pattern.c_str(), first, second));
    };
    if (wide) {
      both(static_cast<long long>(a), static_cast<long long>(b));
    } else {
      both(static_cast<int>(a), static_cast<int>(b));
    }
  });
}
