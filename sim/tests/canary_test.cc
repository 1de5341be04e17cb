// sim/tests/canary_test.cc — canaries that must fail: they prove that each strategy
// and each detector really finds what it claims to find.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"

namespace aiosim::sim {
namespace {

using core::Shared;

// Two threads increment a Shared<int> without a lock: a lost update.
void LostUpdate(SimContext& c) {
  Shared<int> counter{0};
  auto inc = [&] {
    int v = counter.Load();
    counter.Store(v + 1);
  };
  core::Threads& threads = c.platform().threads();
  int a = threads.Spawn("a", inc, core::QEMU_THREAD_JOINABLE);
  int b = threads.Spawn("b", inc, core::QEMU_THREAD_JOINABLE);
  threads.Join(a);
  threads.Join(b);
  c.Check(counter.Load() == 2, "both increments survive");
}

Report Find(const std::string& strategy, bool races = false) {
  RunConfig config;
  config.scenario = "canary-lost-update";
  config.strategy = strategy;
  config.seed = 7;
  config.executions_max = 10000;
  config.preemptions = 2;
  config.exec.race_detection = races;
  return Explore(LostUpdate, config);
}

TEST(CanaryTest, RandomFindsTheLostUpdate) {
  Report r = Find("random");
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion);
  EXPECT_EQ(r.failing.preemptions, 1)
      << "minimised to a single preemption; was " << r.original_preemptions << " after "
      << r.minimize_executions << " runs\n"
      << FormatSchedule(r.failing);
}

TEST(CanaryTest, PctFindsTheLostUpdate) {
  Report r = Find("pct");
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion);
}

TEST(CanaryTest, ExhaustiveSearchFindsTheLostUpdateWithOnePreemption) {
  Report r = Find("dfs");
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion);
  EXPECT_LE(r.failing.preemptions, 1);
  EXPECT_LT(r.executions, 100u);
}

TEST(CanaryTest, TheRaceDetectorNamesBothAccesses) {
  Report r = Find("random", /*races=*/true);
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.failure.kind, FailureKind::kDataRace);
  ASSERT_EQ(r.failure.details.size(), 2u);
  EXPECT_NE(r.failure.details[0].find("canary_test.cc"), std::string::npos)
      << r.failure.details[0];
}

TEST(CanaryTest, TheTokenReplaysTheSameTrace) {
  Report r = Find("random");
  ASSERT_TRUE(r.found);
  absl::StatusOr<TokenData> token = DecodeToken(r.token);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<ReplayResult> again = ReplayToken(LostUpdate, *token);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->result.failure.kind, FailureKind::kAssertion)
      << again->result.failure.message;
  EXPECT_EQ(again->result.trace_hash, r.failing.trace_hash);
}

}  // namespace
}  // namespace aiosim::sim
