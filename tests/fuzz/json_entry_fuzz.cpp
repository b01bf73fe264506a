// The JSON entry points the sync server and the client call with data that crossed a network or
// came out of storage: any text gives an answer or an error code, never a crash.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "credit.h"
#include "storage_budget.h"

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

void require_object_text(const earnings::Result<std::string>& answer) {
  if (!answer.ok()) return;
  require(nlohmann::json::parse(answer.value(), nullptr, false).is_object());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  require_object_text(earnings::plan_credit_json(text));
  require_object_text(earnings::plan_review_decision_json(text));
  require_object_text(earnings::plan_storage_cleanup_json(text));
  return 0;
}
