#include <catch2/catch.hpp>

#include "credit.h"
#include "documents.h"

using namespace earnings;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1700000000000;
constexpr Units kOneTon = kUnitsPerTon;

CreditRow row_at(std::int64_t anchor, Units rate = kOneTon) {
  CreditRow row;
  row.rate_per_hour = rate;
  row.budget_anchor_ms = anchor;
  return row;
}

SyncOp op(std::int64_t seq, Units amount, SyncOpType type = SyncOpType::kAccrual) {
  SyncOp out;
  out.id = "c-1:" + std::to_string(seq);
  out.seq = seq;
  out.type = type;
  out.amount = amount;
  out.from_ms = kNow - 60000;
  out.to_ms = kNow;
  out.claimed_rate = kOneTon;
  return out;
}

CreditConfig no_tolerance() {
  CreditConfig config;
  config.tolerance_ms = 0;
  return config;
}

json request_with(const json& op_json) {
  return json{{"clientId", "c-1"}, {"ops", json::array({op_json})}};
}

json valid_op_json() {
  return json{{"id", "c-1:1"}, {"seq", 1},    {"type", "accrual"}, {"amount", "0.5"},
              {"from", kNow},  {"to", kNow},  {"rate", "1"}};
}

}  // namespace

TEST_CASE("credit within the token-bucket budget", "[credit]") {
  SECTION("an hour of waiting at 1 TON/h credits a 1 TON claim in full") {
    auto plan = plan_credit(row_at(kNow - kMsPerHour), {op(1, kOneTon)}, kNow, no_tolerance()).value();
    REQUIRE(plan.results.size() == 1);
    CHECK(plan.results[0].status == OpStatus::kApplied);
    CHECK(plan.results[0].credited == kOneTon);
    CHECK(plan.results[0].review == 0);
    CHECK(plan.row.total_earned == kOneTon);
    CHECK(plan.row.current_earnings == kOneTon);
    CHECK(plan.row.last_seq == 1);
    CHECK(plan.row.budget_anchor_ms == kNow);
    REQUIRE(plan.audit.size() == 1);
    CHECK(plan.audit[0].operation_type == "credit");
    CHECK(plan.audit[0].old_value == Units{0});
    CHECK(plan.audit[0].new_value == kOneTon);
    CHECK(plan.reviews.empty());
  }
  SECTION("the excess over the budget goes to review with its context") {
    auto plan =
        plan_credit(row_at(kNow - kMsPerHour / 2), {op(1, kOneTon)}, kNow, no_tolerance()).value();
    CHECK(plan.results[0].status == OpStatus::kApplied);
    CHECK(plan.results[0].credited == kOneTon / 2);
    CHECK(plan.results[0].review == kOneTon / 2);
    CHECK(plan.row.pending_review == kOneTon / 2);
    REQUIRE(plan.reviews.size() == 1);
    CHECK(plan.reviews[0].reason == ReviewReason::kExceedsBudget);
    const json context = test_documents::to_json(plan.reviews[0].context.bytes());
    CHECK(context["serverElapsedMs"] == kMsPerHour / 2);
    CHECK(context["budget"] == "0.50000000");
    CHECK(context["claimedFrom"] == kNow - 60000);
    REQUIRE(plan.audit.size() == 2);
    CHECK(plan.audit[1].operation_type == "review_queued");
  }
  SECTION("the tolerance is granted once, not per request") {
    CreditConfig config;
    config.tolerance_ms = 60000;
    CreditRow row = row_at(kNow);
    const Units tolerance_worth = budget_for(kOneTon, 60000);
    auto first = plan_credit(row, {op(1, kOneTon)}, kNow, config).value();
    CHECK(first.results[0].credited == tolerance_worth);
    auto second = plan_credit(first.row, {op(2, kOneTon)}, kNow + 1000, config).value();
    CHECK(second.results[0].credited == budget_for(kOneTon, 1000));
  }
  SECTION("a silence longer than the offline cap earns only the cap") {
    CreditConfig config = no_tolerance();
    config.offline_cap_ms = 8 * kMsPerHour;
    auto plan = plan_credit(row_at(kNow - 100 * kMsPerHour), {op(1, 50 * kOneTon)}, kNow, config).value();
    CHECK(plan.results[0].credited == 8 * kOneTon);
    CHECK(plan.results[0].review == 42 * kOneTon);
  }
  SECTION("a rate of zero credits nothing") {
    auto plan = plan_credit(row_at(kNow - kMsPerHour, 0), {op(1, 5)}, kNow, CreditConfig()).value();
    CHECK(plan.results[0].status == OpStatus::kReview);
    CHECK(plan.results[0].credited == 0);
    CHECK(plan.row.total_earned == 0);
    CHECK(plan.row.budget_anchor_ms == kNow - kMsPerHour);
  }
  SECTION("a rate above the configured maximum is credited at the maximum") {
    CreditConfig config = no_tolerance();
    config.max_rate_per_hour = kOneTon;
    auto plan = plan_credit(row_at(kNow - kMsPerHour, 10 * kOneTon), {op(1, 10 * kOneTon)}, kNow, config).value();
    CHECK(plan.results[0].credited == kOneTon);
  }
  SECTION("a row without an anchor starts its budget now") {
    CreditRow row;
    row.rate_per_hour = kOneTon;
    auto plan = plan_credit(row, {op(1, kOneTon)}, kNow, no_tolerance()).value();
    CHECK(plan.results[0].credited == 0);
    CHECK(plan.row.budget_anchor_ms == kNow);
  }
}

