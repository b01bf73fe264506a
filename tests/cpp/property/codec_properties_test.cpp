#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include "amount.h"
#include "audit.h"
#include "codec.h"
#include "documents.h"
#include "metrics.h"
#include "leaf_property.h"

using namespace earnings;
using earnings_test::deterministic_prop;
using nlohmann::json;

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_text() {
  const auto length = *rc::gen::inRange(0, 12);
  std::string out;
  for (int k = 0; k < length; ++k) {
    std::uint32_t cp = 0;
    switch (*rc::gen::inRange(0, 4)) {
      case 0: cp = *rc::gen::inRange<std::uint32_t>(0x20, 0x7F); break;
      case 1: cp = *rc::gen::inRange<std::uint32_t>(0x80, 0x800); break;
      case 2: cp = *rc::gen::element<std::uint32_t>(0x4E2D, 0x2713, 0xFFFD, 0xE000); break;
      default: cp = *rc::gen::inRange<std::uint32_t>(0x10000, 0x110000); break;
    }
    append_utf8(out, cp);
  }
  return out;
}

// Any JSON document a record could hold: finite numbers, UTF-8 strings, nesting within limits.
json any_document(int depth) {
  const int kind = *rc::gen::inRange(0, depth > 0 ? 9 : 6);
  switch (kind) {
    case 0: return nullptr;
    case 1: return *rc::gen::arbitrary<bool>();
    case 2: return *rc::gen::arbitrary<std::int64_t>();
    case 3: return *rc::gen::arbitrary<std::uint64_t>();
    case 4: return static_cast<double>(*rc::gen::arbitrary<std::int32_t>()) / 64.0;
    case 5: return utf8_text();
    case 6:
    case 7: {
      json array = json::array();
      const int n = *rc::gen::inRange(0, 5);
      for (int k = 0; k < n; ++k) array.push_back(any_document(depth - 1));
      return array;
    }
    default: {
      json object = json::object();
      const int n = *rc::gen::inRange(0, 5);
      for (int k = 0; k < n; ++k) object[utf8_text()] = any_document(depth - 1);
      return object;
    }
  }
}

struct RealisticRecord {
  json compact;  // what a record holds: short keys, integer units
  json plain;    // the same content the way the seed's apps store it: JSON text, long keys
};

// A user's stored earnings as the engine would keep them: state, a few frozen ops, an audit
// trail of coalesced accrual records.
RealisticRecord realistic_record() {
  const auto user = *rc::gen::inRange<std::int64_t>(1, 9007199254740991);
  const auto start = *rc::gen::inRange<std::int64_t>(1600000000000, 1800000000000);
  const auto rate = *rc::gen::inRange<Units>(1, 1000 * kUnitsPerTon);
  const auto earned = *rc::gen::inRange<Units>(0, 100000 * kUnitsPerTon);
  const auto ops = *rc::gen::inRange(0, 20);
  const auto audits = *rc::gen::inRange(0, 60);
  const std::string client = "c-" + std::to_string(*rc::gen::inRange(100000, 999999));

  RealisticRecord r;
  r.compact = {{"u", user}, {"v", 2}, {"c", client},
               {"s", {{"e", earned}, {"r", rate}, {"lu", start + 5000}, {"sd", start},
                      {"a", true}, {"st", 1}, {"rm", *rc::gen::inRange(0, 3600000)}}}};
  r.plain = {{"state", {{"userId", user}, {"currentEarnings", format_amount(earned)},
                        {"baseEarningRate", format_amount(rate)}, {"lastUpdate", start + 5000},
                        {"startDate", start}, {"isActive", true}, {"syncStatus", "pending"}}},
             {"version", 2}};
  json compact_ops = json::array();
  json plain_ops = json::array();
  for (int k = 0; k < ops; ++k) {
    const auto amount = *rc::gen::inRange<Units>(1, 10 * kUnitsPerTon);
    const std::int64_t from = start + k * 60000;
    compact_ops.push_back({{"q", k + 1}, {"t", 0}, {"a", amount}, {"f", from}, {"to", from + 60000}});
    plain_ops.push_back({{"id", client + ":" + std::to_string(k + 1)}, {"userId", user},
                         {"type", "accrual"}, {"data", {{"amount", format_amount(amount)},
                                                        {"from", from}, {"to", from + 60000}}},
                         {"timestamp", from + 60000}, {"retryCount", 0}, {"maxRetries", 5}});
  }
  r.compact["o"] = compact_ops;
  r.plain["pendingOperations"] = plain_ops;
  json compact_audit = json::array();
  json plain_audit = json::array();
  Units value = earned;
  for (int k = 0; k < audits; ++k) {
    const auto step = *rc::gen::inRange<Units>(1, kUnitsPerTon);
    const std::int64_t at = start + k * 1000;
    compact_audit.push_back({{"i", k + 1}, {"o", 0}, {"b", value}, {"n", value + step}, {"t", at}, {"s", 0}});
    plain_audit.push_back({{"id", k + 1}, {"user_id", user}, {"operation_type", "accrual"},
                           {"old_value", format_amount(value)}, {"new_value", format_amount(value + step)},
                           {"timestamp", at}, {"source", "local"}, {"metadata", json::object()}});
    value += step;
  }
  r.compact["l"] = compact_audit;
  r.plain["auditLog"] = plain_audit;
  return r;
}

