// The raw embind surface of the core. This is the only file that includes <emscripten/...>.
//
// Contract with js/core.js (the friendly layer; the raw names below are never public API):
// - Every raw function that can fail returns a Reply: `code` is "" on success and `text` holds the
//   value (a decimal string, JSON text, ...); otherwise `code` is the stable ErrorCode name and
//   `text` the human message. Nothing here throws: the module is built with -fno-exceptions.
// - Only values cross: strings (money as decimal strings, structured data as JSON text), doubles
//   (times, user ids, validated here before any conversion to int64) and byte arrays.
#include <emscripten/bind.h>

#include <cmath>
#include <string>

#include "amount.h"
#include "codec.h"
#include "status.h"

namespace earnings {
namespace {

constexpr const char* kCoreVersion = "1.0.0";

// Largest integer a JS number holds exactly; ids and times at or above it are not trusted.
constexpr double kMaxSafeInteger = 9007199254740991.0;

struct Reply {
  std::string code;
  std::string text;
};

Reply success(std::string text) { return Reply{"", std::move(text)}; }

Reply failure(const Status& status) { return Reply{status.code_name(), status.message()}; }

// dump() aborts the exception-free build on invalid UTF-8; replacing is the safe choice for text
// that only goes back to JS.
std::string to_text(const nlohmann::json& document) {
  return document.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// REQUIRES nothing of `value`: NaN, infinities, fractions and negatives are all refused here,
// before a cast that would be undefined behaviour for out-of-range doubles.
bool is_safe_integer(double value, double min) {
  return std::isfinite(value) && value >= min && value <= kMaxSafeInteger &&
         std::floor(value) == value;
}

Reply parse_amount_reply(const std::string& text) {
  const auto parsed = parse_amount(text);
  if (!parsed.ok()) return failure(parsed.status());
  return success(format_amount(parsed.value()));
}

Reply parse_non_negative_amount_reply(const std::string& text) {
  const auto parsed = parse_non_negative_amount(text);
  if (!parsed.ok()) return failure(parsed.status());
  return success(format_amount(parsed.value()));
}

Reply add_amounts_reply(const std::string& a, const std::string& b) {
  const auto left = parse_amount(a);
  if (!left.ok()) return failure(left.status());
  const auto right = parse_amount(b);
  if (!right.ok()) return failure(right.status());
  const auto sum = add_amounts(left.value(), right.value());
  if (!sum.ok()) return failure(sum.status());
  return success(format_amount(sum.value()));
}

// Earnings for `elapsed_ms` at `rate` per hour, rounded down (the remainder is an engine concern).
Reply accrue_reply(const std::string& rate, double elapsed_ms) {
  const auto parsed_rate = parse_non_negative_amount(rate);
  if (!parsed_rate.ok()) return Reply{to_string(ErrorCode::kRateInvalid), parsed_rate.status().message()};
  if (!is_safe_integer(elapsed_ms, 0)) {
    return Reply{to_string(ErrorCode::kTimeInvalid), "elapsed time must be a safe integer >= 0 ms"};
  }
  const auto accrued = accrue(parsed_rate.value(), static_cast<std::int64_t>(elapsed_ms), 0);
  if (!accrued.ok()) return failure(accrued.status());
  return success(format_amount(accrued.value().units));
}

// The stable names of every ErrorCode after kOk, comma separated, so js/core.js can check at load
// time that it has an error class for each code this build can return.
std::string error_code_names() {
  std::string names;
  for (int code = static_cast<int>(ErrorCode::kOk) + 1;; ++code) {
    const std::string name = to_string(static_cast<ErrorCode>(code));
    if (name == "UNKNOWN") break;
    if (!names.empty()) names += ',';
    names += name;
  }
  return names;
}

// Bytes arrive as a std::string: embind copies a Uint8Array into it byte for byte, which is both
// the cheapest crossing and free of any JS-side pointer arithmetic.
Reply decode_record_reply(const std::string& bytes) {
  const auto decoded =
      decode_record(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (!decoded.ok()) return failure(decoded.status());
  return success(to_text(decoded.value()));
}

Reply decode_legacy_v1_reply(const std::string& text) {
  const auto decoded = decode_legacy_v1(text);
  if (!decoded.ok()) return failure(decoded.status());
  return success(to_text(decoded.value()));
}

std::string core_version() { return kCoreVersion; }

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_core) {
  using namespace emscripten;
  using namespace earnings;

  value_object<Reply>("Reply").field("code", &Reply::code).field("text", &Reply::text);

  function("_version", &core_version);
  function("_errorCodeNames", &error_code_names);
  function("_parseAmount", &parse_amount_reply);
  function("_parseNonNegativeAmount", &parse_non_negative_amount_reply);
  function("_addAmounts", &add_amounts_reply);
  function("_accrue", &accrue_reply);
  function("_decodeRecord", &decode_record_reply);
  function("_decodeLegacyV1", &decode_legacy_v1_reply);
}
