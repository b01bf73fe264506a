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
// credited + review + refused always equals the amount claimed. The claimed rate is context for
// a reviewer only: the server's clock and the row's rate decide.
//
// One user, several devices (client ids): time another device of the user was already paid for
// is refused, not reviewed (code COUNTED_ON_ANOTHER_DEVICE). The row names the client id whose
// credit last moved the budget anchor (budgetSpentBy). When that is another client id than the
// requester's, the part of an op's claimed interval [from, to] that lies before that anchor was
// paid to the other device: the claim's share of that time (at most what the time is worth at the
// credited rate) is refused first, and only the rest of the claim meets the budget (so a double
// claim never spends the tolerance that absorbs an honest device's latency). What the budget then
// cannot credit (a claim beyond what the rate allows one device over its own interval, or time
// after every paid time) goes to review as before. A single device never meets the rule: it spent the anchor itself. The claimed times are
// the engine's, which run on the server's clock once it has heard from the server (a device clock
// far behind would mark more as counted elsewhere, one ahead less; neither credits anything).
//
// The mining lease (config leaseMs > 0): the row names the client id that holds the user's lease
// and until when (server ms). A sync asks for it with the request's optional "lease": "hold" (this
// device mines: granted or renewed when no other client id holds it unexpired), "take" (the user
// started mining on this device: granted even if another holds it) or "release" (stopped mining
// here: the lease is given up if this client holds it). A request without "lease" (a client that
// predates it) holds when it carries ops. The answer says who holds it after this sync.
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
//                   "maxBatch":100,"leaseMs":150000}}    (config and each of its members optional)
//   the row may also hold "budgetSpentBy", "leaseClientId" (client ids or null) and "leaseUntil"
//   (server ms or null); the request may hold "lease": "hold"|"take"|"release".
//   out: {"results":[{"id","seq","status":"applied|duplicate|review|rejected|gap",
//                     "credited":"..","review":"..","refused"?, "code"?,"reason"?,
//                     "expectedSeq"?}],
//         "row":{"totalEarned","currentEarnings","baseEarningRate","pendingReview",
//                "budgetAnchor","budgetSettled","lastSeq","budgetSpentBy","leaseClientId",
//                "leaseUntil"},
//         "lease":{"held":bool,"clientId":".."|null,"until":n|null},"leaseChanged":bool,
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
//   An op wholly counted on another device is "rejected" with code COUNTED_ON_ANOTHER_DEVICE; one
//   partly so is "applied" (credited may be 0) with "refused" and that code and reason. Each
//   refusal is an audit record "op_rejected" with metadata {code, amount, countedOn (the other
//   client id), overlapFrom, overlapTo}.
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
  std::string budget_spent_by;  // client id whose credit last moved the anchor; empty: unknown
  std::string lease_client;     // client id holding the mining lease; empty: nobody
  std::optional<std::int64_t> lease_until_ms;  // server ms the lease lapses at
};

bool operator==(const CreditRow& a, const CreditRow& b);

struct CreditConfig {
  std::int64_t offline_cap_ms = 8 * kMsPerHour;
  std::int64_t tolerance_ms = 60000;
  Units max_rate_per_hour = 1000 * kUnitsPerTon;  // a row rate above it is credited at it
  std::size_t max_batch = 100;
  // How long a mining lease lasts from its last grant or renewal; 0: no leases. Longer than a
  // device's sync interval, so a mining holder renews it before it lapses.
  std::int64_t lease_ms = 150000;
};

// kConfigInvalid unless 0 <= offline cap <= 30 days, 0 <= tolerance <= 1 hour, max rate in
// [0, kMaxUnits], 1 <= max batch <= 10000, 0 <= lease <= 1 day.
Status validate_credit_config(const CreditConfig& config);

enum class OpStatus { kApplied, kDuplicate, kReview, kRejected, kGap };
const char* to_string(OpStatus status);

struct CreditResult {
  std::string id;
  std::int64_t seq = 0;
  OpStatus status = OpStatus::kApplied;
  Units credited = 0;
  Units review = 0;
  Units refused = 0;                // counted on another device (kApplied or kRejected)
  ErrorCode code = ErrorCode::kOk;  // kRejected for another cause
  std::string reason;               // kRejected, or refused > 0
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

enum class LeaseIntent { kUnstated, kHold, kTake, kRelease };

// Who the request comes from and what it asks of the lease. An empty client id (a caller that
// predates devices) applies neither the device rule nor the lease.
struct CreditRequest {
  std::string client_id;
  LeaseIntent lease = LeaseIntent::kUnstated;
};

struct CreditPlan {
  std::vector<CreditResult> results;
  CreditRow row;
  std::vector<CreditAudit> audit;
  std::vector<ReviewItem> reviews;
  Units credited = 0;            // sum over results
  Units queued_for_review = 0;   // sum over results
  Units refused = 0;             // sum over results: counted on another device
  bool lease_held = false;       // the requester holds the lease after this sync
  bool lease_changed = false;    // row's lease differs from the input's: the row must be written
};

// The code and reason of time refused because another client id of the user was paid for it.
extern const char* const kCountedOnAnotherDevice;

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
                               std::int64_t server_now, const CreditConfig& config,
                               const CreditRequest& request = CreditRequest());

// The request's "lease" member: absent is kUnstated; anything but hold|take|release is
// kRequestInvalid.
Result<LeaseIntent> parse_lease_intent(const Node& request);

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
