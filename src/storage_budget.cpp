#include "storage_budget.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "heap_sort.h"
#include "json_fields.h"

namespace earnings {
namespace {

constexpr std::int64_t kMaxSize = json_fields::kMaxSafeInteger;

std::int64_t clamp_size(std::int64_t v) { return std::min(std::max<std::int64_t>(v, 0), kMaxSize); }

// Sizes stay at or below 2^53 each; a sum of many saturates instead of wrapping.
std::int64_t add_size(std::int64_t a, std::int64_t b) {
  return a > INT64_MAX - b ? INT64_MAX : a + b;
}

Status config_invalid(const std::string& what) { return Status(ErrorCode::kConfigInvalid, what); }

struct Candidate {
  StoredRecord record;
  bool evicted = false;
  std::int64_t audit_entries_left = 0;
  std::int64_t audit_bytes_left = 0;
};

bool least_recent_first(const Candidate* a, const Candidate* b) {
  if (a->record.last_access_ms != b->record.last_access_ms) {
    return a->record.last_access_ms < b->record.last_access_ms;
  }
  if (a->record.key != b->record.key) return a->record.key < b->record.key;
  // Same age and key (a repeated record): input order, so the sort gives what a stable sort
  // would without linking one (its merge code is about 2 KB of the client module).
  return std::less<const Candidate*>()(a, b);
}

Result<std::int64_t> size_member(const Node& object, const char* key, const std::string& field,
                                 bool required, std::int64_t fallback) {
  const Node found = object.find(key);
  if (!found.exists() || found.is_null()) {
    if (required) return config_invalid(field + " is missing");
    return fallback;
  }
  auto value = json_fields::safe_integer_value(found, field, 0);
  if (!value.ok()) return config_invalid(value.status().message());
  return value;
}

Result<bool> flag_member(const Node& object, const char* key, const std::string& field) {
  const Node found = object.find(key);
  if (!found.exists() || found.is_null()) return false;
  if (!found.is_boolean()) return config_invalid(field + " must be a boolean");
  return found.boolean();
}

// A positive safe integer written in decimal digits (as keys.js writes ids and times), or 0.
std::int64_t positive_integer_text(const std::string& text) {
  if (text.empty() || text.size() > 16 || text[0] == '0') return 0;
  std::int64_t id = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return 0;
    id = id * 10 + (c - '0');
  }
  return id <= kMaxSize ? id : 0;
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.compare(0, std::char_traits<char>::length(prefix), prefix) == 0;
}

Result<StoredEntry> entry_from_document(const Node& item, const std::string& field) {
  if (!item.is_map()) return config_invalid(field + " must be an object");
  StoredEntry entry;
  const Node key = item.find("key");
  if (!key.is_string()) return config_invalid(field + ".key must be a non-empty string");
  entry.key = key.text();
  auto bytes = size_member(item, "bytes", field + ".bytes", true, 0);
  if (!bytes.ok()) return bytes.status();
  entry.bytes = bytes.value();
  auto live = flag_member(item, "live", field + ".live");
  if (!live.ok()) return live.status();
  entry.live = live.value();
  const Node state = item.find("state");
  if (state.exists() && !state.is_null()) {
    Units pending = 0;
    Units held = 0;
    FieldReader read(state, ErrorCode::kConfigInvalid);
    read.boolean("isActive", &entry.mining);
    read.amount("pending", 0, &pending);
    read.amount("heldForVerification", 0, &held);
    read.integer("lastUpdate", 0, &entry.last_update_ms);
    if (!read.ok()) return config_invalid(field + ".state." + read.status().message());
    entry.readable = true;
    entry.pending_units = pending;
    entry.held_units = held;
  }
  auto journal = size_member(item, "journalBytes", field + ".journalBytes", false, 0);
  if (!journal.ok()) return journal.status();
  entry.journal_bytes = journal.value();
  const Node audit = item.find("audit");
  if (audit.exists() && !audit.is_null()) {
    FieldReader read(audit, ErrorCode::kConfigInvalid);
    read.integer("entries", 0, &entry.audit_entries);
    read.integer("serializedBytes", 0, &entry.serialized_bytes);
    read.integer("withoutAuditBytes", 0, entry.serialized_bytes, &entry.without_audit_bytes);
    if (!read.ok()) return config_invalid(field + ".audit." + read.status().message());
  }
  return entry;
}

}  // namespace

