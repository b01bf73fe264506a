// Documents: the one form structured data takes inside the core. Stored records, audit
// metadata, sync requests and answers, events, and every JSON text the core reads or writes
// pass through it.
//
// A document is one MessagePack value (nil, booleans, integers, UTF-8 strings, arrays, maps)
// whose map keys are strings or one-byte indexes into the key dictionary (document.cpp: the
// keys records repeat, "seq", "amount", "operationType", ...). The record codec stores exactly
// these bytes behind its envelope (codec.h). JSON text is read by nlohmann's SAX parser straight
// into a document and written straight from one: there is no tree of objects in between, which
// keeps the client module small (docs/PERFORMANCE.md) and reading free of per-value allocations.
//
// Writing: DocumentWriter appends values; Fields builds one map (audit metadata, events). Strings
// that are not well-formed UTF-8 are written with U+FFFD in place of each bad byte, so every
// document can be stored and read back.
// Reading: Document checks bytes once (every length within bounds, strings UTF-8, map keys
// strings or dictionary indexes and never repeated, at most kMaxDocumentDepth deep, nothing
// after the value) and indexes them; Node is a view of one value with checked accessors, valid
// while its Document lives (moving the Document keeps it valid). A JSON number that is not an
// integer is kept as its text (a MessagePack bin holding a well-formed JSON number), because the
// legacy importer needs the digits the old app printed; the engine's records never hold one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "amount.h"
#include "status.h"

namespace earnings {

using Bytes = std::vector<std::uint8_t>;

// Deeper documents are refused, so that nothing that walks one recurses far on the small wasm
// stack.
constexpr std::size_t kMaxDocumentDepth = 64;

class Fields;

class DocumentWriter {
 public:
  DocumentWriter& begin_map();
  DocumentWriter& begin_array();
  // Closes the innermost open map or array. REQUIRES: one is open, and no map key waits.
  DocumentWriter& end();
  // REQUIRES: a map is open; the next value written is this key's.
  DocumentWriter& key(const char* name);
  DocumentWriter& key(const std::string& name);

  DocumentWriter& null();
  DocumentWriter& value(std::nullptr_t) { return null(); }
  DocumentWriter& value(bool flag);
  DocumentWriter& value(const char* text);
  DocumentWriter& value(const std::string& text);
  template <typename Integer, typename = std::enable_if_t<std::is_integral<Integer>::value &&
                                                          !std::is_same<Integer, bool>::value>>
  DocumentWriter& value(Integer number) {
    if (std::is_signed<Integer>::value) return signed_integer(static_cast<std::int64_t>(number));
    return unsigned_integer(static_cast<std::uint64_t>(number));
  }
  // Money: a decimal string with 8 decimals (format_amount).
  DocumentWriter& amount(Units units);
  // A whole value another writer produced (DocumentWriter::take, Fields::bytes, Node::bytes).
  DocumentWriter& value(const Bytes& document);
  DocumentWriter& value(const Fields& map);

  template <typename T>
  DocumentWriter& field(const char* name, const T& v) {
    key(name);
    return value(v);
  }

  // The document. REQUIRES: exactly one value written, every map and array closed.
  Bytes take();

 private:
  friend class JsonToDocument;
  DocumentWriter& signed_integer(std::int64_t number);
  DocumentWriter& unsigned_integer(std::uint64_t number);
  DocumentWriter& number_text(const std::string& lexeme);
  DocumentWriter& key_text(const char* name, std::size_t size);
  void open(bool map);
  void counted();

  struct Open {
    std::size_t header;  // where the container's header byte is
    std::uint32_t count;
    bool map;
  };
  Bytes out_;
  std::vector<Open> open_;
};

// One map, member by member: Fields().add("wall", wall).amount("credited", units). Values as
// DocumentWriter::value takes them.
class Fields {
 public:
  Fields() { writer_.begin_map(); }
  template <typename T>
  Fields& add(const char* name, const T& v) {
    writer_.field(name, v);
    return *this;
  }
  Fields& amount(const char* name, Units units) {
    writer_.key(name).amount(units);
    return *this;
  }
  Bytes bytes() const;
  // Where a document is expected (audit metadata, events), a Fields is the map it holds.
  operator Bytes() const { return bytes(); }  // NOLINT: implicit by design

