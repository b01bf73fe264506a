// The JSON entry points the sync server and the client call with data that crossed a network or
// came out of storage: any text gives an answer or an error code, never a crash. Under them, the
// document reader: any text it accepts prints back as JSON that means the same to nlohmann's own
// parser and reads back into the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "credit.h"
#include "document.h"
#include "storage_budget.h"

namespace {

void require(bool condition) {
  if (!condition) __builtin_trap();
}

void require_object_text(const earnings::Result<std::string>& answer) {
  if (!answer.ok()) return;
  require(nlohmann::json::parse(answer.value(), nullptr, false).is_object());
}

void require_same_document(const std::string& text) {
  const auto document = earnings::Document::parse_json(text, earnings::ErrorCode::kRequestInvalid);
  if (!document.ok()) {
    require(!document.value().root().exists());
    return;
  }
  const std::string printed = document.value().root().json();
  const auto again = earnings::Document::parse_json(printed, earnings::ErrorCode::kRequestInvalid);
  require(again.ok() && again.value().bytes() == document.value().bytes());
  const nlohmann::json original = nlohmann::json::parse(text, nullptr, false);
  require(!original.is_discarded() && original == nlohmann::json::parse(printed, nullptr, false));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  require_same_document(text);
  require_object_text(earnings::plan_credit_json(text));
  require_object_text(earnings::plan_review_decision_json(text));
  require_object_text(earnings::plan_storage_cleanup_json(text));
  return 0;
}
