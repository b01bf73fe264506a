// Server-side crediting (Properties 1, 5, 11, 16-18, 21, 26, 28): what one sync request may add
// to a user's authoritative total. The sync server runs this on the row it has locked and writes
// the whole plan back in ONE transaction; nothing here touches a database or a clock.
//
// The client is untrusted, so its claims are measured against the server's own clock with a
// token bucket: the row's budget anchor is the server time up to which earning time has been
// spent. At `now` the budget is
//     rate x (now + toleranceMs - start),   start = max(anchor, now - offlineCapMs)
// (never negative), so a long silence earns at most offlineCapMs worth, and a client that syncs
// every second cannot collect the tolerance again and again: crediting x moves the anchor on by
// the time x takes to earn (rounded up), and the anchor never passes now + toleranceMs.
// A rate change (plan_rate_change) settles the time up to that moment at the old rate into
// budgetSettled and moves the anchor to it; the budget is budgetSettled plus the above at the
// new rate, and crediting spends budgetSettled first. So time before a change is worth the old
// rate and time after it the new one, exactly (to the unit, rounded down once per change).
// Ops are taken in seq order:
//   seq <= lastSeq       duplicate: changes nothing (the server answers what it answered before)
//   seq >  lastSeq + 1   gap: nothing from this op on is applied; expectedSeq says what to send
//   type verification    review: the whole amount queued for a person, nothing credited
//   otherwise            credited = min(amount, budget left); the rest is queued for review
//                        with its context. Never credited silently, never dropped.
// credited + review always equals the amount claimed. The claimed from/to and rate are context
// for a reviewer only: the server's clock and the row's rate decide.
//
// JSON entry point (for the wasm binding), plan_credit_json:
//   in:  {"row":{"totalEarned":"1.50000000","currentEarnings":"1.50000000",
//                "baseEarningRate":"1.00000000","pendingReview":"0.00000000",
//                "budgetAnchor":1700000000000|null,"budgetSettled":"0"?,"lastSeq":7,
//                ...other members ignored},
//         "request":{"clientId":"c-5f2a9d","ops":[{"id":"c-5f2a9d:8","seq":8,"type":"accrual",
//                    "amount":"0.01666666","from":1700000000000,"to":1700000060000,
//                    "rate":"1.00000000"}]},
//         "serverNow":1700000060123,
//         "config":{"offlineCapMs":28800000,"toleranceMs":60000,"maxRatePerHour":"1000",
//                   "maxBatch":100}}          (config and each of its members optional)
//   out: {"results":[{"id","seq","status":"applied|duplicate|review|rejected|gap",
//                     "credited":"..","review":"..", "code"?,"reason"?,"expectedSeq"?}],
//         "row":{"totalEarned","currentEarnings","baseEarningRate","pendingReview",
//                "budgetAnchor","budgetSettled","lastSeq"},
//         "audit":[{"operation_type":"credit|review_queued|op_rejected","old_value","new_value",
//                   "source":"sync","metadata":{...},"op_id"}],
//         "reviews":[{"op_id","seq","amount","reason":"verification|exceeds_budget",
//                     "context":{...}}],
//         "credited":"..","queuedForReview":".."}
//   A review item's context holds the claim (type, claimed, claimedFrom/To/Ms, claimedRate), what
//   was credited, and the server's view: rate, serverNow, budgetAnchor (time spent up to, before
//   this op), serverElapsedMs (serverNow - budgetAnchor, already capped at offlineCapMs),
//   offlineCapMs and budget (what was left for this op).
//   A null budgetAnchor (a row that predates the anchor) starts the budget at serverNow.
//   Errors: REQUEST_INVALID naming the field (request), STATE_INVALID (row), CONFIG_INVALID,
//   TIME_INVALID (serverNow). Unknown members of the request and of each op are refused.
//
// plan_review_decision_json:
//   in:  {"row":{...as above},"item":{"id":3,"amount":"0.5","status":"pending"},
//         "approve":true,"serverNow":n}
//   out: {"row":{...},"status":"approved|rejected","audit":[{...}]}
//
// plan_rate_change_json:
//   in:  {"row":{...as above},"rate":"2.5","serverNow":n,"config":{...as above}}
//   out: {"row":{...},"settled":"..","settledFromMs":n|null,"previousRate":".."}
//   settled: the budget the old rate earned up to serverNow that was added to budgetSettled
//   (previousRate is the rate that was credited: the row's, capped at maxRatePerHour).
//   RATE_INVALID unless 0 < rate <= maxRatePerHour.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amount.h"
#include "audit.h"
#include "document.h"
#include "status.h"

