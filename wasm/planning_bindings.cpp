// Raw embind surface of the planners the sync server and the storage layer call: JSON text in,
// JSON text out (see credit.h and storage_budget.h for the shapes). Kept apart from
// bindings.cpp so that these headers and the engine's never share a translation unit.
#include <emscripten/bind.h>

#include <string>

#include "boundary.h"
#include "credit.h"
#include "storage_budget.h"

namespace earnings {
namespace {

using boundary::Reply;
using boundary::reply_of;

Reply plan_credit_reply(const std::string& text) { return reply_of(plan_credit_json(text)); }

Reply plan_review_decision_reply(const std::string& text) {
  return reply_of(plan_review_decision_json(text));
}

Reply plan_storage_cleanup_reply(const std::string& text) {
  return reply_of(plan_storage_cleanup_json(text));
}

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_planning) {
  using namespace emscripten;
  using namespace earnings;

  function("_planCredit", &plan_credit_reply);
  function("_planReviewDecision", &plan_review_decision_reply);
  function("_planStorageCleanup", &plan_storage_cleanup_reply);
}
