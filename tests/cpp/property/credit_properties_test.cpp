#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "credit.h"
#include "documents.h"
#include "leaf_property.h"

using namespace earnings;
using earnings_test::deterministic_prop;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1700000000000;

Result<std::vector<SyncOp>> parse_sync_request(const json& request, const CreditConfig& config) {
  const Document held = test_documents::document(request);
  return earnings::parse_sync_request(held.root(), config);
}
const std::string kClient = "c-7f3a";

struct Request {
  json text;  // as a client sends it
  std::vector<SyncOp> ops;
};

// A well-formed request: seqs strictly increasing from first_seq (sometimes skipping), amounts
// from a unit to ten TON, any of the three op types.
Request any_request(std::int64_t first_seq, int max_ops = 12) {
  Request r;
  r.text = {{"clientId", kClient}, {"ops", json::array()}};
  const auto count = *rc::gen::inRange(0, max_ops + 1);
  std::int64_t seq = first_seq;
  std::int64_t from = kNow - *rc::gen::inRange<std::int64_t>(0, 48 * kMsPerHour);
  for (int k = 0; k < count; ++k) {
    const auto amount = *rc::gen::inRange<Units>(1, 10 * kUnitsPerTon);
    const auto span = *rc::gen::inRange<std::int64_t>(0, 2 * kMsPerHour);
    const auto type = *rc::gen::element<std::string>("accrual", "accrual", "earnings_update", "verification");
    r.text["ops"].push_back({{"id", kClient + ":" + std::to_string(seq)},
                             {"seq", seq},
                             {"type", type},
                             {"amount", format_amount(amount)},
                             {"from", from},
                             {"to", from + span},
                             {"rate", format_amount(*rc::gen::inRange<Units>(0, 100 * kUnitsPerTon))}});
    from += span;
    seq += *rc::gen::weightedElement<std::int64_t>({{9, 1}, {1, 2}});
  }
  auto parsed = parse_sync_request(r.text, CreditConfig());
  RC_ASSERT(parsed.ok());
  r.ops = parsed.value();
  return r;
}

CreditRow any_row(bool fresh) {
  CreditRow row;
  row.rate_per_hour = *rc::gen::weightedOneOf<Units>(
      {{1, rc::gen::just<Units>(0)}, {9, rc::gen::inRange<Units>(1, 20 * kUnitsPerTon)}});
  if (*rc::gen::inRange(0, 8) != 0) {
    row.budget_anchor_ms = kNow - *rc::gen::inRange<std::int64_t>(-kMsPerHour, 48 * kMsPerHour);
  }
  if (!fresh) {
    row.total_earned = *rc::gen::inRange<Units>(0, 1000000 * kUnitsPerTon);
    row.current_earnings = row.total_earned;
    row.pending_review = *rc::gen::inRange<Units>(0, 1000 * kUnitsPerTon);
    row.last_seq = *rc::gen::inRange<std::int64_t>(0, 1000);
  }
  return row;
}

CreditConfig any_config() {
  CreditConfig config;
  config.offline_cap_ms = *rc::gen::inRange<std::int64_t>(0, 24 * kMsPerHour);
  config.tolerance_ms = *rc::gen::inRange<std::int64_t>(0, kMsPerHour);
  config.max_rate_per_hour = *rc::gen::inRange<Units>(0, 50 * kUnitsPerTon);
  return config;
}

CreditPlan planned(const CreditRow& row, const std::vector<SyncOp>& ops, std::int64_t now,
                   const CreditConfig& config) {
  auto plan = plan_credit(row, ops, now, config);
  RC_ASSERT(plan.ok());
  return plan.value();
}

bool same_audit(const CreditAudit& a, const CreditAudit& b) {
  return a.operation_type == b.operation_type && a.old_value == b.old_value &&
         a.new_value == b.new_value && a.metadata.bytes() == b.metadata.bytes() && a.op_id == b.op_id;
}

