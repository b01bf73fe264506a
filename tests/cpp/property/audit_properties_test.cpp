#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <deque>

#include "audit.h"
#include "codec.h"
#include "leaf_property.h"

using namespace earnings;
using earnings_test::deterministic_prop;

namespace {

AuditEntry any_entry() {
  AuditEntry entry;
  entry.user_id = *rc::gen::inRange<std::int64_t>(1, 9007199254740991);
  entry.operation_type = *rc::gen::element<std::string>("accrual", "sync_applied", "clock_jump",
                                                        "reconciliation", "earnings_update");
  if (*rc::gen::arbitrary<bool>()) entry.old_value = *rc::gen::inRange<Units>(-kMaxUnits, kMaxUnits);
  if (*rc::gen::arbitrary<bool>()) entry.new_value = *rc::gen::inRange<Units>(-kMaxUnits, kMaxUnits);
  entry.timestamp = *rc::gen::inRange<std::int64_t>(0, 9007199254740991);
  entry.source = *rc::gen::element(AuditSource::kLocal, AuditSource::kSync, AuditSource::kReconciliation);
  entry.metadata = Fields().add("ticks", *rc::gen::inRange(0, 1000));
  return entry;
}

}  // namespace

TEST_CASE("Property 19: every logged operation is kept in order or counted as dropped", "[audit][property]") {
  deterministic_prop("appends, in-place updates and trims against a model", [] {
    const auto capacity = *rc::gen::inRange<std::size_t>(1, 20);
    AuditLog log(capacity);
    std::deque<AuditEntry> model;
    std::uint64_t appended = 0;
    const auto steps = *rc::gen::inRange(0, 80);
    for (int step = 0; step < steps; ++step) {
      const int action = *rc::gen::inRange(0, 10);
      if (action < 7) {
        AuditEntry entry = any_entry();
        const AuditEntry& stored = log.append(entry);
        ++appended;
        entry.id = static_cast<std::int64_t>(appended);
        RC_ASSERT(stored == entry);
        model.push_back(entry);
        if (model.size() > capacity) model.pop_front();
      } else if (action < 9) {
        AuditEntry* last = log.last();
        RC_ASSERT((last == nullptr) == model.empty());
        if (last != nullptr) {
          const Units value = *rc::gen::inRange<Units>(0, kMaxUnits);
          last->new_value = value;
          model.back().new_value = value;
        }
      } else {
        const auto keep = *rc::gen::inRange<std::size_t>(0, capacity + 2);
        log.trim_to(keep);
        while (model.size() > keep) model.pop_front();
      }
      RC_ASSERT(log.size() <= capacity);
      RC_ASSERT(log.dropped() + log.size() == appended);
      RC_ASSERT(std::vector<AuditEntry>(model.begin(), model.end()) == log.entries());
    }
    RC_ASSERT(log.next_id() == static_cast<std::int64_t>(appended) + 1);
  });
  deterministic_prop("a log survives its document and the record envelope exactly", [] {
    AuditLog log(*rc::gen::inRange<std::size_t>(1, 30));
    const auto n = *rc::gen::inRange(0, 40);
    for (int k = 0; k < n; ++k) log.append(any_entry());
    const auto decoded = decode_record(encode_record(log.to_document()).value());
    RC_ASSERT(decoded.ok());
    const auto restored = AuditLog::from_document(decoded.value().root());
    RC_ASSERT(restored.ok());
    RC_ASSERT(restored.value().entries() == log.entries());
    RC_ASSERT(restored.value().dropped() == log.dropped());
    RC_ASSERT(restored.value().next_id() == log.next_id());
    RC_ASSERT(restored.value().capacity() == log.capacity());
  });
}
