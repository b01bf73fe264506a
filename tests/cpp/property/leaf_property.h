// Runs a RapidCheck property inside a Catch2 SECTION like rc::prop, but deterministically: the
// seed comes from the property's description (RapidCheck's default is a fresh random seed per
// run), and at least 100 cases are generated whatever RC_PARAMS says.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include <rapidcheck.h>
#include <catch2/catch.hpp>

namespace earnings_test {

inline std::uint64_t seed_for(const std::string& description) {
  std::uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : description) hash = (hash ^ c) * 1099511628211ULL;
  return hash;
}

template <typename Testable>
void deterministic_prop(const std::string& description, Testable&& testable, int cases = 200) {
  SECTION(description) {
    rc::detail::TestParams params = rc::detail::configuration().testParams;
    params.seed = seed_for(description);
    params.maxSuccess = params.maxSuccess < cases ? cases : params.maxSuccess;
    rc::detail::TestMetadata metadata;
    metadata.id = description;
    metadata.description = description;
    const auto result = rc::detail::checkTestable(std::forward<Testable>(testable), metadata, params);
    if (result.template is<rc::detail::SuccessResult>()) {
      const auto success = result.template get<rc::detail::SuccessResult>();
      CHECK(success.numSuccess >= 100);
    } else {
      std::ostringstream report;
      rc::detail::printResultMessage(result, report);
      INFO(report.str());
      FAIL();
    }
  }
}

}  // namespace earnings_test