bool same_result(const CreditResult& a, const CreditResult& b) {
  return a.id == b.id && a.seq == b.seq && a.status == b.status && a.credited == b.credited &&
         a.review == b.review && a.code == b.code && a.expected_seq == b.expected_seq;
}

}  // namespace

TEST_CASE("Property 1: any valid sync request plans without error against a fresh row",
          "[credit][property]") {
  deterministic_prop("valid JSON in, one result per op out", [] {
    const Request request = any_request(1);
    const json input = {{"row", test_documents::to_json(credit_row_to_document(any_row(true)))},
                        {"request", request.text},
                        {"serverNow", kNow},
                        {"config", {{"toleranceMs", *rc::gen::inRange(0, 3600000)}}}};
    const auto answer = plan_credit_json(input.dump());
    RC_ASSERT(answer.ok());
    const json out = json::parse(answer.value());
    RC_ASSERT(out["results"].size() == request.ops.size());
    for (std::size_t k = 0; k < request.ops.size(); ++k) {
      RC_ASSERT(out["results"][k]["seq"] == request.ops[k].seq);
      RC_ASSERT(out["results"][k]["status"] != "rejected");
    }
  });
}

TEST_CASE("Property 11: every invalid request field is refused by name", "[credit][property]") {
  deterministic_prop("one bad field makes REQUEST_INVALID naming ops[i].field", [] {
    Request request = any_request(1, 6);
    RC_PRE(!request.ops.empty());
    const auto index = *rc::gen::inRange<std::size_t>(0, request.ops.size());
    const std::string key = *rc::gen::element<std::string>("id", "seq", "type", "amount", "from", "rate");
    json bad_value;
    if (key == "amount") {
      bad_value = *rc::gen::element<json>("0", "-1", "1e2", "abc", 1.5, "0.000000001", nullptr);
    } else if (key == "rate") {
      bad_value = *rc::gen::element<json>("-0.5", "x", 3, json::array());
    } else if (key == "type") {
      bad_value = *rc::gen::element<json>("state_sync", "", 7);
    } else if (key == "id") {
      bad_value = *rc::gen::element<json>("other:1", 5, "");
    } else if (key == "seq") {
      bad_value = *rc::gen::element<json>(0, -3, "1", 9007199254740992.0, 2.5);
    } else {
      bad_value = *rc::gen::element<json>(-1, "0", 9007199254740992.0);
    }
    request.text["ops"][index][key] = bad_value;
    const auto parsed = parse_sync_request(request.text, CreditConfig());
    RC_ASSERT(parsed.status().code() == ErrorCode::kRequestInvalid);
    RC_ASSERT(parsed.status().message().find("ops[" + std::to_string(index) + "].") != std::string::npos);
  });
}

TEST_CASE("Property 16: credited amounts are non-negative and never more than claimed",
          "[credit][property]") {
  deterministic_prop("per-op and row invariants", [] {
    const CreditRow row = any_row(false);
    const Request request = any_request(row.last_seq + 1);
    const CreditPlan plan = planned(row, request.ops, kNow, any_config());
    RC_ASSERT(plan.results.size() == request.ops.size());
    for (std::size_t k = 0; k < plan.results.size(); ++k) {
      const CreditResult& result = plan.results[k];
      RC_ASSERT(result.credited >= 0);
      RC_ASSERT(result.review >= 0);
      if (result.status == OpStatus::kApplied || result.status == OpStatus::kReview) {
        RC_ASSERT(result.credited + result.review == request.ops[k].amount);
      } else {
        RC_ASSERT(result.credited == 0);
        RC_ASSERT(result.review == 0);
      }
      if (request.ops[k].type == SyncOpType::kVerification) RC_ASSERT(result.credited == 0);
    }
    RC_ASSERT(plan.row.total_earned == row.total_earned + plan.credited);
    RC_ASSERT(plan.row.pending_review == row.pending_review + plan.queued_for_review);
    RC_ASSERT(plan.row.last_seq >= row.last_seq);
  });
}

