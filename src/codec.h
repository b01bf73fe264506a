// The stored form of one user's record (Properties 8, 15, 22). A record is a document
// (document.h; the engine decides its keys) wrapped in a fixed 12-byte envelope that never
// changes across versions:
//
//   offset 0  "TEG"                       magic
//   offset 3  version (u8)                kCodecVersion for everything written now
//   offset 4  payload length (u32 LE)
//   offset 8  CRC-32/IEEE (u32 LE) of bytes [3, 8) followed by the payload
//   offset 12 payload: the document's bytes: MessagePack, where a map key found in the key
//             dictionary (the keys records repeat: "seq", "amount", "timestamp",
//             "operationType", ...) is written as a one-byte index instead of its text
//
// The checksum covers the version and length bytes as well as the payload, so that a flipped bit
// anywhere in a record reads as corruption and never as "a record from a newer version".
// Decoding never crashes and never returns part of a document: any failure (magic, length,
// checksum, truncation, trailing bytes, malformed or too deeply nested MessagePack, invalid
// UTF-8, a repeated key) is kRecordCorrupt with a message naming what failed; an intact record
// of a newer version is kRecordVersion.
//
// Version 1 was never an envelope: it is the seed's plain-JSON `LocalEarningsData` entry that
// existing apps keep in localStorage. decode_legacy_v1 converts it, amounts included, exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "document.h"
#include "status.h"

namespace earnings {

constexpr std::uint8_t kCodecVersion = 2;
constexpr std::size_t kEnvelopeHeaderSize = 12;
// A stored record is bounded (Telegram DeviceStorage holds 5 MB in all).
constexpr std::size_t kMaxRecordPayload = 4 * 1024 * 1024;
// Top-level key of a record document holding the owning user id (a positive integer). The
// engine writes it; decode_record_for_user checks it.
constexpr const char* kRecordUserKey = "u";

// CRC-32/IEEE (polynomial 0xEDB88320 reflected, init and final xor 0xFFFFFFFF), chainable:
// crc32(b, crc32(a)) == crc32(a + b).
std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t previous = 0);

// A document that could never be read back (deeper than kMaxDocumentDepth, a repeated key, a
// payload above kMaxRecordPayload) is kRecordCorrupt.
Result<Bytes> encode_record(const Bytes& document);

Result<Document> decode_record(const std::uint8_t* data, std::size_t size);
Result<Document> decode_record(const Bytes& bytes);

// decode_record, then the document must be a map whose kRecordUserKey equals `user_id`:
// otherwise kRecordUserMismatch (another user's record) or kRecordCorrupt (no owner).
Result<Document> decode_record_for_user(const Bytes& bytes, std::int64_t user_id);

// The legacy localStorage entry (one user's value of the seed's `LocalEarningsData` map):
//   {"state":{"userId","currentEarnings","baseEarningRate","lastUpdate","startDate",
//             "isActive","syncStatus"},
//    "pendingOperations":[{"id","userId","type","data","timestamp","retryCount",
//                          "maxRetries"}...],
//    "lastCleanup":n,"version":1}
// Returned with the same keys, but every amount a decimal string with 8 decimals taken from the
// number's printed text (round half-up at the 9th decimal; JS prints 0.1 as "0.1", so the
// amount is exactly 0.10000000, never 0.1000000000000000055...). Amounts are
// state.currentEarnings, state.baseEarningRate and, inside an operation's `data` object, the
// members named in kLegacyAmountKeys. Times are non-negative integers (a fractional time is
// rounded down). Missing `pendingOperations`/`lastCleanup` default to [] and 0. NaN (stored by
// JSON.stringify as null), negative or too large amounts, wrong types, an unknown syncStatus or
// operation type, or an ill-formed text are kRecordCorrupt naming the field; a version other
// than 1 is kRecordVersion.
// Any other number in an operation's `data` keeps the text it was written with.
extern const char* const kLegacyAmountKeys[6];
Result<Document> decode_legacy_v1(const std::string& text);

}  // namespace earnings
