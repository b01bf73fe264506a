#include "codec.h"

namespace earnings {

Result<nlohmann::json> decode_legacy_v1(const std::string&) {
  return Status(ErrorCode::kRecordCorrupt, "legacy migration is not available yet");
}

}  // namespace earnings
