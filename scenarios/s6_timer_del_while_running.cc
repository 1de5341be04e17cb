// scenarios/s6_timer_del_while_running.cc — claim S6: "timer_del is thread-safe, but
// the timer and its list must not be freed while it runs". Follows QEMU 2.8.1
// qemu-timer.c: timer_del (active_timers_lock, unlink, expire_time = -1),
// timerlist_run_timers (under the lock: take the expired head off the list and read
// cb/opaque; then drop the lock and call cb) and aio_poll's timer deadline; timer_free
// is g_free in 2.8.1 (ours also asserts the timer is not pending).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread arms two QEMU_CLOCK_REALTIME timers of its context, A at
// +1 ms and B at +2 ms, and polls until B has run and the deleter is done. A
// "deleter" (a device being unplugged from another thread) sleeps 1 ms of virtual
// time, so that it runs as A expires, and calls timer_del(A).
//   mode=del: nothing more. Checked: B runs exactly once, A at most once, and at the
//     end neither is pending and the list is empty: timer_del from a foreign thread
//     does not corrupt the list. Expected: none (DFS exhausted at exhaust_bound).
//   mode=late: A's callback checks that timer_del(A) has not returned yet. It has:
//     timerlist_run_timers takes A off the list under the lock and calls it after
//     dropping the lock; a timer_del in between finds nothing to remove and returns,
//     and the callback then runs. QEMU 2.8.1 guarantees only that no callback starts
//     after timer_del returned if the timer was still on the list; one already taken
//     off still runs (the documented race). Expected: assertion.
//   mode=free: the deleter, as a device's unrealize, then frees the timer and the
//     device state the callback works on (timer_del; timer_free; free). A callback in
//     flight touches the freed device: use after free. Expected: use-after-free.
//
// Verdict: confirmed, with the documented race: timer_del is safe from any thread
// (del: nothing found), but it does not wait for a callback already in flight (late:
// found), so freeing what the callback uses right after timer_del is a use after free
// (free: found). QEMU's own answer is to delete and free timers in the home thread
// (or with the BQL the callback also holds). --races stays clean for mode=del: every
// access of the deleter to the timer is under active_timers_lock. With --races,
// mode=free is reported as a data race (the callback's access to the device against
// the deleter's free) in the executions where timer_del falls in the same window but
// the callback finishes before the free: the same bug, seen as a race instead of a use
// after free, since nothing orders the callback (run after the unlock) before a free
// in another thread. `aiosim check S6 --races` therefore reports mode=free as FAIL
// (data-race, not use-after-free); the check without --races is the evidence.
#include <string>

#include "core/aio/aio.h"
#include "core/aio/qemu_timer.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

// The device state a timer callback works on; freed with the timer in mode=free.
struct S6Device {
  QEMUTimer* timer = nullptr;
  Shared<int> ticks{0};
};

struct S6State {
  sim::SimContext* c = nullptr;
  bool late = false;
  Atomic<bool> del_returned{false};
  Atomic<bool> deleter_done{false};
  int b_runs = 0;  // home thread only
};

struct S6TimerArg {
  S6State* s = nullptr;
  S6Device* dev = nullptr;
};

void TimerACallback(void* opaque) {
  auto* arg = static_cast<S6TimerArg*>(opaque);
  if (arg->s->late) {
    arg->s->c->Check(!atomic_read(&arg->s->del_returned),
                     "timer A's callback ran after timer_del(A) had returned");
  }
  arg->dev->ticks.Store(arg->dev->ticks.Load() + 1);  // the device's work
}

void TimerBCallback(void* opaque) { static_cast<S6State*>(opaque)->b_runs++; }

void DeleterDone(void* opaque) {
  atomic_set(&static_cast<S6State*>(opaque)->deleter_done, true);
}

sim::Body MakeBody(const Options& options) {
  const std::string mode = OptionValue(options, "mode");
  return [mode, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    c.SetPending([ctx] { return PendingBhs(ctx); });
    S6State s;
    s.c = &c;
    s.late = mode == "late";
    auto* dev = platform_new<S6Device>();
    S6TimerArg arg{&s, dev};
    dev->timer = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_MS, TimerACallback, &arg);
    QEMUTimer* b = aio_timer_new(ctx, QEMU_CLOCK_REALTIME, SCALE_MS, TimerBCallback, &s);
    const int64_t now = qemu_clock_get_ms(&rt, QEMU_CLOCK_REALTIME);
    timer_mod(dev->timer, now + 1);
    timer_mod(b, now + 2);

    ThreadId deleter = Spawn(c, "deleter", [&] {
      SleepMs(1);  // A expires now
      timer_del(dev->timer);
      atomic_set(&s.del_returned, true);
      if (mode == "free") {  // a device's unrealize
        timer_free(dev->timer);
        platform_delete(dev);
      }
      aio_bh_schedule_oneshot(ctx, DeleterDone, &s);  // wakes the loop to finish
    });
    while (s.b_runs == 0 || !atomic_read(&s.deleter_done)) aio_poll(ctx, true);
    Join(c, deleter);

    c.Check(s.b_runs == 1, "timer B did not run exactly once");
    c.Check(!timer_pending(b), "timer B is still pending after it ran");
    if (mode != "free") {
      c.Check(dev->ticks.Load() <= 1, "timer A ran more than once");
      c.Check(!timer_pending(dev->timer), "timer A is pending after timer_del");
      timer_free(dev->timer);
      platform_delete(dev);
    }
    c.Check(!timerlist_has_timers(ctx->tlg.tl[QEMU_CLOCK_REALTIME]),
            "the timer list is not empty at the end");
    timer_free(b);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeS6() {
  Scenario s;
  s.id = "S6";
  s.title = "timer_del from a foreign thread while the home thread runs timers";
  s.summary =
      "A deleter thread calls timer_del on a timer as it expires, while the home "
      "thread's aio_poll runs timers. The list is never corrupted (mode=del), but "
      "timerlist_run_timers calls a callback after dropping active_timers_lock, so a "
      "callback taken off the list still runs after timer_del returned (mode=late), "
      "and freeing its timer and device right after timer_del is a use after free "
      "(mode=free). Modern (QEMU 10.2): the same; timer_del still does not wait for a "
      "running callback.";
  s.source = "SEED-CLAIMS.md S6; QEMU-SEMANTICS.md 1.6, 1.8; 3, inherent race";
  s.options = {{"mode",
                {"del", "late", "free"},
                "timer_del only; check for a callback after timer_del; or free timer "
                "and device after timer_del"}};
  s.expected = [](const Options& o) {
    const std::string mode = OptionValue(o, "mode");
    return mode == "late"   ? sim::FailureKind::kAssertion
           : mode == "free" ? sim::FailureKind::kUseAfterFree
                            : sim::FailureKind::kNone;
  };
  // With --races: the callback's access and the free are unordered, which the detector
  // reports as a data race before the access finds the memory freed.
  s.races_first = [](const Options& o) { return OptionValue(o, "mode") == "free"; };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S6"};
  s.exhaust_bound = 2;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