Bytes sealed(const Bytes& document) {
  auto bytes = encode_record(document);
  RC_ASSERT(bytes.ok());
  return bytes.value();
}

Bytes encoded(const json& document) { return sealed(test_documents::bytes(document)); }

// What a record holds, as JSON; null when it does not decode.
json decoded_json(const Bytes& record) {
  const auto decoded = decode_record(record);
  return decoded.ok() ? test_documents::to_json(decoded.value().root()) : json();
}

}  // namespace

TEST_CASE("Property 22: stored records round-trip exactly and compactly", "[codec][property]") {
  deterministic_prop("any document decodes to exactly what was encoded", [] {
    const json document = any_document(4);
    const auto decoded = decode_record(encoded(document));
    RC_ASSERT(decoded.ok());
    RC_ASSERT(test_documents::to_json(decoded.value().root()) == document);
  });
  deterministic_prop("a realistic record takes less than half its plain-JSON size", [] {
    const RealisticRecord record = realistic_record();
    const Bytes bytes = encoded(record.compact);
    RC_ASSERT(decoded_json(bytes) == record.compact);
    RC_ASSERT(bytes.size() * 2 < record.plain.dump().size());
  });
}

TEST_CASE("Property 22: JSON text and documents convert both ways without loss", "[codec][property]") {
  deterministic_prop("any JSON value reads into a document and prints back the same value", [] {
    const json value = any_document(3);
    const auto document = Document::parse_json(value.dump(), ErrorCode::kRequestInvalid);
    RC_ASSERT(document.ok());
    RC_ASSERT(json::parse(document.value().root().json()) == value);
    RC_ASSERT(json::parse(json_text(document.value().bytes())) == value);
  });
  deterministic_prop("containers of any size keep their members, in order", [] {
    const auto count = *rc::gen::weightedOneOf<std::size_t>(
        {{4, rc::gen::inRange<std::size_t>(0, 40)}, {1, rc::gen::inRange<std::size_t>(65530, 65545)}});
    DocumentWriter out;
    out.begin_map().key("items").begin_array();
    for (std::size_t k = 0; k < count; ++k) out.value(static_cast<std::int64_t>(k) - 20);
    out.end();
    for (std::size_t k = 0; k < count % 40; ++k) out.field(("m" + std::to_string(k)).c_str(), k);
    out.end();
    const auto document = Document::from_bytes(out.take(), ErrorCode::kRecordCorrupt);
    RC_ASSERT(document.ok());
    const Node root = document.value().root();
    RC_ASSERT(root.size() == 1 + count % 40);
    RC_ASSERT(root.find("items").size() == count);
    std::int64_t expected = -20;
    for (Node item : root.find("items").elements()) {
      std::int64_t value = 0;
      RC_ASSERT(item.as_int64(&value));
      RC_ASSERT(value == expected++);
    }
    RC_ASSERT(expected == static_cast<std::int64_t>(count) - 20);
  });
}

