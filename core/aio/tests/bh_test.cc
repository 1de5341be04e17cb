// core/aio/tests/bh_test.cc — conformance of bottom halves (QEMU-SEMANTICS.md §1.2),
// written from the documented behaviour; runs on every platform (world.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>
#include <vector>

#include "core/aio/aio.h"
#include "core/aio/tests/world.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified

class BhTest : public GenerationTest {};
AIOSIM_INSTANTIATE_FOR_GENERATIONS(BhTest);

// Records each run of a callback: how often, and in which thread.
struct Probe {
  World* world = nullptr;
  int runs = 0;
  ThreadId thread = -1;
  std::vector<int>* order = nullptr;
  int id = 0;
  int64_t* ran_ns = nullptr;  // if set: when it last ran (platform time)
  static void Cb(void* opaque) {
    auto* p = static_cast<Probe*>(opaque);
    p->runs++;
    p->thread = p->world->CurrentThread();
    if (p->order != nullptr) p->order->push_back(p->id);
    if (p->ran_ns != nullptr) *p->ran_ns = p->world->NowNs();
  }
};


TEST_P(BhTest, ScheduledBhRunsOnceInTheHomeThreadAndSchedulesCoalesce) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    QEMUBH* bh = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    EXPECT_FALSE(aio_poll(w.ctx(), false)) << "a new BH is not scheduled";
    EXPECT_EQ(probe.runs, 0);

    qemu_bh_schedule(bh);
    qemu_bh_schedule(bh);  // coalesces with the first
    EXPECT_TRUE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 1);
    EXPECT_EQ(probe.thread, w.CurrentThread());

    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 1);

    qemu_bh_schedule(bh);  // a new epoch after it ran
    EXPECT_TRUE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 2);
    qemu_bh_delete(bh);
  });
}

TEST_P(BhTest, CancelFromTheHomeThreadPreventsTheCallback) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    QEMUBH* bh = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    qemu_bh_schedule(bh);
    qemu_bh_cancel(bh);
    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 0);
    EXPECT_EQ(aio_compute_timeout(w.ctx()), -1);

    qemu_bh_schedule(bh);  // a cancelled BH can be scheduled again
    aio_poll(w.ctx(), false);
    EXPECT_EQ(probe.runs, 1);
    qemu_bh_delete(bh);
  });
}

TEST_P(BhTest, DeleteCancelsAndTheOutermostPollFreesTheBh) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    QEMUBH* bh = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    const int before = w.LiveBhs();
    qemu_bh_schedule(bh);
    qemu_bh_delete(bh);
    EXPECT_EQ(w.LiveBhs(), before) << "freed only by aio_bh_poll";
    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 0);
    EXPECT_EQ(w.LiveBhs(), before - 1);
  });
}

struct SelfRescheduler {
  QEMUBH* bh = nullptr;
  int runs = 0;
  int limit = 0;
  static void Cb(void* opaque) {
    auto* s = static_cast<SelfRescheduler*>(opaque);
    s->runs++;
    if (s->runs < s->limit) qemu_bh_schedule(s->bh);
  }
};

TEST_P(BhTest, SelfReschedulingBhRunsOncePerAioPoll) {
  RunInWorld([](World& w) {
    SelfRescheduler s;
    s.limit = 5;
    s.bh = aio_bh_new(w.ctx(), SelfRescheduler::Cb, &s);
    qemu_bh_schedule(s.bh);
    for (int i = 1; i <= 5; i++) {
      EXPECT_TRUE(aio_poll(w.ctx(), false));
      EXPECT_EQ(s.runs, i);
    }
    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(s.runs, 5);
    qemu_bh_delete(s.bh);
  });
}

struct SelfDeleter {
  QEMUBH* bh = nullptr;
  int runs = 0;
  static void Cb(void* opaque) {
    auto* s = static_cast<SelfDeleter*>(opaque);
    s->runs++;
    qemu_bh_delete(s->bh);
  }
};