Result<StoredRecord> stored_record_from_entry(const StoredEntry& entry, std::int64_t active_user_id) {
  StoredRecord record;
  record.key = entry.key;
  record.bytes = clamp_size(entry.bytes);
  if (starts_with(entry.key, kQuarantineKeyPrefix)) {
    // "<userId>:<wallMs>": a copy whose owner or time cannot be read is still a copy (no owner,
    // oldest), so it goes first.
    const std::string rest = entry.key.substr(std::char_traits<char>::length(kQuarantineKeyPrefix));
    const std::size_t colon = rest.find(':');
    record.user_id = positive_integer_text(rest.substr(0, colon));
    // A copied journal entry's key goes on after the time (":journal:<seq>").
    record.last_access_ms =
        colon == std::string::npos ? 0 : positive_integer_text(rest.substr(colon + 1, rest.find(':', colon + 1) - colon - 1));
    record.quarantined = true;
    record.fully_synced = true;
    return record;
  }
  if (!starts_with(entry.key, kRecordKeyPrefix)) {
    return config_invalid("key " + entry.key.substr(0, 40) + " is neither a record's nor a quarantined copy's");
  }
  record.user_id = positive_integer_text(entry.key.substr(std::char_traits<char>::length(kRecordKeyPrefix)));
  // A record key without a user id is protected when no user is active either (nothing says it is
  // not that user's).
  record.is_active = entry.live || record.user_id == active_user_id;
  // Journal entries after a record hold earnings it does not: they go with it and keep it.
  record.bytes = clamp_size(record.bytes + clamp_size(entry.journal_bytes));
  record.fully_synced = entry.readable && !entry.mining && entry.pending_units == 0 && entry.held_units == 0 &&
                        entry.journal_bytes == 0;
  record.last_access_ms = entry.readable ? entry.last_update_ms : 0;
  if (record.user_id != 0 && entry.serialized_bytes > 0) {
    record.audit_entries = entry.audit_entries;
    record.audit_bytes = static_cast<std::int64_t>(
        static_cast<__int128>(record.bytes) * (entry.serialized_bytes - entry.without_audit_bytes) /
        entry.serialized_bytes);
  }
  return record;
}

const char* to_string(EvictionReason reason) {
  switch (reason) {
    case EvictionReason::kExpired:
      return "expired";
    case EvictionReason::kQuarantined:
      return "quarantined";
    case EvictionReason::kBudget:
      return "budget";
  }
  return "budget";
}

Status validate_storage_budget_config(const StorageBudgetConfig& config) {
  if (config.budget_bytes < 1 || config.budget_bytes > kMaxSize) {
    return config_invalid("budgetBytes must be a positive safe integer");
  }
  if (config.high_water_permille < 1 || config.high_water_permille > 1000) {
    return config_invalid("highWaterPermille must be between 1 and 1000");
  }
  if (config.active_audit_floor < 0 || config.active_audit_floor > kMaxSize) {
    return config_invalid("activeAuditFloor must be a non-negative safe integer");
  }
  if (config.expire_after_ms < 0 || config.expire_after_ms > kMaxSize) {
    return config_invalid("expireAfterMs must be a non-negative safe integer");
  }
  return Status::Ok();
}

Result<StoragePlan> plan_storage_cleanup(const std::vector<StoredRecord>& records,
                                         std::int64_t active_user_id, std::int64_t now_ms,
                                         const StorageBudgetConfig& config) {
  Status status = validate_storage_budget_config(config);
  if (!status.ok()) return status;
  std::vector<Candidate> candidates;
  candidates.reserve(records.size());
  StoragePlan plan;
  for (const StoredRecord& record : records) {
    Candidate c;
    c.record = record;
    c.record.bytes = clamp_size(record.bytes);
    c.record.audit_bytes = std::min(clamp_size(record.audit_bytes), c.record.bytes);
    c.record.audit_entries = clamp_size(record.audit_entries);
    c.record.last_access_ms = clamp_size(record.last_access_ms);
    c.audit_entries_left = c.record.audit_entries;
    c.audit_bytes_left = c.record.audit_bytes;
    plan.usage_before = add_size(plan.usage_before, c.record.bytes);
    candidates.push_back(std::move(c));
  }
  auto is_protected = [&](const StoredRecord& r) {
    return r.is_active || (active_user_id != 0 && r.user_id == active_user_id);
  };
  // The unsynced earnings of any user and the active user's state are never evicted;
  // quarantined copies are unreadable, and their owner's data is rebuilt from the server.
  auto evictable = [&](const StoredRecord& r) {
    return r.quarantined || (r.fully_synced && !is_protected(r));
  };
  std::int64_t usage = plan.usage_before;
  auto evict = [&](Candidate& c, EvictionReason reason) {
    c.evicted = true;
    usage -= std::min(usage, c.record.bytes);
    plan.evictions.push_back(Eviction{c.record.key, c.record.user_id, c.record.bytes, reason});
  };

  std::vector<Candidate*> by_age;
  for (Candidate& c : candidates) by_age.push_back(&c);
  heap_sort(by_age.begin(), by_age.end(), least_recent_first);

  for (Candidate* c : by_age) {
    const bool expired = clamp_size(now_ms) - c->record.last_access_ms > config.expire_after_ms;
    if (expired && evictable(c->record)) evict(*c, EvictionReason::kExpired);
  }

  plan.high_water = static_cast<std::int64_t>(static_cast<__int128>(config.budget_bytes) *
                                              config.high_water_permille / 1000);
  plan.cleanup_needed = plan.usage_before > plan.high_water;
  auto over = [&] { return usage > plan.high_water; };

  for (Candidate* c : by_age) {
    if (over() && !c->evicted && c->record.quarantined) evict(*c, EvictionReason::kQuarantined);
  }
  for (Candidate* c : by_age) {
    if (over() && !c->evicted && evictable(c->record)) evict(*c, EvictionReason::kBudget);
  }

  // Drops the oldest audit entries of `c`, keeping at least `floor`, until usage is under the
  // high-water mark; sizes are estimated from the record's average entry.
  auto trim_audit = [&](Candidate& c, std::int64_t floor) {
    if (!over() || c.evicted || c.audit_entries_left <= floor || c.audit_bytes_left <= 0) return;
    const std::int64_t entries = c.audit_entries_left;
    const std::int64_t excess = usage - plan.high_water;
    const __int128 needed =
        (static_cast<__int128>(excess) * entries + c.audit_bytes_left - 1) / c.audit_bytes_left;
    const std::int64_t drop =
        static_cast<std::int64_t>(std::min<__int128>(needed, entries - floor));
    const std::int64_t freed =
        static_cast<std::int64_t>(static_cast<__int128>(c.audit_bytes_left) * drop / entries);
    c.audit_entries_left -= drop;
    c.audit_bytes_left -= freed;
    usage -= std::min(usage, freed);
    plan.audit_trims.push_back(AuditTrim{c.record.key, c.record.user_id, c.audit_entries_left, freed});
  };
  for (Candidate* c : by_age) {
    if (!is_protected(c->record)) trim_audit(*c, 0);
  }
  for (Candidate* c : by_age) {
    if (is_protected(c->record)) trim_audit(*c, config.active_audit_floor);
  }

  plan.usage_after = usage;
  plan.budget_met = usage <= config.budget_bytes;
  return plan;
}