TEST_CASE("Property 22: a record with long, readable keys is stored in under half its JSON size",
          "[codec][property]") {
  deterministic_prop("audit trail, metrics and state as the engine's documents spell them", [] {
    const auto user = *rc::gen::inRange<std::int64_t>(1, 9007199254740991);
    AuditLog audit(200);
    Units value = *rc::gen::inRange<Units>(0, 1000 * kUnitsPerTon);
    std::int64_t at = *rc::gen::inRange<std::int64_t>(1600000000000, 1800000000000);
    const auto entries = *rc::gen::inRange(1, 200);
    for (int k = 0; k < entries; ++k) {
      AuditEntry entry;
      entry.user_id = user;
      entry.operation_type = *rc::gen::element<std::string>("accrual", "sync_applied", "earnings_update");
      entry.old_value = value;
      value += *rc::gen::inRange<Units>(1, kUnitsPerTon);
      entry.new_value = value;
      entry.timestamp = at;
      entry.source = AuditSource::kLocal;
      entry.metadata = Fields()
                           .add("ticks", *rc::gen::inRange(1, 60))
                           .add("elapsedMs", *rc::gen::inRange(1000, 60000));
      at += *rc::gen::inRange(1000, 60000);
      audit.append(entry);
    }
    Metrics metrics;
    const auto syncs = *rc::gen::inRange(0, 100);
    for (int k = 0; k < syncs; ++k) metrics.record_sync_success(*rc::gen::inRange(20, 3000));
    const json document = {{kRecordUserKey, user},
                           {"state", {{"userId", user}, {"currentEarnings", format_amount(value)},
                                      {"baseEarningRate", "0.50000000"}, {"lastUpdate", at},
                                      {"startDate", at - 86400000}, {"isActive", true},
                                      {"syncStatus", "pending"}, {"pending", "0.00027777"}}},
                           {"audit", test_documents::to_json(audit.to_document())},
                           {"metrics", test_documents::to_json(metrics.to_document())}};
    const Bytes bytes = encoded(document);
    RC_ASSERT(decoded_json(bytes) == document);
    RC_ASSERT(bytes.size() * 2 < document.dump().size());
  });
}

TEST_CASE("Property 8: corrupted stored records are detected, never half-loaded", "[codec][property]") {
  deterministic_prop("any single-bit flip is RECORD_CORRUPT", [] {
    const Bytes good = encoded(realistic_record().compact);
    const auto bit = *rc::gen::inRange<std::size_t>(0, good.size() * 8);
    Bytes bad = good;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    const auto decoded = decode_record(bad);
    RC_ASSERT(decoded.status().code() == ErrorCode::kRecordCorrupt);
    RC_ASSERT(!decoded.value().root().exists());
  });
  deterministic_prop("any truncation or extension is RECORD_CORRUPT", [] {
    const Bytes good = encoded(realistic_record().compact);
    const auto keep = *rc::gen::inRange<std::size_t>(0, good.size());
    RC_ASSERT(decode_record(Bytes(good.begin(), good.begin() + keep)).status().code() ==
              ErrorCode::kRecordCorrupt);
    Bytes longer = good;
    longer.push_back(*rc::gen::arbitrary<std::uint8_t>());
    RC_ASSERT(decode_record(longer).status().code() == ErrorCode::kRecordCorrupt);
  });
  deterministic_prop("random bytes are RECORD_CORRUPT", [] {
    const auto bytes = *rc::gen::container<Bytes>(rc::gen::arbitrary<std::uint8_t>());
    RC_ASSERT(decode_record(bytes).status().code() == ErrorCode::kRecordCorrupt);
  });
}

