// Raw embind surface of the storage planner the client's cleanup calls: JSON text in, JSON text
// out (see storage_budget.h for the shapes). Kept apart from bindings.cpp so that these headers
// and the engine's never share a translation unit.
#include <emscripten/bind.h>

#include <string>

#include "boundary.h"
#include "storage_budget.h"

namespace earnings {
namespace {

using boundary::Reply;
using boundary::reply_of;

Reply plan_storage_cleanup_reply(const std::string& text) {
  return reply_of(plan_storage_cleanup_json(text));
}

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_planning) {
  using namespace emscripten;
  using namespace earnings;

  function("_planStorageCleanup", &plan_storage_cleanup_reply);
}