TEST_CASE("Property 21: a batch plans in one call exactly as its ops one by one", "[credit][property]") {
  deterministic_prop("batch == sequential single-op plans", [] {
    const CreditRow row = any_row(false);
    // Start a little below lastSeq so that duplicates are part of the batch too.
    const Request request = any_request(std::max<std::int64_t>(1, row.last_seq - 2));
    const CreditConfig config = any_config();
    const CreditPlan batch = planned(row, request.ops, kNow, config);

    CreditRow current = row;
    std::vector<CreditResult> results;
    std::vector<CreditAudit> audit;
    std::vector<ReviewItem> reviews;
    for (const SyncOp& op : request.ops) {
      const CreditPlan single = planned(current, {op}, kNow, config);
      current = single.row;
      results.insert(results.end(), single.results.begin(), single.results.end());
      audit.insert(audit.end(), single.audit.begin(), single.audit.end());
      reviews.insert(reviews.end(), single.reviews.begin(), single.reviews.end());
    }
    if (request.ops.empty()) current.budget_anchor_ms = row.budget_anchor_ms.value_or(kNow);
    RC_ASSERT(batch.row == current);
    RC_ASSERT(batch.results.size() == results.size());
    for (std::size_t k = 0; k < results.size(); ++k) RC_ASSERT(same_result(batch.results[k], results[k]));
    RC_ASSERT(batch.audit.size() == audit.size());
    for (std::size_t k = 0; k < audit.size(); ++k) RC_ASSERT(same_audit(batch.audit[k], audit[k]));
    RC_ASSERT(batch.reviews.size() == reviews.size());
    for (std::size_t k = 0; k < reviews.size(); ++k) {
      RC_ASSERT(batch.reviews[k].amount == reviews[k].amount);
      RC_ASSERT(batch.reviews[k].context.bytes() == reviews[k].context.bytes());
    }
  });
  deterministic_prop("resending an applied batch changes nothing", [] {
    const CreditRow row = any_row(false);
    const Request request = any_request(row.last_seq + 1);
    const CreditConfig config = any_config();
    const CreditPlan first = planned(row, request.ops, kNow, config);
    const CreditPlan again = planned(first.row, request.ops, kNow + 5000, config);
    RC_ASSERT(again.credited == 0);
    RC_ASSERT(again.queued_for_review == 0);
    RC_ASSERT(again.audit.empty());
    RC_ASSERT(again.row.total_earned == first.row.total_earned);
    RC_ASSERT(again.row.last_seq == first.row.last_seq);
    for (const CreditResult& result : again.results) {
      RC_ASSERT(result.status == OpStatus::kDuplicate || result.status == OpStatus::kGap);
    }
  });
}

TEST_CASE("Property 26: credits never exceed rate x server time plus tolerance", "[credit][property]") {
  deterministic_prop("one request stays within the budget at its arrival", [] {
    const CreditRow row = any_row(false);
    const CreditConfig config = any_config();
    const Request request = any_request(row.last_seq + 1);
    const CreditPlan plan = planned(row, request.ops, kNow, config);
    const Units rate = std::min(row.rate_per_hour, config.max_rate_per_hour);
    const std::int64_t anchor = row.budget_anchor_ms.value_or(kNow);
    const std::int64_t start = std::max(anchor, kNow - config.offline_cap_ms);
    RC_ASSERT(plan.credited <= budget_for(rate, kNow + config.tolerance_ms - start));
    RC_ASSERT(*plan.row.budget_anchor_ms <= kNow + config.tolerance_ms || plan.credited == 0);
  });
  deterministic_prop("many requests over time stay within rate x (elapsed + tolerance)", [] {
    CreditRow row = any_row(true);
    row.budget_anchor_ms = kNow;
    const CreditConfig config = any_config();
    const Units rate = std::min(row.rate_per_hour, config.max_rate_per_hour);
    std::int64_t now = kNow;
    Units credited = 0;
    const auto rounds = *rc::gen::inRange(1, 10);
    for (int round = 0; round < rounds; ++round) {
      now += *rc::gen::inRange<std::int64_t>(0, 3 * kMsPerHour);
      const Request request = any_request(row.last_seq + 1, 5);
      const CreditPlan plan = planned(row, request.ops, now, config);
      credited += plan.credited;
      row = plan.row;
    }
    RC_ASSERT(credited <= budget_for(rate, now + config.tolerance_ms - kNow));
  });
}

