// core/platform/tests/platform_test.cc — conformance of the seam's primitives and
// services, from their documented contracts (core/platform/*.h). Compiled into each
// platform's conformance binary, like the core's tests.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cerrno>

#include "core/aio/tests/world.h"
#include "core/platform/platform.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT

TEST(PlatformTest, AtomicOperationsReturnWhatQemuSays) {
  RunInWorld([](World&) {
    Atomic<int> a{5};
    EXPECT_EQ(atomic_read(&a), 5);
    atomic_set(&a, 6);
    EXPECT_EQ(atomic_mb_read(&a), 6);
    atomic_mb_set(&a, 7);
    EXPECT_EQ(atomic_load_acquire(&a), 7);
    atomic_store_release(&a, 8);
    EXPECT_EQ(atomic_xchg(&a, 9), 8);
    EXPECT_EQ(atomic_cmpxchg(&a, 1, 2), 9) << "fails, returns the old value";
    EXPECT_EQ(atomic_cmpxchg(&a, 9, 10), 9) << "succeeds, returns the old value";
    EXPECT_EQ(atomic_read(&a), 10);
    EXPECT_EQ(atomic_fetch_add(&a, 5), 10);
    EXPECT_EQ(atomic_fetch_sub(&a, 3), 15);
    EXPECT_EQ(atomic_fetch_and(&a, 4), 12);
    EXPECT_EQ(atomic_fetch_or(&a, 3), 4);
    EXPECT_EQ(atomic_fetch_inc(&a), 7);
    EXPECT_EQ(atomic_fetch_dec(&a), 8);
    atomic_inc(&a);
    atomic_add(&a, 10);
    atomic_sub(&a, 2);
    atomic_dec(&a);
    atomic_or(&a, 0x100);
    atomic_and(&a, 0xff);
    EXPECT_EQ(atomic_read(&a), 15);
    EXPECT_EQ(a.PlainLoad(), 15);
    a.PlainStore(3);
    EXPECT_EQ(atomic_read(&a), 3);

    Atomic<bool> b{false};
    EXPECT_FALSE(atomic_xchg(&b, true));
    EXPECT_TRUE(atomic_xchg(&b, false));
    Atomic<uint32_t> u{0};
    atomic_or(&u, 1u);
    atomic_add(&u, 2u);
    atomic_and(&u, ~1u);
    EXPECT_EQ(atomic_read(&u), 2u);

    Shared<int> s{4};
    EXPECT_EQ(s.Load(), 4);
    s.Store(5);
    EXPECT_EQ(s.Load(), 5);
    smp_mb();
    smp_wmb();
    smp_rmb();
    smp_read_barrier_depends();
    barrier();
  });
}

TEST(PlatformTest, QatomicNamesAreTheSameOperations) {
  RunInWorld([](World&) {
    Atomic<unsigned> a{5};
    EXPECT_EQ(qatomic_read(&a), 5u);
    qatomic_set(&a, 6);
    EXPECT_EQ(qatomic_load_acquire(&a), 6u);
    qatomic_store_release(&a, 7);
    EXPECT_EQ(qatomic_rcu_read(&a), 7u);
    qatomic_rcu_set(&a, 8);
    qatomic_set_mb(&a, 9);
    EXPECT_EQ(qatomic_xchg(&a, 10), 9u);
    EXPECT_EQ(qatomic_cmpxchg(&a, 1, 2), 10u) << "fails, returns the old value";
    EXPECT_EQ(qatomic_cmpxchg(&a, 10, 12), 10u) << "succeeds, returns the old value";
    EXPECT_EQ(qatomic_fetch_or(&a, 1), 12u);
    EXPECT_EQ(qatomic_fetch_and(&a, ~4u), 13u);
    EXPECT_EQ(qatomic_fetch_add(&a, 4), 9u);
    EXPECT_EQ(qatomic_fetch_sub(&a, 1), 13u);
    EXPECT_EQ(qatomic_fetch_inc(&a), 12u);
    EXPECT_EQ(qatomic_fetch_dec(&a), 13u);
    qatomic_inc(&a);
    qatomic_add(&a, 3);
    qatomic_sub(&a, 4);
    qatomic_dec(&a);
    qatomic_or(&a, 0x100);
    qatomic_and(&a, 0xff);
    EXPECT_EQ(qatomic_read(&a), 11u);
    smp_mb__before_rmw();
    smp_mb__after_rmw();
  });
}

