// printf-style formatting of integers and strings, for the client module's snprintf.
#pragma once

#include <cstdarg>
#include <cstddef>

namespace earnings {

// vsnprintf for flags '0' and '-', a width, a precision (digits or '*'), the length modifiers
// hh, h, l, ll, z and the conversions d, i, u, x, X, c, s and %, with C's results for those,
// and p as musl writes it (0x and hex digits; the width is not applied).
// A float conversion takes its argument and writes nothing. Returns the length the whole text
// would have had; writes at most `size` bytes including the terminating NUL.
int format_integers(char* out, std::size_t size, const char* format, va_list args);

}  // namespace earnings
