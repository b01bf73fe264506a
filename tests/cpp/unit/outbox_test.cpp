#include <catch2/catch.hpp>

#include "documents.h"
#include "outbox.h"

namespace earnings {
namespace {

Result<OpResult> parse_op_result(const nlohmann::json& value) {
  return test_documents::read(earnings::parse_op_result, value);
}

nlohmann::json outbox_json(const Outbox& outbox) { return test_documents::to_json(outbox.to_document()); }

Result<Outbox> outbox_from_json(const nlohmann::json& value) {
  return test_documents::read(Outbox::from_document, value);
}

constexpr Units kRate = 100000000;

OpResult answer(const Outbox& outbox, const OutboxOp& op, OpOutcome status) {
  OpResult r;
  r.id = outbox.op_id(op);
  r.seq = op.seq;
  r.status = status;
  if (status == OpOutcome::kApplied) r.credited = op.amount;
  return r;
}

TEST_CASE("Outbox open deltas") {
  Outbox outbox("c-1");
  SECTION("accruals merge into one open delta: O(1) however many ticks") {
    for (int i = 0; i < 86400; ++i) {
      REQUIRE(outbox.add(OpType::kAccrual, 2, 1000 + i * 1000, 2000 + i * 1000, kRate, 1000).ok());
    }
    CHECK(outbox.depth() == 1);
    CHECK(outbox.open(OpType::kAccrual).amount == 172800);
    CHECK(outbox.open(OpType::kAccrual).from == 1000);
    CHECK(outbox.open(OpType::kAccrual).to == 86401000);
    CHECK(outbox.accrued_ms() == 86400000);
    CHECK(outbox.pending_units() == 172800);
  }
  SECTION("a rate change freezes what accrued at the old rate") {
    REQUIRE(outbox.add(OpType::kAccrual, 5, 0, 10, kRate, 10).ok());
    REQUIRE(outbox.add(OpType::kAccrual, 7, 10, 20, 2 * kRate, 10).ok());
    REQUIRE(outbox.ops().size() == 1);
    CHECK(outbox.ops()[0].rate == kRate);
    CHECK(outbox.open(OpType::kAccrual).rate == 2 * kRate);
    CHECK(outbox.pending_units() == 12);
  }
  SECTION("verification is held beside pending, not inside it") {
    REQUIRE(outbox.add(OpType::kVerification, 9, 0, 10, kRate, 10).ok());
    REQUIRE(outbox.add(OpType::kEarningsUpdate, 4, 0, 10, kRate, 0).ok());
    CHECK(outbox.held_units() == 9);
    CHECK(outbox.pending_units() == 4);
  }
  SECTION("bad input changes nothing") {
    CHECK(outbox.add(OpType::kAccrual, -1, 0, 10, kRate, 10).code() == ErrorCode::kStateInvalid);
    CHECK(outbox.add(OpType::kAccrual, 1, 10, 5, kRate, 10).code() == ErrorCode::kStateInvalid);
    REQUIRE(outbox.add(OpType::kAccrual, kMaxUnits, 0, 1, kRate, 1).ok());
    CHECK(outbox.add(OpType::kAccrual, 1, 1, 2, kRate, 1).code() == ErrorCode::kAmountOverflow);
    CHECK(outbox.open(OpType::kAccrual).amount == kMaxUnits);
    CHECK(outbox.open(OpType::kAccrual).to == 1);
  }
}

TEST_CASE("Outbox frozen ops and batches") {
  Outbox outbox("c-1");
  REQUIRE(outbox.add(OpType::kAccrual, 10, 0, 100, kRate, 100).ok());
  REQUIRE(outbox.add(OpType::kEarningsUpdate, 3, 50, 100, kRate, 0).ok());
  SECTION("take_batch freezes with ids clientId:seq, in seq order, marked sent") {
    const auto batch = outbox.take_batch(100);
    REQUIRE(batch.size() == 2);
    CHECK(outbox.op_id(batch[0]) == "c-1:1");
    CHECK(batch[0].type == OpType::kAccrual);
    CHECK(outbox.op_id(batch[1]) == "c-1:2");
    CHECK(batch[1].sent);
    CHECK(outbox.next_seq() == 3);
    const nlohmann::json wire = test_documents::to_json(outbox.op_to_wire(batch[0]));
    CHECK(wire == nlohmann::json{{"id", "c-1:1"}, {"seq", 1}, {"type", "accrual"}, {"amount", "0.00000010"},
                                 {"from", 0}, {"to", 100}, {"rate", "1.00000000"}});
  }
  SECTION("a retry resends exactly the same ops; new earnings wait in the open delta") {
    const auto first = outbox.take_batch(100);
    REQUIRE(outbox.add(OpType::kAccrual, 4, 100, 200, kRate, 100).ok());
    const auto retry = outbox.take_batch(100);
    REQUIRE(retry.size() == first.size());
    for (std::size_t i = 0; i < first.size(); ++i) CHECK(retry[i] == first[i]);
    CHECK(outbox.open(OpType::kAccrual).amount == 4);
  }
  SECTION("max batch") {
    const auto batch = outbox.take_batch(1);
    REQUIRE(batch.size() == 1);
    CHECK(outbox.has_unsent());
  }
  SECTION("zero-amount open deltas are discarded at freeze") {
    Outbox tiny("c-2");
    REQUIRE(tiny.add(OpType::kAccrual, 0, 0, 5, 1, 5).ok());
    CHECK(tiny.depth() == 1);
    CHECK(tiny.freeze_open() == 5);
    CHECK(tiny.empty());
  }
}

TEST_CASE("Outbox answers") {
  Outbox outbox("c-1");
  REQUIRE(outbox.add(OpType::kAccrual, 10, 0, 100, kRate, 100).ok());
  REQUIRE(outbox.add(OpType::kEarningsUpdate, 3, 50, 100, kRate, 0).ok());
  REQUIRE(outbox.add(OpType::kVerification, 8, 100, 200, kRate, 100).ok());
  const auto batch = outbox.take_batch(100);
  REQUIRE(batch.size() == 3);

  SECTION("applied, duplicate and review remove the op") {
    auto answers = outbox.apply_results({answer(outbox, batch[0], OpOutcome::kApplied),
                                         answer(outbox, batch[1], OpOutcome::kDuplicate),
                                         answer(outbox, batch[2], OpOutcome::kReview)},
                                        500);
    REQUIRE(answers.ok());
    CHECK(answers.value().size() == 3);
    CHECK(outbox.empty());
    CHECK_FALSE(answers.value()[0].inconsistent);
  }
  SECTION("rejected is removed but recorded with its reason") {
    OpResult r = answer(outbox, batch[1], OpOutcome::kRejected);
    r.code = "AMOUNT_EXCEEDS_BUDGET";
    r.reason = "too much";
    REQUIRE(outbox.apply_results({r}, 777).ok());
    CHECK(outbox.ops().size() == 2);
    REQUIRE(outbox.rejected().size() == 1);
    CHECK(outbox.rejected()[0].op.seq == 2);
    CHECK(outbox.rejected()[0].code == "AMOUNT_EXCEEDS_BUDGET");
    CHECK(outbox.rejected()[0].at == 777);
  }
  SECTION("the part of an applied op counted on another device is recorded as rejected") {
    OpResult r = answer(outbox, batch[0], OpOutcome::kApplied);
    r.credited = 6;
    r.review = 0;
    r.refused = 4;
    r.code = "COUNTED_ON_ANOTHER_DEVICE";
    auto answers = outbox.apply_results({r}, 900);
    REQUIRE(answers.ok());
    CHECK_FALSE(answers.value()[0].inconsistent);
    REQUIRE(outbox.rejected().size() == 1);
    CHECK(outbox.rejected()[0].op.amount == 4);
    CHECK(outbox.rejected()[0].code == "COUNTED_ON_ANOTHER_DEVICE");
    CHECK(outbox.rejected_total() == 4);
    // credited + review + refused must be the op's amount (3): an answer that is not is a conflict.
    OpResult again = answer(outbox, batch[1], OpOutcome::kApplied);
    again.credited = 1;
    again.refused = 1;
    again.code = "COUNTED_ON_ANOTHER_DEVICE";
    auto wrong = outbox.apply_results({again}, 901);
    REQUIRE(wrong.ok());
    CHECK(wrong.value()[0].inconsistent);
    CHECK(outbox.rejected_total() == 4);
  }
  SECTION("a gap keeps the ops and renumbers them from expectedSeq") {
    OpResult gap = answer(outbox, batch[0], OpOutcome::kGap);
    gap.expected_seq = 1;
    Outbox other("c-1");
    REQUIRE(outbox.apply_results({gap}, 0).ok());
    REQUIRE(outbox.ops().size() == 3);
    CHECK(outbox.ops()[0].seq == 1);
    CHECK_FALSE(outbox.ops()[0].sent);
    gap = answer(outbox, outbox.ops()[1], OpOutcome::kGap);
    gap.expected_seq = 10;
    REQUIRE(outbox.apply_results({answer(outbox, outbox.ops()[0], OpOutcome::kApplied), gap}, 0).ok());
    REQUIRE(outbox.ops().size() == 2);
    CHECK(outbox.ops()[0].seq == 10);
    CHECK(outbox.ops()[1].seq == 11);
    CHECK(outbox.next_seq() == 12);
  }
  SECTION("credited + review different from the amount is inconsistent") {
    OpResult r = answer(outbox, batch[0], OpOutcome::kApplied);
    r.credited = 4;
    r.review = 5;
    auto answers = outbox.apply_results({r}, 0);
    REQUIRE(answers.ok());
    CHECK(answers.value()[0].inconsistent);
  }
  SECTION("an answer for an op not owed, a wrong seq or a repeat changes nothing") {
    OpResult unknown = answer(outbox, batch[0], OpOutcome::kApplied);
    unknown.id = "c-1:99";
    CHECK(outbox.apply_results({answer(outbox, batch[1], OpOutcome::kApplied), unknown}, 0).status().code() ==
          ErrorCode::kResponseInvalid);
    OpResult wrong_seq = answer(outbox, batch[0], OpOutcome::kApplied);
    wrong_seq.seq = 2;
    CHECK_FALSE(outbox.apply_results({wrong_seq}, 0).ok());
    CHECK_FALSE(outbox.apply_results({answer(outbox, batch[0], OpOutcome::kApplied),
                                      answer(outbox, batch[0], OpOutcome::kApplied)},
                                     0)
                     .ok());
    CHECK(outbox.ops().size() == 3);
  }
  SECTION("a whole request refused: every sent op rejected and recorded") {
    const auto removed = outbox.reject_sent("HTTP_400", "bad request", 9);
    CHECK(removed.size() == 3);
    CHECK(outbox.empty());
    CHECK(outbox.rejected().size() == 3);
  }
  SECTION("a server lastSeq ahead moves new seqs past it") {
    outbox.observe_server_last_seq(40);
    CHECK(outbox.next_seq() == 41);
    outbox.observe_server_last_seq(2);
    CHECK(outbox.next_seq() == 41);
  }
  SECTION("rebind renumbers everything owed under the new client") {
    outbox.rebind("c-new", 5);
    CHECK(outbox.op_id(outbox.ops()[0]) == "c-new:5");
    CHECK(outbox.next_seq() == 8);
  }
}

TEST_CASE("parse_op_result") {
  SECTION("applied with amounts") {
    auto r = parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 1}, {"status", "applied"},
                                            {"credited", "0.5"}, {"review", "0.00000000"}});
    REQUIRE(r.ok());
    CHECK(r.value().credited == 50000000);
  }
  SECTION("gap needs expectedSeq; rejected gets a default code") {
    CHECK_FALSE(parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 1}, {"status", "gap"}}).ok());
    auto part = parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 1}, {"status", "applied"}, {"credited", "0.1"},
                                               {"refused", "0.2"}, {"code", "COUNTED_ON_ANOTHER_DEVICE"}, {"reason", "r"}});
    REQUIRE(part.ok());
    CHECK(part.value().refused == 20000000);
    CHECK(part.value().code == "COUNTED_ON_ANOTHER_DEVICE");
    auto r = parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 1}, {"status", "rejected"}});
    REQUIRE(r.ok());
    CHECK(r.value().code == "REQUEST_INVALID");
  }
  SECTION("wrong shapes are RESPONSE_INVALID") {
    CHECK(parse_op_result(nlohmann::json{{"id", 1}, {"seq", 1}, {"status", "applied"}}).status().code() ==
          ErrorCode::kResponseInvalid);
    CHECK_FALSE(parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 0}, {"status", "applied"}}).ok());
    CHECK_FALSE(parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 1}, {"status", "ok"}}).ok());
    CHECK_FALSE(parse_op_result(nlohmann::json{{"id", "c:1"}, {"seq", 1}, {"status", "applied"},
                                               {"credited", 0.5}})
                     .ok());
    CHECK_FALSE(parse_op_result(nlohmann::json::array()).ok());
  }
}

