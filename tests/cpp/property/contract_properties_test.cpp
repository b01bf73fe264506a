#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <regex>
#include <string>

#include "contract.h"
#include "document.h"
#include "leaf_property.h"
#include "outbox.h"
#include "status.h"

using namespace earnings;
using earnings_test::deterministic_prop;

// JS checks client ids with the pattern the core exports (core.contract.clientId.pattern); the
// core checks them with is_valid_client_id. One rule: the two must agree on every string.
TEST_CASE("the exported client-id pattern is the rule the core applies", "[contract][property]") {
  const std::regex pattern(kClientIdPattern, std::regex::ECMAScript);
  deterministic_prop("strings near the rule: its characters and others, lengths 0 to 70", [&] {
    const auto id = *rc::gen::container<std::string>(
        *rc::gen::inRange(0, 71), rc::gen::element('a', 'Z', '0', '9', '_', '-', ' ', '.', ':', '\n', '\xc3'));
    RC_ASSERT(std::regex_match(id, pattern) == is_valid_client_id(id));
  });
}

TEST_CASE("the contract names every ErrorCode and the client-id rule", "[contract]") {
  auto parsed = Document::parse_json(contract_json(), ErrorCode::kStateInvalid);
  REQUIRE(parsed.ok());
  const Node root = parsed.value().root();
  const Node core = root.find("errorCodes").find("core");
  REQUIRE(core.is_array());
  std::size_t count = 0;
  for (Node code : core.elements()) {
    ++count;
    CHECK(code.text() == to_string(static_cast<ErrorCode>(count)));
  }
  CHECK(count == static_cast<std::size_t>(ErrorCode::kConfigInvalid));
  CHECK(root.find("clientId").find("pattern").text() == kClientIdPattern);
  CHECK(root.find("clientId").find("message").text() == kClientIdRule);
}