TEST_P(BhTest, BhThatDeletesItselfInItsCallbackRunsOnceAndIsFreedByThisOrTheNextPoll) {
  RunInWorld([](World& w) {
    SelfDeleter s;
    const int before = w.LiveBhs();
    s.bh = aio_bh_new(w.ctx(), SelfDeleter::Cb, &s);
    qemu_bh_schedule(s.bh);
    EXPECT_TRUE(aio_poll(w.ctx(), false));
    EXPECT_EQ(s.runs, 1);
    if (w.modern()) {
      // The delete enqueued it again, onto ctx->bh_list: the next poll frees it.
      EXPECT_EQ(w.LiveBhs(), before + 1);
      EXPECT_FALSE(aio_poll(w.ctx(), false)) << "a deleted BH does not run";
      EXPECT_EQ(s.runs, 1);
    }
    EXPECT_EQ(w.LiveBhs(), before);
  });
}

TEST_P(BhTest, OneshotRunsOnceAndIsFreed) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    const int before = w.LiveBhs();
    aio_bh_schedule_oneshot(w.ctx(), Probe::Cb, &probe);
    EXPECT_EQ(w.LiveBhs(), before + 1);
    EXPECT_EQ(aio_compute_timeout(w.ctx()), 0);
    EXPECT_TRUE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 1);
    EXPECT_EQ(w.LiveBhs(), before);
    EXPECT_FALSE(aio_poll(w.ctx(), false));
    EXPECT_EQ(probe.runs, 1);
  });
}

// Legacy walks its list of every BH, newest created first; modern pops what was
// enqueued, most recently enqueued first (a LIFO of first schedules).
TEST_P(BhTest, RunOrderIsNewestCreatedFirstInLegacyAndNewestEnqueuedFirstInModern) {
  RunInWorld([](World& w) {
    std::vector<int> order;
    Probe a{&w, 0, -1, &order, 1}, b{&w, 0, -1, &order, 2}, c{&w, 0, -1, &order, 3};
    QEMUBH* bh_a = aio_bh_new(w.ctx(), Probe::Cb, &a);
    QEMUBH* bh_b = aio_bh_new(w.ctx(), Probe::Cb, &b);
    QEMUBH* bh_c = aio_bh_new(w.ctx(), Probe::Cb, &c);
    qemu_bh_schedule(bh_a);
    qemu_bh_schedule(bh_c);
    qemu_bh_schedule(bh_b);
    aio_poll(w.ctx(), false);
    if (w.modern()) {
      EXPECT_EQ(order, (std::vector<int>{2, 3, 1}));
    } else {
      EXPECT_EQ(order, (std::vector<int>{3, 2, 1}));
    }
    qemu_bh_delete(bh_a);
    qemu_bh_delete(bh_b);
    qemu_bh_delete(bh_c);
  });
}

// B is newer than A, so legacy's walk visits B first.
struct Chain {
  QEMUBH* target = nullptr;
  int runs = 0;
  static void Cb(void* opaque) {
    auto* c = static_cast<Chain*>(opaque);
    c->runs++;
    if (c->target != nullptr) qemu_bh_schedule(c->target);
  }
};

// Legacy: a BH scheduled from a callback runs in the same pass if the walk has not
// reached it yet. Modern: it goes onto ctx->bh_list, not the running slice, so it
// always runs in the next aio_bh_poll.
TEST_P(BhTest, BhScheduledFromACallbackRunsInTheSamePassOnlyIfLaterInTheList) {
  RunInWorld([](World& w) {
    Chain a, b;
    QEMUBH* bh_a = aio_bh_new(w.ctx(), Chain::Cb, &a);
    QEMUBH* bh_b = aio_bh_new(w.ctx(), Chain::Cb, &b);
    b.target = bh_a;  // legacy: later in the list, same pass
    qemu_bh_schedule(bh_b);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(b.runs, 1);
    if (w.modern()) {
      EXPECT_EQ(a.runs, 0) << "modern: scheduled from a callback, runs next pass";
      EXPECT_TRUE(aio_poll(w.ctx(), false));
    }
    EXPECT_EQ(a.runs, 1);

    b.target = nullptr;
    a.target = bh_b;  // earlier in the list: next pass
    qemu_bh_schedule(bh_a);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(a.runs, 2);
    EXPECT_EQ(b.runs, 1);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(b.runs, 2);
    qemu_bh_delete(bh_a);
    qemu_bh_delete(bh_b);
  });
}