TEST_CASE("Outbox document") {
  Outbox outbox("c-1");
  REQUIRE(outbox.add(OpType::kAccrual, 10, 0, 100, kRate, 100).ok());
  outbox.take_batch(10);
  REQUIRE(outbox.add(OpType::kAccrual, 4, 100, 200, kRate, 100).ok());
  OpResult rejected;
  SECTION("round trip") {
    const Document stored = Document::from_bytes(outbox.to_document(), ErrorCode::kRecordCorrupt).value();
    auto back = Outbox::from_document(stored.root());
    REQUIRE(back.ok());
    CHECK(back.value().to_document() == outbox.to_document());
    CHECK(back.value().pending_units() == 14);
  }
  SECTION("corruption is RECORD_CORRUPT") {
    nlohmann::json j = outbox_json(outbox);
    j["nextSeq"] = 1;
    CHECK(outbox_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
    j = outbox_json(outbox);
    j["ops"][0]["amount"] = "0";
    CHECK(outbox_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
    j = outbox_json(outbox);
    j["clientId"] = "bad id";
    CHECK(outbox_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
    j = outbox_json(outbox);
    j["open"].push_back(j["open"][0]);
    CHECK(outbox_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
  }
}

TEST_CASE("client ids") {
  CHECK(is_valid_client_id("c-5f2a9d_X"));
  CHECK_FALSE(is_valid_client_id(""));
  CHECK_FALSE(is_valid_client_id("a:b"));
  CHECK_FALSE(is_valid_client_id(std::string(65, 'a')));
}

}  // namespace
}  // namespace earnings
