// Migration of the seed's plain-JSON localStorage entry (version 1). The old apps wrote money as
// JS numbers; JSON.stringify prints the shortest text that reads back as the same double, which
// is the amount the user saw. That text, not the double, is the value migrated.
#include <string>

#include "amount.h"
#include "codec.h"
#include "json_fields.h"

namespace earnings {
namespace {

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "legacy record: " + what);
}

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

Result<Units> legacy_amount(const Node& value, const std::string& field) {
  if (value.is_number_text()) return units_from_lexeme(value.text(), field);
  if (value.is_integer()) {
    std::int64_t whole = 0;
    const bool fits = value.as_int64(&whole);
    if (fits && whole < 0) return corrupt(field + " is negative");
    if (!fits || whole > kMaxUnits / kUnitsPerTon) {
      return corrupt(field + " is larger than 9999999999.99999999");
    }
    return static_cast<Units>(whole) * kUnitsPerTon;
  }
  if (value.is_string()) {
    auto units = parse_non_negative_amount(value.text());
    if (!units.ok()) return corrupt(field + ": " + units.status().message());
    return units;
  }
  return corrupt(field + " must be a number (NaN is stored as null)");
}

// Times were Date.now() values; a fractional one (performance.now-derived) is rounded down.
Result<std::int64_t> legacy_time(const Node& value, const std::string& field) {
  if (value.is_number_text()) {
    return scaled_from_lexeme(value.text(), 0, false, json_fields::kMaxSafeInteger, field);
  }
  auto ms = json_fields::safe_integer_value(value, field, 0);
  if (!ms.ok()) return corrupt(ms.status().message());
  return ms;
}

Result<std::int64_t> legacy_count(const Node& value, const std::string& field) {
  auto n = json_fields::safe_integer_value(value, field, 0);
  if (!n.ok()) return corrupt(n.status().message());
  return n;
}

bool is_amount_key(const std::string& key) {
  for (const char* name : kLegacyAmountKeys) {
    if (key == name) return true;
  }
  return false;
}

// Copies an operation's `data` as it was, except that money members of maps become decimal
// strings.
Status copy_data(const Node& value, const std::string& field, DocumentWriter& out) {
  if (value.is_map()) {
    out.begin_map();
    for (const Member& member : value.members()) {
      const std::string child_field = field + "." + member.key;
      out.key(member.key);
      if (is_amount_key(member.key)) {
        auto units = legacy_amount(member.value, child_field);
        if (!units.ok()) return units.status();
        out.value(format_amount(units.value()));
        continue;
      }
      Status copied = copy_data(member.value, child_field, out);
      if (!copied.ok()) return copied;
    }
    out.end();
    return Status::Ok();
  }
  if (value.is_array()) {
    out.begin_array();
    std::size_t k = 0;
    for (Node item : value.elements()) {
      Status copied = copy_data(item, field + "[" + std::to_string(k++) + "]", out);
      if (!copied.ok()) return copied;
    }
    out.end();
    return Status::Ok();
  }
  if (!value.exists()) {
    out.null();
  } else {
    out.value(value.bytes());
  }
  return Status::Ok();
}

Status migrate_state(const Node& state, DocumentWriter& out) {
  if (!state.is_map()) return corrupt("state must be an object");
  const Node user = state.find("userId");
  if (!user.exists()) return corrupt("state.userId is missing");
  auto user_id = json_fields::safe_integer_value(user, "state.userId", 1);
  if (!user_id.ok()) return Status(ErrorCode::kRecordCorrupt, "legacy record: " + user_id.status().message());
  out.begin_map().field("userId", user_id.value());
  for (const char* key : {"currentEarnings", "baseEarningRate"}) {
    const Node value = state.find(key);
    if (!value.exists()) return corrupt(std::string("state.") + key + " is missing");
    auto units = legacy_amount(value, std::string("state.") + key);
    if (!units.ok()) return units.status();
    out.field(key, format_amount(units.value()));
  }
  for (const char* key : {"lastUpdate", "startDate"}) {
    const Node value = state.find(key);
    if (!value.exists()) return corrupt(std::string("state.") + key + " is missing");
    auto ms = legacy_time(value, std::string("state.") + key);
    if (!ms.ok()) return ms.status();
    out.field(key, ms.value());
  }
  const Node active = state.find("isActive");
  if (!active.is_boolean()) return corrupt("state.isActive must be a boolean");
  out.field("isActive", active.boolean());
  const Node sync = state.find("syncStatus");
  if (!sync.is_string()) return corrupt("state.syncStatus must be a string");
  const std::string status = sync.text();
  if (status != "synced" && status != "pending" && status != "failed") {
    return corrupt("state.syncStatus must be synced, pending or failed");
  }
  out.field("syncStatus", status).end();
  return Status::Ok();
}

