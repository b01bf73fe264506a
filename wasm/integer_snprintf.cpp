// The client module's snprintf and siprintf: integers, strings and pointers only
// (integer_format.cpp). Their callers format nothing else: nlohmann::json's lexer writes a small
// integer ("<U+%.4X>" in a parse error message) and embind's __getTypeName a type's address
// ("%p"). musl's versions link its whole printf engine, float formatter and 128-bit long double
// arithmetic; even its integer-only vsniprintf keeps printf_core, the argument walker and
// wide-character output (about 2 KB gzip). Defining the symbols here keeps musl's out of the
// link. src/ has no printf-family call (engine.cpp writes its one hex number with a digit loop).
#include <cstdarg>
#include <cstddef>
#include <cstdint>

#include "integer_format.h"

extern "C" int snprintf(char* out, std::size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int written = earnings::format_integers(out, size, format, args);
  va_end(args);
  return written;
}

// sprintf under the name its one caller is linked against: LLVM turns a printf-family call
// without float arguments into musl's integer-only variant (sprintf -> siprintf). Unbounded,
// like every sprintf; embind writes a pointer into an 80-byte buffer.
extern "C" int siprintf(char* out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int written = earnings::format_integers(out, SIZE_MAX, format, args);
  va_end(args);
  return written;
}
