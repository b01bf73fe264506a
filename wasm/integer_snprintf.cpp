// The client module's snprintf: integers only. nlohmann::json is the only caller left, and it
// formats nothing but integers ("\\u%04x" when it escapes a control character, "<U+%.4X>" in a
// parse error message), yet musl's snprintf links the float formatter and its 128-bit long double
// arithmetic (about 1.7 KB gzip). Defining the symbol here keeps musl's from being linked; musl's
// own integer-only vsniprintf does the formatting. A float conversion (%f, %e, %g) would trap, so
// src/ has no printf-family call (engine.cpp writes its one hex number with a digit loop).
#include <cstdarg>
#include <cstddef>

extern "C" int vsniprintf(char* out, std::size_t size, const char* format, va_list args);

extern "C" int snprintf(char* out, std::size_t size, const char* format, ...) {
  va_list args;
  va_start(args, format);
  const int written = vsniprintf(out, size, format, args);
  va_end(args);
  return written;
}