Status migrate_operation(const Node& op, std::int64_t owner, const std::string& field, DocumentWriter& out) {
  if (!op.is_map()) return corrupt(field + " must be an object");
  const Node id = op.find("id");
  if (!id.is_string() || id.text().empty()) return corrupt(field + ".id must be a non-empty string");
  const Node user = op.find("userId");
  if (!user.exists()) return corrupt(field + ".userId is missing");
  auto user_id = json_fields::safe_integer_value(user, field + ".userId", 1);
  if (!user_id.ok()) return corrupt(user_id.status().message());
  if (user_id.value() != owner) {
    return Status(ErrorCode::kRecordUserMismatch, "legacy record: " + field + " belongs to another user");
  }
  const Node type = op.find("type");
  if (!type.is_string()) return corrupt(field + ".type must be a string");
  const std::string kind = type.text();
  if (kind != "earnings_update" && kind != "state_sync" && kind != "reconciliation") {
    return corrupt(field + ".type must be earnings_update, state_sync or reconciliation");
  }
  out.begin_map().field("id", id.text()).field("userId", owner).field("type", kind).key("data");
  Status copied = copy_data(op.find("data"), field + ".data", out);
  if (!copied.ok()) return copied;
  const Node timestamp = op.find("timestamp");
  if (!timestamp.exists()) return corrupt(field + ".timestamp is missing");
  auto ms = legacy_time(timestamp, field + ".timestamp");
  if (!ms.ok()) return ms.status();
  out.field("timestamp", ms.value());
  for (const char* key : {"retryCount", "maxRetries"}) {
    const Node value = op.find(key);
    if (!value.exists()) return corrupt(field + "." + key + " is missing");
    auto n = legacy_count(value, field + "." + key);
    if (!n.ok()) return n.status();
    out.field(key, n.value());
  }
  out.end();
  return Status::Ok();
}

}  // namespace

Result<Document> decode_legacy_v1(const std::string& text) {
  auto parsed = Document::parse_json(text, ErrorCode::kRecordCorrupt);
  if (!parsed.ok()) return corrupt("not well-formed JSON (or nested deeper than 64 levels, or a key repeated)");
  const Node root = parsed.value().root();
  if (!root.is_map()) return corrupt("must be a JSON object");
  const Node version = root.find("version");
  if (version.exists()) {
    std::int64_t number = 0;
    const bool integer = version.is_integer() && version.as_int64(&number);
    if (!integer || number != 1) {
      if (version.is_integer() && (!integer || number > 1)) {
        return Status(ErrorCode::kRecordVersion, "legacy record has an unknown version");
      }
      return corrupt("version must be 1");
    }
  }
  const Node state = root.find("state");
  if (!state.exists()) return corrupt("state is missing");
  DocumentWriter out;
  out.begin_map().key("state");
  Status migrated = migrate_state(state, out);
  if (!migrated.ok()) return migrated;
  std::int64_t owner = 0;
  state.find("userId").as_int64(&owner);

  out.key("pendingOperations").begin_array();
  const Node pending = root.find("pendingOperations");
  if (pending.exists()) {
    if (!pending.is_array()) return corrupt("pendingOperations must be an array");
    std::size_t k = 0;
    for (Node op : pending.elements()) {
      Status moved = migrate_operation(op, owner, "pendingOperations[" + std::to_string(k++) + "]", out);
      if (!moved.ok()) return moved;
    }
  }
  out.end();
  std::int64_t last_cleanup = 0;
  const Node cleanup = root.find("lastCleanup");
  if (cleanup.exists()) {
    auto ms = legacy_time(cleanup, "lastCleanup");
    if (!ms.ok()) return ms.status();
    last_cleanup = ms.value();
  }
  out.field("lastCleanup", last_cleanup).field("version", 1).end();
  return Document::from_bytes(out.take(), ErrorCode::kRecordCorrupt);
}

}  // namespace earnings
