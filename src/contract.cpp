#include "contract.h"

#include "status.h"

namespace earnings {
namespace {

// One JSON literal rather than lists written out member by member: the client module carries it
// for the cost of its text. The lists, by where the codes and events come from:
// - errorCodes.loader: js/errors.js (the loader and the JS face of the core);
// - errorCodes.client: js/client-errors.js (the client runtime: storage, network, tabs, misuse),
//   and ERROR, an error without a code relayed from the leader tab (js/tabs.js);
// - errorCodes.server: server/errors.js (what the sync server answers beyond the core's codes),
//   the migrations' refusals at start-up (server/migrate.js) and the per-op refusal of time
//   counted on another device (credit.h, kCountedOnAnotherDevice);
// - eventTypes.engine: the `type` of the events the engine returns (sync answers, recovery,
//   takeEvents); eventTypes.client: js/events.js, what the client runtime raises to apps.
// errorCodes.core is filled in from ErrorCode (status.h), so it cannot drift from the enum.
constexpr const char* kAfterCoreCodes =
    R"(],"loader":["WASM_NOT_FOUND","WASM_INVALID","ENGINE_DISPOSED","CORE_FAULT"],)"
    R"("client":["STORAGE_QUOTA","STORAGE_UNAVAILABLE","NETWORK","USER_NOT_INITIALIZED","DISPOSED",)"
    R"("TAB_LEADER_LOST","ERROR"],)"
    R"("server":["AUTH_REQUIRED","AUTH_INVALID","AUTH_EXPIRED","FORBIDDEN","NOT_FOUND",)"
    R"("METHOD_NOT_ALLOWED","PAYLOAD_TOO_LARGE","REVIEW_DECIDED","RATE_LIMITED","REVIEW_QUEUE_FULL",)"
    R"("TOO_MANY_CLIENTS","DRAINING","OVERLOADED","UNAVAILABLE","INTERNAL","MIGRATION_FAILED",)"
    R"("MIGRATION_CHANGED","COUNTED_ON_ANOTHER_DEVICE"],)"
    R"("httpStatusPrefix":"HTTP_"},)"
    R"("eventTypes":{"engine":["applied","duplicate","rejected","review_needed","gap","conflict",)"
    R"("clock_jump","recovered","corruption","catch_up"],)"
    R"("client":["sync","conflict","corruption","review-needed","rejected","recovered",)"
    R"("storage-degraded","quota","clock-jump","leader","leader-refused","rate-changed","error",)"
    R"("unreachable","unauthorized","refused","storage-lost","mining-elsewhere","mining-resumed",)"
    R"("catch-up","journal-quarantined"]},)"
    R"("clientId":{"pattern":"^[A-Za-z0-9_-]{1,64}$","maxLength":64,)"
    R"("message":"clientId must be 1 to 64 characters of [A-Za-z0-9_-]"}})";

}  // namespace

std::string contract_json() {
  std::string json = R"({"errorCodes":{"core":[)";
  // Every ErrorCode after kOk: to_string answers "UNKNOWN" past the last one.
  for (int code = static_cast<int>(ErrorCode::kOk) + 1;; ++code) {
    const char* name = to_string(static_cast<ErrorCode>(code));
    if (std::string(name) == "UNKNOWN") break;
    if (code > 1) json += ',';
    json += '"';
    json += name;
    json += '"';
  }
  return json + kAfterCoreCodes;
}

}  // namespace earnings
