// tools/tests/cli_test.cc — the `aiosim` command line, end to end: each test runs the
// built binary (AIOSIM_CLI_PATH) as a subprocess and checks its exit code, stdout and
// stderr. Every run gets its own TMPDIR (cli_util.h), so the default token files of
// tests running in parallel never meet. The token file, signals and output errors
// are in run_robust_test.cc.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "scenarios/catalog.h"
#include "scenarios/races.h"
#include "sim/token.h"
#include "tools/tests/cli_util.h"

namespace {

namespace sim = aiosim::sim;
using aiosim::tools::testing::Cli;
using aiosim::tools::testing::IsJson;
using aiosim::tools::testing::JsonField;
using aiosim::tools::testing::Result;
using aiosim::tools::testing::TestDir;
using aiosim::tools::testing::TokenOf;
using aiosim::tools::testing::TraceHashOf;
namespace scenarios = aiosim::scenarios;

// "S1, S2, ..." in catalog order, as unknown-scenario errors list them.
std::string CatalogIds() {
  std::vector<std::string> ids;
  for (const scenarios::Scenario& s : scenarios::Catalog()) ids.push_back(s.id);
  return absl::StrJoin(ids, ", ");
}

TEST(CliTest, ListNamesTheCatalogWithDeclaredOutcomes) {
  const Result r = Cli({"list"});
  EXPECT_EQ(r.exit, 0) << r.err;
  // One line per scenario, in catalog order, each starting with its id; then one per
  // race of QEMU's history with its status in 2.8.1.
  const std::vector<std::string> lines = r.OutLines();
  const size_t n = scenarios::Catalog().size();
  ASSERT_EQ(lines.size(), n + scenarios::Races().size()) << r.out;
  for (size_t i = 0; i < n; i++) {
    EXPECT_TRUE(absl::StartsWith(lines[i], scenarios::Catalog()[i].id + " ")) << lines[i];
  }
  for (size_t i = 0; i < scenarios::Races().size(); i++) {
    EXPECT_TRUE(absl::StartsWith(lines[n + i], scenarios::Races()[i].id + " "))
        << lines[n + i];
  }
  EXPECT_TRUE(absl::StrContains(r.out, "R8  needs weak memory in 2.8.1:")) << r.out;
  EXPECT_TRUE(
      absl::StrContains(r.out, "S3  a BH runs after qemu_bh_cancel returned; for: S3"))
      << r.out;
  EXPECT_TRUE(
      absl::StrContains(r.out, "canceller=foreign: assertion; canceller=home: none"));
  EXPECT_TRUE(absl::StrContains(r.out, "revert=R4: lost-wakeup"));
  // Each line also says how it stands on the modern generation (QEMU 10.2).
  EXPECT_TRUE(absl::StrContains(
      r.out, "modern: runs (--generation modern), expected: canceller=foreign: assertion; "
             "canceller=home: none"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "; fixed in 10.2: aio_bh_enqueue loads bh->ctx"));
  EXPECT_TRUE(absl::StrContains(r.out, "; n/a in 10.2: QEMU 8.2 removed is_external"));

  const Result json = Cli({"list", "--json"});
  EXPECT_EQ(json.exit, 0) << json.err;
  EXPECT_TRUE(IsJson(json.out)) << json.out;
}

TEST(CliTest, RunFindsS3AndEndsWithTheReproduceLine) {
  const Result r = Cli({"run", "S3", "--strategy", "dfs"});
  EXPECT_EQ(r.exit, 1) << r.err;
  ASSERT_FALSE(r.OutLines().empty());
  EXPECT_TRUE(absl::StartsWith(r.OutLines().back(), "reproduce: aiosim replay aiosim2:"))
      << r.out;
  EXPECT_TRUE(absl::StartsWith(r.out, "aiosim run: scenario S3 (canceller=foreign)"));
  EXPECT_TRUE(absl::StrContains(r.out, "FAILURE assertion: "));
  EXPECT_TRUE(absl::StrContains(r.out, "outcome:     expected"));
  EXPECT_TRUE(absl::StrContains(r.out, "-- thread 1 (vcpu)"));  // the schedule
}

TEST(CliTest, ReplayPrintsTheTraceHashThatRunReported) {
  const Result run = Cli({"run", "S3", "--strategy", "dfs", "--json"});
  ASSERT_EQ(run.exit, 1) << run.err;
  ASSERT_TRUE(IsJson(run.out)) << run.out;
  const std::string token = JsonField(run.out, "token");
  const std::string hash = JsonField(run.out, "trace_hash");
  ASSERT_TRUE(absl::StartsWith(token, "aiosim2:")) << run.out;
  ASSERT_EQ(hash.size(), 18u) << run.out;

  const Result replay = Cli({"replay", token});
  EXPECT_EQ(replay.exit, 1) << replay.err;
  EXPECT_EQ(TraceHashOf(replay), hash) << replay.out;
  EXPECT_TRUE(absl::StrContains(replay.out, "FAILURE assertion: "));

  // The text run prints the same token and hash; so does the token file's replay.
  const Result text = Cli({"run", "S3", "--strategy", "dfs"});
  EXPECT_EQ(TokenOf(text), token);
  EXPECT_EQ(TraceHashOf(text), hash);
  const Result from_file = Cli({"replay", JsonField(run.out, "token_file")});
  EXPECT_EQ(from_file.exit, 1) << from_file.err;
  EXPECT_EQ(TraceHashOf(from_file), hash);

  const Result json = Cli({"replay", token, "--json"});
  EXPECT_EQ(json.exit, 1);
  EXPECT_TRUE(IsJson(json.out)) << json.out;
  EXPECT_EQ(JsonField(json.out, "trace_hash"), hash);
}

// The modern generation (QEMU 10.2): the same claim S3, the generation in the header,
// the options and the token, and a replay of that token on the modern core.
TEST(CliTest, RunS3OnModernFindsItAndItsTokenReplaysOnModern) {
  const Result run = Cli({"run", "S3", "--generation", "modern", "--strategy", "dfs",
                          "--token-file", ""});
  ASSERT_EQ(run.exit, 1) << run.err;
  EXPECT_TRUE(absl::StartsWith(
      run.out, "aiosim run: scenario S3 (canceller=foreign generation=modern), "
               "generation modern"))
      << run.out;
  EXPECT_TRUE(absl::StrContains(run.out, " modern/async.cc:")) << run.out;
  const std::string token = TokenOf(run);
  const Result replay = Cli({"replay", token});
  EXPECT_EQ(replay.exit, 1) << replay.err;
  EXPECT_TRUE(absl::StrContains(replay.out, "generation modern")) << replay.out;
  EXPECT_EQ(TraceHashOf(replay), TraceHashOf(run));
  EXPECT_TRUE(absl::StrContains(replay.out, "FAILURE assertion: "));
}

TEST(CliTest, TheTokenFileReplaysTheLastExecutionOfEveryStrategy) {
  for (const char* strategy : {"random", "pct", "dfs"}) {
    const Result run =
        Cli({"run", "R4", "--strategy", strategy, "--executions", "7", "--json"});
    ASSERT_EQ(run.exit, 0) << strategy << ": " << run.err;
    const Result replay = Cli({"replay", JsonField(run.out, "token_file")});
    EXPECT_EQ(replay.exit, 0) << strategy << ": " << replay.err;
    EXPECT_EQ(TraceHashOf(replay), JsonField(run.out, "trace_hash")) << strategy;
  }
}

TEST(CliTest, RunR4WithTheFixFindsNothing) {
  const Result r = Cli({"run", "R4", "--revert", "none", "--executions", "500"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "no failure found: 500 executions")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "outcome:     expected")) << r.out;
}

