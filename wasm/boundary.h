// What every binding file shares: the Reply shape and the checks applied to values from JS
// before they become C++ integers. Included only by wasm/*.cpp.
#pragma once

#include <cmath>
#include <string>
#include <utility>

#include "status.h"

namespace earnings {
namespace boundary {

// `code` is "" on success and `text` holds the value (a decimal string, JSON text, ...);
// otherwise `code` is the stable ErrorCode name and `text` the human message.
struct Reply {
  std::string code;
  std::string text;
};

inline Reply success(std::string text) { return Reply{"", std::move(text)}; }

inline Reply failure(const Status& status) { return Reply{status.code_name(), status.message()}; }

inline Reply reply_of(const Status& status) { return status.ok() ? success("") : failure(status); }

inline Reply reply_of(const Result<std::string>& result) {
  return result.ok() ? success(result.value()) : failure(result.status());
}

// Largest integer a JS number holds exactly; ids and times above it are not trusted.
constexpr double kMaxSafeInteger = 9007199254740991.0;

// REQUIRES nothing of `value`: NaN, infinities, fractions and values below `min` are refused
// here, before a cast that would be undefined behaviour for out-of-range doubles.
inline bool is_safe_integer(double value, double min) {
  return std::isfinite(value) && value >= min && value <= kMaxSafeInteger &&
         std::floor(value) == value;
}

}  // namespace boundary
}  // namespace earnings
