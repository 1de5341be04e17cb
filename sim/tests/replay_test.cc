// sim/tests/replay_test.cc — tokens that know when they no longer fit: a replay of a
// changed program is replay-diverged and says where; deviations left over or never
// reached are divergences; the token's options are bounded like the command line's;
// an execution index of a random or PCT search is regenerated directly.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <atomic>
#include <string>

#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/random_pct.h"

namespace aiosim::sim {
namespace {

using namespace aiosim::core;  // NOLINT

// The test's switch: one more scheduling point in the program (a no-op load), as an
// edit of the code would add.
std::atomic<bool> g_extra_load{false};
std::atomic<int> g_runs{0};

void LostUpdate(SimContext& c) {
  g_runs++;
  Shared<int> counter{0};
  Shared<int> unrelated{0};
  auto inc = [&] {
    int v = counter.Load();
    if (g_extra_load) (void)unrelated.Load();
    counter.Store(v + 1);
  };
  Threads& t = c.platform().threads();
  int a = t.Spawn("a", inc, QEMU_THREAD_JOINABLE);
  int b = t.Spawn("b", inc, QEMU_THREAD_JOINABLE);
  t.Join(a);
  t.Join(b);
  c.Check(counter.Load() == 2, "both increments survive");
}

TokenData FoundToken() {
  g_extra_load = false;
  RunConfig config;
  config.scenario = "canary-lost-update";
  config.seed = 5;
  Report r = Explore(LostUpdate, config);
  EXPECT_TRUE(r.found);
  absl::StatusOr<TokenData> t = DecodeToken(r.token);
  EXPECT_TRUE(t.ok()) << t.status();
  return *t;
}

TEST(ReplayTest, TheTokenReplaysItsExecutionAndSaysNothingDiverged) {
  const TokenData token = FoundToken();
  absl::StatusOr<ReplayResult> again = ReplayToken(LostUpdate, token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result.failure.kind, FailureKind::kAssertion)
      << again->result.failure.message;
}

TEST(ReplayTest, AChangedProgramIsReplayDivergedWithWhere) {
  const TokenData token = FoundToken();
  g_extra_load = true;  // the program changed after the token was recorded
  absl::StatusOr<ReplayResult> again = ReplayToken(LostUpdate, token);
  g_extra_load = false;
  ASSERT_TRUE(again.ok()) << again.status();
  const Failure& f = again->result.failure;
  ASSERT_EQ(f.kind, FailureKind::kReplayDiverged) << f.message;
  EXPECT_NE(f.message.find("replay diverged"), std::string::npos) << f.message;
  // Where: a deviation or the step at which the trace first differs.
  EXPECT_TRUE(f.message.find("step") != std::string::npos) << f.message;
  ASSERT_FALSE(f.details.empty());
  EXPECT_NE(f.details[0].find("checkpoints"), std::string::npos) << f.details[0];
  std::printf("changed program: %s\n  %s\n", f.message.c_str(), f.details[0].c_str());
}

TEST(ReplayTest, DeviationsLeftOverOrNeverReachedAreDivergences) {
  TokenData token = FoundToken();
  TokenDeviation extra = token.deviations.back();
  extra.step += 100000;  // beyond the end of the execution
  extra.points += 100000;
  token.deviations.push_back(extra);
  absl::StatusOr<ReplayResult> again = ReplayToken(LostUpdate, token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result.failure.kind, FailureKind::kReplayDiverged);
  EXPECT_NE(again->result.failure.message.find("left over"), std::string::npos)
      << again->result.failure.message;

  token = FoundToken();
  token.deviations.front().step += 1;  // the point is reached at another step
  again = ReplayToken(LostUpdate, token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result.failure.kind, FailureKind::kReplayDiverged);
  EXPECT_NE(again->result.failure.message.find("deviation 1"), std::string::npos)
      << again->result.failure.message;
}

TEST(ReplayTest, AnotherOutcomeThanRecordedIsADivergence) {
  TokenData token = FoundToken();
  for (auto& [k, v] : token.options) {
    if (k == "expect-failure") v = "deadlock@00000000";
  }
  absl::StatusOr<ReplayResult> again = ReplayToken(LostUpdate, token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result.failure.kind, FailureKind::kReplayDiverged);
  EXPECT_NE(again->result.failure.message.find("deadlock"), std::string::npos);
}

TEST(ReplayTest, TokenOptionsAreBoundedLikeTheCommandLine) {
  for (auto [key, value] : std::initializer_list<std::pair<const char*, const char*>>{
           {"pct-depth", "2147483647"},
           {"pct-depth", "0"},
           {"preemptions", "65"},
           {"max-steps", "99999999999999999"},
           {"time-advances", "4294967296"},
           {"execution", "x"},
           {"races", "2"}}) {
    TokenData t;
    t.scenario = "S3";
    t.generation = "legacy";
    t.strategy = std::string(key).rfind("pct", 0) == 0 ? "pct" : "dfs";
    t.options = {{key, value}};
    RunConfig c;
    absl::Status s = ApplyTokenOptions(t, &c);
    EXPECT_FALSE(s.ok()) << key << "=" << value;
    EXPECT_EQ(s.message().substr(0, 7), "token: ") << s.message();
  }
  // A DFS index is replayed by running the search: a huge one is refused at once.
  TokenData t;
  t.scenario = "S3";
  t.generation = "legacy";
  t.strategy = "dfs";
  t.options = {{"execution", "999999999999"}, {"preemptions", "2"}};
  absl::StatusOr<ReplayResult> r = ReplayToken(LostUpdate, t);
  EXPECT_FALSE(r.ok());
}

TEST(ReplayTest, ARandomExecutionIndexIsRegeneratedDirectly) {
  // Execution 45,000 of seed 9: replaying its index token runs one execution, not
  // 45,001, and gives the same trace as the search's.
  RandomStrategy strategy(9);
  strategy.BeginExecution(45000);
  ExecResult want = RunExecution(LostUpdate, ExecOptions{}, &strategy);
  RunConfig config;
  config.scenario = "canary-lost-update";
  config.seed = 9;
  TokenData t = MakeIndexToken(config, strategy.ReproduceCurrent(45000));
  g_runs = 0;
  absl::StatusOr<ReplayResult> r = ReplayToken(LostUpdate, t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(g_runs.load(), 1);
  EXPECT_EQ(r->result.trace_hash, want.trace_hash);
  // PCT too, with the k recorded in the token.
  PctStrategy pct(9, 3, 40);
  pct.BeginExecution(777);
  ExecResult pct_want = RunExecution(LostUpdate, ExecOptions{}, &pct);
  config.strategy = "pct";
  config.pct_steps = 40;
  t = MakeIndexToken(config, pct.ReproduceCurrent(777));
  g_runs = 0;
  r = ReplayToken(LostUpdate, t);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(g_runs.load(), 1);
  EXPECT_EQ(r->result.trace_hash, pct_want.trace_hash);
}

}  // namespace
}  // namespace aiosim::sim
