#include "journal.h"

#include "json_fields.h"

namespace earnings {

namespace {

static_assert(kMaxJournalCalls == 256, "decode_journal_entry's message names the limit");

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "journal entry is corrupt: " + what);
}

}  // namespace

Result<Bytes> encode_journal_entry(const JournalEntry& entry, const JournalCalls& logged) {
  std::vector<Bytes> calls;
  calls.reserve(logged.size);
  for (std::size_t i = 0; i < logged.size; ++i) {
    const JournalCall& call = logged.items[i];
    Fields fields;
    fields.add("k", static_cast<int>(call.kind))
        .add("w", call.wall)
        .add("m", call.mono)
        .add("f", call.fresh);
    if (call.kind == JournalCallKind::kEarning) fields.amount("a", call.amount);
    calls.push_back(fields.bytes());
  }
  return encode_record(Fields()
                           .add(kRecordUserKey, entry.user_id)
                           .add("g", entry.generation)
                           .add("n", entry.seq)
                           .add("b", entry.before)
                           .add("a", entry.after)
                           .add("c", array_document(calls)));
}

Result<JournalEntry> decode_journal_entry(const Bytes& bytes, std::int64_t user_id) {
  auto decoded = decode_record_for_user(bytes, user_id);
  if (!decoded.ok()) return decoded.status();
  const Node doc = decoded.value().root();
  JournalEntry entry;
  entry.user_id = user_id;
  std::int64_t before = 0;
  std::int64_t after = 0;
  FieldReader read(doc, ErrorCode::kRecordCorrupt);
  read.integer("g", 1, &entry.generation);
  read.integer("n", 0, kJournalEntriesPerCheckpoint - 1, &entry.seq);
  read.integer("b", 0, 0xFFFFFFFFll, &before);
  read.integer("a", 0, 0xFFFFFFFFll, &after);
  if (!read.ok()) return corrupt(read.status().message());
  entry.before = static_cast<std::uint32_t>(before);
  entry.after = static_cast<std::uint32_t>(after);
  const Node calls = doc.find("c");
  if (!calls.is_array() || calls.size() == 0 || calls.size() > kMaxJournalCalls) {
    return corrupt("calls must be an array of 1 to 256");
  }
  for (const Node item : calls.elements()) {
    JournalCall call;
    std::int64_t kind = 0;
    FieldReader field(item, ErrorCode::kRecordCorrupt);
    field.integer("k", 0, 1, &kind);
    field.integer("w", 0, &call.wall);
    field.integer("m", 0, &call.mono);
    field.boolean("f", &call.fresh);
    call.kind = static_cast<JournalCallKind>(kind);
    if (call.kind == JournalCallKind::kEarning) field.amount("a", 1, &call.amount);
    if (!field.ok()) return corrupt(field.status().message());
    entry.calls.push(call);
  }
  return entry;
}

}  // namespace earnings
