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

}  // namespace json_fields

Node FieldReader::member(const char* key) {
  if (!status_.ok()) return Node();
  const Node found = map_.find(key);
  if (!found.exists()) fail(key, " is missing");
  return found;
}

void FieldReader::fail(const char* key, const std::string& problem) {
  if (status_.ok()) status_ = Status(code_, key + problem);
}

void FieldReader::integer(const char* key, std::int64_t min, std::int64_t max, std::int64_t* out) {
  const Node found = member(key);
  if (!found.exists()) return;
  std::int64_t value = 0;
  if (!found.is_integer()) return fail(key, " must be an integer");
  if (!found.as_int64(&value) || value < min || value > max) return fail(key, " is out of range");
  *out = value;
}

void FieldReader::amount(const char* key, Units min, Units* out) {
  const Node found = member(key);
  if (!found.exists()) return;
  if (!found.is_string()) return fail(key, " must be a decimal string");
  auto parsed = parse_amount(found.text());
  if (!parsed.ok()) return fail(key, ": " + parsed.status().message());
  if (parsed.value() < min) return fail(key, " must be at least " + format_amount(min));
  *out = parsed.value();
}

void FieldReader::boolean(const char* key, bool* out) {
  const Node found = member(key);
  if (!found.exists()) return;
  if (!found.is_boolean()) return fail(key, " must be a boolean");
  *out = found.boolean();
}

void FieldReader::text(const char* key, std::string* out) {
  const Node found = member(key);
  if (!found.exists()) return;
  if (!found.is_string()) return fail(key, " must be a string");
  *out = found.text();
}

}  // namespace earnings