TEST(CliTest, RunR4WithTheFixRevertedAsJson) {
  const Result r = Cli({"run", "R4", "--revert", "R4", "--strategy", "dfs", "--json"});
  EXPECT_EQ(r.exit, 1) << r.err;
  EXPECT_TRUE(IsJson(r.out)) << r.out;
  for (const char* field :
       {"\"found\": true", "\"kind\": \"lost-wakeup\"",
        "\"expected_kind\": \"lost-wakeup\"", "\"scenario\": \"R4\"",
        "\"options\": {\"revert\": \"R4\"}", "\"strategy\": \"dfs\"", "\"seed\": 1",
        "\"executions\": ", "\"executions_per_second\": ", "\"preemptions\": ",
        "\"steps\": ", "\"message\": "}) {
    EXPECT_TRUE(absl::StrContains(r.out, field)) << field << " in\n" << r.out;
  }
  EXPECT_TRUE(absl::StartsWith(JsonField(r.out, "token"), "aiosim2:"));
}

TEST(CliTest, FlagsTakeTheirValueInEitherForm) {
  const Result spaced = Cli({"run", "R9", "--seed", "5", "--executions", "50", "--json"});
  const Result joined = Cli({"run", "R9", "--seed=5", "--executions=50", "--json"});
  EXPECT_EQ(spaced.exit, 1) << spaced.err;
  EXPECT_EQ(joined.exit, 1) << joined.err;
  EXPECT_EQ(JsonField(spaced.out, "token"), JsonField(joined.out, "token"));
}

