// core/aio/tests/modern_sim_test.cc — the modern generation's wakeup protocol (QEMU
// 10.2 util/async.c and util/aio-posix.c) under bounded exhaustive search: a BH
// scheduled from another thread while the home thread loops on aio_poll(ctx, true)
// always runs (no lost wakeup, no deadlock, no use after free), and the protocol's
// re-check of `notified` after raising notify_me is what makes it so: without it (a
// test-only canary) the search finds the lost wakeup.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The race detector is off here: QEMU 10.2's own races by design (T11,
// docs/tsan-races.md) are not what these searches are about; `aiosim run
// --generation modern --races` covers them with the known races let through.
#include <string>

#include "core/aio/aio.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/tests/search_util.h"
#include "gtest/gtest.h"
#include "sim/aiosim_sim.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT: QEMU's names read best unqualified
namespace m = aiosim::core::modern;
using sim::FailureKind;
using sim::SimContext;

struct Flag {
  Atomic<bool> ran{false};
};

// "" if no BH of a modern context is scheduled, for SimContext::SetPending (an
// observer's reads: no scheduling points).
std::string PendingModern(AioContext* ctx) {
  m::AioContext* mc = m::of(ctx);
  for (m::QEMUBH* bh = mc->bh_list.Peek(); bh != nullptr; bh = bh->next.Peek()) {
    if ((bh->flags.Peek() & (m::BH_SCHEDULED | m::BH_DELETED)) == m::BH_SCHEDULED) {
      return "a BH of the context is scheduled";
    }
  }
  return "";
}

// The home thread loops on blocking polls until the BH ran; `schedulers` threads each
// schedule it once (the first schedule is what must be delivered; a later one may
// coalesce with it).
void ForeignScheduleBody(SimContext& c, int schedulers) {
  AioRuntime rt(&c.platform());
  AioContextOptions options;
  options.generation = AioGeneration::kModern;
  AioContext* ctx = aio_context_new(&rt, options);
  c.SetPending([ctx] { return PendingModern(ctx); });
  Flag flag;
  QEMUBH* bh = aio_bh_new(ctx, +[](void* f) { atomic_set(&static_cast<Flag*>(f)->ran, true); },
                          &flag);
  Threads& threads = c.platform().threads();
  int ids[2];
  for (int i = 0; i < schedulers; i++) {
    ids[i] = threads.Spawn("vcpu", [bh] { qemu_bh_schedule(bh); }, QEMU_THREAD_JOINABLE);
  }
  while (!atomic_read(&flag.ran)) aio_poll(ctx, true);
  for (int i = 0; i < schedulers; i++) threads.Join(ids[i]);
  qemu_bh_delete(bh);
  aio_poll(ctx, false);
  aio_context_unref(ctx);
}

sim::RunConfig Config(int preemptions) {
  sim::RunConfig config = DfsSearch("modern-notify", preemptions);
  config.exec.race_detection = false;  // see the file's header
  return config;
}

TEST(ModernNotifySimTest, AForeignScheduleAlwaysWakesTheHomeThreadWithinTheBound) {
  for (int schedulers : {1, 2}) {
    sim::Report r = sim::Explore([&](SimContext& c) { ForeignScheduleBody(c, schedulers); },
                                 Config(schedulers == 1 ? 3 : 2));
    ::testing::Test::RecordProperty(
        "executions_" + std::to_string(schedulers) + "_schedulers",
        std::to_string(r.executions));
    EXPECT_FALSE(r.found) << schedulers << " scheduler(s): " << DescribeFailure(r);
    EXPECT_TRUE(r.exhausted) << schedulers << " scheduler(s): " << r.executions
                             << " executions";
  }
}

TEST(ModernNotifySimTest, WithoutTheNotifiedRecheckTheSearchFindsTheLostWakeup) {
  m::aio_test_skip_notified_recheck = true;
  sim::Report r =
      sim::Explore([](SimContext& c) { ForeignScheduleBody(c, 1); }, Config(2));
  m::aio_test_skip_notified_recheck = false;
  ::testing::Test::RecordProperty("executions_to_the_lost_wakeup",
                                  std::to_string(r.failing_execution + 1));
  ASSERT_TRUE(r.found) << r.executions << " executions, exhausted " << r.exhausted;
  EXPECT_EQ(r.failure.kind, FailureKind::kLostWakeup) << DescribeFailure(r);
}

}  // namespace
}  // namespace aiosim::testing