// qemu_futex_wait returns at once when the word is not the expected value; it sleeps
// while it is, until a wake. Callers re-check (a return may be spurious), as here.
TEST(PlatformTest, FutexSleepsWhileTheWordIsExpectedAndWakesOnWake) {
  RunInWorld([](World& w) {
    Atomic<unsigned> word{1};
    qemu_futex_wait(&word, 0u);  // not 0: returns at once
    qemu_futex_wake_single(&word);  // nobody asleep: nothing happens
    qemu_futex_wake_all(&word);

    qatomic_set(&word, 0);
    Atomic<bool> woke{false};
    QemuSemaphore waiting(0);
    ThreadId t = w.Spawn("sleeper", [&] {
      qemu_sem_post(&waiting);
      while (qatomic_read(&word) == 0) qemu_futex_wait(&word, 0u);
      qatomic_set(&woke, true);
    });
    qemu_sem_wait(&waiting);  // the sleeper is about to sleep
    // A window in which it must not leave its loop (time under test; a slow machine
    // can only make the window less searching, never fail the check wrongly).
    w.SleepMs(20);
    EXPECT_FALSE(qatomic_read(&woke));
    qatomic_set(&word, 1);
    qemu_futex_wake_single(&word);
    w.Join(t);
    EXPECT_TRUE(qatomic_read(&woke));
  });
}

TEST(PlatformTest, FutexWakeAllWakesEverySleeper) {
  RunInWorld([](World& w) {
    Atomic<int> word{0};
    Atomic<int> awake{0};
    QemuSemaphore waiting(0);
    auto sleeper = [&] {
      qemu_sem_post(&waiting);
      while (qatomic_read(&word) == 0) qemu_futex_wait(&word, 0);
      qatomic_inc(&awake);
    };
    ThreadId a = w.Spawn("sleeper-a", sleeper);
    ThreadId b = w.Spawn("sleeper-b", sleeper);
    qemu_sem_wait(&waiting);
    qemu_sem_wait(&waiting);
    qatomic_set(&word, 1);
    qemu_futex_wake_all(&word);
    w.Join(a);
    w.Join(b);
    EXPECT_EQ(qatomic_read(&awake), 2);
  });
}

// QEMU's __thread variables: each thread has its own copy, zero at its start.
TEST(PlatformTest, ThreadLocalIsPerThreadAndStartsAtZero) {
  static ThreadLocal<int> number;
  static ThreadLocal<void*> pointer;
  RunInWorld([](World& w) {
    number.Set(5);
    int here = 0;
    pointer.Set(&here);
    int seen_number = -1;
    void* seen_pointer = &seen_number;
    ThreadId t = w.Spawn("other", [&] {
      seen_number = number.Get();
      seen_pointer = pointer.Get();
      number.Set(7);
    });
    w.Join(t);
    EXPECT_EQ(seen_number, 0);
    EXPECT_EQ(seen_pointer, nullptr);
    EXPECT_EQ(number.Get(), 5) << "the other thread's Set is its own";
    EXPECT_EQ(pointer.Get(), &here);
    number.Set(0);
    pointer.Set(nullptr);
  });
}

