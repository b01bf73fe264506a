#include "codec.h"

#include <array>
#include <utility>

#include "json_fields.h"

namespace earnings {

const char* const kLegacyAmountKeys[6] = {"amount",      "earnings",       "currentEarnings",
                                          "totalEarned", "baseEarningRate", "rate"};

namespace {

constexpr std::uint8_t kMagic[3] = {'T', 'E', 'G'};

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "stored record is corrupt: " + what);
}

std::uint32_t read_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void write_u32_le(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}

}  // namespace

std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t previous) {
  std::uint32_t c = previous ^ 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) c = kCrcTable[(c ^ data[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<Bytes> encode_record(const Bytes& document) {
  if (document.size() > kMaxRecordPayload) return corrupt("document is larger than 4 MiB");
  // Refuse to write what could never be read back: a record that cannot be decoded is lost
  // earnings.
  auto readable = Document::from_bytes(document, ErrorCode::kRecordCorrupt);
  if (!readable.ok()) {
    return Status(ErrorCode::kRecordCorrupt, "cannot store this document: it " + readable.status().message());
  }
  Bytes out(kEnvelopeHeaderSize);
  out[0] = kMagic[0];
  out[1] = kMagic[1];
  out[2] = kMagic[2];
  out[3] = kCodecVersion;
  write_u32_le(&out[4], static_cast<std::uint32_t>(document.size()));
  std::uint32_t crc = crc32(&out[3], 5);
  crc = crc32(document.data(), document.size(), crc);
  write_u32_le(&out[8], crc);
  out.insert(out.end(), document.begin(), document.end());
  return out;
}

Result<Document> decode_record(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr || size < kEnvelopeHeaderSize) {
    return corrupt("shorter than the 12-byte header (" + std::to_string(size) + " bytes)");
  }
  if (data[0] != kMagic[0] || data[1] != kMagic[1] || data[2] != kMagic[2]) {
    return corrupt("wrong magic (not a TEG record)");
  }
  const std::uint32_t length = read_u32_le(data + 4);
  const std::size_t actual = size - kEnvelopeHeaderSize;
  if (length < actual) return corrupt("trailing bytes after the payload");
  if (length > actual) {
    return corrupt("truncated: header says " + std::to_string(length) + " payload bytes, " +
                   std::to_string(actual) + " present");
  }
  std::uint32_t crc = crc32(data + 3, 5);
  crc = crc32(data + kEnvelopeHeaderSize, actual, crc);
  if (crc != read_u32_le(data + 8)) return corrupt("checksum mismatch");
  const std::uint8_t version = data[3];
  if (version > kCodecVersion) {
    return Status(ErrorCode::kRecordVersion,
                  "stored record has version " + std::to_string(version) +
                      ", newer than this library's " + std::to_string(kCodecVersion));
  }
  if (version != kCodecVersion) {
    return corrupt("envelope version " + std::to_string(version) + " was never written");
  }
  if (length > kMaxRecordPayload) return corrupt("payload is larger than 4 MiB");
  auto document = Document::from_bytes(Bytes(data + kEnvelopeHeaderSize, data + size), ErrorCode::kRecordCorrupt);
  if (!document.ok()) return corrupt("payload " + document.status().message());
  return document;
}

Result<Document> decode_record(const Bytes& bytes) { return decode_record(bytes.data(), bytes.size()); }

Result<Document> decode_record_for_user(const Bytes& bytes, std::int64_t user_id) {
  auto decoded = decode_record(bytes);
  if (!decoded.ok()) return decoded;
  const Node document = decoded.value().root();
  if (!document.is_map()) return corrupt("document is not an object");
  const Node owner = document.find(kRecordUserKey);
  if (!owner.exists()) return corrupt("document names no owner");
  auto owner_id = json_fields::safe_integer_value(owner, "owner", 1);
  if (!owner_id.ok()) return corrupt("document owner is not a user id");
  if (owner_id.value() != user_id) {
    return Status(ErrorCode::kRecordUserMismatch,
                  "stored record belongs to another user, not " + std::to_string(user_id));
  }
  return decoded;
}

}  // namespace earnings
