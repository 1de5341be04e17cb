// properties/tests/program_test.cc — the program value: its text forms round-trip,
// bad text is refused with one line, generators keep to their suite.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "properties/program.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "properties/suites.h"

namespace aiosim::properties {
namespace {

constexpr core::AioGeneration kLegacy = core::AioGeneration::kLegacy;
constexpr core::AioGeneration kModern = core::AioGeneration::kModern;

TEST(ProgramTest, EncodesCompactlyAndDecodesBack) {
  Program p;
  p.threads = {{{OpCode::kBhNew, 0, 0}, {OpCode::kSchedule, 0, 0}, {OpCode::kWait, 0, 0}},
               {{OpCode::kTimerMod, 1, 15}, {OpCode::kCancel, 0, 0}},
               {}};
  EXPECT_EQ(Encode(p), "N0,S0,W/T1.15,C0/-");
  absl::StatusOr<Program> back = Decode(Encode(p));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, p);
}

TEST(ProgramTest, DescribesAsAPerThreadTable) {
  Program p;
  p.threads = {{{OpCode::kBhNew, 0, 0}, {OpCode::kWait, 0, 0}},
               {{OpCode::kSchedule, 0, 0}}};
  EXPECT_EQ(Describe(p),
            "       home             f1\n"
            "       --------------   -------------------\n"
            "    1  aio_bh_new b0    qemu_bh_schedule b0\n"
            "    2  aio_poll(true)\n");
}

TEST(ProgramTest, RefusesMalformedTextWithOneLine) {
  for (const char* bad : {"", "Q", "N9", "T0", "T0.99", "T0.5x", "S0,,S1", "?", "S01",
                          "P/P/P/P/P/P", "S0,S0,S0,S0,S0,S0,S0,S0,S0,S0,S0,S0,S0"}) {
    absl::StatusOr<Program> p = Decode(bad);
    EXPECT_FALSE(p.ok()) << bad;
    if (!p.ok()) {
      EXPECT_EQ(std::string(p.status().message()).find('\n'), std::string::npos);
      EXPECT_EQ(std::string(p.status().message()).rfind("program: ", 0), 0u)
          << p.status().message();
    }
  }
}

RC_GTEST_PROP(ProgramProperty, EveryGeneratedProgramRoundTripsAndConforms, ()) {
  const Suite& suite = *rc::gen::elementOf(Suites());
  const Mode mode = *rc::gen::element(Mode::kDocumented, Mode::kStrict, Mode::kMisuse);
  const core::AioGeneration generation =
      *rc::gen::element(core::AioGeneration::kLegacy, core::AioGeneration::kModern);
  const uint32_t switches = generation == core::AioGeneration::kModern
                                ? 0u
                                : *rc::gen::element(0u, FixedSwitches());
  const Program p = *GenProgram(suite, mode, switches, generation);
  RC_ASSERT(Validate(p).ok());
  RC_ASSERT(Conforms(p, suite, mode, switches, generation));
  RC_ASSERT(Encode(p).size() <= 256u);  // a token option value
  absl::StatusOr<Program> back = Decode(Encode(p));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == p);
}

TEST(SuiteTest, DocumentedModeKeepsHomeOnlyCallsInTheHomeThread) {
  for (const Suite& s : Suites()) {
    for (uint32_t sw : {0u, FixedSwitches()}) {
      const auto foreign = AllowedOps(s, true, Mode::kDocumented, sw, kLegacy);
      for (OpCode c : {OpCode::kDelete, OpCode::kWait, OpCode::kFdAdd, OpCode::kFdRemove,
                       OpCode::kSubmit, OpCode::kPoolCancel, OpCode::kPoolCancelAsync}) {
        EXPECT_EQ(std::count(foreign.begin(), foreign.end(), c), 0)
            << s.id << " " << Info(c).name;
      }
      const bool polls = std::count(foreign.begin(), foreign.end(), OpCode::kPoll) > 0;
      EXPECT_EQ(polls, sw == 0) << s.id << ": a foreign aio_poll under acquire is 2.8's, "
                                           "not 4.0's";
    }
  }
  const auto misuse =
      AllowedOps(*FindSuite("pool"), true, Mode::kMisuse, FixedSwitches(), kLegacy);
  EXPECT_EQ(std::count(misuse.begin(), misuse.end(), OpCode::kSubmit), 1);
}

// QEMU 10.2's contract: no external clients, no foreign aio_poll, no bdrv_aio_cancel of
// a pool request in any thread; foreign fd handler changes are legal; the foreign
// submit is misuse.
TEST(SuiteTest, ModernListsFollowQemu10Contract) {
  for (const Suite& s : Suites()) {
    for (Mode mode : {Mode::kDocumented, Mode::kStrict, Mode::kMisuse}) {
      for (bool foreign : {false, true}) {
        const auto ops = AllowedOps(s, foreign, mode, 0, kModern);
        for (OpCode c : {OpCode::kFdAddExternal, OpCode::kDisableExternal,
                         OpCode::kEnableExternal, OpCode::kPoolCancel}) {
          EXPECT_EQ(std::count(ops.begin(), ops.end(), c), 0) << s.id << " " << Info(c).name;
        }
        if (foreign) {
          EXPECT_EQ(std::count(ops.begin(), ops.end(), OpCode::kPoll), 0) << s.id;
          EXPECT_EQ(std::count(ops.begin(), ops.end(), OpCode::kWait), 0) << s.id;
          const bool fd_suite = std::count(s.home.begin(), s.home.end(), OpCode::kFdAdd) > 0;
          EXPECT_EQ(std::count(ops.begin(), ops.end(), OpCode::kFdAdd) > 0, fd_suite) << s.id;
          const bool pool_misuse = mode == Mode::kMisuse &&
                                   std::count(s.home.begin(), s.home.end(), OpCode::kSubmit) > 0;
          EXPECT_EQ(std::count(ops.begin(), ops.end(), OpCode::kSubmit) > 0, pool_misuse)
              << s.id;
        }
      }
    }
  }
}

}  // namespace
}  // namespace aiosim::properties