TEST(PlatformTest, SemaphoreCountsAndTimedWaitTimesOut) {
  RunInWorld([](World& w) {
    QemuSemaphore sem(1);
    EXPECT_EQ(qemu_sem_timedwait(&sem, 0), 0) << "a token is there";
    EXPECT_EQ(qemu_sem_timedwait(&sem, 0), -1) << "0 ms: just try";
    const int64_t start = w.NowNs();
    EXPECT_EQ(qemu_sem_timedwait(&sem, 30), -1);
    EXPECT_GE(w.NowNs() - start, 30 * SCALE_MS);
    qemu_sem_post(&sem);
    qemu_sem_post(&sem);
    qemu_sem_wait(&sem);
    EXPECT_EQ(qemu_sem_timedwait(&sem, 1000), 0);
    EXPECT_EQ(qemu_sem_timedwait(&sem, 0), -1);

    ThreadId t = w.Spawn("poster", [&] {
      w.SleepMs(10);  // time under test: the wait below cannot return before the post
      qemu_sem_post(&sem);
    });
    qemu_sem_wait(&sem);  // returns only after the post
    EXPECT_GE(w.NowNs() - start, 40 * SCALE_MS);
    w.Join(t);
  });
}

TEST(PlatformTest, MutexExcludesAndTryLockSaysBusy) {
  RunInWorld([](World& w) {
    QemuMutex m;
    qemu_mutex_lock(&m);
    int trylock = 0;
    ThreadId t = w.Spawn("other", [&] { trylock = qemu_mutex_trylock(&m); });
    w.Join(t);
    EXPECT_EQ(trylock, -EBUSY);
    qemu_mutex_unlock(&m);
    EXPECT_EQ(qemu_mutex_trylock(&m), 0);
    qemu_mutex_unlock(&m);
  });
}

TEST(PlatformTest, RecursiveMutexNestsInOneThreadAndExcludesOthers) {
  RunInWorld([](World& w) {
    QemuRecMutex m;
    Atomic<bool> got{false};
    QemuSemaphore trying(0);
    qemu_rec_mutex_lock(&m);
    qemu_rec_mutex_lock(&m);
    ThreadId t = w.Spawn("other", [&] {
      qemu_sem_post(&trying);
      qemu_rec_mutex_lock(&m);
      atomic_set(&got, true);
      qemu_rec_mutex_unlock(&m);
    });
    qemu_sem_wait(&trying);  // the other thread is about to lock
    qemu_rec_mutex_unlock(&m);
    // A window in which the other thread must not get the mutex (still held once).
    // Exclusion is what is under test, so this waits for time; a slow machine can
    // only make the window less searching, never fail the check wrongly.
    w.SleepMs(20);
    EXPECT_FALSE(atomic_read(&got)) << "still held once";
    qemu_rec_mutex_unlock(&m);
    w.Join(t);
    EXPECT_TRUE(atomic_read(&got));
  });
}

TEST(PlatformTest, ConditionSignalsAndTimesOut) {
  RunInWorld([](World& w) {
    QemuMutex m;
    QemuCond c;
    bool ready = false;
    qemu_mutex_lock(&m);
    const int64_t start = w.NowNs();
    EXPECT_FALSE(qemu_cond_timedwait(&c, &m, 20));
    EXPECT_GE(w.NowNs() - start, 20 * SCALE_MS);
    ThreadId t = w.Spawn("signaller", [&] {
      qemu_mutex_lock(&m);
      ready = true;
      qemu_cond_signal(&c);
      qemu_mutex_unlock(&m);
    });
    int waits = 0;
    while (!ready && waits++ < 1000) qemu_cond_wait(&c, &m);
    EXPECT_TRUE(ready);
    qemu_mutex_unlock(&m);
    w.Join(t);
  });
}

TEST(PlatformTest, EventStaysSetUntilReset) {
  RunInWorld([](World& w) {
    QemuEvent set(true), unset(false);
    qemu_event_wait(&set);  // returns at once
    qemu_event_wait(&set);
    Atomic<bool> woke{false};
    QemuSemaphore waiting(0);
    ThreadId t = w.Spawn("waiter", [&] {
      qemu_sem_post(&waiting);
      qemu_event_wait(&unset);
      atomic_set(&woke, true);
    });
    qemu_sem_wait(&waiting);  // the waiter is about to wait
    // A window in which the unset event must not release it (time under test; a slow
    // machine can only make the window less searching, never fail the check wrongly).
    w.SleepMs(20);
    EXPECT_FALSE(atomic_read(&woke));
    qemu_event_set(&unset);
    w.Join(t);
    EXPECT_TRUE(atomic_read(&woke));
    qemu_event_reset(&unset);
    qemu_event_set(&unset);
    qemu_event_wait(&unset);
  });
}

