// Checked reads of untrusted JSON members. nlohmann::json aborts the exception-free wasm build on
// a wrong-typed read, so every member is found and type-checked before it is touched.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "status.h"

namespace earnings {
namespace json_fields {

constexpr std::int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1, Number.MAX_SAFE_INTEGER

// The document `text` holds, or a discarded value when it is not exactly one well-formed JSON
// value (what json::parse(text, nullptr, false) answers). Built through the SAX interface with
// nlohmann's own DOM builder: json::parse also instantiates its filtering callback parser and a
// std::function, about 3 KB gzip of wasm that no caller uses.
inline nlohmann::json parse_document(const std::string& text) {
  nlohmann::json document;
  nlohmann::detail::json_sax_dom_parser<nlohmann::json> builder(document, false);
  if (!nlohmann::json::sax_parse(text, &builder)) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
  return document;
}

// An integer-typed JSON value within [min, 2^53 - 1] (JS numbers beyond are not exact).
inline Result<std::int64_t> safe_integer_value(const nlohmann::json& value, const std::string& name,
                                               std::int64_t min) {
  std::int64_t out = 0;
  if (value.is_number_unsigned()) {
    const std::uint64_t raw = value.get<std::uint64_t>();
    if (raw > static_cast<std::uint64_t>(kMaxSafeInteger)) {
      return Status(ErrorCode::kRequestInvalid, name + " must be a safe integer");
    }
    out = static_cast<std::int64_t>(raw);
  } else if (value.is_number_integer()) {
    out = value.get<std::int64_t>();
  } else {
    return Status(ErrorCode::kRequestInvalid, name + " must be an integer");
  }
  if (out < min || out > kMaxSafeInteger) {
    return Status(ErrorCode::kRequestInvalid,
                  name + " must be an integer between " + std::to_string(min) + " and 2^53-1");
  }
  return out;
}

// REQUIRES: object.is_object().
inline Result<std::int64_t> safe_integer(const nlohmann::json& object, const char* key,
                                         std::int64_t min) {
  auto found = object.find(key);
  if (found == object.end()) {
    return Status(ErrorCode::kRequestInvalid, std::string(key) + " is missing");
  }
  return safe_integer_value(*found, key, min);
}

}  // namespace json_fields
}  // namespace earnings
