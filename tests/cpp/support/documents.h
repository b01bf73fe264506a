// The core's documents seen as nlohmann::json in tests, so that assertions can name members and
// bad input can be built by editing a value.
#pragma once

#include <utility>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "document.h"

namespace test_documents {

// The JSON value a document holds.
inline nlohmann::json to_json(const earnings::Bytes& document) {
  return nlohmann::json::parse(earnings::json_text(document));
}

inline nlohmann::json to_json(const earnings::Node& node) { return nlohmann::json::parse(node.json()); }

// A checked document holding `value`, as a reader gets one from storage or the network.
inline earnings::Document document(const nlohmann::json& value) {
  auto parsed = earnings::Document::parse_json(value.dump(), earnings::ErrorCode::kRequestInvalid);
  REQUIRE(parsed.ok());
  return std::move(parsed).value();
}

inline earnings::Bytes bytes(const nlohmann::json& value) { return document(value).bytes(); }

// One of the core's readers (state_from_document, Outbox::from_document, ...) applied to `value`.
template <typename Reader>
auto read(Reader reader, const nlohmann::json& value) {
  const earnings::Document held = document(value);
  return reader(held.root());
}

}  // namespace test_documents