TEST_CASE("credit sequencing", "[credit]") {
  CreditRow row = row_at(kNow - kMsPerHour);
  row.last_seq = 4;
  SECTION("at or below lastSeq is a duplicate that changes nothing") {
    auto plan = plan_credit(row, {op(3, 10), op(4, 10)}, kNow, CreditConfig()).value();
    CHECK(plan.results[0].status == OpStatus::kDuplicate);
    CHECK(plan.results[1].status == OpStatus::kDuplicate);
    CHECK(plan.row == row);
    CHECK(plan.audit.empty());
  }
  SECTION("a gap stops the batch and names the expected seq") {
    auto plan = plan_credit(row, {op(5, 10), op(7, 10), op(8, 10)}, kNow, CreditConfig()).value();
    CHECK(plan.results[0].status == OpStatus::kApplied);
    CHECK(plan.results[1].status == OpStatus::kGap);
    CHECK(plan.results[1].expected_seq == 6);
    CHECK(plan.results[2].status == OpStatus::kGap);
    CHECK(plan.row.last_seq == 5);
    CHECK(plan.row.total_earned == 10);
  }
  SECTION("verification goes to review whole") {
    auto plan = plan_credit(row, {op(5, kOneTon / 10, SyncOpType::kVerification)}, kNow,
                            CreditConfig()).value();
    CHECK(plan.results[0].status == OpStatus::kReview);
    CHECK(plan.results[0].review == kOneTon / 10);
    CHECK(plan.reviews[0].reason == ReviewReason::kVerification);
    CHECK(plan.row.last_seq == 5);
    CHECK(plan.row.total_earned == 0);
  }
  SECTION("an op that would overflow the total is rejected on its own") {
    CreditRow full = row;
    full.total_earned = kMaxUnits;
    full.current_earnings = kMaxUnits;
    auto plan = plan_credit(full, {op(5, 10)}, kNow, CreditConfig()).value();
    CHECK(plan.results[0].status == OpStatus::kRejected);
    CHECK(plan.results[0].code == ErrorCode::kAmountOverflow);
    CHECK(plan.row.total_earned == kMaxUnits);
    CHECK(plan.row.last_seq == 5);
  }
}