TEST_CASE("Property 28: excess earnings always go to review, never lost", "[credit][property]") {
  deterministic_prop("credited + queued == claimed for every op processed", [] {
    const CreditRow row = any_row(false);
    const Request request = any_request(row.last_seq + 1);
    const CreditPlan plan = planned(row, request.ops, kNow, any_config());
    Units claimed = 0;
    Units queued_items = 0;
    for (std::size_t k = 0; k < plan.results.size(); ++k) {
      const OpStatus status = plan.results[k].status;
      if (status == OpStatus::kApplied || status == OpStatus::kReview) claimed += request.ops[k].amount;
    }
    for (const ReviewItem& item : plan.reviews) {
      RC_ASSERT(item.amount > 0);
      const json context = test_documents::to_json(item.context.bytes());
      RC_ASSERT(context.contains("budget"));
      RC_ASSERT(context.contains("serverElapsedMs"));
      queued_items += item.amount;
    }
    RC_ASSERT(plan.credited + plan.queued_for_review == claimed);
    RC_ASSERT(queued_items == plan.queued_for_review);
  });
  deterministic_prop("approving every queued item credits each exactly once", [] {
    const CreditRow row = any_row(false);
    const Request request = any_request(row.last_seq + 1);
    const CreditPlan plan = planned(row, request.ops, kNow, any_config());
    CreditRow current = plan.row;
    for (const ReviewItem& item : plan.reviews) {
      auto decision = plan_review_decision(current, item.amount, "pending", true);
      RC_ASSERT(decision.ok());
      RC_ASSERT(plan_review_decision(decision.value().row, item.amount, "approved", true).status().code() ==
                ErrorCode::kRequestInvalid);
      current = decision.value().row;
    }
    RC_ASSERT(current.total_earned == plan.row.total_earned + plan.queued_for_review);
    RC_ASSERT(current.pending_review == row.pending_review);
  });
}

TEST_CASE("Property 26: across a rate change, time before it is worth the old rate and after it the new",
          "[credit][property]") {
  deterministic_prop("a client mining across the change is credited old x t1 + new x (t2 + tolerance)", [] {
    CreditConfig config = any_config();
    config.max_rate_per_hour = *rc::gen::inRange<Units>(1, 50 * kUnitsPerTon);
    const Units old_rate = *rc::gen::inRange<Units>(1, config.max_rate_per_hour + 1);
    const Units new_rate = *rc::gen::inRange<Units>(1, config.max_rate_per_hour + 1);
    const std::int64_t t1 = *rc::gen::inRange<std::int64_t>(0, config.offline_cap_ms + 1);
    const std::int64_t t2 = *rc::gen::inRange<std::int64_t>(0, config.offline_cap_ms + 1);
    CreditRow row;
    row.rate_per_hour = old_rate;
    row.budget_anchor_ms = kNow;
    auto change = plan_rate_change(row, new_rate, kNow + t1, config);
    RC_ASSERT(change.ok());
    RC_ASSERT(change.value().settled == budget_for(old_rate, t1));
    SyncOp claim;
    claim.id = kClient + ":1";
    claim.seq = 1;
    claim.amount = kMaxUnits;
    claim.to_ms = kNow + t1 + t2;
    const CreditPlan plan = planned(change.value().row, {claim}, kNow + t1 + t2, config);
    RC_ASSERT(plan.credited == budget_for(old_rate, t1) + budget_for(new_rate, t2 + config.tolerance_ms));
    RC_ASSERT(plan.credited + plan.queued_for_review == kMaxUnits);
  });
}
