// Raw embind surface of the server's crediting planners (credit.h): JSON text in, JSON text out.
// Linked only into the server's build (dist/earnings-core-server.*): browsers never credit, so the
// client module does not carry this code.
#include <emscripten/bind.h>

#include <string>

#include "boundary.h"
#include "credit.h"

namespace earnings {
namespace {

using boundary::Reply;
using boundary::reply_of;

Reply plan_credit_reply(const std::string& text) { return reply_of(plan_credit_json(text)); }

Reply plan_review_decision_reply(const std::string& text) {
  return reply_of(plan_review_decision_json(text));
}

Reply plan_rate_change_reply(const std::string& text) { return reply_of(plan_rate_change_json(text)); }

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_crediting) {
  using namespace emscripten;
  using namespace earnings;

  function("_planCredit", &plan_credit_reply);
  function("_planReviewDecision", &plan_review_decision_reply);
  function("_planRateChange", &plan_rate_change_reply);
}