// A BH callback deletes a BH that the outer walk has not reached yet and runs a
// nested aio_poll. Legacy: the nested (inner) poll must not free it, the outer walk
// still holds it (R16). Modern: the nested aio_bh_poll runs the outer slice first,
// dequeues the victim and frees it there.
struct NestedDeleter {
  World* w = nullptr;
  QEMUBH* victim = nullptr;
  int runs = 0;
  int live_after_nested = -1;
  static void Cb(void* opaque) {
    auto* n = static_cast<NestedDeleter*>(opaque);
    n->runs++;
    qemu_bh_delete(n->victim);
    aio_poll(n->w->ctx(), false);
    n->live_after_nested = n->w->LiveBhs();
  }
};

TEST_P(BhTest, OnlyTheOutermostPollFreesDeletedBhsInLegacyAnyPollInModern) {
  RunInWorld([](World& w) {
    Probe victim_probe{&w};
    const int before = w.LiveBhs();
    QEMUBH* victim = aio_bh_new(w.ctx(), Probe::Cb, &victim_probe);
    NestedDeleter n{&w, victim};
    QEMUBH* bh = aio_bh_new(w.ctx(), NestedDeleter::Cb, &n);
    // `bh` runs first in both: it is the newer (legacy) and the later enqueued (modern).
    qemu_bh_schedule(victim);
    qemu_bh_schedule(bh);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(n.runs, 1);
    EXPECT_EQ(victim_probe.runs, 0) << "deleted before the walk reached it";
    EXPECT_EQ(n.live_after_nested, w.modern() ? before + 1 : before + 2)
        << (w.modern() ? "modern: the nested poll frees" : "legacy: only the outermost frees");
    EXPECT_EQ(w.LiveBhs(), before + 1) << "the victim is freed, the other BH lives";
    qemu_bh_delete(bh);
  });
}

TEST_P(BhTest, IdleBhIsNotProgressAndComputeTimeoutFollowsThe10msRule) {
  RunInWorld([](World& w) {
    Probe idle_probe{&w}, probe{&w};
    QEMUBH* idle = aio_bh_new(w.ctx(), Probe::Cb, &idle_probe);
    QEMUBH* bh = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    EXPECT_EQ(aio_compute_timeout(w.ctx()), -1);
    qemu_bh_schedule_idle(idle);
    EXPECT_EQ(aio_compute_timeout(w.ctx()), 10 * SCALE_MS);
    qemu_bh_schedule(bh);
    EXPECT_EQ(aio_compute_timeout(w.ctx()), 0);
    qemu_bh_cancel(bh);
    EXPECT_FALSE(aio_poll(w.ctx(), false)) << "an idle BH alone is not progress";
    EXPECT_EQ(idle_probe.runs, 1);
    qemu_bh_delete(idle);
    qemu_bh_delete(bh);
  });
}

// Legacy: qemu_bh_schedule_idle does not notify, so a blocking poll sleeps its 10 ms
// first. Modern: the schedule notified, the poll sees `notified` and does not sleep.
TEST_P(BhTest, IdleBhRunsAbout10msIntoABlockingPollInLegacyAtOnceInModern) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    QEMUBH* idle = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    qemu_bh_schedule_idle(idle);
    const int64_t start = w.NowNs();
    aio_poll(w.ctx(), true);
    const int64_t elapsed = w.NowNs() - start;
    EXPECT_EQ(probe.runs, 1);
    if (w.modern()) {
      // No sleep at all: in the simulator no time passes (on the host only the
      // bound below is checked, as a loaded machine may deschedule the thread).
      if (std::string(PlatformName()) == "sim") {
        EXPECT_EQ(elapsed, 0);
      }
    } else {
      EXPECT_GE(elapsed, 10 * SCALE_MS);
    }
    EXPECT_LT(elapsed, 5000 * SCALE_MS);  // generous: only "not forever"
    qemu_bh_delete(idle);
  });
}

