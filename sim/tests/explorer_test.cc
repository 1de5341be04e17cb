// sim/tests/explorer_test.cc — strategies, budgets, minimisation and determinism.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/random_pct.h"

namespace aiosim::sim {
namespace {

using core::Atomic;
using core::QemuMutex;
using core::Shared;

// Three threads, each 25 times: lock; read and write a Shared<int>; unlock; relaxed
// fetch_add on an Atomic<int> (the standard benchmark workload). Correct: no failure.
void Standard(SimContext& c) {
  QemuMutex m;
  Shared<int> value{0};
  Atomic<int> counter{0};
  auto work = [&] {
    for (int i = 0; i < 25; i++) {
      core::qemu_mutex_lock(&m);
      value.Store(value.Load() + 1);
      core::qemu_mutex_unlock(&m);
      core::atomic_fetch_add(&counter, 1);
    }
  };
  core::Threads& t = c.platform().threads();
  int ids[3];
  for (int& id : ids) id = t.Spawn("worker", work, core::QEMU_THREAD_JOINABLE);
  for (int id : ids) t.Join(id);
  c.Check(value.Load() == 75 && core::atomic_read(&counter) == 75,
          "all increments counted");
}

TEST(ExplorerTest, ACorrectProgramHasNoFailureUnderEveryStrategy) {
  for (const char* strategy : {"random", "pct"}) {
    RunConfig config;
    config.strategy = strategy;
    config.executions_max = 300;
    config.exec.race_detection = true;
    Report r = Explore(Standard, config);
    EXPECT_FALSE(r.found) << strategy << ": " << r.failure.message;
    EXPECT_EQ(r.executions, 300u);
  }
}

TEST(ExplorerTest, DeterminismHoldsOverManySeeds) {
  ExecOptions o;
  o.race_detection = true;
  EXPECT_TRUE(DeterminismCheck(Standard, o, 1, 200).empty());
}

// Points inside a quantum take the inline path (FastPoint; SyncFastPoint with the race
// detector's edge for a mutex, with the detector on) unless the trace is being
// recorded; and the random walk's choices (the schedule choice in ChooseFast, the
// waiter choice in WakeOne) are answered inline, without options or locations, unless
// deviations are recorded (a trace records them too). Every path must make the same
// execution, choice for choice (the token is made of the choices), and find the same
// races.
class FastAndFullPointPaths : public ::testing::TestWithParam<bool> {};
INSTANTIATE_TEST_SUITE_P(Races, FastAndFullPointPaths, ::testing::Bool());

TEST_P(FastAndFullPointPaths, MakeIdenticalExecutions) {
  size_t waiter_choices = 0;
  for (uint64_t seed = 1; seed <= 200; seed++) {
    // 0: all inline; 1: deviations recorded (the full choice, points still inline);
    // 2: the trace recorded (the full path at every point, and the full choice).
    ExecResult r[3];
    for (int mode = 0; mode < 3; mode++) {
      ExecOptions o;
      o.race_detection = GetParam();
      o.record_deviations = mode == 1;
      o.record_trace = mode == 2;
      RandomStrategy s(seed);
      s.BeginExecution(seed);  // every quantum size (index % 4) is covered
      r[mode] = RunExecution(Standard, o, &s);
    }
    ASSERT_EQ(r[0].failure.kind, FailureKind::kNone);
    for (int mode = 1; mode < 3; mode++) {
      EXPECT_EQ(r[0].failure.kind, r[mode].failure.kind) << "seed " << seed;
      EXPECT_EQ(r[0].steps, r[mode].steps) << "seed " << seed << " mode " << mode;
      EXPECT_EQ(r[0].trace_hash, r[mode].trace_hash)
          << "seed " << seed << " mode " << mode;
      EXPECT_EQ(r[0].preemptions, r[mode].preemptions)
          << "seed " << seed << " mode " << mode;
      ASSERT_EQ(r[0].choices.size(), r[mode].choices.size())
          << "seed " << seed << " mode " << mode;
      // The first choice that differs, if any (one line, not one per later choice).
      size_t i = 0;
      while (i < r[0].choices.size() && r[0].choices[i] == r[mode].choices[i]) i++;
      EXPECT_EQ(i, r[0].choices.size())
          << "seed " << seed << " mode " << mode << ": choice " << i << " differs";
    }
    for (const ChoiceRecord& c : r[0].choices) {
      waiter_choices += c.kind == ChoiceKind::kWakeWaiter ? 1 : 0;
    }
    size_t ops = 0;
    for (const TraceEvent& e : r[2].trace) ops += e.kind == TraceKind::kOp;
    EXPECT_EQ(ops, r[2].steps) << "every point recorded";
  }
  EXPECT_GT(waiter_choices, 0u) << "the workload never chose among waiters";
}

TEST(ExplorerTest, ExhaustiveSearchOfTwoThreadsFinishesAndPrunesOnlyWhenUnbounded) {
  // Two threads, two independent writes each: under a bound every schedule runs once
  // (no sleep sets); unbounded, sleep sets prune the reorderings of independent writes.
  auto body = [](SimContext& c) {
    Shared<int> x{0}, y{0}, z{0}, w{0};
    core::Threads& t = c.platform().threads();
    int a = t.Spawn(
        "a",
        [&] {
          x.Store(1);
          y.Store(1);
        },
        core::QEMU_THREAD_JOINABLE);
    int b = t.Spawn(
        "b",
        [&] {
          z.Store(1);
          w.Store(1);
        },
        core::QEMU_THREAD_JOINABLE);
    t.Join(a);
    t.Join(b);
  };
  RunConfig config;
  config.strategy = "dfs";
  config.preemptions = 64;  // more than any schedule here needs: every schedule runs
  config.executions_max = 100000;
  Report bounded = Explore(body, config);
  EXPECT_FALSE(bounded.found) << bounded.failure.message;
  EXPECT_TRUE(bounded.exhausted);
  EXPECT_EQ(bounded.figures.pruned, 0u);
  config.preemptions = kUnboundedPreemptions;
  Report unbounded = Explore(body, config);
  EXPECT_FALSE(unbounded.found) << unbounded.failure.message;
  EXPECT_TRUE(unbounded.exhausted);
  EXPECT_GT(unbounded.figures.pruned, 0u);
  EXPECT_LT(unbounded.executions, bounded.executions);
}

TEST(ExplorerTest, DeadlockIsReportedWithWhatEachThreadWaitsFor) {
  auto body = [](SimContext& c) {
    QemuMutex a, b;
    core::Threads& t = c.platform().threads();
    int x = t.Spawn(
        "x",
        [&] {
          core::qemu_mutex_lock(&a);
          core::qemu_mutex_lock(&b);
          core::qemu_mutex_unlock(&b);
          core::qemu_mutex_unlock(&a);
        },
        core::QEMU_THREAD_JOINABLE);
    int y = t.Spawn(
        "y",
        [&] {
          core::qemu_mutex_lock(&b);
          core::qemu_mutex_lock(&a);
          core::qemu_mutex_unlock(&a);
          core::qemu_mutex_unlock(&b);
        },
        core::QEMU_THREAD_JOINABLE);
    t.Join(x);
    t.Join(y);
  };
  RunConfig config;
  config.strategy = "dfs";
  config.preemptions = 1;
  Report r = Explore(body, config);
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.failure.kind, FailureKind::kDeadlock);
  EXPECT_GE(r.failure.details.size(), 2u);
}

TEST(ExplorerTest, StepBoundCatchesALivelock) {
  auto body = [](SimContext& c) {
    Atomic<int> flag{0};
    while (core::atomic_read(&flag) == 0) {
    }
    (void)c;
  };
  RunConfig config;
  config.exec.max_steps = 1000;
  Report r = Explore(body, config);
  ASSERT_TRUE(r.found);
  EXPECT_EQ(r.failure.kind, FailureKind::kStepBound);
}

}  // namespace
}  // namespace aiosim::sim
