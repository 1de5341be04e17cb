// core/aio/tests/lockcnt_sim_test.cc — QemuLockCnt (core/aio/modern/lockcnt.h) under
// bounded exhaustive search: every interleaving of visitors and freers within the
// preemption bound, checked for the lockcnt's promise (no visitor sees a free in
// progress), for data races on what it protects, and for lost futex wake-ups (a
// sleeper nobody wakes is a deadlock). A canary without the lockcnt must fail, and
// the contended (WAITING) path must be reached, so the search is known to look.
//
// What the search found: a holder of the lock that frees because
// qemu_lockcnt_count() reads 0 (QEMU's own shape in aio_set_fd_handler, which frees a
// node when the count under the lock is zero) is ordered after the last visitor's
// reads only by a control dependency. The count read is relaxed, and the lock may have
// been taken before the last visitor left through qemu_lockcnt_dec, so under the C11
// model, which the race detector follows, the visitor's read and the free race. On
// real hardware and compilers the branch keeps the free after the read (no store is
// speculated past a branch), and on x86 the RMWs are full barriers; a model that
// honours control dependencies would not report it. The test
// CountReadUnderTheLockOrdersAFreeOnlyByAControlDependency asserts the finding.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>

#include "core/aio/modern/lockcnt.h"
#include "core/platform/sync.h"
#include "core/aio/tests/search_util.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified
using sim::FailureKind;
using sim::SimContext;

struct Observed {
  bool saw_contended = false;  // a holder found the WAITING state set (Peek)
  bool saw_visit = false;
  bool saw_free = false;
};

enum class Mode {
  kQemu,         // free only where the lockcnt hands over the lock at zero
  kFreeByCount,  // also free where the count read under the lock is zero
  kNoLockCnt,    // canary: visitors skip inc/dec
};

// `object` stands for what the lockcnt protects: 1 = alive. Whoever gets the lock
// at zero visitors "frees" it (0) and "reallocates" it (1), with plain accesses, so
// the race detector checks that the lockcnt orders them against every visitor's read.
void LockCntBody(SimContext& c, Mode mode, Observed* seen) {
  const bool use_lockcnt = mode != Mode::kNoLockCnt;
  Threads& threads = c.platform().threads();
  QemuLockCnt lc;
  qemu_lockcnt_init(&lc);
  Shared<int> object{1};
  auto free_object = [&] {
    object.Store(0);
    object.Store(1);
    seen->saw_free = true;
    if ((lc.count.Peek() & 3) == 2) seen->saw_contended = true;
  };
  auto visitor = [&] {
    if (use_lockcnt) qemu_lockcnt_inc(&lc);
    c.Check(object.Load() == 1, "a visitor sees the object alive");
    seen->saw_visit = true;
    if (!use_lockcnt) return;
    if (qemu_lockcnt_dec_and_lock(&lc)) {
      free_object();
      qemu_lockcnt_unlock(&lc);
    }
  };
  // Contends for the lock (so sleepers and their wake-ups happen); in kFreeByCount,
  // frees when the count it reads under the lock is zero.
  auto freer = [&] {
    qemu_lockcnt_lock(&lc);
    if (qemu_lockcnt_count(&lc) == 0 && mode != Mode::kQemu) free_object();
    if ((lc.count.Peek() & 3) == 2) seen->saw_contended = true;
    qemu_lockcnt_unlock(&lc);
  };
  // aio_free_deleted_handlers' bracket: a visitor that is the only one frees, else
  // leaves its count as it was.
  auto nested = [&] {
    qemu_lockcnt_inc(&lc);
    c.Check(object.Load() == 1, "a visitor sees the object alive");
    if (qemu_lockcnt_dec_if_lock(&lc)) {
      free_object();
      qemu_lockcnt_inc_and_unlock(&lc);
    }
    qemu_lockcnt_dec(&lc);
  };
  int a = threads.Spawn("visitor", visitor, QEMU_THREAD_JOINABLE);
  int b = threads.Spawn("freer", freer, QEMU_THREAD_JOINABLE);
  int d = threads.Spawn("nested", nested, QEMU_THREAD_JOINABLE);
  freer();  // main contends for the lock too
  threads.Join(a);
  threads.Join(b);
  threads.Join(d);
  c.Check(qemu_lockcnt_count(&lc) == 0, "every visitor left");
  c.Check((lc.count.Peek() & 3) == 0, "the lock is free at the end");
}

sim::RunConfig DfsConfig(int preemptions) { return DfsSearch("lockcnt", preemptions); }

TEST(LockCntSimTest, EveryScheduleWithinTwoPreemptionsKeepsTheContract) {
  Observed seen;
  sim::Report r = sim::Explore([&](SimContext& c) { LockCntBody(c, Mode::kQemu, &seen); },
                               DfsConfig(2));
  EXPECT_FALSE(r.found) << DescribeFailure(r);
  EXPECT_TRUE(r.exhausted) << r.executions << " executions, " << r.figures.description;
  EXPECT_TRUE(seen.saw_contended) << "the WAITING path was never reached";
  EXPECT_TRUE(seen.saw_visit);
  EXPECT_TRUE(seen.saw_free);
}

TEST(LockCntSimTest, CanaryVisitorsWithoutTheLockCntAreCaught) {
  Observed seen;
  sim::RunConfig config = DfsConfig(1);
  sim::Report r = sim::Explore(
      [&](SimContext& c) { LockCntBody(c, Mode::kNoLockCnt, &seen); }, config);
  ASSERT_TRUE(r.found) << r.executions << " executions";
  EXPECT_TRUE(r.failure.kind == FailureKind::kAssertion ||
              r.failure.kind == FailureKind::kDataRace)
      << DescribeFailure(r);
}

// The schedule the search finds (2 preemptions): nested, alone inside, takes the lock
// at zero through dec_if_lock, frees, and comes back (inc_and_unlock: count 1); the
// freer takes the lock (allowed: the count is not zero); the visitor comes in
// (1 -> 2, allowed while the lock is held, since the count is not zero), reads the
// object and leaves (2 -> 1); nested leaves through qemu_lockcnt_dec (1 -> 0); the
// freer reads 0 and frees. Nothing the freer did after the visitor's read acquires.
TEST(LockCntSimTest, CountReadUnderTheLockOrdersAFreeOnlyByAControlDependency) {
  Observed seen;
  sim::Report r = sim::Explore(
      [&](SimContext& c) { LockCntBody(c, Mode::kFreeByCount, &seen); }, DfsConfig(2));
  ASSERT_TRUE(r.found) << r.executions << " executions";
  EXPECT_EQ(r.failure.kind, FailureKind::kDataRace) << DescribeFailure(r);
  EXPECT_NE(r.failure.message.find("plain-store"), std::string::npos) << DescribeFailure(r);
}

}  // namespace
}  // namespace aiosim::testing
