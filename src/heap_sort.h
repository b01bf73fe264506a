// An in-place heap sort for the core's three sorts (a map's keys while a document is checked,
// the storage plan's candidates, the sync latency window). O(n log n) on any input, including a
// hostile record with thousands of keys in one map, and a few hundred bytes of wasm per use where
// std::sort's introsort costs about a kilobyte per instantiation in the client module
// (docs/PERFORMANCE.md). Not stable: every caller sorts by a total order, so the result is the one
// std::sort gives.
#pragma once

#include <cstddef>
#include <utility>

namespace earnings {

// REQUIRES: `less` is a strict weak ordering over [first, last); random-access iterators.
template <typename Iterator, typename Less>
void heap_sort(Iterator first, Iterator last, Less less) {
  const std::ptrdiff_t size = last - first;
  auto sift_down = [&](std::ptrdiff_t root, std::ptrdiff_t end) {
    for (std::ptrdiff_t child = 2 * root + 1; child < end; root = child, child = 2 * root + 1) {
      if (child + 1 < end && less(first[child], first[child + 1])) ++child;
      if (!less(first[root], first[child])) return;
      std::swap(first[root], first[child]);
    }
  };
  for (std::ptrdiff_t root = size / 2; root-- > 0;) sift_down(root, size);
  for (std::ptrdiff_t end = size; end-- > 1;) {
    std::swap(first[0], first[end]);
    sift_down(0, end);
  }
}

}  // namespace earnings
