// One user's earnings engine: state + outbox + backoff + audit + metrics + conflict log, and the
// client-side API that js/core.js binds one to one (DESIGN.md "JS core wrapper").
//
// Time: every call that takes (wall, mono) first observes the clocks (clock_guard.h) and
// advances "engine time" (state.last_update) by the judged elapsed time, accruing while mining
// is on. Engine time never goes backwards; every time stored inside the engine (op spans,
// backoff deadlines, audit timestamps) is engine time. The first observation after create() or
// restore() is a new session: a reload restarts performance.now(), so only the wall delta can
// say how long the app was closed.
//
// Money enters and leaves as decimal strings, JSON as text; nothing throws, every failure is a
// Status with a stable code and changes nothing but the audit log and metrics, which record it
// with the state at that moment (Properties 11, 30).
//
// Not thread-safe; one engine per user per tab (the JS layer elects a leader tab).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amount.h"
#include "audit.h"
#include "backoff.h"
#include "clock_guard.h"
#include "codec.h"
#include "conflict.h"
#include "journal.h"
#include "metrics.h"
#include "outbox.h"
#include "state.h"
#include "status.h"

namespace earnings {

struct EngineConfig {
  std::int64_t offline_cap_ms = 8 * kMsPerHour;
  std::int64_t tolerance_ms = 30000;
  std::int64_t clock_jump_tolerance_ms = 2000;
  std::int64_t max_retries = 8;
  std::int64_t backoff_base_ms = 1000;
  std::int64_t backoff_cap_ms = 60000;
  std::int64_t sync_interval_ms = 60000;
  std::int64_t max_batch = 100;
  std::int64_t audit_capacity = 200;
  Units max_rate_per_hour = 1000 * kUnitsPerTon;
};

// Ranges (kConfigInvalid otherwise): offlineCapMs [60000, 30 days], toleranceMs [0, 1 h],
// clockJumpToleranceMs [0, 1 h], maxRetries [0, 1000], backoffBaseMs [1, 1 h],
// backoffCapMs [backoffBaseMs, 1 day], syncIntervalMs [1000, 1 day], maxBatch [1, 1000],
// auditCapacity [10, 100000], maxRatePerHour (0, 9999999999.99999999].
Status validate_config(const EngineConfig& config);
// "" or a JSON object with any of the camelCase keys above (maxRatePerHour a decimal string);
// unknown keys and wrong types are kConfigInvalid.
Result<EngineConfig> parse_engine_config(const std::string& text);
Bytes config_to_document(const EngineConfig& config);

class Engine {
 public:
  // An empty engine (user 0) that only exists so Result<Engine> can hold one; use create() or
  // restore().
  Engine() = default;

  // kUserIdInvalid, kRequestInvalid (client id), kConfigInvalid.
  static Result<Engine> create(std::int64_t user_id, const std::string& client_id,
                               std::uint64_t seed, const EngineConfig& config);
  // Loads a serialized engine: kRecordCorrupt / kRecordVersion from the codec or from any field
  // or cross-check that fails (never half-loads); kRecordUserMismatch when the record is another
  // user's (Property 7). The config is the caller's, not the record's.
  static Result<Engine> restore(const Bytes& bytes, std::int64_t user_id, const EngineConfig& config);
  // The seed's RecoveryManager.detectCorruption: ok when `bytes` restore cleanly for `user_id`,
  // otherwise the reason.
  static Status detect_corruption(const Bytes& bytes, std::int64_t user_id);

