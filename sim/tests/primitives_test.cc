// sim/tests/primitives_test.cc — the simulated primitives' semantics, in virtual time.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/platform/sync.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"
#include "sim/random_pct.h"

namespace aiosim::sim {
namespace {

using namespace aiosim::core;  // NOLINT

ExecResult RunOnce(const Body& body, uint64_t seed = 1) {
  RandomStrategy s(seed);
  s.BeginExecution(0);
  return RunExecution(body, ExecOptions{}, &s);
}

TEST(PrimitivesTest, TimedWaitsCostNoWallTimeAndAdvanceVirtualTime) {
  int64_t elapsed = 0;
  ExecResult r = RunOnce([&](SimContext& c) {
    QemuSemaphore sem(0);
    const int64_t start = c.platform().clock().NowNs(QEMU_CLOCK_REALTIME);
    EXPECT_EQ(qemu_sem_timedwait(&sem, 10000), -1);  // a pool worker's idle wait
    elapsed = c.platform().clock().NowNs(QEMU_CLOCK_REALTIME) - start;
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
  EXPECT_EQ(elapsed, int64_t{10000} * 1000000);
}

TEST(PrimitivesTest, ZeroTimeoutSemaphoreWaitNeverBlocks) {
  ExecResult r = RunOnce([&](SimContext& c) {
    QemuSemaphore sem(0);
    const int64_t start = c.platform().clock().NowNs(QEMU_CLOCK_REALTIME);
    EXPECT_EQ(qemu_sem_timedwait(&sem, 0), -1);
    qemu_sem_post(&sem);
    EXPECT_EQ(qemu_sem_timedwait(&sem, 0), 0);
    EXPECT_EQ(c.platform().clock().NowNs(QEMU_CLOCK_REALTIME), start);
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
}

TEST(PrimitivesTest, TimeJumpsToTheEarliestDeadlineWithTiesInOrder) {
  std::vector<int> order;
  ExecResult r = RunOnce([&](SimContext& c) {
    Threads& t = c.platform().threads();
    auto sleeper = [&](int ms, int id) {
      QemuSemaphore never(0);
      qemu_sem_timedwait(&never, ms);
      order.push_back(id);
    };
    int a = t.Spawn(
        "a", [&] { sleeper(30, 3); }, QEMU_THREAD_JOINABLE);
    int b = t.Spawn(
        "b", [&] { sleeper(10, 1); }, QEMU_THREAD_JOINABLE);
    int d = t.Spawn(
        "d", [&] { sleeper(20, 2); }, QEMU_THREAD_JOINABLE);
    t.Join(a);
    t.Join(b);
    t.Join(d);
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(PrimitivesTest, MutexExcludesUnderEverySchedule) {
  for (uint64_t seed = 1; seed <= 50; seed++) {
    ExecResult r = RunOnce(
        [&](SimContext& c) {
          QemuMutex m;
          Shared<int> inside{0};
          auto work = [&] {
            for (int i = 0; i < 5; i++) {
              qemu_mutex_lock(&m);
              c.Check(inside.Load() == 0, "one thread inside");
              inside.Store(1);
              inside.Store(0);
              qemu_mutex_unlock(&m);
            }
          };
          Threads& t = c.platform().threads();
          int a = t.Spawn("a", work, QEMU_THREAD_JOINABLE);
          int b = t.Spawn("b", work, QEMU_THREAD_JOINABLE);
          t.Join(a);
          t.Join(b);
        },
        seed);
    ASSERT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
  }
}

TEST(PrimitivesTest, ConditionVariableWakesAndTimesOut) {
  ExecResult r = RunOnce([&](SimContext& c) {
    QemuMutex m;
    QemuCond cond;
    bool ready = false;
    qemu_mutex_lock(&m);
    EXPECT_FALSE(qemu_cond_timedwait(&cond, &m, 5));
    Threads& t = c.platform().threads();
    int s = t.Spawn(
        "signaller",
        [&] {
          qemu_mutex_lock(&m);
          ready = true;
          qemu_cond_signal(&cond);
          qemu_mutex_unlock(&m);
        },
        QEMU_THREAD_JOINABLE);
    while (!ready) qemu_cond_wait(&cond, &m);
    qemu_mutex_unlock(&m);
    t.Join(s);
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
}

TEST(PrimitivesTest, EventNotifierHasEventfdSemanticsAndPollBlocksInVirtualTime) {
  ExecResult r = RunOnce([&](SimContext& c) {
    Poller& poller = c.platform().poller();
    auto e = poller.NewEventNotifier(false);
    PollFd pfd{event_notifier_get_fd(e.get()), G_IO_IN, 0};
    EXPECT_EQ(poller.Poll(&pfd, 1, 0), 0);
    const int64_t start = c.platform().clock().NowNs(QEMU_CLOCK_REALTIME);
    EXPECT_EQ(poller.Poll(&pfd, 1, 7 * SCALE_MS), 0);
    EXPECT_EQ(c.platform().clock().NowNs(QEMU_CLOCK_REALTIME) - start, 7 * SCALE_MS);
    Threads& t = c.platform().threads();
    int s = t.Spawn(
        "setter", [&] { event_notifier_set(e.get()); }, QEMU_THREAD_JOINABLE);
    EXPECT_EQ(poller.Poll(&pfd, 1, -1), 1);
    EXPECT_TRUE(pfd.revents & G_IO_IN);
    EXPECT_EQ(event_notifier_test_and_clear(e.get()), 1);
    EXPECT_EQ(event_notifier_test_and_clear(e.get()), 0);
    t.Join(s);
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
}

TEST(PrimitivesTest, ScenarioFdsAreLevelTriggered) {
  ExecResult r = RunOnce([&](SimContext& c) {
    SimPoller& poller = c.platform().sim_poller();
    int fd = poller.NewFd();
    PollFd pfd{fd, G_IO_IN | G_IO_OUT, 0};
    EXPECT_EQ(poller.Poll(&pfd, 1, 0), 0);
    poller.SetReady(fd, true, false);
    EXPECT_EQ(poller.Poll(&pfd, 1, 0), 1);
    EXPECT_EQ(pfd.revents, G_IO_IN);
    EXPECT_EQ(poller.Poll(&pfd, 1, 0), 1) << "still ready";
    poller.SetReady(fd, false, true);
    EXPECT_EQ(poller.Poll(&pfd, 1, 0), 1);
    EXPECT_EQ(pfd.revents, G_IO_OUT);
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
}

TEST(PrimitivesTest, EintrIsAnInjectedRecordedChoice) {
  bool saw_eintr = false;
  for (uint64_t seed = 1; seed <= 64 && !saw_eintr; seed++) {
    RandomStrategy s(seed);
    s.BeginExecution(0);
    ExecOptions o;
    o.inject_eintr = true;
    ExecResult r = RunExecution(
        [&](SimContext& c) {
          auto e = c.platform().poller().NewEventNotifier(false);
          PollFd pfd{event_notifier_get_fd(e.get()), G_IO_IN, 0};
          if (c.platform().poller().Poll(&pfd, 1, 5 * SCALE_MS) == -EINTR)
            saw_eintr = true;
        },
        o, &s);
    ASSERT_EQ(r.failure.kind, FailureKind::kNone);
  }
  EXPECT_TRUE(saw_eintr);
}

// A futex sleeper nobody wakes is a deadlock, reported with where it sleeps.
TEST(PrimitivesTest, FutexSleeperNobodyWakesIsADeadlock) {
  ExecResult r = RunOnce([&](SimContext&) {
    Atomic<unsigned> word{0};
    qemu_futex_wait(&word, 0u);
  });
  ASSERT_EQ(r.failure.kind, FailureKind::kDeadlock) << r.failure.message;
  EXPECT_NE(r.failure.where.find("qemu_futex_wait"), std::string::npos)
      << r.failure.where;
}

// qemu_futex_wake_single wakes exactly one sleeper, and which one is the scheduler's
// recorded choice: over a few seeds, each of the two is the one woken.
TEST(PrimitivesTest, FutexWakeSingleWakesOneSleeperChosenBySchedule) {
  bool first_woken[2] = {false, false};
  ExecOptions o;
  o.time_advances_max = 0;  // time passes only when nobody can run
  for (uint64_t seed = 1; seed <= 40; seed++) {
    int woken_after_one_wake = -1;
    int first = -1;
    RandomStrategy s(seed);
    s.BeginExecution(0);
    ExecResult r = RunExecution(
        [&](SimContext& c) {
          Threads& t = c.platform().threads();
          Atomic<unsigned> word{0};
          int awake = 0;
          // Spurious wake-ups are off: only a wake gets a sleeper out.
          auto sleeper = [&](int id) {
            qemu_futex_wait(&word, 0u);
            if (awake++ == 0) first = id;
          };
          int a = t.Spawn(
              "a", [&] { sleeper(0); }, QEMU_THREAD_JOINABLE);
          int b = t.Spawn(
              "b", [&] { sleeper(1); }, QEMU_THREAD_JOINABLE);
          QemuSemaphore never(0);
          qemu_sem_timedwait(&never, 1);  // returns once both sleep
          qemu_futex_wake_single(&word);
          qemu_sem_timedwait(&never, 1);  // returns once the woken one has finished
          woken_after_one_wake = awake;
          qemu_futex_wake_single(&word);
          t.Join(a);
          t.Join(b);
        },
        o, &s);
    ASSERT_EQ(r.failure.kind, FailureKind::kNone) << r.failure.message;
    EXPECT_EQ(woken_after_one_wake, 1) << "seed " << seed;
    if (first >= 0) first_woken[first] = true;
  }
  EXPECT_TRUE(first_woken[0] && first_woken[1]);
}

// With spurious wake-ups on, a futex wait may return with nobody waking it (a recorded
// choice): a caller that does not re-check (10.0's qemu_event_wait) then goes on.
TEST(PrimitivesTest, FutexSpuriousReturnIsAnInjectedRecordedChoice) {
  bool saw_spurious = false, saw_sleep = false;
  for (uint64_t seed = 1; seed <= 64 && !(saw_spurious && saw_sleep); seed++) {
    RandomStrategy s(seed);
    s.BeginExecution(0);
    ExecOptions o;
    o.spurious_wakeups = true;
    ExecResult r = RunExecution(
        [&](SimContext&) {
          Atomic<unsigned> word{0};
          qemu_futex_wait(&word, 0u);
        },
        o, &s);
    if (r.failure.kind == FailureKind::kNone) saw_spurious = true;
    if (r.failure.kind == FailureKind::kDeadlock) saw_sleep = true;
  }
  EXPECT_TRUE(saw_spurious);
  EXPECT_TRUE(saw_sleep);
}

TEST(PrimitivesTest, UseAfterFreeOfATrackedObjectIsCaught) {
  ExecResult r = RunOnce([&](SimContext&) {
    struct Node {
      Shared<int> v{0};
    };
    Node* n = platform_new<Node>();
    platform_delete(n);
    n->v.Load();  // the liveness word was poisoned
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kUseAfterFree);
  EXPECT_NE(r.failure.details.back().find("freed at"), std::string::npos)
      << r.failure.details.back();
}

TEST(PrimitivesTest, DoubleFreeAndLeakAreCaught) {
  ExecResult r = RunOnce([&](SimContext&) {
    struct Node {
      Shared<int> v{0};
    };
    Node* n = platform_new<Node>();
    platform_delete(n);
    platform_delete(n);
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kDoubleFree);
  r = RunOnce([&](SimContext&) {
    struct Node {
      Shared<int> v{0};
    };
    (void)platform_new<Node>();
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kLeak);
}

// Blocks big enough that a few need a second chunk of the tracked heap, and one
// bigger than a chunk (sim/heap.cc cuts 64 KiB chunks).
struct Small {
  Shared<int> v{0};
};
struct Big {
  Shared<int> v{0};
  char pad[40 << 10] = {};
};
struct Huge {
  Shared<int> v{0};
  char pad[200 << 10] = {};
};

// The reports name each block by type and allocation number, in allocation order, and
// say the same in every execution (the heap's memory is reused by the next one).
TEST(PrimitivesTest, HeapReportsNameTheBlockByTypeAndNumberInEveryExecution) {
  const Body leaks = [](SimContext&) {
    (void)platform_new<Small>();
    Big* b = platform_new<Big>();
    (void)platform_new<Big>();
    (void)platform_new<Huge>();
    (void)platform_new<Big>();
    platform_delete(b);
  };
  const Body use_after_free = [](SimContext&) {
    Small* a = platform_new<Small>();
    Big* b = platform_new<Big>();
    Huge* h = platform_new<Huge>();
    platform_delete(b);
    platform_delete(h);
    platform_delete(a);
    h->v.Load();
  };
  const Body double_free = [](SimContext&) {
    Small* a = platform_new<Small>();
    Small* b = platform_new<Small>();
    platform_delete(b);
    platform_delete(a);
    platform_delete(b);
  };
  std::vector<std::string> first;
  for (int round = 0; round < 3; round++) {
    ExecResult r = RunOnce(leaks);
    ASSERT_EQ(r.failure.kind, FailureKind::kLeak) << r.failure.message;
    ASSERT_EQ(r.failure.details.size(), 4u);
    EXPECT_EQ(r.failure.details[0].rfind("leaked: ", 0), 0u) << r.failure.details[0];
    EXPECT_NE(r.failure.details[0].find("Small #1 ("), std::string::npos)
        << r.failure.details[0];
    EXPECT_NE(r.failure.details[1].find("Big #3 ("), std::string::npos)
        << r.failure.details[1];
    EXPECT_NE(r.failure.details[2].find("Huge #4 ("), std::string::npos)
        << r.failure.details[2];
    EXPECT_NE(r.failure.details[3].find("Big #5 ("), std::string::npos)
        << r.failure.details[3];
    ExecResult u = RunOnce(use_after_free);
    ASSERT_EQ(u.failure.kind, FailureKind::kUseAfterFree) << u.failure.message;
    EXPECT_NE(u.failure.details.back().find("the object is inside "), std::string::npos)
        << u.failure.details.back();
    EXPECT_NE(u.failure.details.back().find("Huge #3 ("), std::string::npos)
        << u.failure.details.back();
    EXPECT_NE(u.failure.details.back().find("freed at"), std::string::npos);
    ExecResult d = RunOnce(double_free);
    ASSERT_EQ(d.failure.kind, FailureKind::kDoubleFree) << d.failure.message;
    EXPECT_NE(d.failure.message.find("Small #2 (32 bytes) allocated at"), std::string::npos)
        << d.failure.message;
    std::vector<std::string> all = r.failure.details;
    all.push_back(u.failure.details.back());
    all.push_back(d.failure.message);
    if (round == 0) {
      first = all;
    } else {
      EXPECT_EQ(all, first) << "round " << round;
    }
  }
}

// Freeing what platform_new did not allocate is caught, without touching it.
TEST(PrimitivesTest, FreeingAnUntrackedPointerIsCaught) {
  ExecResult r = RunOnce([](SimContext&) {
    Small* a = platform_new<Small>();
    platform_delete(a + 1);  // just past the block: not a block of its own
  });
  EXPECT_EQ(r.failure.kind, FailureKind::kUseAfterFree) << r.failure.message;
  EXPECT_NE(r.failure.message.find("not a tracked block"), std::string::npos)
      << r.failure.message;
}

TEST(PrimitivesTest, AssertionInsideTheCoreEndsTheExecutionCleanly) {
  ExecResult r = RunOnce([&](SimContext&) { CheckFailed("1 == 2"); });
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion);
  EXPECT_NE(r.failure.message.find("1 == 2"), std::string::npos);
}

}  // namespace
}  // namespace aiosim::sim