TEST_CASE("sync request validation", "[credit]") {
  const CreditConfig config;
  auto parse_sync_request = [](const json& request, const CreditConfig& limits) {
    const Document held = test_documents::document(request);
    return earnings::parse_sync_request(held.root(), limits);
  };
  auto code_of = [&](const json& request) { return parse_sync_request(request, config).status(); };
  SECTION("a valid request") {
    auto ops = parse_sync_request(request_with(valid_op_json()), config).value();
    REQUIRE(ops.size() == 1);
    CHECK(ops[0].amount == kOneTon / 2);
    CHECK(ops[0].claimed_rate == kOneTon);
  }
  SECTION("each bad field is named") {
    struct Case {
      const char* key;
      json value;
      const char* named;
    };
    const Case cases[] = {
        {"amount", "0", "ops[0].amount"},        {"amount", 0.5, "ops[0].amount"},
        {"amount", "-1", "ops[0].amount"},       {"amount", "1e3", "ops[0].amount"},
        {"seq", 0, "ops[0].seq"},                {"seq", 9007199254740992.0, "ops[0].seq"},
        {"type", "state_sync", "ops[0].type"},   {"from", kNow + 1, "ops[0].from"},
        {"to", -1, "ops[0].to"},                 {"rate", "-1", "ops[0].rate"},
        {"id", "c-2:1", "ops[0].id"},            {"extra", 1, "unknown member"},
    };
    for (const Case& c : cases) {
      json bad = valid_op_json();
      bad[c.key] = c.value;
      INFO(c.key << " = " << c.value.dump());
      Status status = code_of(request_with(bad));
      CHECK(status.code() == ErrorCode::kRequestInvalid);
      CHECK(status.message().find(c.named) != std::string::npos);
    }
  }
  SECTION("request-level problems") {
    CHECK(code_of(json::array()).code() == ErrorCode::kRequestInvalid);
    CHECK(code_of(json{{"clientId", "bad id"}, {"ops", json::array()}}).code() == ErrorCode::kRequestInvalid);
    CHECK(code_of(json{{"clientId", "c-1"}}).code() == ErrorCode::kRequestInvalid);
    CHECK(code_of(json{{"clientId", "c-1"}, {"ops", json::array()}, {"userId", 1}}).code() ==
          ErrorCode::kRequestInvalid);
    json twice = request_with(valid_op_json());
    twice["ops"].push_back(valid_op_json());
    CHECK(code_of(twice).message().find("ops[1].seq") != std::string::npos);
    json too_many = json{{"clientId", "c-1"}, {"ops", json::array()}};
    for (int seq = 1; seq <= 101; ++seq) {
      json item = valid_op_json();
      item["seq"] = seq;
      item["id"] = "c-1:" + std::to_string(seq);
      too_many["ops"].push_back(item);
    }
    CHECK(code_of(too_many).message().find("more than the 100") != std::string::npos);
  }
}

TEST_CASE("review decisions", "[credit]") {
  CreditRow row = row_at(kNow);
  row.pending_review = 5 * kOneTon;
  SECTION("approval credits once") {
    auto decision = plan_review_decision(row, 2 * kOneTon, "pending", true).value();
    CHECK(decision.row.total_earned == 2 * kOneTon);
    CHECK(decision.row.pending_review == 3 * kOneTon);
    CHECK(decision.audit.operation_type == "review_approved");
    CHECK(plan_review_decision(decision.row, 2 * kOneTon, "approved", true).status().code() ==
          ErrorCode::kRequestInvalid);
  }
  SECTION("rejection only releases the pending amount") {
    auto decision = plan_review_decision(row, 2 * kOneTon, "pending", false).value();
    CHECK(decision.row.total_earned == 0);
    CHECK(decision.row.pending_review == 3 * kOneTon);
  }
  SECTION("more than is pending is a broken row") {
    CHECK(plan_review_decision(row, 6 * kOneTon, "pending", true).status().code() ==
          ErrorCode::kStateInvalid);
  }
}