TEST_CASE("Property 15: a damaged payload behind a valid checksum never crashes", "[codec][property]") {
  deterministic_prop("re-sealed random payloads decode to a whole document or RECORD_CORRUPT", [] {
    Bytes payload = encoded(any_document(3));
    payload.erase(payload.begin(), payload.begin() + kEnvelopeHeaderSize);
    const auto edits = *rc::gen::inRange(1, 4);
    for (int k = 0; k < edits && !payload.empty(); ++k) {
      const auto at = *rc::gen::inRange<std::size_t>(0, payload.size());
      payload[at] = *rc::gen::arbitrary<std::uint8_t>();
    }
    Bytes record = {'T', 'E', 'G', kCodecVersion, 0, 0, 0, 0, 0, 0, 0, 0};
    const auto size = static_cast<std::uint32_t>(payload.size());
    for (int k = 0; k < 4; ++k) record[4 + k] = static_cast<std::uint8_t>(size >> (8 * k));
    const std::uint32_t crc = crc32(payload.data(), payload.size(), crc32(&record[3], 5));
    for (int k = 0; k < 4; ++k) record[8 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
    record.insert(record.end(), payload.begin(), payload.end());
    const auto decoded = decode_record(record);
    if (decoded.ok()) {
      // A whole document: its JSON text parses, and it stores again unchanged.
      const json text = json::parse(decoded.value().root().json(), nullptr, false);
      RC_ASSERT(!text.is_discarded());
      RC_ASSERT(decode_record(sealed(decoded.value().bytes())).value().bytes() == decoded.value().bytes());
    } else {
      RC_ASSERT(decoded.status().code() == ErrorCode::kRecordCorrupt);
      RC_ASSERT(!decoded.value().root().exists());
    }
  });
}

TEST_CASE("Property 7: a record is read only for its own user", "[codec][property]") {
  deterministic_prop("another user id is RECORD_USER_MISMATCH", [] {
    const RealisticRecord record = realistic_record();
    const std::int64_t owner = record.compact["u"].get<std::int64_t>();
    const auto other = *rc::gen::suchThat(rc::gen::inRange<std::int64_t>(1, 9007199254740991),
                                          [&](std::int64_t id) { return id != owner; });
    const Bytes bytes = encoded(record.compact);
    RC_ASSERT(decode_record_for_user(bytes, owner).ok());
    const auto refused = decode_record_for_user(bytes, other);
    RC_ASSERT(refused.status().code() == ErrorCode::kRecordUserMismatch);
    RC_ASSERT(!refused.value().root().exists());
  });
}

TEST_CASE("Property 22: legacy amounts migrate exactly as printed", "[codec][property]") {
  deterministic_prop("a JSON number with up to 8 decimals becomes exactly that amount", [] {
    const auto whole = *rc::gen::inRange<std::int64_t>(0, 10000000000);
    const auto decimals = *rc::gen::inRange(0, 9);
    std::string text = std::to_string(whole);
    if (decimals > 0) {
      text += '.';
      for (int k = 0; k < decimals; ++k) text += static_cast<char>('0' + *rc::gen::inRange(0, 10));
    }
    const std::string entry = R"({"state":{"userId":7,"currentEarnings":)" + text +
                              R"(,"baseEarningRate":0.5,"lastUpdate":1,"startDate":1,)"
                              R"("isActive":true,"syncStatus":"pending"},"version":1})";
    const auto migrated = decode_legacy_v1(entry);
    RC_ASSERT(migrated.ok());
    RC_ASSERT(test_documents::to_json(migrated.value().root())["state"]["currentEarnings"] ==
              format_amount(parse_amount(text).value()));
  });
}
