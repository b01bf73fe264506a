// Any bytes handed to the record decoders must end in a whole document or a RECORD_* error:
// never a crash, never a document that cannot be stored and read back the same, never JSON text
// that does not parse. The same bytes as a tap journal entry: a whole entry that writes back to
// the same entry, or a RECORD_* error.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "codec.h"
#include "journal.h"

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

// The input as a payload behind a valid envelope: without this the fuzzer would almost never get
// past the checksum to the MessagePack reader.
earnings::Bytes sealed(const std::uint8_t* data, std::size_t size) {
  earnings::Bytes record = {'T', 'E', 'G', earnings::kCodecVersion, 0, 0, 0, 0, 0, 0, 0, 0};
  const auto length = static_cast<std::uint32_t>(size);
  for (int k = 0; k < 4; ++k) record[4 + k] = static_cast<std::uint8_t>(length >> (8 * k));
  const std::uint32_t crc = earnings::crc32(data, size, earnings::crc32(&record[3], 5));
  for (int k = 0; k < 4; ++k) record[8 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  record.insert(record.end(), data, data + size);
  return record;
}

void require_json_text(const std::string& text) {
  require(!nlohmann::json::parse(text, nullptr, false).is_discarded());
}

void check_record(const earnings::Bytes& bytes) {
  using earnings::ErrorCode;
  const auto decoded = earnings::decode_record(bytes);
  if (decoded.ok()) {
    const std::string text = decoded.value().root().json();
    require_json_text(text);
    const auto again = earnings::encode_record(decoded.value().bytes());
    require(again.ok());
    const auto back = earnings::decode_record(again.value());
    require(back.ok() && back.value().root().json() == text);
  } else {
    require(decoded.status().code() == ErrorCode::kRecordCorrupt ||
            decoded.status().code() == ErrorCode::kRecordVersion);
    require(!decoded.value().root().exists());
  }
}

// The owner the seed corpus's entries name (make_fuzz_corpus.cpp).
constexpr std::int64_t kEntryUser = 42;

void check_journal_entry(const earnings::Bytes& bytes) {
  using earnings::ErrorCode;
  const auto entry = earnings::decode_journal_entry(bytes, kEntryUser);
  if (!entry.ok()) {
    const ErrorCode code = entry.status().code();
    require(code == ErrorCode::kRecordCorrupt || code == ErrorCode::kRecordVersion ||
            code == ErrorCode::kRecordUserMismatch);
    return;
  }
  require(entry.value().calls.size >= 1 && entry.value().calls.size <= earnings::kMaxJournalCalls);
  const auto again = earnings::encode_journal_entry(entry.value(), entry.value().calls);
  require(again.ok());
  const auto back = earnings::decode_journal_entry(again.value(), kEntryUser);
  require(back.ok() && back.value().seq == entry.value().seq && back.value().after == entry.value().after &&
          back.value().calls.size == entry.value().calls.size);
  require(earnings::encode_journal_entry(back.value(), back.value().calls).value() == again.value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using earnings::ErrorCode;
  check_record(earnings::Bytes(data, data + size));
  check_record(sealed(data, size));
  check_journal_entry(earnings::Bytes(data, data + size));
  check_journal_entry(sealed(data, size));

  const auto legacy = earnings::decode_legacy_v1(std::string(reinterpret_cast<const char*>(data), size));
  if (legacy.ok()) {
    std::int64_t version = 0;
    require(legacy.value().root().find("version").as_int64(&version) && version == 1);
    require_json_text(legacy.value().root().json());
    require(earnings::encode_record(legacy.value().bytes()).ok());
  } else {
    const ErrorCode code = legacy.status().code();
    require(code == ErrorCode::kRecordCorrupt || code == ErrorCode::kRecordVersion ||
            code == ErrorCode::kRecordUserMismatch);
  }
  return 0;
}
