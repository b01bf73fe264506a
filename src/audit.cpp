#include "audit.h"

#include <algorithm>

#include "json_fields.h"

namespace earnings {
namespace {

constexpr std::size_t kMaxOperationTypeLength = 64;

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "audit log: " + what);
}

Result<std::optional<Units>> optional_amount(const Node& object, const char* key) {
  const Node found = object.find(key);
  if (!found.exists() || found.is_null()) return std::optional<Units>();
  if (!found.is_string()) return corrupt(std::string(key) + " must be a decimal string");
  auto units = parse_amount(found.text());
  if (!units.ok()) return corrupt(std::string(key) + ": " + units.status().message());
  return std::optional<Units>(units.value());
}

}  // namespace

const char* to_string(AuditSource source) {
  switch (source) {
    case AuditSource::kLocal:
      return "local";
    case AuditSource::kSync:
      return "sync";
    case AuditSource::kReconciliation:
      return "reconciliation";
  }
  return "local";
}

Result<AuditSource> parse_audit_source(const std::string& text) {
  if (text == "local") return AuditSource::kLocal;
  if (text == "sync") return AuditSource::kSync;
  if (text == "reconciliation") return AuditSource::kReconciliation;
  return corrupt("source must be local, sync or reconciliation");
}

bool operator==(const AuditEntry& a, const AuditEntry& b) {
  return a.id == b.id && a.user_id == b.user_id && a.operation_type == b.operation_type &&
         a.old_value == b.old_value && a.new_value == b.new_value && a.timestamp == b.timestamp &&
         a.source == b.source && a.metadata == b.metadata;
}

Bytes audit_entry_to_document(const AuditEntry& entry) {
  Fields out;
  out.add("id", entry.id).add("userId", entry.user_id).add("operationType", entry.operation_type);
  if (entry.old_value) out.amount("oldValue", *entry.old_value);
  if (entry.new_value) out.amount("newValue", *entry.new_value);
  out.add("timestamp", entry.timestamp).add("source", to_string(entry.source)).add("metadata", entry.metadata);
  return out.bytes();
}

Result<AuditEntry> audit_entry_from_document(const Node& value) {
  if (!value.is_map()) return corrupt("entry must be an object");
  AuditEntry entry;
  std::string source;
  FieldReader read(value, ErrorCode::kRecordCorrupt);
  read.integer("id", 0, &entry.id);
  read.integer("userId", 1, &entry.user_id);
  read.integer("timestamp", 0, &entry.timestamp);
  read.text("source", &source);
  if (!read.ok()) return corrupt(read.status().message());
  const Node op = value.find("operationType");
  entry.operation_type = op.text();
  if (!op.is_string() || entry.operation_type.empty() ||
      entry.operation_type.size() > kMaxOperationTypeLength) {
    return corrupt("operationType must be a string of 1 to 64 characters");
  }
  auto old_value = optional_amount(value, "oldValue");
  if (!old_value.ok()) return old_value.status();
  entry.old_value = old_value.value();
  auto new_value = optional_amount(value, "newValue");
  if (!new_value.ok()) return new_value.status();
  entry.new_value = new_value.value();
  auto parsed_source = parse_audit_source(source);
  if (!parsed_source.ok()) return parsed_source.status();
  entry.source = parsed_source.value();
  const Node metadata = value.find("metadata");
  if (!metadata.is_map()) return corrupt("metadata must be an object");
  entry.metadata = metadata.bytes();
  return entry;
}

AuditLog::AuditLog(std::size_t capacity)
    : capacity_(capacity == 0 ? 1 : std::min(capacity, kMaxAuditCapacity)) {}

const AuditEntry& AuditLog::append(AuditEntry entry) {
  entry.id = next_id_++;
  if (entries_.size() < capacity_) {
    entries_.push_back(Slot{std::move(entry), Bytes()});
    return entries_.back().entry;
  }
  Slot& oldest = entries_[first_];
  oldest = Slot{std::move(entry), Bytes()};
  first_ = (first_ + 1) % entries_.size();
  ++dropped_;
  return oldest.entry;
}

AuditEntry* AuditLog::last() {
  if (entries_.empty()) return nullptr;
  Slot& newest = entries_[(first_ + entries_.size() - 1) % entries_.size()];
  newest.document.clear();
  return &newest.entry;
}

const AuditEntry* AuditLog::last() const {
  return entries_.empty() ? nullptr : &slot(entries_.size() - 1).entry;
}

std::vector<AuditEntry> AuditLog::entries() const {
  std::vector<AuditEntry> in_order;
  in_order.reserve(entries_.size());
  for (std::size_t k = 0; k < entries_.size(); ++k) in_order.push_back(entry(k));
  return in_order;
}

std::size_t AuditLog::trim_to(std::size_t keep) {
  if (entries_.size() <= keep) return 0;
  const std::size_t removed = entries_.size() - keep;
  std::vector<Slot> kept;
  kept.reserve(keep);
  for (std::size_t k = removed; k < entries_.size(); ++k) {
    kept.push_back(std::move(entries_[(first_ + k) % entries_.size()]));
  }
  entries_.swap(kept);
  first_ = 0;
  dropped_ += removed;
  return removed;
}

Bytes AuditLog::entries_document() const {
  DocumentWriter list;
  list.begin_array();
  for (std::size_t k = 0; k < entries_.size(); ++k) {
    const Slot& written = slot(k);
    if (written.document.empty()) written.document = audit_entry_to_document(written.entry);
    list.value(written.document);
  }
  list.end();
  return list.take();
}

Bytes AuditLog::to_document() const {
  return Fields()
      .add("capacity", capacity_)
      .add("nextId", next_id_)
      .add("dropped", dropped_)
      .add("entries", entries_document())
      .bytes();
}

Result<AuditLog> AuditLog::from_document(const Node& value) {
  if (!value.is_map()) return corrupt("must be an object");
  std::int64_t capacity = 0;
  std::int64_t next_id = 0;
  std::int64_t dropped = 0;
  FieldReader read(value, ErrorCode::kRecordCorrupt);
  read.integer("capacity", 1, static_cast<std::int64_t>(kMaxAuditCapacity), &capacity);
  read.integer("nextId", 1, &next_id);
  read.integer("dropped", 0, &dropped);
  if (!read.ok()) return corrupt(read.status().message());
  const Node list = value.find("entries");
  if (!list.is_array()) return corrupt("entries must be an array");
  if (list.size() > static_cast<std::uint64_t>(capacity)) return corrupt("more entries than the capacity");
  AuditLog log(static_cast<std::size_t>(capacity));
  std::int64_t previous_id = 0;
  for (Node item : list.elements()) {
    auto entry = audit_entry_from_document(item);
    if (!entry.ok()) return entry.status();
    if (entry.value().id <= previous_id || entry.value().id >= next_id) {
      return corrupt("entry ids must increase and stay below nextId");
    }
    previous_id = entry.value().id;
    log.entries_.push_back(Slot{std::move(entry).value(), Bytes()});
  }
  log.next_id_ = next_id;
  log.dropped_ = static_cast<std::uint64_t>(dropped);
  return log;
}

}  // namespace earnings
