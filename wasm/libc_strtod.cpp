// The client module's strtod. nlohmann::json's lexer calls strtod for every number with a
// fraction or exponent, and musl's correctly rounded strtod brings 128-bit long double
// arithmetic (__multf3, __divtf3, fmodl, scalbnl: about 7 KB gzip of the module). The client
// core never computes with a JSON float: money crosses as decimal strings, times and counts as
// integers (a float where an integer belongs is refused), and the legacy importer migrates a
// number's text, not its double. So json_strtod's precision (exact on the fast path, a few ulps
// elsewhere) is all it needs. The server's build keeps musl's.
//
// musl defines strtof, strtod and strtold in one object, and libc++ refers to all three
// (std::stof, std::stod, std::stold sit beside std::to_string), so all three are defined here or
// musl's object comes back and clashes.
#include "json_strtod.h"

extern "C" double strtod(const char* text, char** end) { return earnings::json_strtod(text, end); }

extern "C" float strtof(const char* text, char** end) {
  return static_cast<float>(earnings::json_strtod(text, end));
}

extern "C" long double strtold(const char* text, char** end) { return earnings::json_strtod(text, end); }