Result<std::string> plan_storage_cleanup_json(const std::string& text) {
  auto parsed = Document::parse_json(text, ErrorCode::kConfigInvalid);
  const Node input = parsed.value().root();
  if (!parsed.ok() || !input.is_map()) return config_invalid("input must be a JSON object");
  StorageBudgetConfig config;
  struct ConfigField {
    const char* key;
    std::int64_t* target;
    bool required;
  };
  std::int64_t now_ms = 0;
  std::int64_t active_user_id = 0;
  const ConfigField fields[] = {{"budgetBytes", &config.budget_bytes, true},
                                {"highWaterPermille", &config.high_water_permille, false},
                                {"activeAuditFloor", &config.active_audit_floor, false},
                                {"expireAfterMs", &config.expire_after_ms, false},
                                {"now", &now_ms, true}};
  for (const ConfigField& field : fields) {
    auto value = size_member(input, field.key, field.key, field.required, *field.target);
    if (!value.ok()) return value.status();
    *field.target = value.value();
  }
  const Node active = input.find("activeUserId");
  if (active.exists() && !active.is_null()) {
    auto id = json_fields::safe_integer_value(active, "activeUserId", 1);
    if (!id.ok()) return config_invalid(id.status().message());
    active_user_id = id.value();
  }
  const Node list = input.find("entries");
  if (!list.is_array()) return config_invalid("entries must be an array");
  std::vector<StoredRecord> records;
  records.reserve(list.size());
  for (Node item : list.elements()) {
    auto entry = entry_from_document(item, "entries[" + std::to_string(records.size()) + "]");
    if (!entry.ok()) return entry.status();
    auto record = stored_record_from_entry(entry.value(), active_user_id);
    if (!record.ok()) return record.status();
    records.push_back(std::move(record).value());
  }
  auto plan = plan_storage_cleanup(records, active_user_id, now_ms, config);
  if (!plan.ok()) return plan.status();
  // A record without a user (a quarantined copy whose owner is unknown) is null.
  auto user_or_null = [](Fields& out, std::int64_t user_id) -> Fields& {
    if (user_id == 0) return out.add("userId", nullptr);
    return out.add("userId", user_id);
  };
  DocumentWriter evict;
  evict.begin_array();
  std::vector<Bytes> evictions;
  for (const Eviction& e : plan.value().evictions) {
    evict.value(e.key);
    Fields eviction;
    eviction.add("key", e.key);
    user_or_null(eviction, e.user_id).add("bytes", e.bytes).add("reason", to_string(e.reason));
    evictions.push_back(eviction);
  }
  evict.end();
  std::vector<Bytes> trims;
  for (const AuditTrim& t : plan.value().audit_trims) {
    Fields trim;
    trim.add("key", t.key);
    user_or_null(trim, t.user_id).add("keepEntries", t.keep_entries).add("freedBytes", t.freed_bytes);
    trims.push_back(trim);
  }
  return json_text(Fields()
                       .add("evict", evict.take())
                       .add("evictions", array_document(evictions))
                       .add("trimAudit", array_document(trims))
                       .add("usageBefore", plan.value().usage_before)
                       .add("usageAfter", plan.value().usage_after)
                       .add("highWater", plan.value().high_water)
                       .add("cleanupNeeded", plan.value().cleanup_needed)
                       .add("budgetMet", plan.value().budget_met));
}

}  // namespace earnings