  // Rate per hour from the last observation on (tick first for an exact switch point). Local
  // until the next server state: a server row with a rate above 0 replaces it (server wins).
  // kRateInvalid: malformed, negative or above maxRatePerHour.
  Status set_rate(const std::string& rate);
  Status set_active(bool active, std::int64_t wall, std::int64_t mono);
  // Accrues up to now. True when the balance (current or held) changed. kTimeInvalid only.
  Result<bool> tick(std::int64_t wall, std::int64_t mono);
  // On a new engine: the seed's legacy localStorage entry for this user (decode_legacy_v1's input
  // text) becomes this engine's rate, mining flag and start date, and the earnings its pending
  // earnings_update ops claimed become one verification op for manual review (never credited on
  // the old app's word). kRecordCorrupt / kRecordVersion from the decoder, kRecordUserMismatch,
  // kRateInvalid, kAmountOverflow, kStateInvalid (engine not new), kTimeInvalid: nothing changes.
  Status import_legacy(const std::string& text, std::int64_t wall, std::int64_t mono);
  // The seed's updateEarnings: an app-reported earning drawn on the local budget (earning time
  // not already accrued, plus the tolerance). kAmount* / kAmountExceedsBudget change nothing.
  Status add_earnings(const std::string& amount, std::int64_t wall, std::int64_t mono);

  const EarningsState& state() const { return state_; }
  std::string state_json() const;

  // The body of POST /v1/sync, or "" when there is nothing to send or a backoff is running
  // (unless `force`). Freezes the open deltas when no op is outstanding.
  Result<std::string> next_sync_request(std::int64_t wall, std::int64_t mono, bool force);
  // A 200 answer. Returns {"events":[...]} (applied, duplicate, rejected, review, gap, conflict,
  // clock_change). kResponseInvalid when the answer does not match what was sent; then nothing
  // of it is applied and the attempt counts as a failure with backoff.
  Result<std::string> apply_sync_response(const std::string& answer_text, std::int64_t wall,
                                          std::int64_t mono);
  // http_status 0 = network failure; `answer_text` the body that came back, as it arrived.
  // Returns {"retryInMs":n,"failed":bool,"permanent":bool,"code"?,"message"?,"events":[...]}
  // (code and message when the body is the protocol's {"error":{"code","message"}}). Only a 4xx
  // in that shape with a code saying the request is wrong (REQUEST_INVALID, AMOUNT_*,
  // RATE_INVALID, TIME_INVALID, TIMESTAMP_ORDER, STATE_INVALID) refuses the sent ops for good:
  // recorded in the rejected log and total with the server's code and message, audited, raised
  // as events. Anything else is a transport failure, retried with backoff.
  Result<std::string> apply_sync_failure(std::int64_t http_status, std::int64_t wall,
                                         std::int64_t mono, const std::string& answer_text = "");
  // Milliseconds until a sync should run (0 = now); syncIntervalMs when nothing is owed. Pure:
  // it judges the clocks without recording the observation.
  Result<std::int64_t> sync_due_in_ms(std::int64_t wall, std::int64_t mono) const;
  // The network came back (Property 14): any backoff wait ends and, if anything is owed,
  // sync_due_in_ms is 0 until the next request is built.
  Status on_online(std::int64_t wall, std::int64_t mono);
  // GET /v1/state's answer {"state":{...},"serverTime":n} (Property 8). `new_client_id` ""
  // keeps the current client id; another id renumbers what is owed from the server's lastSeq
  // (for the queried client) + 1, and ops already sent under the old id move to the conflict log
  // for review instead of being resent under a new id (which could credit them twice).
  // Returns {"events":[...]}.
  Result<std::string> recover_from_server(const std::string& answer_text,
                                          const std::string& new_client_id, std::int64_t wall,
                                          std::int64_t mono);
  // The JS layer found this user's stored record corrupt and started over: audit + metric.
  void report_corruption(const std::string& detail);

  // Events raised outside sync answers (clock jumps) since the last call: a JSON array.
  std::string take_events();

  // Storage pressure (Property 10, cleanup steps 3-4): keep only the newest `keep` audit entries. The
  // pending accrual tally is written out first so the kept entries are what would be stored.
  // Returns how many were removed; AuditLog counts them as dropped.
  std::size_t trim_audit(std::size_t keep);

  // The record with the generation of its stored checkpoint (a copy trimmed and written back
  // keeps its journal).
  Result<Bytes> serialize();
  Bytes to_document();

