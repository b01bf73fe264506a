// Migration of the seed's plain-JSON localStorage entry (version 1). The old apps wrote money as
// JS numbers; JSON.stringify prints the shortest text that reads back as the same double, which
// is the amount the user saw. That text, not the double, is the value migrated.
#include <cstring>
#include <utility>
#include <vector>

#include "amount.h"
#include "codec.h"
#include "json_fields.h"

namespace earnings {
namespace {

using nlohmann::json;

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "legacy record: " + what);
}

// Builds a DOM like nlohmann's own, except that a non-integer number keeps its printed text:
// it is stored as a binary value holding the lexeme (JSON text cannot produce binary values, so
// the two never mix). Refuses nesting deeper than kMaxDocumentDepth.
class LexemeKeepingBuilder {
 public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  explicit LexemeKeepingBuilder(json& root) : root_(root) {}

  bool null() { return put(json(nullptr)); }
  bool boolean(bool v) { return put(json(v)); }
  bool number_integer(number_integer_t v) { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) { return put(json(v)); }
  bool number_float(number_float_t, const string_t& lexeme) {
    return put(json::binary(std::vector<std::uint8_t>(lexeme.begin(), lexeme.end())));
  }
  bool string(string_t& v) { return put(json(std::move(v))); }
  bool binary(binary_t&) { return false; }
  bool start_object(std::size_t) { return open(json::object()); }
  bool key(string_t& k) {
    pending_key_ = std::move(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  json* put(json value) {
    if (stack_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    json& parent = *stack_.back();
    if (parent.is_array()) {
      parent.push_back(std::move(value));
      return &parent.back();
    }
    json& slot = parent[pending_key_];
    slot = std::move(value);
    return &slot;
  }
  bool open(json container) {
    if (stack_.size() >= kMaxDocumentDepth) return false;
    stack_.push_back(put(std::move(container)));
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  json& root_;
  std::vector<json*> stack_;
  std::string pending_key_;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// The integer value x 10^decimals of a JSON number's text (-?int(.frac)?([eE][+-]?exp)?),
// rounded half-up at the next decimal or down, refused when negative (non-zero) or above `max`.
// REQUIRES: max < 10^18.
Result<std::int64_t> scaled_from_lexeme(const std::string& lexeme, std::int64_t decimals,
                                        bool half_up, std::int64_t max, const std::string& field) {
  std::size_t i = 0;
  bool negative = false;
  if (i < lexeme.size() && lexeme[i] == '-') {
    negative = true;
    ++i;
  }
  std::string digits;
  std::int64_t exponent = 0;
  while (i < lexeme.size() && is_digit(lexeme[i])) digits.push_back(lexeme[i++]);
  if (i < lexeme.size() && lexeme[i] == '.') {
    ++i;
    while (i < lexeme.size() && is_digit(lexeme[i])) {
      digits.push_back(lexeme[i++]);
      --exponent;
    }
  }
  if (i < lexeme.size() && (lexeme[i] == 'e' || lexeme[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < lexeme.size() && (lexeme[i] == '+' || lexeme[i] == '-')) exp_negative = lexeme[i++] == '-';
    std::int64_t e = 0;
    while (i < lexeme.size() && is_digit(lexeme[i])) {
      // Saturate: an exponent this large already decides zero or overflow.
      if (e < 100000) e = e * 10 + (lexeme[i] - '0');
      ++i;
    }
    exponent += exp_negative ? -e : e;
  }
  if (digits.empty() || i != lexeme.size()) return corrupt(field + " is not a number");
  const std::size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return std::int64_t{0};
  if (negative) return corrupt(field + " is negative");
  digits.erase(0, first);
  auto too_large = [&] { return corrupt(field + " is too large"); };
  // value x 10^decimals = digits x 10^shift
  const std::int64_t shift = exponent + decimals;
  std::int64_t out = 0;
  if (shift >= 0) {
    if (static_cast<std::int64_t>(digits.size()) + shift > 18) return too_large();
    for (char d : digits) out = out * 10 + (d - '0');
    for (std::int64_t k = 0; k < shift; ++k) out *= 10;
  } else {
    const std::int64_t kept = static_cast<std::int64_t>(digits.size()) + shift;
    if (kept > 18) return too_large();
    for (std::int64_t k = 0; k < kept; ++k) out = out * 10 + (digits[static_cast<std::size_t>(k)] - '0');
    // The first dropped digit decides; when kept < 0 it is one of the implied leading zeros.
    if (half_up && kept >= 0 && digits[static_cast<std::size_t>(kept)] >= '5') ++out;
  }
  if (out > max) return too_large();
  return out;
}

Result<Units> units_from_lexeme(const std::string& lexeme, const std::string& field) {
  return scaled_from_lexeme(lexeme, 8, true, kMaxUnits, field);
}

Result<Units> legacy_amount(const json& value, const std::string& field) {
  if (value.is_binary()) {
    const auto& raw = value.get_binary();
    return units_from_lexeme(std::string(raw.begin(), raw.end()), field);
  }
  if (value.is_number_unsigned() || value.is_number_integer()) {
    if (value.is_number_integer() && !value.is_number_unsigned() && value.get<std::int64_t>() < 0) {
      return corrupt(field + " is negative");
    }
    const std::uint64_t whole = value.get<std::uint64_t>();
    if (whole > static_cast<std::uint64_t>(kMaxUnits / kUnitsPerTon)) {
      return corrupt(field + " is larger than 9999999999.99999999");
    }
    return static_cast<Units>(whole) * kUnitsPerTon;
  }
  if (value.is_string()) {
    auto units = parse_non_negative_amount(value.get_ref<const std::string&>());
    if (!units.ok()) return corrupt(field + ": " + units.status().message());
    return units;
  }
  return corrupt(field + " must be a number (NaN is stored as null)");
}

// Times were Date.now() values; a fractional one (performance.now-derived) is rounded down.
Result<std::int64_t> legacy_time(const json& value, const std::string& field) {
  if (value.is_binary()) {
    const auto& raw = value.get_binary();
    return scaled_from_lexeme(std::string(raw.begin(), raw.end()), 0, false,
                              json_fields::kMaxSafeInteger, field);
  }
  auto ms = json_fields::safe_integer_value(value, field, 0);
  if (!ms.ok()) return corrupt(ms.status().message());
  return ms;
}

Result<std::int64_t> legacy_count(const json& value, const std::string& field) {
  auto n = json_fields::safe_integer_value(value, field, 0);
  if (!n.ok()) return corrupt(n.status().message());
  return n;
}

const json* member(const json& object, const char* key) {
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

bool is_amount_key(const std::string& key) {
  for (const char* name : kLegacyAmountKeys) {
    if (key == name) return true;
  }
  return false;
}

// Plain JSON again: binary lexemes become ordinary numbers, except money members of objects.
Result<json> restore_numbers(const json& value, const std::string& field) {
  if (value.is_binary()) {
    const auto& raw = value.get_binary();
    json number = json_fields::parse_document(std::string(raw.begin(), raw.end()));
    if (number.is_discarded()) return corrupt(field + " is not a number");
    return number;
  }
  if (value.is_object()) {
    json out = json::object();
    for (auto it = value.begin(); it != value.end(); ++it) {
      const std::string child_field = field + "." + it.key();
      if (is_amount_key(it.key())) {
        auto units = legacy_amount(it.value(), child_field);
        if (!units.ok()) return units.status();
        out[it.key()] = format_amount(units.value());
        continue;
      }
      auto child = restore_numbers(it.value(), child_field);
      if (!child.ok()) return child;
      out[it.key()] = std::move(child).value();
    }
    return out;
  }
  if (value.is_array()) {
    json out = json::array();
    for (std::size_t k = 0; k < value.size(); ++k) {
      auto child = restore_numbers(value[k], field + "[" + std::to_string(k) + "]");
      if (!child.ok()) return child;
      out.push_back(std::move(child).value());
    }
    return out;
  }
  return value;
}

Result<json> migrate_state(const json& state) {
  if (!state.is_object()) return corrupt("state must be an object");
  json out = json::object();
  const json* user = member(state, "userId");
  if (user == nullptr) return corrupt("state.userId is missing");
  auto user_id = json_fields::safe_integer_value(*user, "state.userId", 1);
  if (!user_id.ok()) return Status(ErrorCode::kRecordCorrupt, "legacy record: " + user_id.status().message());
  out["userId"] = user_id.value();
  for (const char* key : {"currentEarnings", "baseEarningRate"}) {
    const json* value = member(state, key);
    if (value == nullptr) return corrupt(std::string("state.") + key + " is missing");
    auto units = legacy_amount(*value, std::string("state.") + key);
    if (!units.ok()) return units.status();
    out[key] = format_amount(units.value());
  }
  for (const char* key : {"lastUpdate", "startDate"}) {
    const json* value = member(state, key);
    if (value == nullptr) return corrupt(std::string("state.") + key + " is missing");
    auto ms = legacy_time(*value, std::string("state.") + key);
    if (!ms.ok()) return ms.status();
    out[key] = ms.value();
  }
  const json* active = member(state, "isActive");
  if (active == nullptr || !active->is_boolean()) return corrupt("state.isActive must be a boolean");
  out["isActive"] = active->get<bool>();
  const json* sync = member(state, "syncStatus");
  if (sync == nullptr || !sync->is_string()) return corrupt("state.syncStatus must be a string");
  const std::string& status = sync->get_ref<const std::string&>();
  if (status != "synced" && status != "pending" && status != "failed") {
    return corrupt("state.syncStatus must be synced, pending or failed");
  }
  out["syncStatus"] = status;
  return out;
}

Result<json> migrate_operation(const json& op, std::int64_t owner, const std::string& field) {
  if (!op.is_object()) return corrupt(field + " must be an object");
  json out = json::object();
  const json* id = member(op, "id");
  if (id == nullptr || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return corrupt(field + ".id must be a non-empty string");
  }
  out["id"] = *id;
  const json* user = member(op, "userId");
  if (user == nullptr) return corrupt(field + ".userId is missing");
  auto user_id = json_fields::safe_integer_value(*user, field + ".userId", 1);
  if (!user_id.ok()) return corrupt(user_id.status().message());
  if (user_id.value() != owner) {
    return Status(ErrorCode::kRecordUserMismatch, "legacy record: " + field + " belongs to another user");
  }
  out["userId"] = owner;
  const json* type = member(op, "type");
  if (type == nullptr || !type->is_string()) return corrupt(field + ".type must be a string");
  const std::string& kind = type->get_ref<const std::string&>();
  if (kind != "earnings_update" && kind != "state_sync" && kind != "reconciliation") {
    return corrupt(field + ".type must be earnings_update, state_sync or reconciliation");
  }
  out["type"] = kind;
  const json* data = member(op, "data");
  auto restored = restore_numbers(data == nullptr ? json(nullptr) : *data, field + ".data");
  if (!restored.ok()) return restored;
  out["data"] = std::move(restored).value();
  const json* timestamp = member(op, "timestamp");
  if (timestamp == nullptr) return corrupt(field + ".timestamp is missing");
  auto ms = legacy_time(*timestamp, field + ".timestamp");
  if (!ms.ok()) return ms.status();
  out["timestamp"] = ms.value();
  for (const char* key : {"retryCount", "maxRetries"}) {
    const json* value = member(op, key);
    if (value == nullptr) return corrupt(field + "." + key + " is missing");
    auto n = legacy_count(*value, field + "." + key);
    if (!n.ok()) return n.status();
    out[key] = n.value();
  }
  return out;
}

}  // namespace

Result<json> decode_legacy_v1(const std::string& text) {
  json root;
  LexemeKeepingBuilder builder(root);
  if (!json::sax_parse(text, &builder, json::input_format_t::json, true, false)) {
    return corrupt("not well-formed JSON (or nested deeper than 64 levels)");
  }
  if (!root.is_object()) return corrupt("must be a JSON object");
  if (const json* version = member(root, "version")) {
    if (!version->is_number_integer() || version->get<std::int64_t>() != 1) {
      if (version->is_number_integer() && version->get<std::int64_t>() > 1) {
        return Status(ErrorCode::kRecordVersion, "legacy record has an unknown version");
      }
      return corrupt("version must be 1");
    }
  }
  const json* state = member(root, "state");
  if (state == nullptr) return corrupt("state is missing");
  auto migrated_state = migrate_state(*state);
  if (!migrated_state.ok()) return migrated_state;
  const std::int64_t owner = migrated_state.value()["userId"].get<std::int64_t>();

  json operations = json::array();
  if (const json* pending = member(root, "pendingOperations")) {
    if (!pending->is_array()) return corrupt("pendingOperations must be an array");
    for (std::size_t k = 0; k < pending->size(); ++k) {
      auto op = migrate_operation((*pending)[k], owner, "pendingOperations[" + std::to_string(k) + "]");
      if (!op.ok()) return op;
      operations.push_back(std::move(op).value());
    }
  }
  std::int64_t last_cleanup = 0;
  if (const json* cleanup = member(root, "lastCleanup")) {
    auto ms = legacy_time(*cleanup, "lastCleanup");
    if (!ms.ok()) return ms.status();
    last_cleanup = ms.value();
  }
  json out = json::object();
  out["state"] = std::move(migrated_state).value();
  out["pendingOperations"] = std::move(operations);
  out["lastCleanup"] = last_cleanup;
  out["version"] = 1;
  return out;
}

}  // namespace earnings
