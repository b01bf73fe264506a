#include <catch2/catch.hpp>

#include <cstdarg>
#include <string>

#include "integer_format.h"

namespace {

std::string format(std::size_t size, const char* pattern, ...) {
  char buffer[64] = {};
  va_list args;
  va_start(args, pattern);
  const int length = earnings::format_integers(buffer, size, pattern, args);
  va_end(args);
  return std::to_string(length) + ":" + buffer;
}

}  // namespace

TEST_CASE("format_integers writes what nlohmann::json asks of snprintf", "[integer_format]") {
  CHECK(format(7, "\\u%04x", 0x1f) == "6:\\u001f");
  CHECK(format(13, "\\u%04x\\u%04x", 0xd83d, 0xde00) == "12:\\ud83d\\ude00");
  CHECK(format(9, "<U+%.4X>", 0x0a) == "8:<U+000A>");
  CHECK(format(3, "%.2hhX", 0xab) == "2:AB");
}

TEST_CASE("format_integers follows C for widths, signs, strings and truncation", "[integer_format]") {
  CHECK(format(64, "%d|%5d|%-5d|%05d", -42, 7, 7, -7) == "21:-42|    7|7    |-0007");
  CHECK(format(64, "%u %x %X %lld", 4294967295u, 255u, 255u, -9007199254740991LL) ==
        "34:4294967295 ff FF -9007199254740991");
  CHECK(format(64, "%.0d|%.3d|%c|%s|%.2s|%%", 0, 5, 'z', "text", "text") == "16:|005|z|text|te|%");
  CHECK(format(64, "%s", static_cast<const char*>(nullptr)) == "6:(null)");
  CHECK(format(5, "%d", 123456) == "6:1234");
  CHECK(format(64, "%f then %d", 1.5, 3) == "7: then 3");
  CHECK(format(64, "%p", reinterpret_cast<void*>(0x1234)) == "6:0x1234");
}
