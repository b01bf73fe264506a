#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "document.h"

using namespace earnings;
using nlohmann::json;

namespace {

Result<Document> checked(const Bytes& bytes) { return Document::from_bytes(bytes, ErrorCode::kRecordCorrupt); }

Result<Document> parsed(const std::string& text) {
  return Document::parse_json(text, ErrorCode::kRequestInvalid);
}

// What the document holds, as JSON text.
std::string text_of(const std::string& json_text) { return parsed(json_text).value().root().json(); }

}  // namespace

TEST_CASE("DocumentWriter writes MessagePack with the key dictionary", "[document]") {
  SECTION("a small map, byte for byte") {
    DocumentWriter out;
    out.begin_map().field("seq", 7).field("note", "hi").field("ok", true).field("none", nullptr).end();
    // fixmap(4); "seq" is dictionary entry 1; the others are strings.
    CHECK(out.take() == Bytes{0x84, 0x01, 0x07, 0xA4, 'n', 'o', 't', 'e', 0xA2, 'h', 'i',
                              0xA2, 'o', 'k', 0xC3, 0xA4, 'n', 'o', 'n', 'e', 0xC0});
  }
  SECTION("integers take their smallest encoding") {
    struct Case {
      std::int64_t value;
      Bytes bytes;
    };
    const Case cases[] = {{0, {0x00}},
                          {127, {0x7F}},
                          {128, {0xCC, 0x80}},
                          {65536, {0xCE, 0x00, 0x01, 0x00, 0x00}},
                          {-1, {0xFF}},
                          {-32, {0xE0}},
                          {-33, {0xD0, 0xDF}},
                          {-40000, {0xD2, 0xFF, 0xFF, 0x63, 0xC0}},
                          {std::numeric_limits<std::int64_t>::min(), {0xD3, 0x80, 0, 0, 0, 0, 0, 0, 0}}};
    for (const Case& c : cases) {
      DocumentWriter out;
      out.value(c.value);
      INFO(c.value);
      CHECK(out.take() == c.bytes);
    }
    DocumentWriter out;
    out.value(std::numeric_limits<std::uint64_t>::max());
    CHECK(out.take() == Bytes{0xCF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF});
  }
  SECTION("a container's header grows with its count once it is closed") {
    auto array_of = [](std::size_t n) {
      DocumentWriter out;
      out.begin_array();
      for (std::size_t k = 0; k < n; ++k) out.value(1);
      out.end();
      return out.take();
    };
    CHECK(array_of(15).front() == 0x9F);
    const Bytes sixteen = array_of(16);
    CHECK(Bytes(sixteen.begin(), sixteen.begin() + 4) == Bytes{0xDC, 0x00, 0x10, 0x01});
    CHECK(sixteen.size() == 3 + 16);
    const Bytes large = array_of(70000);
    CHECK(Bytes(large.begin(), large.begin() + 6) == Bytes{0xDD, 0x00, 0x01, 0x11, 0x70, 0x01});
    CHECK(checked(large).ok());

    DocumentWriter nested;
    nested.begin_map().key("list").begin_array();
    for (int k = 0; k < 20; ++k) nested.value(k);
    nested.end().field("after", 1);
    for (int k = 0; k < 15; ++k) nested.field(("k" + std::to_string(k)).c_str(), k);
    nested.end();
    auto document = checked(nested.take());
    REQUIRE(document.ok());
    const Node root = document.value().root();
    CHECK(root.size() == 17);
    CHECK(root.find("list").size() == 20);
    std::int64_t after = 0;
    CHECK((root.find("after").as_int64(&after) && after == 1));
  }
  SECTION("a string that is not UTF-8 is written with U+FFFD for each bad byte") {
    DocumentWriter out;
    out.value(std::string("a\xC3\x28z\xF0\x9F\x98\x80\xFF"));
    const Bytes bytes = out.take();
    CHECK(bytes == Bytes{0xAD, 'a', 0xEF, 0xBF, 0xBD, 0x28, 'z', 0xF0, 0x9F, 0x98, 0x80, 0xEF, 0xBF, 0xBD});
    CHECK(checked(bytes).ok());
  }
  SECTION("amounts are decimal strings") {
    DocumentWriter out;
    out.amount(150000000);
    CHECK(json_text(out.take()) == "\"1.50000000\"");
  }
  SECTION("a whole document is embedded as one value") {
    DocumentWriter out;
    out.begin_array().value(Fields().add("seq", 1)).value(Bytes{0xC3}).end();
    CHECK(json_text(out.take()) == R"([{"seq":1},true])");
  }
}