TEST(PlatformTest, ThreadsHaveIdsAndNames) {
  RunInWorld([](World& w) {
    Threads& threads = w.platform().threads();
    const ThreadId self = threads.Current();
    ThreadId seen_id = -1;
    std::string seen_name;
    QemuThread thread;
    qemu_thread_create(&threads, &thread, "named", [&] {
      seen_id = threads.Current();
      seen_name = threads.CurrentName();
    }, QEMU_THREAD_JOINABLE);
    qemu_thread_join(&thread);
    EXPECT_EQ(seen_id, thread.id);
    EXPECT_NE(seen_id, self);
    EXPECT_EQ(seen_name, "named");
    ThreadId second = w.Spawn("second", [] {});
    w.Join(second);
    EXPECT_GT(second, seen_id) << "ids are given in spawn order";
  });
}

TEST(PlatformTest, EventNotifierIsALevelTriggeredFd) {
  RunInWorld([](World& w) {
    Poller& poller = w.platform().poller();
    auto e = poller.NewEventNotifier(false);
    ASSERT_NE(e, nullptr);
    PollFd pfd{event_notifier_get_fd(e.get()), G_IO_IN, 0};
    EXPECT_EQ(poller.Poll(&pfd, 1, 0), 0);
    EXPECT_EQ(event_notifier_test_and_clear(e.get()), 0);

    EXPECT_EQ(event_notifier_set(e.get()), 0);
    EXPECT_EQ(event_notifier_set(e.get()), 0);
    for (int i = 0; i < 2; i++) {  // level-triggered: stays ready until cleared
      pfd.revents = 0;
      EXPECT_EQ(poller.Poll(&pfd, 1, 0), 1);
      EXPECT_TRUE(pfd.revents & G_IO_IN);
    }
    EXPECT_EQ(event_notifier_test_and_clear(e.get()), 1);
    EXPECT_EQ(event_notifier_test_and_clear(e.get()), 0);
    pfd.revents = 0;
    const int64_t start = w.NowNs();
    EXPECT_EQ(poller.Poll(&pfd, 1, 20 * SCALE_MS), 0);
    EXPECT_GE(w.NowNs() - start, 20 * SCALE_MS);

    auto active = poller.NewEventNotifier(true);
    EXPECT_EQ(event_notifier_test_and_clear(active.get()), 1) << "created set";
  });
}

TEST(PlatformTest, PollWakesWhenAnotherThreadSetsTheNotifier) {
  RunInWorld([](World& w) {
    Poller& poller = w.platform().poller();
    auto e = poller.NewEventNotifier(false);
    ThreadId t = w.Spawn("setter", [&] {
      // Meant to land while the poll below blocks; nothing shows that a thread is
      // inside ppoll, but the check holds either way: if the set comes first, the
      // poll returns at once.
      w.SleepMs(10);
      event_notifier_set(e.get());
    });
    PollFd pfd{event_notifier_get_fd(e.get()), G_IO_IN, 0};
    int ret = 0;
    for (int i = 0; i < 100 && ret <= 0; i++) ret = poller.Poll(&pfd, 1, -1);  // EINTR
    EXPECT_EQ(ret, 1);
    w.Join(t);
  });
}

TEST(PlatformTest, MonotonicClocksNeverGoBack) {
  RunInWorld([](World& w) {
    Clock& clock = w.platform().clock();
    for (QEMUClockType type : {QEMU_CLOCK_REALTIME, QEMU_CLOCK_VIRTUAL, QEMU_CLOCK_VIRTUAL_RT}) {
      int64_t prev = clock.NowNs(type);
      for (int i = 0; i < 100; i++) {
        int64_t now = clock.NowNs(type);
        EXPECT_GE(now, prev) << QEMUClockTypeName(type);
        prev = now;
      }
    }
    EXPECT_GT(clock.NowNs(QEMU_CLOCK_HOST), 0);
  });
}

}  // namespace
}  // namespace aiosim::testing
