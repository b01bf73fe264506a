#include "json_fields.h"

namespace earnings {
namespace json_fields {

Result<std::int64_t> safe_integer_value(const Node& value, const std::string& name, std::int64_t min) {
  std::int64_t out = 0;
  if (!value.is_integer()) return Status(ErrorCode::kRequestInvalid, name + " must be an integer");
  if (!value.as_int64(&out) || out > kMaxSafeInteger) {
    return Status(ErrorCode::kRequestInvalid, name + " must be a safe integer");
  }
  if (out < min) {
    return Status(ErrorCode::kRequestInvalid,
                  name + " must be an integer between " + std::to_string(min) + " and 2^53-1");
  }
  return out;
}

Result<std::int64_t> safe_integer(const Node& object, const char* key, std::int64_t min) {
  const Node found = object.find(key);
  if (!found.exists()) return Status(ErrorCode::kRequestInvalid, std::string(key) + " is missing");
  return safe_integer_value(found, key, min);
}

}  // namespace json_fields

namespace record_fields {

Result<std::int64_t> integer(const Node& object, const char* key, std::int64_t min, std::int64_t max,
                             ErrorCode code) {
  const Node found = object.find(key);
  if (!found.exists()) return Status(code, std::string(key) + " is missing");
  if (!found.is_integer()) return Status(code, std::string(key) + " must be an integer");
  std::int64_t out = 0;
  if (!found.as_int64(&out) || out < min || out > max) {
    return Status(code, std::string(key) + " is out of range");
  }
  return out;
}

Result<Units> amount(const Node& object, const char* key, Units min, ErrorCode code) {
  const Node found = object.find(key);
  if (!found.exists()) return Status(code, std::string(key) + " is missing");
  if (!found.is_string()) return Status(code, std::string(key) + " must be a decimal string");
  auto parsed = parse_amount(found.text());
  if (!parsed.ok()) return Status(code, std::string(key) + ": " + parsed.status().message());
  if (parsed.value() < min) {
    return Status(code, std::string(key) + " must be at least " + format_amount(min));
  }
  return parsed.value();
}

Result<bool> boolean(const Node& object, const char* key, ErrorCode code) {
  const Node found = object.find(key);
  if (!found.exists()) return Status(code, std::string(key) + " is missing");
  if (!found.is_boolean()) return Status(code, std::string(key) + " must be a boolean");
  return found.boolean();
}

Result<std::string> text(const Node& object, const char* key, ErrorCode code) {
  const Node found = object.find(key);
  if (!found.exists()) return Status(code, std::string(key) + " is missing");
  if (!found.is_string()) return Status(code, std::string(key) + " must be a string");
  return found.text();
}

}  // namespace record_fields
}  // namespace earnings
