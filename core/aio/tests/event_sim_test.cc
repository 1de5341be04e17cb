// core/aio/tests/event_sim_test.cc — the modern generation's QemuEvent
// (core/aio/modern/event.h) under bounded exhaustive search: 10.1's wait never
// returns while the event is unset, even with spurious futex returns; 10.0's does,
// after a wake-up meant for an earlier set — the bug that QEMU's 6e2d11bf04 ("futex:
// Check value after qemu_futex_wait()") fixed in 10.1, found here by scheduling alone.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <string>

#include "core/aio/modern/event.h"
#include "core/platform/sync.h"
#include "core/aio/tests/search_util.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified
namespace m = aiosim::core::modern;
using sim::FailureKind;
using sim::SimContext;

// A waits; S sets; B resets and waits for a set after its reset. Main, once S is
// done and B has reset, allows B's wait to end and sets again. Oracle: when B's wait
// returns, the event is set, or main's second set has begun. (Only B resets, so a set
// that lands after B's reset leaves the event set; one that landed before it was undone
// by the reset.)
void StaleWakeBody(SimContext& c, m::QemuEventVersion version) {
  Threads& threads = c.platform().threads();
  m::QemuEvent ev;
  m::qemu_event_init(&ev, false, version);
  bool may_return = false;  // host memory: the simulated threads are fibers
  QemuSemaphore reset_done(0);
  int a = threads.Spawn(
      "waiter-a", [&] { m::qemu_event_wait(&ev); }, QEMU_THREAD_JOINABLE);
  int s = threads.Spawn(
      "setter", [&] { m::qemu_event_set(&ev); }, QEMU_THREAD_JOINABLE);
  int b = threads.Spawn(
      "waiter-b",
      [&] {
        m::qemu_event_reset(&ev);
        qemu_sem_post(&reset_done);
        m::qemu_event_wait(&ev);
        c.Check(ev.value.Peek() == 0 || may_return,
                "qemu_event_wait returned while the event is not set");
      },
      QEMU_THREAD_JOINABLE);
  threads.Join(s);
  qemu_sem_wait(&reset_done);  // so that the set below comes after B's reset
  may_return = true;
  m::qemu_event_set(&ev);
  threads.Join(a);
  threads.Join(b);
  m::qemu_event_destroy(&ev);
}

sim::RunConfig DfsConfig(bool spurious) { return DfsSearch("qemu-event", 2, spurious); }

TEST(QemuEventSimTest, TenOneNeverReturnsUnsetUnderEveryScheduleWithinTheBound) {
  sim::Report r = sim::Explore(
      [](SimContext& c) { StaleWakeBody(c, m::QemuEventVersion::kQemu10_1); },
      DfsConfig(/*spurious=*/false));
  EXPECT_FALSE(r.found) << DescribeFailure(r);
  EXPECT_TRUE(r.exhausted) << r.executions << " executions, " << r.figures.description;
}

// Spurious futex returns are value choices, free under a preemption bound, and a wait
// that loops on them makes the bounded space unbounded; so they are sampled, not
// exhausted: random schedules with spurious returns on.
TEST(QemuEventSimTest, TenOneToleratesSpuriousFutexReturns) {
  sim::RunConfig config = DfsConfig(/*spurious=*/true);
  config.strategy = "random";
  config.executions_max = 20000;
  sim::Report r = sim::Explore(
      [](SimContext& c) { StaleWakeBody(c, m::QemuEventVersion::kQemu10_1); }, config);
  EXPECT_FALSE(r.found) << DescribeFailure(r);
  EXPECT_EQ(r.executions, 20000u);
}

TEST(QemuEventSimTest, TenZeroReturnsUnsetOnASpuriousFutexReturn) {
  sim::RunConfig config = DfsConfig(/*spurious=*/true);
  config.strategy = "random";
  config.executions_max = 20000;
  sim::Report r = sim::Explore(
      [](SimContext& c) { StaleWakeBody(c, m::QemuEventVersion::kQemu10_0); }, config);
  ASSERT_TRUE(r.found) << r.executions << " executions";
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion) << DescribeFailure(r);
}

// The schedule: A sleeps (BUSY); S exchanges SET in and sees BUSY, and is preempted
// before its wake-all; B resets (FREE), marks BUSY and sleeps; S wakes every sleeper,
// B included, and 10.0's B returns with the event BUSY.
TEST(QemuEventSimTest, TenZeroReturnsUnsetAfterAStaleWakeUp) {
  sim::Report r = sim::Explore(
      [](SimContext& c) { StaleWakeBody(c, m::QemuEventVersion::kQemu10_0); },
      DfsConfig(/*spurious=*/false));
  ASSERT_TRUE(r.found) << r.executions << " executions";
  EXPECT_EQ(r.failure.kind, FailureKind::kAssertion) << DescribeFailure(r);
  EXPECT_NE(r.failure.message.find("not set"), std::string::npos) << DescribeFailure(r);
}

}  // namespace
}  // namespace aiosim::testing
