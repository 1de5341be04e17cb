// tools/tests/prop_cli_test.cc — `aiosim prop` as a user runs it: a clean suite, a
// found race whose token replays through `aiosim replay`, bad input.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/tests/cli_util.h"

namespace aiosim::tools::testing {
namespace {

TEST(PropCliTest, AFixedSuiteFindsNothingAndCountsItsProbes) {
  const Result r = Cli({"prop", "bh", "--fix", "fixed", "--programs", "5",
                        "--executions", "20", "--quiet"});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "prop bh (documented, revert none, fix P1,R10,R12,"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "no failure; 5 programs, 100 executions")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "bh-scheduled-while-aio_bh_poll-walks")) << r.out;
}

TEST(PropCliTest, AFoundRaceReplaysFromItsTokenThroughAiosimReplay) {
  const Result r = Cli({"prop", "notify", "--programs", "200", "--executions", "100",
                        "--quiet", "--json"});
  ASSERT_EQ(r.exit, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"found\": true")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"kind\": \"lost-wakeup\"")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"rc_params\": \"RC_PARAMS=")) << r.out;
  // The first failure is on stderr the moment it is found, before shrinking.
  EXPECT_TRUE(absl::StrContains(r.err, "first failure")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "replay: aiosim replay aiosim2:")) << r.err;
  const std::string token = JsonField(r.out, "token");
  ASSERT_FALSE(token.empty()) << r.out;
  const Result replay = Cli({"replay", token});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  EXPECT_TRUE(absl::StrContains(replay.out, "scenario prop-notify")) << replay.out;
  EXPECT_TRUE(absl::StrContains(replay.out, "C2: a wakeup was lost")) << replay.out;
}

// On QEMU 10.2: 'fixed' is 10.2 itself, and a race it has (S3 in strict mode) is
// found and replays as a modern execution from its token alone.
TEST(PropCliTest, ModernSuitesRunAndTheirTokensReplayOnModern) {
  const Result clean = Cli({"prop", "fd", "--generation", "modern", "--fix", "fixed",
                            "--programs", "5", "--executions", "20", "--quiet"});
  EXPECT_EQ(clean.exit, 0) << clean.out << clean.err;
  EXPECT_TRUE(absl::StrContains(clean.out, "prop fd (modern, documented, revert none, fix none)"))
      << clean.out;
  const Result r = Cli({"prop", "bh", "--generation", "modern", "--mode", "strict",
                        "--programs", "200", "--executions", "100", "--quiet", "--json"});
  ASSERT_EQ(r.exit, 1) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"generation\": \"modern\"")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"where\": \"properties:C3\"")) << r.out;
  const std::string token = JsonField(r.out, "token");
  ASSERT_FALSE(token.empty()) << r.out;
  const Result replay = Cli({"replay", token});
  EXPECT_EQ(replay.exit, 1) << replay.out << replay.err;
  EXPECT_TRUE(absl::StrContains(replay.out, "scenario prop-bh")) << replay.out;
  EXPECT_TRUE(absl::StrContains(replay.out, "generation=modern")) << replay.out;
  EXPECT_TRUE(absl::StrContains(replay.out, "C3: BH b")) << replay.out;
}

TEST(PropCliTest, BadInputIsOneLineAndExitTwo) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"prop"},
           {"prop", "nosuch"},
           {"prop", "bh", "--mode", "lax"},
           {"prop", "bh", "--revert", "R99"},
           {"prop", "bh", "--generation", "future"},
           {"prop", "bh", "--generation", "modern", "--fix", "R8"},  // 2.8.1's switch
           {"prop", "bh", "--programs", "0"},
           {"prop", "bh", "--ops", "13"},
           {"prop", "bh", "extra"}}) {
    const Result r = Cli(args);
    EXPECT_EQ(r.exit, 2) << args[args.size() - 1] << ": " << r.out << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, "aiosim prop: ")) << r.err;
  }
  // A malformed RC_PARAMS is bad input too (RapidCheck's own loader would throw it
  // out of main), and a run prints no RapidCheck banner with a seed it does not use.
  CliOptions bad;
  bad.env = {"RC_PARAMS=max_success=abc"};
  const Result r = CliWith({"prop", "bh", "--programs", "2", "--executions", "2"}, bad);
  EXPECT_EQ(r.exit, 2) << r.out << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.err, "aiosim prop: RC_PARAMS: ")) << r.err;
  const Result ok = Cli({"prop", "bh", "--programs", "2", "--executions", "2"});
  EXPECT_EQ(ok.exit, 0) << ok.out << ok.err;
  EXPECT_EQ(ok.err.find("Using configuration"), std::string::npos) << ok.err;
}

}  // namespace
}  // namespace aiosim::tools::testing
