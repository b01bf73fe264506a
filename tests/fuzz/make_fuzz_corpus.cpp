// Writes seed inputs for the fuzz targets into the folder named by argv[1]: encoded records of a
// few shapes, a tap journal entry, legacy localStorage entries, and the JSON entry points'
// documented inputs.
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec.h"
#include "journal.h"

namespace {

bool write_file(const std::string& path, const std::string& bytes) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), file) == bytes.size();
  return std::fclose(file) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_corpus <folder>\n");
    return 2;
  }
  const std::string folder = argv[1];
  using nlohmann::json;
  const std::vector<json> documents = {
      json{{"u", 42}, {"e", 150000000}},
      json{{"u", 5000000001},
           {"s", {{"e", 123456789}, {"r", 100000000}, {"lu", 1700000000000}, {"a", true}}},
           {"o", json::array({{{"q", 1}, {"t", "accrual"}, {"a", 1666666}}})},
           {"l", json::array({{{"i", 1}, {"o", "accrual"}, {"n", "0.5"}}})}},
      json::array({1, -1, 0.5, nullptr, "ü", json::object()}),
  };
  int written = 0;
  for (const json& document : documents) {
    const auto parsed = earnings::Document::parse_json(document.dump(), earnings::ErrorCode::kRecordCorrupt);
    if (!parsed.ok()) return 1;
    const auto bytes = earnings::encode_record(parsed.value().bytes());
    if (!bytes.ok()) return 1;
    const std::string path = folder + "/record-" + std::to_string(written++);
    if (!write_file(path, std::string(bytes.value().begin(), bytes.value().end()))) return 1;
  }
  // A tap journal entry: a tick and an earning after checkpoint 3.
  earnings::JournalEntry entry;
  entry.user_id = 42;
  entry.generation = 3;
  entry.seq = 1;
  entry.before = 0x12345678;
  entry.after = 0x9abcdef0;
  entry.calls.push({earnings::JournalCallKind::kTick, 1700000000000, 1000, true, 0});
  entry.calls.push({earnings::JournalCallKind::kEarning, 1700000001000, 2000, false, 10000});
  const auto journal = earnings::encode_journal_entry(entry, entry.calls);
  if (!journal.ok()) return 1;
  if (!write_file(folder + "/journal-" + std::to_string(written++), std::string(journal.value().begin(), journal.value().end()))) return 1;
  const std::vector<std::string> texts = {
      R"({"state":{"userId":42,"currentEarnings":0.1,"baseEarningRate":1.5,"lastUpdate":1700000000000,)"
      R"("startDate":1699990000000,"isActive":true,"syncStatus":"pending"},"pendingOperations":[)"
      R"({"id":"op-1","userId":42,"type":"earnings_update","data":{"amount":1e-7},"timestamp":1,)"
      R"("retryCount":0,"maxRetries":5}],"lastCleanup":0,"version":1})",
      R"({"row":{"totalEarned":"1.00000000","baseEarningRate":"1.00000000","pendingReview":"0",)"
      R"("budgetAnchor":1699996400000,"lastSeq":0},"request":{"clientId":"c-1","ops":[{"id":"c-1:1",)"
      R"("seq":1,"type":"accrual","amount":"0.5","from":1700000000000,"to":1700000000000,"rate":"1"}]},)"
      R"("serverNow":1700000000000,"config":{"toleranceMs":60000}})",
      R"({"row":{"totalEarned":"1","baseEarningRate":"1","pendingReview":"0.5"},)"
      R"("item":{"id":3,"amount":"0.5","status":"pending"},"approve":true,"serverNow":1})",
      R"({"entries":[{"key":"teg:record:1","bytes":600,"live":false,"state":{"isActive":false,)"
      R"("pending":"0","heldForVerification":"0","lastUpdate":0},"audit":{"entries":10,)"
      R"("serializedBytes":700,"withoutAuditBytes":600}},{"key":"teg:quarantine:1:5","bytes":9}],)"
      R"("budgetBytes":500,"activeUserId":2,"now":1700000000000})",
  };
  for (const std::string& text : texts) {
    if (!write_file(folder + "/text-" + std::to_string(written++), text)) return 1;
  }
  std::printf("wrote %d seed inputs to %s\n", written, folder.c_str());
  return 0;
}
