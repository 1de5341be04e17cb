// core/aio/tests/event_test.cc — the modern generation's QemuEvent
// (core/aio/modern/event.h) against its contract, on every platform, in both of its
// versions. The interleavings are searched in event_sim_test.cc.
// SPDX-License-Identifier: GPL-2.0-or-later
#include "core/aio/modern/event.h"

#include "core/aio/tests/world.h"
#include "core/platform/sync.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified
namespace m = aiosim::core::modern;

class ModernEventTest : public ::testing::TestWithParam<m::QemuEventVersion> {};

TEST_P(ModernEventTest, StaysSetUntilResetAndReleasesAWaiter) {
  const m::QemuEventVersion version = GetParam();
  RunInWorld([version](World& w) {
    m::QemuEvent set, unset;
    m::qemu_event_init(&set, true, version);
    m::qemu_event_init(&unset, false, version);
    m::qemu_event_wait(&set);  // returns at once
    m::qemu_event_wait(&set);
    m::qemu_event_set(&set);  // already set: nothing changes
    m::qemu_event_wait(&set);
    m::qemu_event_reset(&set);
    m::qemu_event_reset(&set);  // reset twice: still reset
    m::qemu_event_set(&set);
    m::qemu_event_wait(&set);

    Atomic<bool> woke{false};
    QemuSemaphore waiting(0);
    ThreadId t = w.Spawn("waiter", [&] {
      qemu_sem_post(&waiting);
      m::qemu_event_wait(&unset);
      qatomic_set(&woke, true);
    });
    qemu_sem_wait(&waiting);  // the waiter is about to wait
    // A window in which the unset event must not release it (time under test; a slow
    // machine can only make the window less searching, never fail the check wrongly).
    w.SleepMs(20);
    EXPECT_FALSE(qatomic_read(&woke));
    m::qemu_event_set(&unset);
    w.Join(t);
    EXPECT_TRUE(qatomic_read(&woke));
    m::qemu_event_destroy(&set);
    m::qemu_event_destroy(&unset);
  });
}

INSTANTIATE_TEST_SUITE_P(Versions, ModernEventTest,
                         ::testing::Values(m::QemuEventVersion::kQemu10_1,
                                           m::QemuEventVersion::kQemu10_0),
                         [](const auto& info) {
                           return info.param == m::QemuEventVersion::kQemu10_1
                                      ? std::string("Qemu10_1")
                                      : std::string("Qemu10_0");
                         });

}  // namespace
}  // namespace aiosim::testing
