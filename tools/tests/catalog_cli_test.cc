// tools/tests/catalog_cli_test.cc — the catalog's commands as a user runs them: check,
// explore, claims, sweep and merge (issue 8), bad input included.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tools/tests/cli_util.h"

namespace aiosim::tools::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CatalogCliTest, CheckHoldsForS3AndR9WithTheirEvidence) {
  // A smaller random/PCT budget than the default: enough for these two.
  const Result r = Cli({"check", "S3", "R9", "--executions", "2000"});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "ok   S3 canceller=foreign: found assertion"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "S3 canceller=home: not found"));
  EXPECT_TRUE(absl::StrContains(r.out, "DFS exhausted at 2 preemptions")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "check: 5 cases, 5 ok, 0 failed")) << r.out;
  const Result json = Cli({"check", "R9", "--json", "--executions", "2000"});
  EXPECT_EQ(json.exit, 0);
  EXPECT_TRUE(absl::StrContains(json.out, "\"ok\": true")) << json.out;
}

TEST(CatalogCliTest, ExploreRunsTheBoundedSearchToItsEnd) {
  const Result r = Cli({"explore", "S3", "--preemptions", "1", "--token-file", ""});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;  // S3 needs two preemptions
  EXPECT_TRUE(absl::StrContains(r.out, "space exhausted")) << r.out;
  const Result found = Cli({"explore", "S3", "--preemptions", "2", "--token-file", ""});
  EXPECT_EQ(found.exit, 1) << found.out << found.err;
  EXPECT_TRUE(absl::StrContains(found.out, "reproduce: aiosim replay aiosim2:"));
}

// The search's saved work over --dfs-memory: the summary says it is not exhausted,
// how far it is complete and what was dropped, in text and JSON; the flag's bad
// values are one line.
TEST(CatalogCliTest, ExploreOverItsMemoryLimitSaysHowFarItIsComplete) {
  // R4 saves more than 1 MB for round 2 within its first few hundred executions.
  const Result r = Cli({"explore", "R4", "--preemptions", "2", "--dfs-memory", "1",
                        "--executions", "5000", "--token-file", ""});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_TRUE(
      absl::StrContains(r.out, "space not exhausted (every schedule with at most"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out,
                                "dfs memory:  the work saved for later rounds "
                                "reached its limit (--dfs-memory 1 MB)"))
      << r.out;
  const Result unlimited = Cli({"explore", "S3", "--preemptions", "2", "--option",
                                "canceller=home", "--token-file", ""});
  EXPECT_EQ(unlimited.exit, 0) << unlimited.out << unlimited.err;
  EXPECT_TRUE(absl::StrContains(unlimited.out,
                                "space exhausted (every schedule with at "
                                "most 2 preemptions ran)"))
      << unlimited.out;
  EXPECT_FALSE(absl::StrContains(unlimited.out, "dfs memory:")) << unlimited.out;
  const Result json = Cli({"explore", "R4", "--preemptions", "2", "--dfs-memory", "1",
                           "--executions", "5000", "--json", "--token-file", ""});
  EXPECT_EQ(json.exit, 0) << json.out << json.err;
  EXPECT_TRUE(absl::StrContains(json.out, "\"exhausted\": false")) << json.out;
  EXPECT_TRUE(absl::StrContains(json.out, "\"dfs_memory_mb\": 1")) << json.out;
  EXPECT_FALSE(absl::StrContains(json.out, "\"dfs_dropped\": 0,")) << json.out;
  // Run to its end: it ran all it kept, and says so (not "the time limit ended").
  const Result ended = Cli(
      {"explore", "R4", "--preemptions", "2", "--dfs-memory", "1", "--token-file", ""});
  EXPECT_EQ(ended.exit, 0) << ended.out << ended.err;
  EXPECT_TRUE(absl::StrContains(ended.out,
                                "the search ran every schedule it kept (it "
                                "dropped the rest at its memory limit)"))
      << ended.out;
  EXPECT_TRUE(absl::StrContains(ended.out,
                                "space not exhausted (every schedule with at "
                                "most 1 preemption ran)"))
      << ended.out;
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"run", "S3", "--strategy", "dfs", "--dfs-memory", "0"},
        std::vector<std::string>{"run", "S3", "--dfs-memory", "64"}}) {
    const Result b = Cli(bad);
    EXPECT_EQ(b.exit, 2) << b.out << b.err;
    EXPECT_EQ(std::count(b.err.begin(), b.err.end(), '\n'), 1) << b.err;
    EXPECT_TRUE(absl::StrContains(b.err, "--dfs-memory")) << b.err;
  }
}

TEST(CatalogCliTest, ClaimsPrintAVerdictWithEvidence) {
  const Result md =
      Cli({"claims", "S3", "--format", "md", "--quiet", "--executions", "2000"});
  EXPECT_EQ(md.exit, 0) << md.out << md.err;
  EXPECT_TRUE(absl::StrContains(md.out, "| S3 |")) << md.out;
  EXPECT_TRUE(absl::StrContains(md.out, "**documented race**")) << md.out;
  EXPECT_TRUE(absl::StrContains(md.out, "DFS exhausted at 2 preemptions")) << md.out;
  const Result text = Cli({"claims", "S3", "--quiet", "--executions", "2000"});
  EXPECT_EQ(text.exit, 0) << text.out << text.err;
  EXPECT_TRUE(absl::StrContains(text.out, "S3  DOCUMENTED RACE")) << text.out;
}

