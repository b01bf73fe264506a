#include "integer_format.h"

#include <cstdint>

namespace earnings {
namespace {

class Output {
 public:
  Output(char* out, std::size_t size) : out_(out), size_(size) {}

  void put(char c) {
    if (written_ + 1 < size_) out_[written_] = c;
    ++written_;
  }

  void repeat(char c, int times) {
    for (int i = 0; i < times; ++i) put(c);
  }

  // snprintf's answer: the length the whole text would have had.
  int finish() {
    if (size_ > 0) out_[written_ < size_ ? written_ : size_ - 1] = '\0';
    return static_cast<int>(written_);
  }

 private:
  char* out_;
  std::size_t size_;
  std::size_t written_ = 0;
};

int read_number(const char*& p) {
  int value = 0;
  for (; *p >= '0' && *p <= '9'; ++p) value = value * 10 + (*p - '0');
  return value;
}

struct Directive {
  bool zero_pad = false;
  bool left = false;
  int width = 0;
  int precision = -1;
};

void put_field(Output& out, const Directive& d, const char* text, int length, bool negative) {
  const int digits = d.precision > length ? d.precision : length;
  const int body = digits + (negative ? 1 : 0);
  const int padding = d.width > body ? d.width - body : 0;
  // A precision turns the '0' flag off, as in C.
  const bool zeros = d.zero_pad && !d.left && d.precision < 0;
  if (!d.left && !zeros) out.repeat(' ', padding);
  if (negative) out.put('-');
  if (zeros) out.repeat('0', padding);
  out.repeat('0', digits - length);
  for (int i = 0; i < length; ++i) out.put(text[i]);
  if (d.left) out.repeat(' ', padding);
}

void put_unsigned(Output& out, const Directive& d, std::uint64_t value, unsigned base, bool upper,
                  bool negative) {
  char digits[20];
  int length = 0;
  const char* alphabet = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  // C prints nothing for a zero with precision 0.
  if (value != 0 || d.precision != 0) {
    do {
      digits[length++] = alphabet[value % base];
      value /= base;
    } while (value != 0);
  }
  char text[20];
  for (int i = 0; i < length; ++i) text[i] = digits[length - 1 - i];
  put_field(out, d, text, length, negative);
}

}  // namespace

int format_integers(char* out_buffer, std::size_t size, const char* format, va_list args) {
  Output out(out_buffer, size);
  for (const char* p = format; *p != '\0'; ++p) {
    if (*p != '%') {
      out.put(*p);
      continue;
    }
    ++p;
    Directive d;
    for (;; ++p) {
      if (*p == '0') {
        d.zero_pad = true;
      } else if (*p == '-') {
        d.left = true;
      } else {
        break;
      }
    }
    d.width = read_number(p);
    if (*p == '.') {
      ++p;
      if (*p == '*') {
        d.precision = va_arg(args, int);
        ++p;
      } else {
        d.precision = read_number(p);
      }
    }
    int longs = 0;
    for (; *p == 'h' || *p == 'l' || *p == 'z'; ++p) {
      if (*p == 'l') ++longs;
    }
    // On wasm32 int, long and size_t are 32 bits; only ll is 64.
    switch (*p) {
      case 'd':
      case 'i': {
        const std::int64_t value = longs >= 2 ? va_arg(args, long long) : va_arg(args, int);
        const std::uint64_t magnitude =
            value < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(value) : static_cast<std::uint64_t>(value);
        put_unsigned(out, d, magnitude, 10, false, value < 0);
        break;
      }
      case 'u':
      case 'x':
      case 'X': {
        const std::uint64_t value =
            longs >= 2 ? va_arg(args, unsigned long long) : va_arg(args, unsigned int);
        put_unsigned(out, d, value, *p == 'u' ? 10 : 16, *p == 'X', false);
        break;
      }
      case 'p': {
        // musl's form: 0x and lowercase hex digits.
        const auto address = reinterpret_cast<std::uintptr_t>(va_arg(args, void*));
        out.put('0');
        out.put('x');
        put_unsigned(out, Directive{}, address, 16, false, false);
        break;
      }
      case 'c': {
        const char c = static_cast<char>(va_arg(args, int));
        put_field(out, d, &c, 1, false);
        break;
      }
      case 's': {
        const char* text = va_arg(args, const char*);
        if (text == nullptr) text = "(null)";
        int length = 0;
        while (text[length] != '\0' && (d.precision < 0 || length < d.precision)) ++length;
        Directive plain = d;
        plain.precision = -1;
        put_field(out, plain, text, length, false);
        break;
      }
      case 'f':
      case 'F':
      case 'e':
      case 'E':
      case 'g':
      case 'G':
      case 'a':
      case 'A':
        // Not formatted; the argument is still taken so later directives read theirs.
        static_cast<void>(va_arg(args, double));
        break;
      case '%':
        out.put('%');
        break;
      case '\0':
        return out.finish();
      default:
        break;
    }
  }
  return out.finish();
}

}  // namespace earnings
