// A strtod for the JSON numbers the client module reads, without long double arithmetic.
#pragma once

namespace earnings {

// Reads a decimal floating-point number the way strtod does (leading whitespace, sign, digits,
// optional fraction and exponent; `*end` set past the last character used, or to `text` when
// there is no number). Exact (the correctly rounded double) when the significant digits form an
// integer up to 2^53 and the decimal exponent is within +-22; otherwise within a few units in
// the last place. Out of range: +-HUGE_VAL or 0 with errno = ERANGE. No hex, inf or nan forms:
// JSON has none.
double json_strtod(const char* text, char** end);

}  // namespace earnings
