#include <catch2/catch.hpp>

#include "audit.h"
#include "documents.h"

using namespace earnings;
using nlohmann::json;

namespace {

json audit_entry_to_json(const AuditEntry& entry) {
  return test_documents::to_json(audit_entry_to_document(entry));
}

Result<AuditEntry> audit_entry_from_json(const json& value) {
  return test_documents::read(audit_entry_from_document, value);
}

Result<AuditLog> log_from_json(const json& value) { return test_documents::read(AuditLog::from_document, value); }

AuditEntry accrual(std::int64_t timestamp, Units old_value, Units new_value) {
  AuditEntry entry;
  entry.user_id = 42;
  entry.operation_type = "accrual";
  entry.old_value = old_value;
  entry.new_value = new_value;
  entry.timestamp = timestamp;
  entry.metadata = Fields().add("ticks", 1);
  return entry;
}

}  // namespace

TEST_CASE("audit log appends with increasing ids", "[audit]") {
  AuditLog log(3);
  SECTION("ids are assigned by the log") {
    AuditEntry entry = accrual(1000, 0, 10);
    entry.id = 999;
    CHECK(log.append(entry).id == 1);
    CHECK(log.append(accrual(2000, 10, 20)).id == 2);
    CHECK(log.next_id() == 3);
    CHECK(log.size() == 2);
  }
  SECTION("a full log drops the oldest and counts it") {
    for (int k = 0; k < 5; ++k) log.append(accrual(1000 * k, k, k + 1));
    CHECK(log.size() == 3);
    CHECK(log.dropped() == 2);
    CHECK(log.entries().front().id == 3);
    CHECK(log.entries().back().id == 5);
  }
}

TEST_CASE("audit log coalesces and trims", "[audit]") {
  AuditLog log(10);
  SECTION("the last entry can be updated in place") {
    CHECK(log.last() == nullptr);
    log.append(accrual(1000, 0, 10));
    AuditEntry* last = log.last();
    REQUIRE(last != nullptr);
    last->new_value = 25;
    last->metadata = Fields().add("ticks", 2);
    CHECK(log.entries().back().new_value == Units{25});
    CHECK(test_documents::to_json(log.entries().back().metadata)["ticks"] == 2);
    CHECK(log.size() == 1);
  }
  SECTION("trim_to keeps the newest") {
    for (int k = 0; k < 6; ++k) log.append(accrual(k, k, k + 1));
    CHECK(log.trim_to(2) == 4);
    CHECK(log.size() == 2);
    CHECK(log.entries().front().id == 5);
    CHECK(log.dropped() == 4);
    CHECK(log.trim_to(5) == 0);
    CHECK(log.append(accrual(9, 0, 1)).id == 7);
  }
}

TEST_CASE("audit entry document", "[audit]") {
  AuditEntry entry = accrual(1700000000000, 150000000, 150027777);
  entry.id = 7;
  entry.source = AuditSource::kReconciliation;
  SECTION("exact shape") {
    CHECK(audit_entry_to_json(entry) == json{{"id", 7},
                                              {"userId", 42},
                                              {"operationType", "accrual"},
                                              {"oldValue", "1.50000000"},
                                              {"newValue", "1.50027777"},
                                              {"timestamp", 1700000000000},
                                              {"source", "reconciliation"},
                                              {"metadata", {{"ticks", 1}}}});
  }
  SECTION("absent values stay absent") {
    entry.old_value.reset();
    entry.new_value.reset();
    json out = audit_entry_to_json(entry);
    CHECK_FALSE(out.contains("oldValue"));
    CHECK(audit_entry_from_json(out).value() == entry);
  }
  SECTION("invalid fields are refused by name") {
    struct Case {
      const char* key;
      json value;
    };
    const Case cases[] = {{"id", -1},          {"userId", 0},           {"userId", "42"},
                          {"operationType", ""}, {"oldValue", 1.5},      {"newValue", "1e3"},
                          {"timestamp", 1.5},   {"source", "server"},    {"metadata", json::array()}};
    for (const Case& c : cases) {
      json bad = audit_entry_to_json(entry);
      bad[c.key] = c.value;
      INFO(c.key << " = " << c.value.dump());
      auto parsed = audit_entry_from_json(bad);
      CHECK(parsed.status().code() == ErrorCode::kRecordCorrupt);
      CHECK(parsed.status().message().find(c.key) != std::string::npos);
    }
    CHECK(audit_entry_from_json(json::array()).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("round trip") { CHECK(audit_entry_from_json(audit_entry_to_json(entry)).value() == entry); }
}

TEST_CASE("audit log document", "[audit]") {
  AuditLog log(4);
  for (int k = 0; k < 6; ++k) log.append(accrual(1000 + k, k, k + 1));
  const json document = test_documents::to_json(log.to_document());
  SECTION("shape") {
    CHECK(document["capacity"] == 4);
    CHECK(document["nextId"] == 7);
    CHECK(document["dropped"] == 2);
    CHECK(document["entries"].size() == 4);
  }
  SECTION("inconsistent logs are corrupt") {
    json bad = document;
    bad["entries"][1]["id"] = 3;
    CHECK(log_from_json(bad).status().code() == ErrorCode::kRecordCorrupt);
    bad = document;
    bad["nextId"] = 6;
    CHECK(log_from_json(bad).status().code() == ErrorCode::kRecordCorrupt);
    bad = document;
    bad["capacity"] = 3;
    CHECK(log_from_json(bad).status().code() == ErrorCode::kRecordCorrupt);
    bad = document;
    bad["entries"] = json::object();
    CHECK(log_from_json(bad).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("round trip") {
    AuditLog restored = log_from_json(document).value();
    CHECK(restored.to_document() == log.to_document());
    CHECK(restored.append(accrual(2000, 0, 1)).id == 7);
  }
}