TEST_CASE("Fields builds a map and stays open", "[document]") {
  Fields fields;
  fields.add("kind", "server_offset").add("offsetMs", -5);
  const Bytes first = fields.bytes();
  fields.add("type", "clock_jump").amount("amount", 1);
  CHECK(json_text(first) == R"({"kind":"server_offset","offsetMs":-5})");
  CHECK(json_text(fields) == R"({"kind":"server_offset","offsetMs":-5,"type":"clock_jump","amount":"0.00000001"})");
  CHECK(json_text(Fields()) == "{}");
  CHECK(json_text(array_document({Fields().add("a", 1), Bytes{0x02}})) == R"([{"a":1},2])");
}

TEST_CASE("Document checks and indexes bytes", "[document]") {
  SECTION("a dictionary key written as its text is the same key") {
    auto document = checked(Bytes{0x82, 0xA3, 's', 'e', 'q', 0x07, 0x03, 0xA1, 'x'});
    REQUIRE(document.ok());
    std::int64_t seq = 0;
    CHECK((document.value().root().find("seq").as_int64(&seq) && seq == 7));
    CHECK(document.value().root().find("amount").text() == "x");
    CHECK(document.value().root().json() == R"({"seq":7,"amount":"x"})");
  }
  SECTION("a repeated key is refused, in either spelling") {
    const auto repeated = checked(Bytes{0x82, 0xA3, 's', 'e', 'q', 0x07, 0x01, 0x08});
    CHECK(repeated.status().code() == ErrorCode::kRecordCorrupt);
    CHECK(repeated.status().message().find("seq") != std::string::npos);
    CHECK_FALSE(checked(Bytes{0x82, 0xA1, 'a', 0x01, 0xA1, 'a', 0x02}).ok());
    CHECK(checked(Bytes{0x82, 0xA1, 'a', 0x01, 0xA1, 'b', 0x02}).ok());
  }
  SECTION("a number's text must be a JSON number") {
    for (const char* good : {"0", "-0.5", "1e10", "2.5E-3", "12345678901234567890"}) {
      Bytes bytes = {0xC4, static_cast<std::uint8_t>(std::string(good).size())};
      bytes.insert(bytes.end(), good, good + std::string(good).size());
      INFO(good);
      CHECK(checked(bytes).ok());
    }
    for (const char* bad : {"", "01", "1.", ".5", "1e", "+1", "- 1", "1x", "NaN"}) {
      Bytes bytes = {0xC4, static_cast<std::uint8_t>(std::string(bad).size())};
      bytes.insert(bytes.end(), bad, bad + std::string(bad).size());
      INFO(bad);
      CHECK_FALSE(checked(bytes).ok());
    }
  }
  SECTION("every failure carries the caller's code and changes nothing") {
    auto refused = Document::from_bytes(Bytes{0x92, 0x01}, ErrorCode::kResponseInvalid);
    CHECK(refused.status().code() == ErrorCode::kResponseInvalid);
    CHECK_FALSE(refused.value().root().exists());
    CHECK(refused.value().bytes().empty());
  }
}

