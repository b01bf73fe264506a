// Checked reads of untrusted document members (a request body, a server answer, a stored
// record): every member is found and type-checked before it is used, and every failure names
// the member.
#pragma once

#include <cstdint>
#include <string>

#include "amount.h"
#include "document.h"
#include "status.h"

namespace earnings {
namespace json_fields {

constexpr std::int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1, Number.MAX_SAFE_INTEGER

// An integer value within [min, 2^53 - 1] (JS numbers beyond are not exact); kRequestInvalid.
Result<std::int64_t> safe_integer_value(const Node& value, const std::string& name, std::int64_t min);

// The member `key` of a map, as safe_integer_value reads it; kRequestInvalid when missing.
Result<std::int64_t> safe_integer(const Node& object, const char* key, std::int64_t min);

}  // namespace json_fields

// The core's records and the server's answers: every failure carries `code`.
namespace record_fields {
Result<std::int64_t> integer(const Node& object, const char* key, std::int64_t min,
                             std::int64_t max, ErrorCode code);
Result<Units> amount(const Node& object, const char* key, Units min, ErrorCode code);
Result<bool> boolean(const Node& object, const char* key, ErrorCode code);
Result<std::string> text(const Node& object, const char* key, ErrorCode code);
}  // namespace record_fields

}  // namespace earnings