namespace earnings {

enum class SyncOpType { kAccrual, kEarningsUpdate, kVerification };
const char* to_string(SyncOpType type);

struct SyncOp {
  std::string id;  // "clientId:seq"
  std::int64_t seq = 0;
  SyncOpType type = SyncOpType::kAccrual;
  Units amount = 0;  // > 0
  std::int64_t from_ms = 0;
  std::int64_t to_ms = 0;
  Units claimed_rate = 0;  // what the client believed; context only, the row's rate decides
};

struct CreditRow {
  Units total_earned = 0;
  Units current_earnings = 0;
  Units rate_per_hour = 0;
  std::optional<std::int64_t> budget_anchor_ms;
  std::int64_t last_seq = 0;  // for the requesting client
  Units pending_review = 0;
  Units budget_settled = 0;  // earned at earlier rates, not yet credited (plan_rate_change)
};

bool operator==(const CreditRow& a, const CreditRow& b);

struct CreditConfig {
  std::int64_t offline_cap_ms = 8 * kMsPerHour;
  std::int64_t tolerance_ms = 60000;
  Units max_rate_per_hour = 1000 * kUnitsPerTon;  // a row rate above it is credited at it
  std::size_t max_batch = 100;
};

// kConfigInvalid unless 0 <= offline cap <= 30 days, 0 <= tolerance <= 1 hour, max rate in
// [0, kMaxUnits], 1 <= max batch <= 10000.
Status validate_credit_config(const CreditConfig& config);

enum class OpStatus { kApplied, kDuplicate, kReview, kRejected, kGap };
const char* to_string(OpStatus status);

struct CreditResult {
  std::string id;
  std::int64_t seq = 0;
  OpStatus status = OpStatus::kApplied;
  Units credited = 0;
  Units review = 0;
  ErrorCode code = ErrorCode::kOk;  // kRejected only
  std::string reason;               // kRejected only
  std::int64_t expected_seq = 0;    // kGap only
};

// One row of the server's audit table; the server adds user, client and time.
struct CreditAudit {
  std::string operation_type;  // "credit" | "review_queued" | "op_rejected" | "review_approved"...
  std::optional<Units> old_value;
  std::optional<Units> new_value;
  AuditSource source = AuditSource::kSync;
  Fields metadata;
  std::string op_id;
};

enum class ReviewReason { kVerification, kExceedsBudget };
const char* to_string(ReviewReason reason);

struct ReviewItem {
  std::string op_id;
  std::int64_t seq = 0;
  Units amount = 0;
  ReviewReason reason = ReviewReason::kExceedsBudget;
  Fields context;
};

struct CreditPlan {
  std::vector<CreditResult> results;
  CreditRow row;
  std::vector<CreditAudit> audit;
  std::vector<ReviewItem> reviews;
  Units credited = 0;            // sum over results
  Units queued_for_review = 0;   // sum over results
};

// Validates {"clientId","ops":[...]} (see the shape above): clientId 1..64 of [A-Za-z0-9_-];
// 0..max_batch ops; each op exactly {id,seq,type,amount,from,to,rate} with id "clientId:seq",
// seq a positive safe integer strictly increasing, type accrual|earnings_update|verification,
// amount a decimal string > 0, from <= to safe integers >= 0, rate a decimal string >= 0.
// kRequestInvalid with a message naming the field (e.g. "ops[2].amount: ...").
Result<std::vector<SyncOp>> parse_sync_request(const Node& request,
                                               const CreditConfig& config);

// REQUIRES: ops as parse_sync_request returns them. Fails only on a row that breaks its own
// invariants (kStateInvalid), a bad config (kConfigInvalid) or server_now outside a safe
// non-negative integer (kTimeInvalid); an op that would overflow a total is rejected on its own
// (kAmountOverflow) and never half-applied.
Result<CreditPlan> plan_credit(const CreditRow& row, const std::vector<SyncOp>& ops,
                               std::int64_t server_now, const CreditConfig& config);

struct ReviewDecision {
  CreditRow row;
  bool approved = false;
  CreditAudit audit;
};

// Approving credits `amount` once and takes it out of pending review; rejecting only takes it
// out. An item that is not pending is kRequestInvalid (a second decision changes nothing);
// an amount above the row's pending review is kStateInvalid; overflow is kAmountOverflow.
Result<ReviewDecision> plan_review_decision(const CreditRow& row, Units amount,
                                            const std::string& item_status, bool approve);

struct RateChange {
  CreditRow row;
  Units previous_rate = 0;  // the rate that was credited until server_now
  Units settled = 0;        // added to row.budget_settled
  std::optional<std::int64_t> settled_from_ms;  // start of the settled time; none if nothing
};

// The row with its rate changed to `rate` from server_now on. The old rate's unspent budget up
// to server_now (from max(anchor, server_now - offline cap)) is added to budget_settled and the
// anchor moves to server_now. The settled budget is held to at most what the offline cap is worth
// at the old rate (or what was settled before, if more), so repeated changes during a long
// silence do not stack up offline time. A row never contacted (no anchor) and an anchor at or past
// server_now (tolerance already borrowed) settle nothing and keep their anchor.
// kRateInvalid unless 0 < rate <= config.max_rate_per_hour; kStateInvalid, kConfigInvalid,
// kTimeInvalid as plan_credit.
Result<RateChange> plan_rate_change(const CreditRow& row, Units rate, std::int64_t server_now,
                                    const CreditConfig& config);

Bytes credit_row_to_document(const CreditRow& row);
Result<CreditRow> credit_row_from_document(const Node& value);
Bytes credit_plan_to_document(const CreditPlan& plan);

Result<std::string> plan_credit_json(const std::string& text);
Result<std::string> plan_review_decision_json(const std::string& text);
Result<std::string> plan_rate_change_json(const std::string& text);

}  // namespace earnings