  // The tap journal (journal.h). One write at a time: the caller stores what checkpoint() or
  // journal_entry() returned, then calls stored() once it is stored (not when it failed).
  // checkpoint(): the record as the next checkpoint generation; once stored, the journal starts
  // over on it (the caller's store removes the user's journal entries in the same transaction).
  Result<Bytes> checkpoint();
  // The entry carrying every call since the last stored write: empty when there is none, and
  // nullopt when a checkpoint is due instead (no checkpoint of this version stored yet, a change
  // no entry can replay since it (a sync, a rate, a recovery, a trim), kJournalEntriesPerCheckpoint
  // entries on it, more than kMaxJournalCalls calls).
  std::optional<Bytes> journal_entry();
  // The place journal_entry()'s entry takes after its checkpoint (its key, js/storage/keys.js).
  std::int64_t journal_seq() const { return journal_seq_; }
  void stored();
  // On an engine just restored, the stored entries after its record, in order, one call each:
  // kRecordCorrupt when the entry is damaged, follows another checkpoint, is not the next one
  // (a gap or a duplicate), or does not replay to the state it recorded; kRecordUserMismatch for
  // another user's. An entry refused before its calls run changes nothing; one whose replay does
  // not end at its recorded state leaves the engine part-way (copying the engine to try it would
  // cost the client module 1 KB gzip): the caller restores the record again and replays the
  // entries before it. The events its calls raise again were told when they ran, so they are not
  // raised twice.
  Status replay_journal_entry(const Bytes& bytes);
  std::string audit_json();        // array of entries, oldest first
  std::string metrics_json() const;  // {"counters":{...},"kpis":{...},...}
  std::string conflicts_json() const;  // array of conflict records, oldest first

  const Outbox& outbox() const { return outbox_; }
  const AuditLog& audit() const { return audit_; }
  const Metrics& metrics() const { return metrics_; }
  const ConflictLog& conflicts() const { return conflicts_; }
  const Backoff& backoff() const { return backoff_; }
  const EngineConfig& config() const { return config_; }

 private:
  // Earnings accrued since the accrual audit entry was last written; kept out of JSON so that
  // tick() stays cheap, and written out before anything else is audited or stored.
  struct AccrualTally {
    std::int64_t ticks = 0;
    Units credited = 0;
    Units held = 0;
    std::int64_t ms = 0;
    std::int64_t from = 0;
    std::int64_t to = 0;
    Units old_value = 0;
  };

  Result<ClockJudgement> observe(std::int64_t wall, std::int64_t mono);
  Bytes record_document(std::int64_t generation);
  // add_earnings without its journal bookkeeping; `claimed` the amount added.
  Status claim_earnings(const std::string& amount_text, std::int64_t wall, std::int64_t mono, Units* claimed);
  // Journal bookkeeping: a call that succeeded is logged, any other change needs a checkpoint.
  void log_call(bool replayable, const JournalCall& call);
  void close_journal();
  // The state and the outbox's depth, in 32 bits: equal after an exact replay. The audit log is
  // left out: a stored copy's audit may be trimmed (storage cleanup) under its journal.
  std::uint32_t fingerprint() const;
  Status accrue(std::int64_t elapsed_ms, std::int64_t from, std::int64_t to);
  void refresh_from_outbox();
  // The row's rate decides what the server credits, so the client accrues at it too.
  void adopt_server_rate(Units rate);
  Units tolerance_units() const;
  BackoffPolicy backoff_policy() const;
  void flush_accrual_audit();
  void audit(const char* operation, AuditSource source, std::optional<Units> old_value,
             std::optional<Units> new_value, Bytes metadata);
  void audit_error(const char* operation, const Status& status, const Bytes& conditions);
  void push_event(Bytes event);
  // REQUIRES: events != nullptr (a clock jump against the server's time is reported there).
  // `catch_up`: the answer that judges a reload's catch-up, so no request latency excuses drift.
  void set_server_offset(std::int64_t server_time, std::int64_t wall, std::vector<Bytes>* events,
                         bool catch_up);
  // Counts the held catch-up (observe) as far as the server's time says the app was closed, and
  // refuses the rest of the device's claim, audited and told (event catch_up). REQUIRES: events.
  void settle_catch_up(std::int64_t server_time, std::vector<Bytes>* events);
  // What a failed answer's body said, when it was the protocol's error shape.
  struct SyncRefusal {
    std::string code;
    std::string message;
    bool permanent = false;
  };
  Result<std::string> fail_attempt(SyncFailureKind kind, std::int64_t http_status,
                                   const SyncRefusal& refusal);
  // `state`'s outbox totals and sync status taken from `outbox` (refresh_from_outbox does it for
  // the engine's own; plans do it on copies).
  void take_outbox_totals(const Outbox& outbox, EarningsState* state) const;
  // A disagreement with the server kept for review: counted, audited between old_value and
  // new_value, raised as a `conflict` event (naming the op when op_id is given) and logged.
  void record_conflict(ConflictRecord record, std::optional<Units> old_value,
                       std::optional<Units> new_value, const std::string* op_id,
                       std::vector<Bytes>* events);

