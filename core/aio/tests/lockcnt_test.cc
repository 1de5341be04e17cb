// core/aio/tests/lockcnt_test.cc — QemuLockCnt (core/aio/modern/lockcnt.h) against
// its documented contract, on every platform (host threads and the simulator). The
// exhaustive check of its invariants under every interleaving is in
// lockcnt_sim_test.cc.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/modern/lockcnt.h"

#include "core/aio/tests/world.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified

TEST(LockCntTest, CountsVisitorsAndLocksOnlyAtZero) {
  RunInWorld([](World&) {
    QemuLockCnt lc;
    qemu_lockcnt_init(&lc);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 0u);
    qemu_lockcnt_inc(&lc);
    qemu_lockcnt_inc(&lc);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 2u);
    EXPECT_FALSE(qemu_lockcnt_dec_if_lock(&lc)) << "2 visitors: nothing changes";
    EXPECT_EQ(qemu_lockcnt_count(&lc), 2u);
    EXPECT_FALSE(qemu_lockcnt_dec_and_lock(&lc)) << "2 -> 1: not the last";
    EXPECT_EQ(qemu_lockcnt_count(&lc), 1u);
    EXPECT_TRUE(qemu_lockcnt_dec_and_lock(&lc)) << "1 -> 0: locked";
    EXPECT_EQ(qemu_lockcnt_count(&lc), 0u);
    qemu_lockcnt_inc_and_unlock(&lc);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 1u);
    EXPECT_TRUE(qemu_lockcnt_dec_if_lock(&lc)) << "1 -> 0: locked";
    qemu_lockcnt_unlock(&lc);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 0u);
    // The lock alone keeps the counter, and visitors may join a non-zero count.
    qemu_lockcnt_inc(&lc);
    qemu_lockcnt_lock(&lc);
    qemu_lockcnt_inc(&lc);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 2u);
    qemu_lockcnt_unlock(&lc);
    qemu_lockcnt_dec(&lc);
    qemu_lockcnt_dec(&lc);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 0u);
    qemu_lockcnt_destroy(&lc);
  });
}

// While the lock is held at zero, a new visitor waits (in the futex) until the
// unlock: what lets aio_set_fd_handler free a node no visitor can still see.
TEST(LockCntTest, IncFromZeroWaitsForTheUnlock) {
  RunInWorld([](World& w) {
    QemuLockCnt lc;
    qemu_lockcnt_init(&lc);
    qemu_lockcnt_lock(&lc);
    Atomic<bool> inside{false};
    QemuSemaphore trying(0);
    ThreadId t = w.Spawn("visitor", [&] {
      qemu_sem_post(&trying);
      qemu_lockcnt_inc(&lc);
      qatomic_set(&inside, true);
      qemu_lockcnt_dec(&lc);
    });
    qemu_sem_wait(&trying);  // the visitor is about to inc
    // A window in which it must not get in (time under test; a slow machine can only
    // make the window less searching, never fail the check wrongly).
    w.SleepMs(20);
    EXPECT_FALSE(qatomic_read(&inside));
    qemu_lockcnt_unlock(&lc);
    w.Join(t);
    EXPECT_TRUE(qatomic_read(&inside));
    EXPECT_EQ(qemu_lockcnt_count(&lc), 0u);
  });
}

// Visitors and freers at once, as aio_poll's walk and aio_set_fd_handler's removal:
// a visitor (between inc and dec) never sees the object freed, and whoever takes the
// lock at zero sees no visitor until it unlocks. Several threads contend for the lock
// at once, so the contended (WAITING) path and its wake-ups are exercised.
TEST(LockCntTest, VisitorsNeverSeeAFreeInProgress) {
  RunInWorld([](World& w) {
    QemuLockCnt lc;
    qemu_lockcnt_init(&lc);
    Atomic<int> freeing{0};
    Atomic<int> violations{0};
    Atomic<int> frees{0};
    const int rounds = Rounds(2000);
    auto visitor = [&] {
      for (int i = 0; i < rounds; i++) {
        qemu_lockcnt_inc(&lc);
        if (qatomic_read(&freeing) != 0) qatomic_inc(&violations);
        if (qemu_lockcnt_dec_and_lock(&lc)) {
          // The last one out frees (aio_free_deleted_handlers' shape).
          if (qatomic_fetch_inc(&freeing) != 0) qatomic_inc(&violations);
          qatomic_inc(&frees);
          qatomic_dec(&freeing);
          qemu_lockcnt_unlock(&lc);
        }
      }
    };
    auto freer = [&] {
      for (int i = 0; i < rounds; i++) {
        qemu_lockcnt_lock(&lc);
        if (qemu_lockcnt_count(&lc) == 0) {
          if (qatomic_fetch_inc(&freeing) != 0) qatomic_inc(&violations);
          qatomic_inc(&frees);
          qatomic_dec(&freeing);
        }
        qemu_lockcnt_unlock(&lc);
      }
    };
    ThreadId a = w.Spawn("visitor-a", visitor);
    ThreadId b = w.Spawn("visitor-b", visitor);
    ThreadId c = w.Spawn("freer", freer);
    w.Join(a);
    w.Join(b);
    w.Join(c);
    EXPECT_EQ(qatomic_read(&violations), 0);
    EXPECT_GT(qatomic_read(&frees), 0);
    EXPECT_EQ(qemu_lockcnt_count(&lc), 0u);
  });
}

}  // namespace
}  // namespace aiosim::testing
