#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "heap_sort.h"
#include "leaf_property.h"

using namespace earnings;
using earnings_test::deterministic_prop;

// The core sorts with heap_sort instead of std::sort to keep the client module small
// (src/heap_sort.h); its callers rely on getting exactly what std::sort gives.
TEST_CASE("heap_sort orders exactly as std::sort for a total order", "[heap_sort][property]") {
  deterministic_prop("integers, with repeats, empty and one-element ranges included", [] {
    const auto values = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(-20, 20));
    std::vector<std::int64_t> expected = values;
    std::sort(expected.begin(), expected.end());
    std::vector<std::int64_t> sorted = values;
    heap_sort(sorted.begin(), sorted.end(), [](std::int64_t a, std::int64_t b) { return a < b; });
    RC_ASSERT(sorted == expected);
  });
  deterministic_prop("pairs ordered by key then input position (the storage plan's tie-break)", [] {
    const auto keys = *rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>("a", "b", "ab", ""));
    std::vector<std::pair<std::string, std::size_t>> items;
    for (std::size_t i = 0; i < keys.size(); ++i) items.emplace_back(keys[i], i);
    std::vector<std::pair<std::string, std::size_t>> expected = items;
    std::sort(expected.begin(), expected.end());
    heap_sort(items.begin(), items.end(),
              [](const auto& a, const auto& b) { return a < b; });
    RC_ASSERT(items == expected);
  });
}