  // A sync answer in three steps: read (shape and ranges, the user), plan (its effect computed
  // on copies: a refused answer changes nothing), commit.
  struct SyncAnswer {
    std::int64_t server_time = 0;
    ServerState server;
    std::vector<OpResult> results;
  };
  struct SyncPlan {
    explicit SyncPlan(const Outbox& current) : outbox(current) {}
    SyncAnswer answer;
    Outbox outbox;  // the engine's, as the answer leaves it
    std::vector<OpAnswer> answers;
    Units credited = 0;
    Units expected = 0;  // the least the server must hold: confirmed before + credited now
    Resolution resolution;
  };
  Status read_sync_answer(const std::string& answer_text, SyncAnswer* answer) const;
  // REQUIRES: plan->answer read.
  Status plan_sync_answer(std::int64_t now, SyncPlan* plan) const;
  std::string commit_sync_answer(SyncPlan& plan, std::int64_t wall);

  // GET /v1/state's answer, read; then either the engine starts from it (nothing observed here
  // yet) or what is owed is reconciled with it, each planned before it is committed.
  struct StateAnswer {
    std::int64_t server_time = -1;  // -1: the answer carried none
    ServerState server;
    std::size_t bytes = 0;  // the answer's size, for the audit of a refusal
  };
  Status read_state_answer(const std::string& answer_text, StateAnswer* answer) const;
  Result<std::string> start_from_server(const StateAnswer& answer, const std::string& client_id,
                                        std::int64_t wall, std::int64_t mono);
  Result<std::string> reconcile_with_server(const StateAnswer& answer, const std::string& client_id,
                                            std::int64_t wall, std::int64_t mono);
  Status refuse_recovery(const Status& status, std::size_t answer_bytes);

  EngineConfig config_;
  EarningsState state_;
  Outbox outbox_;
  AuditLog audit_;
  Metrics metrics_;
  ConflictLog conflicts_;
  Backoff backoff_;
  SeededRandom random_;
  AccrualTally tally_;
  std::vector<Bytes> events_;
  std::int64_t dirty_since_ = -1;   // engine time of the oldest change not yet frozen
  std::int64_t request_at_ = -1;    // engine time the outstanding request was built
  bool sync_now_ = false;           // the network came back: sync at once
  bool invalid_response_ = false;   // the last answer was refused; its failure is that kind
  bool new_session_ = true;         // not stored: every load is a new page session

  // The journal (not stored but as the record's generation and the entries themselves).
  struct PendingWrite {
    bool checkpoint = false;
    std::size_t calls = 0;       // journal_calls_ it carries (the oldest ones)
    std::uint32_t print = 0;     // fingerprint when it was taken
    std::int64_t generation = 0;
  };
  JournalCalls journal_calls_;              // since the last stored write
  std::int64_t journal_generation_ = 0;     // the stored checkpoint's; 0: none takes a journal
  std::int64_t journal_seq_ = 0;            // the next entry's place after it
  std::uint32_t journal_print_ = 0;         // fingerprint at the last stored write
  bool journal_closed_ = false;             // a change since the checkpoint no entry replays
  bool closed_since_snapshot_ = false;      // ... since the last checkpoint() was taken
  bool replaying_ = false;
  std::optional<PendingWrite> pending_write_;
};

}  // namespace earnings