TEST_CASE("credit JSON entry point", "[credit]") {
  const json input = {
      {"row", {{"totalEarned", "1.00000000"}, {"baseEarningRate", "1.00000000"},
               {"pendingReview", "0.00000000"}, {"budgetAnchor", kNow - kMsPerHour},
               {"lastSeq", 0}, {"userId", 42}, {"isActive", true}}},
      {"request", request_with(valid_op_json())},
      {"serverNow", kNow},
      {"config", {{"offlineCapMs", 28800000}, {"toleranceMs", 0}, {"maxRatePerHour", "1000"}}}};
  SECTION("plans and answers in the documented shape") {
    json out = json::parse(plan_credit_json(input.dump()).value());
    CHECK(out["results"][0] == json{{"id", "c-1:1"}, {"seq", 1}, {"status", "applied"},
                                    {"credited", "0.50000000"}, {"review", "0.00000000"}});
    CHECK(out["row"]["totalEarned"] == "1.50000000");
    CHECK(out["row"]["lastSeq"] == 1);
    CHECK(out["row"]["budgetAnchor"] == kNow - kMsPerHour / 2);
    CHECK(out["audit"][0]["operation_type"] == "credit");
    CHECK(out["audit"][0]["old_value"] == "1.00000000");
    CHECK(out["audit"][0]["new_value"] == "1.50000000");
    CHECK(out["audit"][0]["op_id"] == "c-1:1");
    CHECK(out["credited"] == "0.50000000");
  }
  SECTION("errors carry their codes") {
    CHECK(plan_credit_json("not json").status().code() == ErrorCode::kRequestInvalid);
    json bad_row = input;
    bad_row["row"]["totalEarned"] = "-1";
    CHECK(plan_credit_json(bad_row.dump()).status().code() == ErrorCode::kStateInvalid);
    json bad_config = input;
    bad_config["config"]["toleranceMs"] = -1;
    CHECK(plan_credit_json(bad_config.dump()).status().code() == ErrorCode::kConfigInvalid);
    json bad_now = input;
    bad_now["serverNow"] = 1.5;
    CHECK(plan_credit_json(bad_now.dump()).status().code() == ErrorCode::kTimeInvalid);
  }
  SECTION("review decision entry point") {
    const json decision_input = {{"row", input["row"]},
                                 {"item", {{"id", 3}, {"amount", "0.5"}, {"status", "pending"}}},
                                 {"approve", true},
                                 {"serverNow", kNow}};
    json with_pending = decision_input;
    with_pending["row"]["pendingReview"] = "0.50000000";
    json out = json::parse(plan_review_decision_json(with_pending.dump()).value());
    CHECK(out["status"] == "approved");
    CHECK(out["row"]["totalEarned"] == "1.50000000");
    CHECK(out["row"]["pendingReview"] == "0.00000000");
    CHECK(out["audit"][0]["metadata"]["reviewId"] == 3);
    CHECK(plan_review_decision_json(decision_input.dump()).status().code() == ErrorCode::kStateInvalid);
  }
}

