#include <catch2/catch.hpp>

#include <cerrno>
#include <cmath>
#include <string>

#include "json_strtod.h"

using earnings::json_strtod;

namespace {

struct Read {
  double value;
  std::size_t used;
};

Read read(const std::string& text) {
  char* end = nullptr;
  const double value = json_strtod(text.c_str(), &end);
  return {value, static_cast<std::size_t>(end - text.c_str())};
}

}  // namespace

TEST_CASE("json_strtod reads JSON numbers to the same double the compiler makes", "[json_strtod]") {
  CHECK(read("0.1").value == 0.1);
  CHECK(read("12.345").value == 12.345);
  CHECK(read("-0.00000001").value == -0.00000001);
  CHECK(read("1e22").value == 1e22);
  CHECK(read("9007199254740992").value == 9007199254740992.0);
  CHECK(read("123456789012345678").value == 123456789012345678.0);
  CHECK(read("2.5E-3").value == 2.5e-3);
  CHECK(read("1.7976931348623157e308").value == Approx(1.7976931348623157e308));
  CHECK(read("2.2250738585072014e-308").value == Approx(2.2250738585072014e-308));
  const Read negative_zero = read("-0.0");
  CHECK(negative_zero.value == 0.0);
  CHECK(std::signbit(negative_zero.value));
}

TEST_CASE("json_strtod stops where strtod stops", "[json_strtod]") {
  CHECK(read("12abc").used == 2);
  CHECK(read("  7").used == 3);
  CHECK(read("5.").used == 2);
  CHECK(read(".5").value == 0.5);
  CHECK(read("1e").used == 1);
  CHECK(read("1e+").used == 1);
  CHECK(read("1e-2x").used == 4);
  CHECK(read("abc").used == 0);
  CHECK(read("-").used == 0);
  CHECK(read(".").used == 0);
  CHECK(read("").used == 0);
}

TEST_CASE("json_strtod answers out-of-range numbers like strtod", "[json_strtod]") {
  errno = 0;
  CHECK(std::isinf(read("1e400").value));
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(read("-1e99999999999").value == -HUGE_VAL);
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(read("1e-400").value == 0.0);
  CHECK(errno == ERANGE);
  errno = 0;
  CHECK(read("0e999999").value == 0.0);
  CHECK(errno == 0);
}

TEST_CASE("json_strtod keeps 19 significant digits of a long number", "[json_strtod]") {
  const std::string long_integer = "1234567890123456789012345";
  CHECK(read(long_integer).value == Approx(1.234567890123456789e24).epsilon(1e-15));
  CHECK(read(long_integer).used == long_integer.size());
  const std::string long_fraction = "0.000000000000000000000001234567890123456789012345";
  CHECK(read(long_fraction).value == Approx(1.234567890123456789e-24).epsilon(1e-15));
  CHECK(read(long_fraction).used == long_fraction.size());
}