// The same claims asked of QEMU 10.2: S3 still a documented race (its scenario runs on
// modern), S4 not run there yet (the pool), which counts neither way.
TEST(CatalogCliTest, ClaimsOnModernSayWhereTheyStandOrWhyNot) {
  const Result r = Cli({"claims", "S3", "S7", "--generation", "modern", "--quiet",
                        "--executions", "2000"});
  EXPECT_EQ(r.exit, 0) << r.out << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "asked of QEMU 10.2")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "S3  DOCUMENTED RACE")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "S3 canceller=foreign generation=modern: found "))
      << r.out;
  // S7 on 10.2: the spawn rule holds and a foreign submit fails QEMU's assertion.
  EXPECT_TRUE(absl::StrContains(r.out, "S7  CONFIRMED")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "S7 generation=modern submitter=foreign: found "))
      << r.out;
  const Result bad = Cli({"claims", "--generation", "future"});
  EXPECT_EQ(bad.exit, 2);
  EXPECT_TRUE(absl::StartsWith(bad.err, "aiosim claims: --generation future")) << bad.err;
}

TEST(CatalogCliTest, TwoShardsMergedEqualOneUnshardedSweepByteForByte) {
  const std::string dir = TestDir();
  const std::vector<std::string> sweep = {"sweep", "R9",           "S3", "--seeds",
                                          "1..7",  "--executions", "150"};
  auto with = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = sweep;
    args.insert(args.end(), extra.begin(), extra.end());
    return Cli(args);
  };
  const Result whole = with({"--out", dir + "/whole.json"});
  EXPECT_EQ(whole.exit, 1) << whole.err;  // R9 and S3 foreign fail: found
  const Result a = with({"--shard", "1/2", "--out", dir + "/a.json"});
  const Result b = with({"--shard", "2/2", "--jobs", "2", "--out", dir + "/b.json"});
  ASSERT_NE(a.exit, 2) << a.err;
  ASSERT_NE(b.exit, 2) << b.err;
  const Result merged =
      Cli({"merge", dir + "/b.json", dir + "/a.json", "--out", dir + "/merged.json"});
  EXPECT_EQ(merged.exit, 1) << merged.err;
  const std::string want = Slurp(dir + "/whole.json");
  ASSERT_FALSE(want.empty());
  EXPECT_EQ(Slurp(dir + "/merged.json"), want);
  EXPECT_NE(Slurp(dir + "/a.json"), want);
  // Parallel workers give the same bytes as one.
  const Result jobs = with({"--jobs", "3", "--out", dir + "/jobs.json"});
  EXPECT_EQ(Slurp(dir + "/jobs.json"), want) << jobs.err;

  // Refused: a missing shard, a shard twice, shards of another sweep.
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"merge", dir + "/a.json", "--out", dir + "/x.json"}, "shard 2/2 is missing"},
           {{"merge", dir + "/a.json", dir + "/a.json", "--out", dir + "/x.json"},
            "given twice"},
           {{"merge", dir + "/a.json", dir + "/whole.json", "--out", dir + "/x.json"},
            "another sweep"},
       }) {
    const Result r = Cli(args);
    EXPECT_EQ(r.exit, 2) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, message)) << r.err;
    EXPECT_EQ(r.ErrLines().size(), 1u) << r.err;
  }
}

TEST(CatalogCliTest, BadInputIsOneLineAndExitTwo) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"check", "S99"}, "aiosim check: unknown scenario 'S99'"},
      {{"check", "--executions", "0"}, "aiosim check: --executions:"},
      {{"claims", "S9"}, "aiosim claims: unknown claim 'S9'"},
      {{"claims", "--format", "html"}, "aiosim claims: --format:"},
      {{"explore", "S3", "--strategy", "pct"},
       "aiosim explore: --strategy is always dfs"},
      {{"sweep", "R9", "--out", "x.json"}, "aiosim sweep: --seeds A..B is required"},
      {{"sweep", "R9", "--seeds", "5..1", "--out", "x.json"}, "aiosim sweep: --seeds:"},
      {{"sweep", "R9", "--seeds", "1..2", "--shard", "3/2", "--out", "x.json"},
       "aiosim sweep: --shard:"},
      {{"sweep", "R9", "--seeds", "1..2", "--strategy", "dfs", "--out", "x.json"},
       "aiosim sweep: --strategy:"},
      {{"sweep", "--seeds", "1..2", "--out", "x.json"},
       "aiosim sweep: name the scenarios"},
      {{"merge", "--out", "x.json"}, "aiosim merge: no input files"},
      {{"merge", "/nonexistent.json", "--out", "x.json"}, "aiosim merge: cannot read"},
  };
  for (const auto& [args, start] : cases) {
    const Result r = Cli(args);
    EXPECT_EQ(r.exit, 2) << args[0] << "\n" << r.err;
    EXPECT_EQ(r.ErrLines().size(), 1u) << args[0] << "\n" << r.err;
    EXPECT_TRUE(absl::StartsWith(r.err, start)) << r.err;
  }
}

}  // namespace
}  // namespace aiosim::tools::testing