TEST_CASE("rate changes", "[credit]") {
  SECTION("the old rate's time up to the change is settled; after it the new rate earns") {
    auto change = plan_rate_change(row_at(kNow - kMsPerHour), 3 * kOneTon, kNow, no_tolerance()).value();
    CHECK(change.previous_rate == kOneTon);
    CHECK(change.settled == kOneTon);
    CHECK(change.settled_from_ms == kNow - kMsPerHour);
    CHECK(change.row.budget_settled == kOneTon);
    CHECK(change.row.budget_anchor_ms == kNow);
    CHECK(change.row.rate_per_hour == 3 * kOneTon);
    // Half an hour later: 1 TON settled + 1.5 TON at the new rate.
    auto plan = plan_credit(change.row, {op(1, 10 * kOneTon)}, kNow + kMsPerHour / 2, no_tolerance()).value();
    CHECK(plan.credited == kOneTon + 3 * kOneTon / 2);
    CHECK(plan.row.budget_settled == 0);
  }
  SECTION("crediting spends the settled budget first, and the anchor only for the rest") {
    auto change = plan_rate_change(row_at(kNow - kMsPerHour), 2 * kOneTon, kNow, no_tolerance()).value();
    auto plan = plan_credit(change.row, {op(1, kOneTon / 4)}, kNow, no_tolerance()).value();
    CHECK(plan.credited == kOneTon / 4);
    CHECK(plan.row.budget_settled == 3 * kOneTon / 4);
    CHECK(plan.row.budget_anchor_ms == kNow);
    plan = plan_credit(plan.row, {op(2, kOneTon)}, kNow + kMsPerHour / 4, no_tolerance()).value();
    CHECK(plan.credited == kOneTon);
    CHECK(plan.row.budget_settled == 0);
    CHECK(plan.row.budget_anchor_ms == kNow + kMsPerHour / 8);
  }
  SECTION("the old rate is the one credited: capped at maxRatePerHour") {
    CreditConfig config = no_tolerance();
    config.max_rate_per_hour = 2 * kOneTon;
    auto change = plan_rate_change(row_at(kNow - kMsPerHour, 5 * kOneTon), kOneTon, kNow, config).value();
    CHECK(change.previous_rate == 2 * kOneTon);
    CHECK(change.settled == 2 * kOneTon);
  }
  SECTION("a silence longer than the offline cap settles the cap's worth, and changes do not stack it") {
    CreditConfig config = no_tolerance();
    config.offline_cap_ms = 2 * kMsPerHour;
    auto change = plan_rate_change(row_at(kNow - 10 * kMsPerHour), 2 * kOneTon, kNow, config).value();
    CHECK(change.settled == 2 * kOneTon);
    CHECK(change.settled_from_ms == kNow - 2 * kMsPerHour);
    auto again = plan_rate_change(change.row, 2 * kOneTon, kNow + kMsPerHour, config).value();
    CHECK(again.row.budget_settled == 4 * kOneTon);
    auto third = plan_rate_change(again.row, kOneTon, kNow + 2 * kMsPerHour, config).value();
    CHECK(third.row.budget_settled == 4 * kOneTon);
    CHECK(third.settled == 0);
  }
  SECTION("a row never contacted, or with tolerance already borrowed, settles nothing") {
    CreditRow fresh;
    fresh.rate_per_hour = kOneTon;
    auto change = plan_rate_change(fresh, 2 * kOneTon, kNow, CreditConfig()).value();
    CHECK(change.settled == 0);
    CHECK_FALSE(change.row.budget_anchor_ms.has_value());
    CHECK_FALSE(change.settled_from_ms.has_value());
    change = plan_rate_change(row_at(kNow + 30000), 2 * kOneTon, kNow, CreditConfig()).value();
    CHECK(change.settled == 0);
    CHECK(change.row.budget_anchor_ms == kNow + 30000);
    CHECK(change.row.rate_per_hour == 2 * kOneTon);
  }
  SECTION("a rate of 0 or above maxRatePerHour is refused") {
    CHECK(plan_rate_change(row_at(kNow), 0, kNow, CreditConfig()).status().code() == ErrorCode::kRateInvalid);
    CreditConfig config;
    config.max_rate_per_hour = 2 * kOneTon;
    CHECK(plan_rate_change(row_at(kNow), 2 * kOneTon + 1, kNow, config).status().code() == ErrorCode::kRateInvalid);
    CHECK(plan_rate_change(row_at(kNow), 2 * kOneTon, kNow, config).ok());
  }
  SECTION("JSON entry point") {
    const json in = {{"row", {{"totalEarned", "1"}, {"baseEarningRate", "1"}, {"budgetAnchor", kNow - kMsPerHour},
                              {"budgetSettled", "0.5"}}},
                     {"rate", "2.5"},
                     {"serverNow", kNow},
                     {"config", {{"toleranceMs", 0}}}};
    const json out = json::parse(plan_rate_change_json(in.dump()).value());
    CHECK(out["settled"] == "1.00000000");
    CHECK(out["previousRate"] == "1.00000000");
    CHECK(out["settledFromMs"] == kNow - kMsPerHour);
    CHECK(out["row"]["budgetSettled"] == "1.50000000");
    CHECK(out["row"]["baseEarningRate"] == "2.50000000");
    CHECK(out["row"]["budgetAnchor"] == kNow);
    const json bad = {{"row", in["row"]}, {"rate", "-1"}, {"serverNow", kNow}};
    CHECK(plan_rate_change_json(bad.dump()).status().code() == ErrorCode::kRateInvalid);
  }
}

