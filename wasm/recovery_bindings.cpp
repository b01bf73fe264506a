// The seed's SyncManager.validateData and RecoveryManager.resolveConflicts /
// validateRecoveredData as pure functions of JSON text, for apps that hold states of their own
// (js/core.js: core.validateState, core.validateRecoveredData, core.resolveConflicts). The engine
// runs the same C++ functions on its own state; these take a state as `engine.state()` or
// `manager.state()` printed it.
//
// Contract with js/core.js: the validators never fail: unreadable text is an invalid state, and
// the reply's text is `{"ok","code","message","flagForReview"}`. resolveConflicts fails with
// STATE_INVALID (local state), RESPONSE_INVALID (server state) or CONFIG_INVALID.
#include <emscripten/bind.h>

#include <string>

#include "amount.h"
#include "boundary.h"
#include "conflict.h"
#include "document.h"
#include "engine.h"
#include "state.h"
#include "validation.h"

namespace earnings {
namespace {

using boundary::failure;
using boundary::Reply;
using boundary::success;

// A state as JSON text: every field `state()` prints, invariants checked. Any failure is
// STATE_INVALID (the caller handed over a state, so whatever is wrong with it is the state's).
Result<EarningsState> read_state(const std::string& text) {
  auto document = Document::parse_json(text, ErrorCode::kStateInvalid);
  if (!document.ok()) return document.status();
  auto state = state_from_document(document.value().root());
  if (!state.ok()) return Status(ErrorCode::kStateInvalid, state.status().message());
  return state;
}

std::string validation_json(const ValidationResult& result) {
  return json_text(Fields()
                       .add("ok", result.ok)
                       .add("code", result.ok ? std::string() : std::string(to_string(result.code)))
                       .add("message", result.message)
                       .add("flagForReview", result.flag_for_review)
                       .bytes());
}

Reply validate_state_reply(const std::string& state_text) {
  const auto state = read_state(state_text);
  if (!state.ok()) {
    return success(validation_json(
        ValidationResult::fail(state.status().code(), state.status().message(), true)));
  }
  return success(validation_json(validate_state(state.value())));
}

Reply validate_recovered_data_reply(const std::string& state_text) {
  const auto state = read_state(state_text);
  if (!state.ok()) {
    return success(validation_json(
        ValidationResult::fail(state.status().code(), state.status().message(), true)));
  }
  return success(validation_json(validate_recovered_data(state.value())));
}

// Server wins, the local state's pending rebased on top; a server holding less than the local
// state's confirmed total by more than the config's tolerance (at the local rate) sets
// reviewFlag. The engine's `at` for a conflict is the local state's lastUpdate: no clock here.
Reply resolve_conflicts_reply(const std::string& local_text, const std::string& server_text,
                              const std::string& config_json) {
  const auto local = read_state(local_text);
  if (!local.ok()) return failure(local.status());
  const auto document = Document::parse_json(server_text, ErrorCode::kResponseInvalid);
  if (!document.ok()) return failure(document.status());
  const auto server = parse_server_state(document.value().root());
  if (!server.ok()) return failure(server.status());
  const auto config = parse_engine_config(config_json);
  if (!config.ok()) return failure(config.status());
  const EarningsState& mine = local.value();
  if (server.value().user_id != mine.user_id) {
    return failure(Status(ErrorCode::kRecordUserMismatch,
                          "server state is for user " + std::to_string(server.value().user_id) +
                              ", not " + std::to_string(mine.user_id)));
  }
  const auto resolution =
      resolve_conflicts(mine, server.value(), mine.synced_total,
                        budget_for(mine.base_earning_rate, config.value().tolerance_ms),
                        mine.last_update);
  if (!resolution.ok()) return failure(resolution.status());
  return success(json_text(state_to_document(resolution.value().state)));
}

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_recovery) {
  using namespace emscripten;
  using namespace earnings;
  function("_validateState", &validate_state_reply);
  function("_validateRecoveredData", &validate_recovered_data_reply);
  function("_resolveConflicts", &resolve_conflicts_reply);
}
