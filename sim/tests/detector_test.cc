// sim/tests/detector_test.cc — the detectors without blind spots: the race detector
// remembers every unordered write, frees are writes, a double delete is reported
// before the destructor runs, an exception in a simulated thread is a failure, a
// signalled waiter is a choice, fairness never fails a correct spin-wait, minimisation
// keeps to the failure it was given, and the listing shows every preemption.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <set>
#include <stdexcept>
#include <string>

#include "absl/strings/match.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/deviation.h"
#include "sim/dfs.h"
#include "sim/minimise.h"
#include "sim/random_pct.h"
#include "sim/tests/oracle.h"

namespace aiosim::sim {
namespace {

using namespace aiosim::core;  // NOLINT

ExecResult RunDefault(const Body& body, ExecOptions options = {}) {
  DeviationStrategy default_schedule({}, /*check=*/false);
  default_schedule.BeginExecution(0);
  return RunExecution(body, options, &default_schedule);
}

ExecOptions Races() {
  ExecOptions o;
  o.race_detection = true;
  return o;
}

// An unsynchronised atomic store, then another thread's atomic store that a third
// thread acquires, then the third thread's plain load: ordered after the second
// store, not the first. (QEMU's bh->scheduled and notify_me mix atomic and plain
// accesses like this.) A detector that keeps only a location's last write misses it.
TEST(RaceDetectorTest, AnEarlierUnorderedAtomicWriteIsNotForgotten) {
  auto body = [](SimContext& c) {
    Atomic<int> a{0};
    QemuSemaphore handoff(0);
    Threads& t = c.platform().threads();
    // Under the default schedule: t1 stores, then t2 stores and posts, then t3 loads.
    int t1 = t.Spawn(
        "t1", [&] { atomic_set(&a, 1); }, QEMU_THREAD_JOINABLE);
    int t2 = t.Spawn(
        "t2",
        [&] {
          atomic_set(&a, 2);
          qemu_sem_post(&handoff);
        },
        QEMU_THREAD_JOINABLE);
    int t3 = t.Spawn(
        "t3",
        [&] {
          qemu_sem_wait(&handoff);
          (void)a.PlainLoad();
        },
        QEMU_THREAD_JOINABLE);
    t.Join(t1);
    t.Join(t2);
    t.Join(t3);
  };
  ExecResult r = RunDefault(body, Races());
  ASSERT_EQ(r.failure.kind, FailureKind::kDataRace) << r.failure.message;
  EXPECT_NE(r.failure.details[0].find("thread 1 (t1) atomic store"), std::string::npos)
      << r.failure.details[0];
  EXPECT_NE(r.failure.details[1].find("thread 3 (t3) plain-load"), std::string::npos)
      << r.failure.details[1];
}

struct Tracked {
  Shared<int> value{0};
  std::string name = std::string(64, 'x');  // a member with a real destructor
};

TEST(RaceDetectorTest, AFreeIsAWriteThatRacesWithAnUnorderedAccess) {
  auto body = [](SimContext& c) {
    Tracked* obj = platform_new<Tracked>();
    obj->value.Store(1);
    Threads& t = c.platform().threads();
    int reader = t.Spawn(
        "reader", [&] { (void)obj->value.Load(); }, QEMU_THREAD_JOINABLE);
    int freer = t.Spawn(
        "freer", [&] { platform_delete(obj); }, QEMU_THREAD_JOINABLE);
    t.Join(reader);
    t.Join(freer);
  };
  ExecResult r = RunDefault(body, Races());
  ASSERT_EQ(r.failure.kind, FailureKind::kDataRace) << r.failure.message;
  EXPECT_NE(r.failure.message.find("freed"), std::string::npos) << r.failure.message;
  EXPECT_NE(r.failure.details[1].find("thread 2 (freer) free"), std::string::npos)
      << r.failure.details[1];
  // Ordered by a join, the same free is no race.
  auto ordered = [](SimContext& c) {
    Tracked* obj = platform_new<Tracked>();
    Threads& t = c.platform().threads();
    int reader = t.Spawn(
        "reader", [&] { (void)obj->value.Load(); }, QEMU_THREAD_JOINABLE);
    t.Join(reader);
    platform_delete(obj);
  };
  EXPECT_EQ(RunDefault(ordered, Races()).failure.kind, FailureKind::kNone);
}

TEST(HeapTest, ADoubleDeleteOfAnObjectWithMembersIsReportedNotACrash) {
  auto body = [](SimContext&) {
    Tracked* obj = platform_new<Tracked>();
    platform_delete(obj);
    platform_delete(obj);  // the destructor must not run again on poisoned memory
  };
  ExecResult r = RunDefault(body);
  EXPECT_EQ(r.failure.kind, FailureKind::kDoubleFree) << r.failure.message;
  EXPECT_NE(r.failure.message.find("Tracked"), std::string::npos) << r.failure.message;
}

TEST(ExecutionTest, AnExceptionInASimulatedThreadIsARecordedFailure) {
  auto body = [](SimContext& c) {
    Threads& t = c.platform().threads();
    int id = t.Spawn(
        "thrower", [] { throw std::runtime_error("property broke: x == 3"); },
        QEMU_THREAD_JOINABLE);
    t.Join(id);
  };
  ExecResult r = RunDefault(body);
  ASSERT_EQ(r.failure.kind, FailureKind::kAssertion);
  EXPECT_NE(r.failure.message.find("property broke: x == 3"), std::string::npos)
      << r.failure.message;
  EXPECT_NE(r.failure.message.find("thrower"), std::string::npos) << r.failure.message;
  // In the main thread too, and a type that is not a std::exception.
  ExecResult main = RunDefault([](SimContext&) { throw 42; });
  ASSERT_EQ(main.failure.kind, FailureKind::kAssertion);
  EXPECT_NE(main.failure.message.find("main"), std::string::npos) << main.failure.message;
}

TEST(ExecutionTest, WhichWaiterASignalWakesIsAChoice) {
  std::string observed;
  auto body = [&](SimContext& c) {
    QemuMutex m;
    QemuCond cond;
    Shared<int> waiting{0}, woken{-1};
    Threads& t = c.platform().threads();
    auto waiter = [&](int me) {
      qemu_mutex_lock(&m);
      waiting.Store(waiting.Load() + 1);
      while (woken.Load() == -1) qemu_cond_wait(&cond, &m);
      if (woken.Load() == -2) woken.Store(me);  // the first one the signal woke
      qemu_mutex_unlock(&m);
    };
    // Waits (holding m, so a waiter seen counted is blocked in qemu_cond_wait) until
    // `n` threads wait: the waiters queue in a fixed order, a then b.
    auto until_waiting = [&](int n) {
      qemu_mutex_lock(&m);
      while (waiting.Load() < n) {
        qemu_mutex_unlock(&m);
        QemuSemaphore never(0);
        qemu_sem_timedwait(&never, 1);
        qemu_mutex_lock(&m);
      }
    };
    int a = t.Spawn(
        "a", [&] { waiter(0); }, QEMU_THREAD_JOINABLE);
    until_waiting(1);
    qemu_mutex_unlock(&m);
    int b = t.Spawn(
        "b", [&] { waiter(1); }, QEMU_THREAD_JOINABLE);
    until_waiting(2);
    woken.Store(-2);
    qemu_cond_signal(&cond);  // one of the two: FIFO would always say a
    qemu_mutex_unlock(&m);
    for (;;) {
      qemu_mutex_lock(&m);
      const int w = woken.Load();
      if (w >= 0) {
        observed = w == 0 ? "a" : "b";
        qemu_cond_broadcast(&cond);
      }
      qemu_mutex_unlock(&m);
      if (w >= 0) break;
      QemuSemaphore never(0);
      qemu_sem_timedwait(&never, 1);
    }
    t.Join(a);
    t.Join(b);
  };
  DfsStrategy dfs(0);
  testing::Outcomes o = testing::RunAll(body, ExecOptions{}, &dfs, &observed, 100000);
  ASSERT_TRUE(o.complete);
  std::set<std::string> outcomes;
  for (const auto& [name, p] : o.min_preemptions) outcomes.insert(name);
  EXPECT_EQ(outcomes, (std::set<std::string>{"a", "b"}));
}

// A correct spin-wait: the worker does 300 increments, then sets the flag the other
// thread spins on. Fairness must let the worker finish under every strategy.
void SpinWait(SimContext& c) {
  Atomic<int> flag{0};
  Shared<int> count{0};
  Threads& t = c.platform().threads();
  int spinner = t.Spawn(
      "spinner",
      [&] {
        while (atomic_read(&flag) == 0) {
        }
      },
      QEMU_THREAD_JOINABLE);
  int worker = t.Spawn(
      "worker",
      [&] {
        for (int i = 0; i < 300; i++) count.Store(count.Load() + 1);
        atomic_set(&flag, 1);
      },
      QEMU_THREAD_JOINABLE);
  t.Join(spinner);
  t.Join(worker);
}

TEST(FairnessTest, ACorrectSpinWaitNeverFailsUnderAnyStrategy) {
  for (const char* strategy : {"pct", "random", "dfs"}) {
    for (uint64_t seed = 1; seed <= 20; seed++) {
      RunConfig config;
      config.strategy = strategy;
      config.seed = seed;
      config.preemptions = 1;
      config.executions_max = std::string(strategy) == "dfs" ? 200 : 20;
      Report r = Explore(SpinWait, config);
      EXPECT_FALSE(r.found) << strategy << " seed " << seed << ": "
                            << FailureKindName(r.failure.kind) << " "
                            << r.failure.message;
      if (std::string(strategy) == "dfs") break;  // no seed
    }
  }
}

// Two failures: A (three preemptions) and B (one). Minimising an A must stay an A.
TEST(MinimiseTest, KeepsToTheFailureItWasGiven) {
  auto body = [](SimContext& c) {
    Shared<int> x{0};
    Threads& t = c.platform().threads();
    int writer = t.Spawn(
        "writer",
        [&] {
          x.Store(1);
          x.Store(2);
          x.Store(3);
        },
        QEMU_THREAD_JOINABLE);
    int reader = t.Spawn(
        "reader",
        [&] {
          int v1 = x.Load();
          int v2 = x.Load();
          c.Check(!(v1 == 1 && v2 == 2), "A: read 1 then 2");
          c.Check(!(v1 == 1 && v2 != 2), "B: read 1 first");
        },
        QEMU_THREAD_JOINABLE);
    t.Join(writer);
    t.Join(reader);
  };
  // Find an A with the oracle.
  testing::OracleStrategy oracle(3);
  ExecResult a;
  for (uint64_t i = 0; oracle.BeginExecution(i); i++) {
    ExecResult r = RunExecution(body, ExecOptions{}, &oracle);
    oracle.EndExecution(r);
    if (r.failure.kind == FailureKind::kAssertion &&
        r.failure.message.find("A: read") != std::string::npos) {
      a = std::move(r);
      break;
    }
  }
  ASSERT_EQ(a.failure.kind, FailureKind::kAssertion);
  RunConfig config;
  uint64_t runs = 0;
  ExecResult m = Minimise(body, config, a, &runs);
  EXPECT_TRUE(SameFailure(m.failure, a.failure)) << m.failure.message;
  EXPECT_NE(m.failure.message.find("A: read"), std::string::npos) << m.failure.message;
}

// Minimisation never returns a worse schedule: fewer preemptions, or as many and no
// more steps (issue 6: "minimised" schedules used to be longer than the original).
TEST(MinimiseTest, NeverWorseThanTheScheduleFound) {
  auto body = [](SimContext& c) {
    Shared<int> x{0}, y{0};
    Threads& t = c.platform().threads();
    auto worker = [&](int me) {
      for (int i = 0; i < 3; i++) {
        const int v = x.Load();
        y.Store(y.Load() + me);
        x.Store(v + 1);
      }
    };
    int a = t.Spawn(
        "a", [&] { worker(1); }, QEMU_THREAD_JOINABLE);
    int b = t.Spawn(
        "b", [&] { worker(2); }, QEMU_THREAD_JOINABLE);
    t.Join(a);
    t.Join(b);
    c.Check(x.Load() == 6, "no increment lost");
  };
  int minimised = 0;
  for (const char* strategy : {"random", "pct"}) {
    for (uint64_t seed = 1; seed <= 10; seed++) {
      RunConfig config;
      config.strategy = strategy;
      config.seed = seed;
      Report r = Explore(body, config);
      ASSERT_TRUE(r.found) << strategy << " " << seed;
      const bool not_worse = r.failing.preemptions < r.original_preemptions ||
                             (r.failing.preemptions == r.original_preemptions &&
                              r.failing.steps <= r.original_steps);
      EXPECT_TRUE(not_worse) << strategy << " seed " << seed << ": preemptions "
                             << r.original_preemptions << " -> " << r.failing.preemptions
                             << ", steps " << r.original_steps << " -> "
                             << r.failing.steps;
      minimised += r.failing.preemptions < r.original_preemptions;
    }
  }
  EXPECT_GT(minimised, 0);
}

TEST(TraceTest, TheListingShowsEveryPreemptionItCounts) {
  auto lost_update = [](SimContext& c) {
    Shared<int> counter{0};
    auto inc = [&] { counter.Store(counter.Load() + 1); };
    Threads& t = c.platform().threads();
    int a = t.Spawn("a", inc, QEMU_THREAD_JOINABLE);
    int b = t.Spawn("b", inc, QEMU_THREAD_JOINABLE);
    t.Join(a);
    t.Join(b);
    c.Check(counter.Load() == 2, "both increments survive");
  };
  for (const char* strategy : {"random", "pct", "dfs"}) {
    RunConfig config;
    config.strategy = strategy;
    config.seed = 3;
    config.minimize = false;  // the schedule as found, preemptions and all
    Report r = Explore(lost_update, config);
    ASSERT_TRUE(r.found) << strategy;
    const std::string listing = FormatSchedule(r.failing);
    int shown = 0;
    for (size_t at = 0; (at = listing.find(">> preemption", at)) != std::string::npos;
         at++) {
      shown++;
    }
    EXPECT_EQ(shown, r.failing.preemptions) << strategy << "\n" << listing;
    EXPECT_GT(shown, 0) << strategy;
  }
}

}  // namespace
}  // namespace aiosim::sim
