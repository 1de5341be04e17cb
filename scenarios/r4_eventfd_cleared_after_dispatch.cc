// scenarios/r4_eventfd_cleared_after_dispatch.cc — catalog R4 (21a03d17f2 and
// 05e514b1d4, QEMU 2.4): with the eventfd cleared by the notifier's own fd handler
// after dispatch, a nested aio_poll eats a wakeup meant for the main loop. Follows
// QEMU 2.8.1 async.c / aio-posix.c, with AIO_REVERT_R4 on request (--revert R4).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: an "iothread" drives the context through the GSource path (main_loop_wait:
// prepare sets notify_me bit 0, then poll) holding the BQL, which it drops only around
// a poll that may wait, as QEMU's os_host_main_loop_wait does: an iteration with a
// zero timeout keeps the BQL from prepare through dispatch. The bug needs the iothread
// to block with an infinite timeout, and then it has dropped the BQL, so the vcpu can
// run in the window between the iothread's prepare and its poll. A "vcpu" runs one
// nested blocking aio_poll under the BQL; a "worker" schedules a BH, waits until it
// has run once, and schedules it again. The property: the second schedule must run
// (main waits for it). With the fix reverted, the vcpu's dispatch clears the eventfd
// that the second schedule set, after its own BH pass, while the iothread sits between
// prepare and poll: the iothread then sleeps in poll with the BH scheduled — a lost
// wakeup. With the fix, aio_notify_accept clears the eventfd before the BH pass, so a
// later set always survives.
#include "core/aio/aio.h"
#include "core/aio/main_loop.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R4State {
  QemuMutex bql;  // QEMU's big lock: serialises the two dispatchers
  Atomic<int> runs{0};
  QemuSemaphore ran_once{0};
  QemuSemaphore ran_twice{0};
  Atomic<bool> stop{false};
  Atomic<int> exited{0};
};

void WorkCallback(void* opaque) {
  auto* s = static_cast<R4State*>(opaque);
  int runs = atomic_fetch_add(&s->runs, 1) + 1;
  if (runs == 1) qemu_sem_post(&s->ran_once);
  if (runs == 2) qemu_sem_post(&s->ran_twice);
}

void KickCallback(void*) {}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const AioContextOptions ctx_options = ContextOptions(options);
  return [switches, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    R4State s;
    // Names in reports.
    s.bql.SetName("bql");
    s.runs.SetName("work runs");
    s.ran_once.SetName("sem ran_once");
    s.ran_twice.SetName("sem ran_twice");
    s.stop.SetName("stop");
    s.exited.SetName("pollers exited");
    QEMUBH* work = aio_bh_new_full(ctx, WorkCallback, &s, "work");
    QEMUBH* kick = aio_bh_new_full(ctx, KickCallback, nullptr, "kick");
    c.SetPending([ctx] { return PendingBhs(ctx); });

    // QEMU's BQL and main context (the vCPU's poll of it under the BQL is legal in
    // QEMU 10 through qemu_get_current_aio_context's fallback).
    rt.set_bql(&s.bql);
    rt.set_main_context(ctx);
    ThreadId iothread = Spawn(c, "iothread", [&] {
      MainLoop loop{ctx, &s.bql};
      bql_lock(&rt);
      while (!atomic_read(&s.stop)) main_loop_wait(&loop, false);
      bql_unlock(&rt);
      atomic_inc(&s.exited);
    });
    ThreadId vcpu = Spawn(c, "vcpu", [&] {
      bql_lock(&rt);
      aio_poll(ctx, true);  // a nested blocking poll, e.g. bdrv_drain in a vCPU
      bql_unlock(&rt);
      atomic_inc(&s.exited);
    });
    ThreadId worker = Spawn(c, "worker", [&] {
      qemu_bh_schedule(work);
      qemu_sem_wait(&s.ran_once);
      qemu_bh_schedule(work);
    });

    Join(c, worker);
    qemu_sem_wait(&s.ran_twice);  // never returns after a lost wakeup
    // Teardown: stop both pollers; keep kicking until both have left their loops.
    atomic_set(&s.stop, true);
    for (int i = 0; i < 1000 && atomic_read(&s.exited) < 2; i++) {
      qemu_bh_schedule(kick);
      SleepMs(1);
    }
    Join(c, iothread);
    Join(c, vcpu);
    qemu_bh_delete(work);
    qemu_bh_delete(kick);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR4() {
  Scenario s;
  s.id = "R4";
  s.title = "eventfd cleared after dispatch: a nested aio_poll eats the main loop's wakeup";
  s.summary =
      "An iothread in the GSource path holds notify_me bit 0 between prepare and poll; "
      "a vCPU's blocking aio_poll dispatches a BH; the worker schedules it again and "
      "sets the eventfd; with the fix reverted the vCPU's notifier handler then clears "
      "it, and the iothread sleeps with the BH scheduled (a lost wakeup). The fix "
      "(aio_notify_accept before dispatch) makes the second set survive.";
  s.source = "QEMU-SEMANTICS.md 3, R4; 4, aio_notify_bug.promela";
  s.reverts = {"R4"};
  s.expected = FailsWith(AIO_REVERT_R4, sim::FailureKind::kLostWakeup);
  // Modern (QEMU 10.2): the vcpu's poll of the main context under the BQL is legal
  // through qemu_get_current_aio_context's fallback; the vcpu holds the BQL for its
  // whole aio_poll, so the iothread cannot prepare in between, and an iothread already
  // in its poll was woken by the first set: nothing is found (R3's shape differs).
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"R4"};
  s.exhaust_bound = 1;  // the none variants: DFS complete at 1 (docs/catalog.md)
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