TEST_CASE("Node reads what it is asked for, and nothing else", "[document]") {
  auto document = parsed(R"({"n":-3,"big":18446744073709551615,"s":"text","b":false,"z":null,
                             "f":1.5,"a":[1,[2,3],{"k":"v"}],"m":{}})");
  REQUIRE(document.ok());
  const Node root = document.value().root();
  std::int64_t value = 0;
  CHECK((root.find("n").is_integer() && root.find("n").as_int64(&value) && value == -3));
  CHECK(root.find("big").is_integer());
  CHECK_FALSE(root.find("big").as_int64(&value));
  CHECK(root.find("s").text() == "text");
  CHECK(root.find("n").text().empty());
  CHECK((root.find("b").is_boolean() && !root.find("b").boolean()));
  CHECK(root.find("z").is_null());
  CHECK(root.find("f").is_number_text());
  CHECK(root.find("f").text() == "1.5");
  CHECK_FALSE(root.find("missing").exists());
  CHECK_FALSE(root.find("missing").find("deeper").exists());
  CHECK(root.find("s").size() == 0);
  CHECK(root.find("m").size() == 0);

  const Node list = root.find("a");
  CHECK(list.size() == 3);
  std::string seen;
  for (Node item : list.elements()) seen += item.json() + ";";
  CHECK(seen == R"(1;[2,3];{"k":"v"};)");
  CHECK(json_text(list.bytes()) == R"([1,[2,3],{"k":"v"}])");
  int children_of_a_string = 0;
  for (Node item : root.find("s").elements()) children_of_a_string += item.exists() ? 1 : 0;
  CHECK(children_of_a_string == 0);

  std::string keys;
  for (const Member& member : root.members()) keys += member.key + ",";
  CHECK(keys == "n,big,s,b,z,f,a,m,");
  CHECK(Node().json().empty());
  CHECK(Node().bytes().empty());
}

TEST_CASE("JSON text in and out", "[document]") {
  SECTION("values come back as they were written") {
    CHECK(text_of(R"( {"a" : [ 1 , -2, 3.25e2, "x", true, false, null, {}, [] ]} )") ==
          R"({"a":[1,-2,3.25e2,"x",true,false,null,{},[]]})");
    CHECK(text_of("9223372036854775808") == "9223372036854775808");
    CHECK(text_of("-9223372036854775808") == "-9223372036854775808");
    CHECK(text_of("123456789012345678901234567890") == "123456789012345678901234567890");
  }
  SECTION("strings are escaped as JSON requires, and only that") {
    CHECK(text_of(R"("q\"b\\s\/\b\f\n\r\t\u0001\u001f é ✓ \ud83d\ude00")") ==
          "\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0001\\u001f é ✓ \xF0\x9F\x98\x80\"");
    CHECK(text_of(R"("a\u0000b")") == R"("a\u0000b")");
  }
  SECTION("what is not one JSON value is refused with the caller's code") {
    for (const char* bad : {"", "{", "[1,]", "{\"a\":1}x", "{'a':1}", "nul", "1e400", "\"\xC3\x28\"",
                            "{\"a\":1,\"a\":2}", "[\"\\ud800\"]"}) {
      INFO(bad);
      const auto refused = Document::parse_json(bad, ErrorCode::kConfigInvalid);
      CHECK(refused.status().code() == ErrorCode::kConfigInvalid);
      CHECK_FALSE(refused.value().root().exists());
    }
  }
  SECTION("64 levels of nesting are read, 65 are refused") {
    const std::string deepest = std::string(kMaxDocumentDepth, '[') + std::string(kMaxDocumentDepth, ']');
    CHECK(parsed(deepest).ok());
    const std::string deeper = "[" + deepest + "]";
    CHECK_FALSE(parsed(deeper).ok());
  }
  SECTION("a parsed document is the bytes a writer would make") {
    DocumentWriter out;
    out.begin_map().field("seq", 1).field("amount", "0.5").end();
    CHECK(parsed(R"({"seq":1,"amount":"0.5"})").value().bytes() == out.take());
  }
}