 private:
  DocumentWriter writer_;
};

// An array of whole documents.
Bytes array_document(const std::vector<Bytes>& items);

class Node;
struct Member;
template <typename Item>
class NodeRange;

// A checked, indexed document. Default-constructed: no value (root() does not exist).
class Document {
 public:
  Document() = default;
  // `bytes` as DocumentWriter or the record codec wrote them. Failure: `code`, with a message
  // saying what is wrong ("payload ends inside a value", ...).
  static Result<Document> from_bytes(Bytes bytes, ErrorCode code);
  // One JSON value (RFC 8259, at most kMaxDocumentDepth deep, no repeated keys). Failure: `code`.
  static Result<Document> parse_json(const std::string& text, ErrorCode code);

  Node root() const;
  const Bytes& bytes() const { return bytes_; }

  // Where one value (or map key) starts, and the index of the token after everything inside it.
  struct Token {
    std::uint32_t begin;
    std::uint32_t after;
  };

 private:
  Bytes bytes_;
  std::vector<Token> tokens_;  // in byte order, plus one sentinel starting at bytes_.size()
};

class Node {
 public:
  enum class Kind { kAbsent, kNull, kBoolean, kInteger, kNumberText, kString, kArray, kMap };

  Node() = default;  // absent
  Kind kind() const;
  bool exists() const { return tokens_ != nullptr; }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_boolean() const { return kind() == Kind::kBoolean; }
  bool is_integer() const { return kind() == Kind::kInteger; }
  bool is_number_text() const { return kind() == Kind::kNumberText; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_array() const { return kind() == Kind::kArray; }
  bool is_map() const { return kind() == Kind::kMap; }

  // REQUIRES: is_boolean().
  bool boolean() const;
  // REQUIRES: is_integer(). False when the value is above INT64_MAX.
  bool as_int64(std::int64_t* out) const;
  // A string's text, or a number's as JSON wrote it; "" for anything else.
  std::string text() const;
  // Elements of an array, members of a map; 0 for anything else.
  std::size_t size() const;
  // A map's member, or an absent node.
  Node find(const char* key) const;

  // This value's own encoding (to copy it into another document), and its JSON text.
  Bytes bytes() const;
  std::string json() const;

  // for (Node item : node.elements()), for (Member member : node.members()); both empty when
  // the node is not an array or a map.
  NodeRange<Node> elements() const;
  NodeRange<Member> members() const;

 private:
  friend class Document;
  template <typename Item>
  friend class NodeRange;
  Node(const std::uint8_t* data, const Document::Token* tokens, std::uint32_t index)
      : data_(data), tokens_(tokens), index_(index) {}
  std::uint8_t tag() const { return data_[tokens_[index_].begin]; }

  const std::uint8_t* data_ = nullptr;
  const Document::Token* tokens_ = nullptr;
  std::uint32_t index_ = 0;
};

struct Member {
  std::string key;
  Node value;
};

// The elements of an array (Item = Node) or the members of a map (Item = Member), in order.
template <typename Item>
class NodeRange {
 public:
  class iterator {
   public:
    Item operator*() const;
    iterator& operator++();
    bool operator!=(const iterator& other) const { return at_ != other.at_; }

   private:
    friend class NodeRange;
    iterator(const Node& parent, std::uint32_t at) : parent_(parent), at_(at) {}
    Node parent_;
    std::uint32_t at_;  // the element's token, or the member's key token
  };
  iterator begin() const { return iterator(parent_, first_); }
  iterator end() const { return iterator(parent_, after_); }

 private:
  friend class Node;
  NodeRange(const Node& parent, std::uint32_t first, std::uint32_t after)
      : parent_(parent), first_(first), after_(after) {}
  Node parent_;
  std::uint32_t first_;
  std::uint32_t after_;
};

template <>
Node NodeRange<Node>::iterator::operator*() const;
template <>
NodeRange<Node>::iterator& NodeRange<Node>::iterator::operator++();
template <>
Member NodeRange<Member>::iterator::operator*() const;
template <>
NodeRange<Member>::iterator& NodeRange<Member>::iterator::operator++();

// The JSON text of what a DocumentWriter (or Fields) wrote. REQUIRES: `document` is one whole
// value from a writer or from Node::bytes.
std::string json_text(const Bytes& document);

}  // namespace earnings