// Modern's qemu_bh_delete and qemu_bh_schedule_idle enqueue, and every enqueue
// calls aio_notify, which always sets `notified`; legacy's never call aio_notify.
TEST_P(BhTest, DeleteAndIdleScheduleNotifyInModernOnly) {
  RunInWorld([](World& w) {
    QEMUBH* bh = aio_bh_new(w.ctx(), +[](void*) {}, nullptr);
    aio_poll(w.ctx(), false);  // accept whatever creation notified
    EXPECT_FALSE(w.NotifiedFlag());
    qemu_bh_schedule_idle(bh);
    EXPECT_EQ(w.NotifiedFlag(), w.modern());
    EXPECT_FALSE(aio_poll(w.ctx(), false)) << "an idle BH is not progress";
    EXPECT_FALSE(w.NotifiedFlag());
    qemu_bh_delete(bh);
    EXPECT_EQ(w.NotifiedFlag(), w.modern());
  });
}

TEST_P(BhTest, ScheduleFromAForeignThreadWakesABlockingPoll) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    QEMUBH* bh = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    bool home_polled = false;
    ThreadId t = w.Spawn("vcpu", [&] {
      home_polled = w.WaitUntilHomePolls();
      qemu_bh_schedule(bh);  // the home thread is blocked: aio_notify must wake it
    });
    // PollUntil fails if only its watchdog woke the loop.
    EXPECT_TRUE(w.PollUntil([&] { return probe.runs == 1; }));
    w.Join(t);
    EXPECT_TRUE(home_polled);
    EXPECT_EQ(probe.thread, w.CurrentThread()) << "callbacks run in the polling thread";
    qemu_bh_delete(bh);
  });
}

TEST_P(BhTest, LegacyIdleScheduleFromAForeignThreadDoesNotWakeTheLoop) {
  AIOSIM_LEGACY_ONLY("modern's qemu_bh_schedule_idle notifies (QEMU 5.0's BH rewrite); "
                     "IdleScheduleFromAForeignThreadWakesTheLoopInModern");
  RunInWorld([](World& w) {
    Probe idle_probe{&w};
    int64_t ran_ns = -1;
    idle_probe.ran_ns = &ran_ns;
    QEMUBH* idle = aio_bh_new(w.ctx(), Probe::Cb, &idle_probe);
    // The only other wakeup: a timer 300 ms from now.
    QEMUTimer* timer = timer_new_ms(w.ctx(), QEMU_CLOCK_REALTIME, +[](void*) {}, nullptr);
    const int64_t start = w.NowNs();
    const int64_t deadline = start + 300 * SCALE_MS;
    timer_mod_ns(timer, deadline);
    bool home_polled = false;
    ThreadId t = w.Spawn("vcpu", [&] {
      // Once the home thread has computed its timeout (the timer's) and sleeps...
      home_polled = w.WaitUntilHomePolls();
      qemu_bh_schedule_idle(idle);  // ... this does not wake it (no aio_notify in legacy)
    });
    while (idle_probe.runs == 0 && w.NowNs() - start < 10000 * SCALE_MS) {
      aio_poll(w.ctx(), true);
    }
    w.Join(t);
    EXPECT_TRUE(home_polled);
    EXPECT_EQ(idle_probe.runs, 1);
    EXPECT_GE(ran_ns, deadline) << "ran before the timer woke the loop";
    timer_del(timer);
    timer_free(timer);
    qemu_bh_delete(idle);
  });
}

