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

}  // namespace json_fields

// Reads the members of one map in turn and keeps the first failure: every read after a failure
// does nothing, so a reader asks ok() once, at the end. A failure carries the reader's code and
// names the member ("seq is missing", "amount: too many decimals"); a value that is not a map
// fails its first read.
class FieldReader {
 public:
  FieldReader(const Node& map, ErrorCode code) : map_(map), code_(code) {}

  // An integer in [min, max] (by default up to 2^53 - 1).
  void integer(const char* key, std::int64_t min, std::int64_t max, std::int64_t* out);
  void integer(const char* key, std::int64_t min, std::int64_t* out) {
    integer(key, min, json_fields::kMaxSafeInteger, out);
  }
  // A decimal string (parse_amount) of at least `min`.
  void amount(const char* key, Units min, Units* out);
  void boolean(const char* key, bool* out);
  void text(const char* key, std::string* out);

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }

 private:
  // The member, or an absent node once a failure is recorded (this one: "is missing").
  Node member(const char* key);
  void fail(const char* key, const std::string& problem);

  Node map_;
  ErrorCode code_;
  Status status_;
};

}  // namespace earnings
