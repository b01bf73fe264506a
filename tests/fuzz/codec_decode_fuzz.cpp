// Any bytes handed to the record decoders must end in a whole document or a RECORD_* error:
// never a crash, never a document that cannot be stored and read back the same.
#include <cstddef>
#include <cstdint>
#include <string>

#include "codec.h"

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using earnings::ErrorCode;
  const auto decoded = earnings::decode_record(data, size);
  if (decoded.ok()) {
    const std::string text = decoded.value().dump();
    const auto again = earnings::encode_record(decoded.value());
    require(again.ok());
    const auto back = earnings::decode_record(again.value());
    require(back.ok() && back.value().dump() == text);
  } else {
    require(decoded.status().code() == ErrorCode::kRecordCorrupt ||
            decoded.status().code() == ErrorCode::kRecordVersion);
    require(decoded.value().is_null());
  }

  const auto legacy = earnings::decode_legacy_v1(std::string(reinterpret_cast<const char*>(data), size));
  if (legacy.ok()) {
    require(legacy.value()["version"] == 1);
    require(earnings::encode_record(legacy.value()).ok());
  } else {
    const ErrorCode code = legacy.status().code();
    require(code == ErrorCode::kRecordCorrupt || code == ErrorCode::kRecordVersion ||
            code == ErrorCode::kRecordUserMismatch);
  }
  return 0;
}