TEST_CASE("time counted on another device", "[credit][devices]") {
  // The phone was paid up to kNow: the anchor is there and the phone moved it.
  CreditRow row = row_at(kNow);
  row.budget_spent_by = "phone";
  const Units minute = kOneTon / 60;
  CreditRequest desk;
  desk.client_id = "desk";

  SECTION("the shared minute is refused, not reviewed, and audited with both client ids") {
    auto plan = plan_credit(row, {op(1, minute)}, kNow, CreditConfig(), desk).value();
    REQUIRE(plan.results[0].status == OpStatus::kRejected);
    REQUIRE(plan.results[0].refused == minute);
    REQUIRE(plan.results[0].review == 0);
    REQUIRE(plan.reviews.empty());
    REQUIRE(plan.refused == minute);
    REQUIRE(plan.row.total_earned == 0);
    REQUIRE(plan.row.budget_anchor_ms == kNow);  // the tolerance is left for honest latency
    REQUIRE(plan.audit.size() == 1);
    REQUIRE(plan.audit[0].operation_type == "op_rejected");
    const json metadata = test_documents::to_json(plan.audit[0].metadata.bytes());
    REQUIRE(metadata["code"] == "COUNTED_ON_ANOTHER_DEVICE");
    REQUIRE(metadata["countedOn"] == "phone");
    const json answer = test_documents::to_json(credit_plan_to_document(plan));
    REQUIRE(answer["results"][0]["code"] == "COUNTED_ON_ANOTHER_DEVICE");
    REQUIRE(answer["results"][0]["refused"] == "0.01666666");
  }

  SECTION("the phone's own next minute is credited: one device never meets the rule") {
    CreditRequest phone;
    phone.client_id = "phone";
    SyncOp next = op(1, minute);
    next.from_ms = kNow;
    next.to_ms = kNow + 60000;
    auto plan = plan_credit(row, {next}, kNow + 60000, CreditConfig(), phone).value();
    REQUIRE(plan.results[0].status == OpStatus::kApplied);
    REQUIRE(plan.results[0].credited == minute);
    REQUIRE(plan.results[0].refused == 0);
  }

  SECTION("a claim beyond its interval's worth: the shared part refused, the rest reviewed") {
    auto plan = plan_credit(row, {op(1, 10 * minute)}, kNow, no_tolerance(), desk).value();
    REQUIRE(plan.results[0].refused == minute);
    REQUIRE(plan.results[0].review == 9 * minute);
    REQUIRE(plan.reviews.size() == 1);
  }

  SECTION("without a client id (a caller that predates devices) the excess is reviewed as before") {
    auto plan = plan_credit(row, {op(1, minute)}, kNow, no_tolerance()).value();
    REQUIRE(plan.results[0].status == OpStatus::kReview);
    REQUIRE(plan.results[0].refused == 0);
  }
}

TEST_CASE("the mining lease", "[credit][devices]") {
  CreditConfig config;
  config.lease_ms = 150000;
  CreditRow row = row_at(kNow);
  CreditRequest phone;
  phone.client_id = "phone";
  phone.lease = LeaseIntent::kHold;
  CreditRequest desk = phone;
  desk.client_id = "desk";

  auto granted = plan_credit(row, {}, kNow, config, phone).value();
  REQUIRE(granted.lease_held);
  REQUIRE(granted.lease_changed);
  REQUIRE(granted.row.lease_client == "phone");
  REQUIRE(granted.row.lease_until_ms == kNow + 150000);

  auto refused = plan_credit(granted.row, {}, kNow + 1000, config, desk).value();
  REQUIRE_FALSE(refused.lease_held);
  REQUIRE_FALSE(refused.lease_changed);

  auto lapsed = plan_credit(granted.row, {}, kNow + 150000, config, desk).value();
  REQUIRE(lapsed.lease_held);
  REQUIRE(lapsed.row.lease_client == "desk");

  desk.lease = LeaseIntent::kTake;
  auto taken = plan_credit(granted.row, {}, kNow + 1000, config, desk).value();
  REQUIRE(taken.lease_held);
  REQUIRE(taken.row.lease_until_ms == kNow + 1000 + 150000);

  config.lease_ms = 0;
  auto off = plan_credit(row, {}, kNow, config, phone).value();
  REQUIRE_FALSE(off.lease_held);
  REQUIRE_FALSE(off.lease_changed);
}