TEST_P(BhTest, IdleScheduleFromAForeignThreadWakesTheLoopInModern) {
  if (!modern()) GTEST_SKIP() << "modern only: LegacyIdleScheduleFromAForeignThread...";
  RunInWorld([](World& w) {
    Probe idle_probe{&w};
    QEMUBH* idle = aio_bh_new(w.ctx(), Probe::Cb, &idle_probe);
    bool home_polled = false;
    ThreadId t = w.Spawn("vcpu", [&] {
      home_polled = w.WaitUntilHomePolls();
      qemu_bh_schedule_idle(idle);  // notifies: the blocked poll must wake
    });
    // PollUntil fails if only its watchdog woke the loop.
    EXPECT_TRUE(w.PollUntil([&] { return idle_probe.runs == 1; }));
    w.Join(t);
    EXPECT_TRUE(home_polled);
    qemu_bh_delete(idle);
  });
}

TEST_P(BhTest, OneshotFromAForeignThreadRunsInTheHomeThread) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    ThreadId t = w.Spawn("vcpu", [&] { aio_bh_schedule_oneshot(w.ctx(), Probe::Cb, &probe); });
    EXPECT_TRUE(w.PollUntil([&] { return probe.runs == 1; }));
    EXPECT_EQ(probe.thread, w.CurrentThread());
    w.Join(t);
  });
}

// Claim S3 / contract C3: from a foreign thread, cancel is no guarantee. This test
// only checks what always holds: no crash, at most one run per schedule, and a final
// uncancelled schedule runs. (The simulator shows the run-after-cancel interleaving.)
TEST_P(BhTest, CancelFromAForeignThreadRacesWithTheLoopButAFinalScheduleRuns) {
  RunInWorld([](World& w) {
    Probe probe{&w};
    QEMUBH* bh = aio_bh_new(w.ctx(), Probe::Cb, &probe);
    const int kRounds = Rounds(2000);
    Atomic<bool> done{false};
    ThreadId t = w.Spawn("vcpu", [&] {
      for (int i = 0; i < kRounds; i++) {
        qemu_bh_schedule(bh);
        qemu_bh_cancel(bh);
      }
      qemu_bh_schedule(bh);
      atomic_mb_set(&done, true);
    });
    int polls = 0;
    while (!atomic_mb_read(&done) && polls++ < 1000000) aio_poll(w.ctx(), false);
    w.Join(t);
    const int before_final = probe.runs;
    aio_poll(w.ctx(), false);
    EXPECT_GE(probe.runs, 1);
    EXPECT_LE(probe.runs, kRounds + 1);
    EXPECT_LE(probe.runs - before_final, 1);
    EXPECT_FALSE(aio_poll(w.ctx(), false)) << "nothing left scheduled";
    qemu_bh_delete(bh);
  });
}

TEST_P(BhTest, BhsCreatedConcurrentlyFromManyThreadsAllRun) {
  RunInWorld([](World& w) {
    constexpr int kThreads = 4, kPerThread = 25;
    std::vector<Probe> probes(kThreads * kPerThread, Probe{&w});
    std::vector<ThreadId> threads;
    for (int i = 0; i < kThreads; i++) {
      threads.push_back(w.Spawn("creator", [&, i] {
        for (int j = 0; j < kPerThread; j++) {
          aio_bh_schedule_oneshot(w.ctx(), Probe::Cb, &probes[i * kPerThread + j]);
        }
      }));
    }
    auto all_ran = [&] {
      for (const Probe& p : probes) {
        if (p.runs != 1) return false;
      }
      return true;
    };
    EXPECT_TRUE(w.PollUntil(all_ran));
    for (ThreadId t : threads) w.Join(t);
    aio_poll(w.ctx(), false);
    for (const Probe& p : probes) EXPECT_EQ(p.runs, 1);
    EXPECT_EQ(w.LiveBhs(), 0);
  });
}

}  // namespace
}  // namespace aiosim::testing
