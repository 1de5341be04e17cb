// scenarios/p1_schedule_after_idle.cc — P1, found by the property suites (not in
// QEMU-SEMANTICS.md's catalog): in QEMU 2.8.1 a qemu_bh_schedule of a BH that
// qemu_bh_schedule_idle has already scheduled does not wake a loop asleep in
// aio_poll(true). Follows QEMU 2.8.1 async.c: qemu_bh_schedule_idle sets idle and
// then `scheduled` (atomic_mb_set) without notifying; qemu_bh_schedule clears idle and
// calls aio_notify only if its atomic_xchg of `scheduled` returned 0. With --fix P1,
// qemu_bh_schedule always notifies, as QEMU 5.0's aio_bh_enqueue does.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread runs `while (!ran) aio_poll(ctx, true)`; a vCPU-like thread
// waits until the home thread's blocking poll has counted itself in (notify_me != 0),
// then calls qemu_bh_schedule_idle(bh) and qemu_bh_schedule(bh) — e.g. a device model
// that first defers work to an idle BH, then needs it now. If the home thread computed
// its timeout before the idle schedule (no BH scheduled: infinite), nothing writes the
// eventfd: the idle schedule does not notify by design, and the normal schedule finds
// `scheduled` already set. The home thread sleeps with a non-idle BH scheduled: a lost
// wakeup (C2). If it computed the timeout after the idle schedule, 10 ms (the idle
// rule) and the BH runs then: no failure, so the search must find the order.
#include <string>

#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/modern/aio_internal.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct P1State {
  Atomic<bool> ran{false};
};

void RunCallback(void* opaque) { atomic_set(&static_cast<P1State*>(opaque)->ran, true); }

// Whether `bh` is scheduled and not idle, and whether ctx's blocking aio_poll has
// counted itself in notify_me: each generation's own fields.
bool ScheduledNotIdle(QEMUBH* bh, bool modern) {
  if (modern) {
    const unsigned flags = core::modern::of(bh)->flags.PlainLoad();
    return (flags & core::modern::BH_SCHEDULED) != 0 &&
           (flags & core::modern::BH_IDLE) == 0;
  }
  return core::legacy::of(bh)->scheduled.PlainLoad() && !core::legacy::of(bh)->idle.Load();
}

bool Polling(AioContext* ctx, bool modern) {
  return modern ? atomic_read(&core::modern::of(ctx)->notify_me) != 0
                : atomic_read(&core::legacy::of(ctx)->notify_me) != 0;
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const bool modern = GenerationOf(options) == core::AioGeneration::kModern;
  return [switches, modern, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    P1State s;
    QEMUBH* bh = aio_bh_new_full(ctx, RunCallback, &s, "run");
    // Pending: a scheduled BH that is no longer idle (an idle one may wait).
    c.SetPending([bh, modern] {
      return ScheduledNotIdle(bh, modern)
                 ? std::string("a non-idle BH is scheduled but the loop sleeps")
                 : std::string();
    });
    ThreadId vcpu = Spawn(c, "vcpu", [&] {
      while (!Polling(ctx, modern)) SleepMs(1);  // the loop is polling
      qemu_bh_schedule_idle(bh);
      qemu_bh_schedule(bh);
    });
    while (!atomic_read(&s.ran)) aio_poll(ctx, true);
    Join(c, vcpu);
    qemu_bh_delete(bh);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeP1() {
  Scenario s;
  s.id = "P1";
  s.title = "qemu_bh_schedule after qemu_bh_schedule_idle does not wake a sleeping poll";
  s.summary =
      "The home thread sleeps in aio_poll(true); another thread schedules a BH as idle "
      "(no notify, by design) and then normally. 2.8.1's qemu_bh_schedule notifies only "
      "if its exchange found the BH unscheduled, so the loop sleeps on with a non-idle "
      "BH scheduled. Found by the property suites; QEMU 5.0's aio_bh_enqueue notifies "
      "on every schedule (--fix P1). Modern (QEMU 10.2): the idle schedule notifies "
      "too, so the loop wakes; nothing is found (the BH stays flagged idle: "
      "docs/modern.md).";
  s.source = "docs/properties.md (found by the bh suite); QEMU-SEMANTICS.md 1.2, 2.1";
  s.fixes = {"P1"};
  s.expected = [](const Options& o) {
    return (SwitchBits(o) & AIO_FIX_P1) != 0 ||
                   GenerationOf(o) == core::AioGeneration::kModern
               ? sim::FailureKind::kNone
               : sim::FailureKind::kLostWakeup;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"P1"};
  s.exhaust_bound = 2;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