TEST(CliTest, BadInputExitsTwoWithOneLineOnStderr) {
  const Result run = Cli({"run", "S3", "--strategy", "dfs"});
  std::string corrupt = TokenOf(run);
  ASSERT_GT(corrupt.size(), 20u);
  corrupt[20] = corrupt[20] == 'A' ? 'B' : 'A';
  sim::TokenData unknown;
  unknown.scenario = "S99";
  unknown.generation = "legacy";
  unknown.strategy = "random";
  sim::TokenData future = unknown;
  future.scenario = "S3";
  future.generation = "future";
  // A token whose generation field says modern while its options do not.
  sim::TokenData modern = unknown;
  modern.scenario = "S3";
  modern.generation = "modern";

  struct Case {
    std::vector<std::string> args;
    std::string stderr_start;
  };
  const Case cases[] = {
      {{"run", "S99"},
       "aiosim run: unknown scenario 'S99' (expected one of: " + CatalogIds() + ")"},
      {{"run", "S3", "--strategy", "bogus"}, "aiosim run: unknown strategy 'bogus'"},
      {{"run", "S3", "--seed", "abc"}, "aiosim run: --seed: 'abc' is not a number"},
      {{"run", "S3", "--revert", "R4"}, "aiosim run: scenario S3 has no fix to revert"},
      {{"run", "R4", "--revert", "R5"}, "aiosim run: scenario R4: --revert R5 is not a"},
      {{"run", "R4", "--fix", "R8"}, "aiosim run: scenario R4 has no later fix to apply"},
      {{"run", "S3", "--option", "bogus=1"}, "aiosim run: scenario S3 has no option"},
      {{"run", "S3", "--bogus"},
       "aiosim run: unknown flag '--bogus' (see 'aiosim run --help')"},
      {{"run", "S3", "--seed"}, "aiosim run: flag '--seed' needs a value"},
      {{"run"}, "aiosim run: missing scenario"},
      {{"replay", corrupt}, "aiosim replay: token: "},
      {{"replay", TestDir() + "/no-such.token"}, "aiosim replay: token file '"},
      {{"replay", sim::EncodeToken(unknown)},
       "aiosim replay: token: unknown scenario 'S99'"},
      {{"replay", sim::EncodeToken(future)}, "aiosim replay: token: generation 'future'"},
      {{"replay", sim::EncodeToken(modern)},
       "aiosim replay: token: its generation 'modern' and its options"},
      {{"run", "R10", "--generation", "modern"},
       "aiosim run: scenario R10 does not run on the modern generation"},
      {{"run", "S3", "--generation", "future"}, "aiosim run: --generation future"},
      {{"run", "R1", "--revert", "R1", "--generation", "modern"},
       "aiosim run: scenario R1: --revert R1 switches QEMU 2.8.1's code only (the legacy "
       "generation); on modern: --revert R6, --revert R18-done-ev"},
      {{"run", "S7", "--option", "submitter=foreign-acquired", "--generation", "modern"},
       "aiosim run: scenario S7: submitter=foreign-acquired is legacy only: "
       "aio_context_acquire was removed in QEMU 9.0"},
      {{"check", "--generation", "x"}, "aiosim check: --generation x: unknown generation"},
      {{"sweep", "R10", "--generation", "modern", "--seeds", "1..2", "--out", "-"},
       "aiosim sweep: scenario R10 does not run on the modern generation"},
      {{"check-determinism", "R9", "--seeds", "x"},
       "aiosim check-determinism: --seeds: "},
      {{"list", "extra"}, "aiosim list: unexpected argument 'extra'"},
      {{"bogus"}, "aiosim: unknown command 'bogus'"},
  };
  for (const Case& c : cases) {
    const Result r = Cli(c.args);
    const std::string what = c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : "");
    EXPECT_EQ(r.exit, 2) << what << "\n" << r.out << r.err;
    EXPECT_EQ(r.ErrLines().size(), 1u) << what << "\n" << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, c.stderr_start)) << what << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << what << "\n" << r.out;
  }
}

TEST(CliTest, CheckDeterminismPassesForR9) {
  const Result r = Cli({"check-determinism", "R9", "--seeds", "50"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "determinism: 50 seeds, 0 mismatches")) << r.out;
}

TEST(CliTest, CheckDeterminismOnModernSaysSo) {
  const Result r = Cli({"check-determinism", "M1", "--generation", "modern", "--seeds", "20"});
  EXPECT_EQ(r.exit, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "scenario M1 (generation=modern), generation modern"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "determinism: 20 seeds, 0 mismatches")) << r.out;
}

TEST(CliTest, HelpWorksEverywhere) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"help", "run"},
                                             {"run", "--help"},
                                             {"run", "S3", "-h"},
                                             {"help", "replay"},
                                             {"check-determinism", "--help"},
                                             {"list", "--help"},
                                             {"help", "demo"},
                                             {"help", "version"},
                                             {"version", "--help"},
                                             {"--help"}}) {
    const Result r = Cli(args);
    EXPECT_EQ(r.exit, 0) << args[0] << r.err;
    EXPECT_TRUE(absl::StartsWith(r.out, "usage: aiosim")) << args[0] << r.out;
  }
}

TEST(CliTest, DemoStillWorks) {
  const Result text = Cli({"demo"});
  EXPECT_EQ(text.exit, 0) << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "summary: all 8 steps ok")) << text.out;
  const Result json = Cli({"demo", "--json"});
  EXPECT_EQ(json.exit, 0) << json.err;
  EXPECT_TRUE(IsJson(json.out)) << json.out;
  const Result bad = Cli({"demo", "--bogus"});
  EXPECT_EQ(bad.exit, 2);
  EXPECT_EQ(bad.ErrLines().size(), 1u) << bad.err;
}

}  // namespace
