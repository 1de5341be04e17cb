// sim/tests/dfs_oracle_test.cc — the bounded exhaustive search against a brute-force
// oracle (oracle.h): the counterexamples that broke the sleep-set search, and a
// differential test over generated small programs at bounds 1, 2 and unbounded.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/dfs.h"
#include "sim/rng.h"
#include "sim/tests/oracle.h"
#include "sim/tests/scale.h"

namespace aiosim::sim {
namespace {

using core::Atomic;
using core::QemuEvent;
using core::QemuMutex;
using core::Shared;
using testing::OracleStrategy;
using testing::Outcomes;
using testing::RunAll;

// The first counterexample: two threads parked on independent events, a
// third releases both; b does y=1; seen=y, a does y=2; the check seen != 2 fails with
// one preemption.
void ParkedPair(SimContext& c) {
  QemuEvent ea(false), eb(false);
  Shared<int> y{0}, seen{0};
  core::Threads& t = c.platform().threads();
  int a = t.Spawn(
      "a",
      [&] {
        core::qemu_event_wait(&ea);
        y.Store(2);
      },
      core::QEMU_THREAD_JOINABLE);
  int b = t.Spawn(
      "b",
      [&] {
        core::qemu_event_wait(&eb);
        y.Store(1);
        seen.Store(y.Load());
      },
      core::QEMU_THREAD_JOINABLE);
  int r = t.Spawn(
      "release",
      [&] {
        core::qemu_event_set(&ea);
        core::qemu_event_set(&eb);
      },
      core::QEMU_THREAD_JOINABLE);
  t.Join(a);
  t.Join(b);
  t.Join(r);
  c.Check(seen.Load() != 2, "b saw a's store between its own store and load");
}

// A variant that needs two preemptions: a's store must land between b's store and
// load (b preempted), and a must read b's result before a goes on (a preempted).
void ParkedChain(SimContext& c) {
  QemuEvent ea(false), eb(false);
  Shared<int> y{0}, seen{0}, observed{0};
  core::Threads& t = c.platform().threads();
  int a = t.Spawn(
      "a",
      [&] {
        core::qemu_event_wait(&ea);
        y.Store(2);
        observed.Store(seen.Load());
      },
      core::QEMU_THREAD_JOINABLE);
  int b = t.Spawn(
      "b",
      [&] {
        core::qemu_event_wait(&eb);
        y.Store(1);
        seen.Store(y.Load());
      },
      core::QEMU_THREAD_JOINABLE);
  int r = t.Spawn(
      "release",
      [&] {
        core::qemu_event_set(&ea);
        core::qemu_event_set(&eb);
      },
      core::QEMU_THREAD_JOINABLE);
  t.Join(a);
  t.Join(b);
  t.Join(r);
  c.Check(observed.Load() != 2, "a saw b's result of a's own store");
}

int FewestPreemptionsOfAFailure(const Outcomes& o) {
  int best = 1 << 30;
  for (const auto& [name, p] : o.min_preemptions) {
    if (name.rfind("assertion", 0) == 0) best = std::min(best, p);
  }
  return best;
}

Outcomes Dfs(const Body& body, int bound, const std::string* observed) {
  DfsStrategy dfs(bound);
  return RunAll(body, ExecOptions{}, &dfs, observed, 10'000'000);
}
Outcomes Oracle(const Body& body, int bound, const std::string* observed) {
  OracleStrategy oracle(bound);
  return RunAll(body, ExecOptions{}, &oracle, observed, 10'000'000);
}

TEST(DfsOracleTest, CounterexamplesAreFoundAtTheBoundTheOracleNeeds) {
  const std::string none = "ok";
  struct Case {
    const char* name;
    Body body;
    int needs;
  };
  for (const Case& k :
       {Case{"parked pair", ParkedPair, 1}, Case{"parked chain", ParkedChain, 2}}) {
    // (The whole space is too large for the oracle; up to the bound it is not.)
    const Outcomes oracle = Oracle(k.body, k.needs, &none);
    ASSERT_TRUE(oracle.complete);
    ASSERT_EQ(FewestPreemptionsOfAFailure(oracle), k.needs) << k.name;
    for (int bound = 0; bound <= 2; bound++) {
      const Outcomes dfs = Dfs(k.body, bound, &none);
      const Outcomes exact = Oracle(k.body, bound, &none);
      EXPECT_TRUE(dfs.complete) << k.name << " bound " << bound;
      EXPECT_EQ(dfs.executions, exact.executions) << k.name << " bound " << bound;
      const bool found = FewestPreemptionsOfAFailure(dfs) <= bound;
      EXPECT_EQ(found, bound >= k.needs) << k.name << " bound " << bound;
    }
    // And through the explorer, as a user runs it: found with the fewest preemptions,
    // or "exhausted" without it.
    RunConfig config;
    config.strategy = "dfs";
    config.executions_max = 1'000'000;
    config.preemptions = k.needs - 1;
    Report below = Explore(k.body, config);
    EXPECT_FALSE(below.found) << k.name;
    EXPECT_TRUE(below.exhausted) << k.name;
    config.preemptions = k.needs;
    Report at = Explore(k.body, config);
    ASSERT_TRUE(at.found) << k.name;
    EXPECT_EQ(at.original_preemptions, k.needs) << k.name;
    EXPECT_EQ(at.failing.preemptions, k.needs) << k.name;
  }
}

// ---- generated programs
// ----------------------------------------------------------------

// A small program: 2 or 3 threads, each 2..4 operations over two atomics, one plain
// variable and one mutex. Every value a thread reads is recorded; the outcome is the
// reads and the final values.
struct Op {
  enum Kind { kLoad, kStore, kRmw, kFence, kLocked, kPlainLoad, kPlainStore } kind;
  int var;    // 0 or 1: the atomics; the plain variable for the plain kinds
  int value;  // kStore / kPlainStore
};
struct Program {
  std::vector<std::vector<Op>> threads;
};

std::string ProgramText(const Program& p) {
  static const char* kNames[] = {"load",   "store", "rmw",   "fence",
                                 "locked", "pload", "pstore"};
  std::string out;
  for (size_t t = 0; t < p.threads.size(); t++) {
    absl::StrAppend(&out, "T", t, ":");
    for (const Op& op : p.threads[t]) {
      absl::StrAppend(&out, " ", kNames[op.kind], "(", op.var, ",", op.value, ")");
    }
    absl::StrAppend(&out, "; ");
  }
  return out;
}

// 2 or 3 threads of 2..4 operations (3 threads: 2..3), or, `small`, 2 threads of 2..3.
Program Generate(Rng* rng, bool small) {
  Program p;
  const int threads = small ? 2 : 2 + static_cast<int>(rng->Below(2));
  for (int t = 0; t < threads; t++) {
    std::vector<Op> ops;
    const int n = 2 + static_cast<int>(rng->Below(small || threads == 3 ? 2 : 3));
    for (int i = 0; i < n; i++) {
      // Small programs leave out the critical section (five points).
      Op::Kind kind = static_cast<Op::Kind>(rng->Below(small ? 6 : 7));
      if (small && kind == Op::kLocked) kind = Op::kPlainStore;
      Op op{kind, static_cast<int>(rng->Below(2)), 1 + static_cast<int>(rng->Below(3))};
      ops.push_back(op);
    }
    p.threads.push_back(ops);
  }
  return p;
}

// The program as a body; `observed` receives the outcome of an execution that ends.
Body MakeBody(const Program& program, std::string* observed) {
  return [program, observed](SimContext& c) {
    Atomic<int> a0{0}, a1{0};
    Shared<int> x{0};
    QemuMutex m;
    std::vector<std::vector<int>> reads(program.threads.size());
    core::Threads& threads = c.platform().threads();
    std::vector<int> ids;
    for (size_t t = 0; t < program.threads.size(); t++) {
      ids.push_back(threads.Spawn(
          "t",
          [&, t] {
            Atomic<int>* atomics[2] = {&a0, &a1};
            for (const Op& op : program.threads[t]) {
              Atomic<int>* a = atomics[op.var];
              switch (op.kind) {
                case Op::kLoad:
                  reads[t].push_back(core::atomic_read(a));
                  break;
                case Op::kStore:
                  core::atomic_set(a, op.value);
                  break;
                case Op::kRmw:
                  reads[t].push_back(core::atomic_fetch_add(a, 1));
                  break;
                case Op::kFence:
                  core::smp_mb();
                  break;
                case Op::kLocked:
                  core::qemu_mutex_lock(&m);
                  x.Store(x.Load() + 1);
                  reads[t].push_back(x.Load());
                  core::qemu_mutex_unlock(&m);
                  break;
                case Op::kPlainLoad:
                  reads[t].push_back(x.Load());
                  break;
                case Op::kPlainStore:
                  x.Store(op.value);
                  break;
              }
            }
          },
          core::QEMU_THREAD_JOINABLE));
    }
    for (int id : ids) threads.Join(id);
    std::string out = absl::StrFormat("a0=%d a1=%d x=%d", core::atomic_read(&a0),
                                      core::atomic_read(&a1), x.Load());
    for (size_t t = 0; t < reads.size(); t++) {
      absl::StrAppend(&out, " T", t, ":");
      for (int v : reads[t]) absl::StrAppend(&out, v, ",");
    }
    *observed = out;
  };
}

TEST(DfsOracleTest, GeneratedProgramsHaveTheOraclesOutcomesAtBoundsOneAndTwo) {
  Rng rng(20261201);
  for (uint64_t i = 0; i < aiosim::testing::Scaled(40); i++) {
    const Program program = Generate(&rng, /*small=*/false);
    std::string observed;
    const Body body = MakeBody(program, &observed);
    for (int bound : {1, 2}) {
      const Outcomes oracle = Oracle(body, bound, &observed);
      const Outcomes dfs = Dfs(body, bound, &observed);
      ASSERT_TRUE(oracle.complete && dfs.complete) << ProgramText(program);
      // Without reduction under a bound, each schedule runs exactly once.
      EXPECT_EQ(dfs.executions, oracle.executions)
          << "bound " << bound << ": " << ProgramText(program);
      EXPECT_EQ(dfs.min_preemptions, oracle.min_preemptions)
          << "bound " << bound << ": " << ProgramText(program);
    }
  }
}

// Unbounded: every schedule for the oracle, sleep sets for the search: the same
// outcomes, in fewer executions.
TEST(DfsOracleTest, GeneratedProgramsHaveTheOraclesOutcomesUnbounded) {
  Rng rng(20261202);
  int compared = 0;
  uint64_t pruned = 0, oracle_executions = 0, dfs_executions = 0;
  const uint64_t programs = aiosim::testing::Scaled(40);
  for (uint64_t i = 0; i < programs; i++) {
    const Program program = Generate(&rng, /*small=*/true);
    std::string observed;
    const Body body = MakeBody(program, &observed);
    OracleStrategy oracle(-1);
    const Outcomes all = RunAll(body, ExecOptions{}, &oracle, &observed, 30000);
    if (!all.complete) continue;
    DfsStrategy dfs(DfsStrategy::kUnbounded);
    const Outcomes reduced = RunAll(body, ExecOptions{}, &dfs, &observed, 30000);
    ASSERT_TRUE(reduced.complete) << ProgramText(program);
    EXPECT_LE(reduced.executions, all.executions) << ProgramText(program);
    std::set<std::string> want, got;
    for (const auto& [name, p] : all.min_preemptions) want.insert(name);
    for (const auto& [name, p] : reduced.min_preemptions) got.insert(name);
    EXPECT_EQ(got, want) << "unbounded: " << ProgramText(program);
    pruned += dfs.pruned();
    oracle_executions += all.executions;
    dfs_executions += reduced.executions;
    compared++;
  }
  EXPECT_GE(compared, static_cast<int>(programs * 7 / 8))
      << "the oracle finished too few programs";
  EXPECT_GT(pruned, 0u) << "sleep sets never pruned anything";
  std::printf(
      "unbounded: %d programs, oracle %llu executions, dfs with sleep sets %llu\n",
      compared, static_cast<unsigned long long>(oracle_executions),
      static_cast<unsigned long long>(dfs_executions));
}

// The outcomes first reached with at most `bound` preemptions.
std::map<std::string, int> AtMost(const Outcomes& o, int bound) {
  std::map<std::string, int> out;
  for (const auto& [name, p] : o.min_preemptions) {
    if (p <= bound) out.emplace(name, p);
  }
  return out;
}

// The memory limit on the saved work (DfsStrategy::FrontierBytes): past it the
// search drops what it would save for the next round, says so (not complete, the
// options dropped), and still runs every schedule of the rounds up to the one that
// dropped: checked against the oracle at those bounds. Two limits: one byte (round 0
// can save nothing) and exactly what round 0 saves (round 1 overflows it).
TEST(DfsOracleTest, AFullFrontierDropsWorkAndSaysHowFarTheSearchIsComplete) {
  EXPECT_EQ(RunConfig{}.dfs_frontier_bytes_max, DfsStrategy::kFrontierBytesDefault);
  Rng rng(20261204);
  int dropped_in_round_zero = 0, dropped_in_round_one = 0, partial_round_two = 0;
  for (uint64_t i = 0; i < aiosim::testing::Scaled(30); i++) {
    const Program program = Generate(&rng, /*small=*/false);
    std::string observed;
    const Body body = MakeBody(program, &observed);
    // Unlimited: what round 0 saves (at the end of its last execution).
    uint64_t round_zero_saves = 0;
    {
      DfsStrategy dfs(2);
      for (uint64_t k = 0; dfs.BeginExecution(k); k++) {
        ExecResult r = RunExecution(body, ExecOptions{}, &dfs);
        if (dfs.round() == 0) {  // it saves while it runs, and frees nothing
          round_zero_saves = std::max(round_zero_saves, dfs.FrontierBytes());
        }
        dfs.EndExecution(r);
      }
      ASSERT_TRUE(dfs.Figures().complete) << ProgramText(program);
      EXPECT_EQ(dfs.Figures().dropped, 0u);
      EXPECT_EQ(dfs.Figures().complete_through, 2);
    }
    struct Limit {
      uint64_t bytes;
      int complete_through;  // if anything is dropped
    };
    // The third limit leaves room for a few of round 1's items for round 2: round 2
    // then runs, but only partly.
    for (const Limit& limit :
         {Limit{1, 0}, Limit{round_zero_saves, 1}, Limit{round_zero_saves + 96, 1}}) {
      if (limit.bytes == 0) continue;
      DfsStrategy dfs(2, limit.bytes);
      const Outcomes got = RunAll(body, ExecOptions{}, &dfs, &observed, 10'000'000);
      ASSERT_TRUE(got.complete) << ProgramText(program);  // it ran to its end
      const StrategyFigures f = dfs.Figures();
      EXPECT_EQ(f.frontier_bytes_max, limit.bytes);
      EXPECT_TRUE(f.finished) << ProgramText(program);
      if (f.dropped == 0) {
        EXPECT_TRUE(f.complete) << ProgramText(program);
        EXPECT_EQ(f.complete_through, 2) << ProgramText(program);
        continue;
      }
      (limit.complete_through == 0 ? dropped_in_round_zero : dropped_in_round_one)++;
      if (f.round == 2) partial_round_two++;
      EXPECT_FALSE(f.complete) << ProgramText(program);
      EXPECT_EQ(f.complete_through, limit.complete_through) << ProgramText(program);
      EXPECT_LE(dfs.FrontierBytes(), limit.bytes) << ProgramText(program);
      const Outcomes exact = Oracle(body, limit.complete_through, &observed);
      ASSERT_TRUE(exact.complete);
      EXPECT_EQ(AtMost(got, limit.complete_through), exact.min_preemptions)
          << "limit " << limit.bytes << ": " << ProgramText(program);
      if (limit.complete_through == 0) {
        EXPECT_EQ(got.executions, exact.executions) << ProgramText(program);
      } else {
        EXPECT_GE(got.executions, exact.executions) << ProgramText(program);
      }
    }
  }
  EXPECT_GT(dropped_in_round_zero, 0) << "no program saved anything in round 0";
  EXPECT_GT(dropped_in_round_one, 0) << "no program overflowed the limit in round 1";
  EXPECT_GT(partial_round_two, 0) << "no program ran part of round 2";

  // Through the explorer, as `aiosim run --strategy dfs --dfs-memory` runs it: not
  // exhausted, and the figures say what was dropped.
  RunConfig config;
  config.strategy = "dfs";
  config.executions_max = 1'000'000;
  config.preemptions = 2;
  config.dfs_frontier_bytes_max = 1;
  const Report limited = Explore(ParkedChain, config);
  EXPECT_FALSE(limited.found)
      << "a failure that needs 2 preemptions, with round 0 saving nothing";
  EXPECT_FALSE(limited.exhausted);
  EXPECT_GT(limited.figures.dropped, 0u);
  EXPECT_EQ(limited.figures.complete_through, 0);
  config.dfs_frontier_bytes_max = 0;
  EXPECT_FALSE(MakeStrategy(config).ok());
}

}  // namespace
}  // namespace aiosim::sim
