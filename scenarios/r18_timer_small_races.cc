// scenarios/r18_timer_small_races.cc — catalog R18, the two items that apply to QEMU
// 2.8.1's timers. Follows 2.8.1 qemu-timer.c (timerlist_new, qemu_clock_enable,
// timerlist_run_timers, timerlist_expired, timerlist_deadline_ns) and cpus.c's icount
// warp (icount_warp_rt: after warping QEMU_CLOCK_VIRTUAL, notify its lists only if
// qemu_clock_expired).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The main thread owns an AioContext (whose timer list group has a QEMU_CLOCK_VIRTUAL
// list) and, standing for the main loop's own group under icount, a second VIRTUAL
// list `vtl` whose notifier is qemu_notify_event (a BH of ctx) and which the context's
// aio_poll does not count in its timeout (QEMU with icount:
// qemu_clock_use_for_deadline(VIRTUAL) is false; the main loop runs those timers after
// each poll).
//
// item=done-ev (e4efd8a488, QEMU 2.4; --revert R18-done-ev): the main thread starts
// the VM (qemu_clock_enable(VIRTUAL, true)), runs one non-blocking aio_poll while no
// list has a timer, and stops the VM (qemu_clock_enable(false)). Disabling waits for
// each list's timers_done_ev. timerlist_run_timers returns for an empty list before
// it touches the event (2.8.1), so with the event starting unset a list that never
// had a timer is waited for forever, polled or not: deadlock (nothing else can run,
// nothing is pending). 2.8.1's event starts set, and the stop returns.
//
// item=expired (33bef0b994, QEMU 2.9; --fix R18-expired): after the VM is started, a
// timer of `vtl` is armed 1 ms ahead, and the main thread loops
// `aio_poll(ctx, true); timerlist_run_timers(vtl)` until it ran. A "warp" thread, as
// icount's warp timer, sleeps the list's deadline (virtual time then equals the
// timer's expire_time exactly) and then notifies the list if timerlist_expired. 2.8.1
// compares expire_time < now there, while the deadline is already 0 and
// timerlist_run_timers runs timers at <=: at equality the list is not "expired", no
// notify is sent, and the main loop sleeps with a due timer — a lost wakeup (QEMU's
// icount stall: the virtual clock does not move while the vCPUs wait). With the fix
// (<=) the warp notifies and the timer runs.
//
// item=both (default) runs done-ev and then expired. Verdicts: 2.8.1 both/expired →
// lost wakeup; done-ev → none; --revert R18-done-ev → deadlock (the stop hangs before
// the expired part); --fix R18-expired → none. Each failure needs no preemption: the
// deadlock happens in every execution; the lost wakeup whenever the main loop is
// asleep when the warp ends (an execution that jumps virtual time while the main
// thread is still running lets it see the timer due at <= by itself).
#include <string>

#include "core/aio/aio.h"
#include "core/aio/qemu_timer.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R18State {
  Atomic<bool> due{false};  // the warp thread's sleep reached the timer's expire_time
  Atomic<bool> fired{false};
};

void NotifyBhCallback(void*) {}

// The list's notifier, as 2.8.1's main loop (qemu_timer_notify_cb): qemu_notify_event,
// which schedules a BH of the main context, so the next aio_poll does not block.
void VtlNotify(void* opaque) { qemu_bh_schedule(static_cast<QEMUBH*>(opaque)); }

void VirtualTimerCallback(void* opaque) {
  atomic_set(&static_cast<R18State*>(opaque)->fired, true);
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const std::string item = OptionValue(options, "item");
  return [switches, item, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    QEMUBH* notify_bh = aio_bh_new_full(ctx, NotifyBhCallback, nullptr, "notify_bh");
    QEMUTimerList* vtl =
        timerlist_new(&rt, QEMU_CLOCK_VIRTUAL, VtlNotify, notify_bh, GenerationOf(options));
    R18State s;
    c.SetPending([&s, ctx] {
      return s.due.PlainLoad() && !s.fired.PlainLoad()
                 ? std::string("a QEMU_CLOCK_VIRTUAL timer is due but has not run")
                 : PendingBhs(ctx);
    });

    qemu_clock_enable(&rt, QEMU_CLOCK_VIRTUAL, true);  // VM start
    if (item != "expired") {
      aio_poll(ctx, false);  // the loop ran, but no list had a timer yet
      qemu_clock_enable(&rt, QEMU_CLOCK_VIRTUAL, false);  // vm_stop
      qemu_clock_enable(&rt, QEMU_CLOCK_VIRTUAL, true);
    }
    if (item != "done-ev") {
      QEMUTimer* t = timer_new_tl(vtl, SCALE_MS, VirtualTimerCallback, &s);
      timer_mod(t, qemu_clock_get_ms(&rt, QEMU_CLOCK_VIRTUAL) + 1);
      ThreadId warp = Spawn(c, "warp", [&] {
        const int64_t deadline = timerlist_deadline_ns(vtl);
        QemuSemaphore never(0);
        qemu_sem_timedwait(&never, qemu_timeout_ns_to_ms(deadline));
        atomic_set(&s.due, true);
        if (timerlist_expired(vtl)) timerlist_notify(vtl);  // icount_warp_rt
      });
      while (!atomic_read(&s.fired)) {
        aio_poll(ctx, true);
        timerlist_run_timers(vtl);
      }
      Join(c, warp);
      timer_free(t);
    }
    timerlist_free(vtl);
    qemu_bh_delete(notify_bh);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR18() {
  Scenario s;
  s.id = "R18";
  s.title = "timers: timers_done_ev starts unset; timerlist_expired uses '<'";
  s.summary =
      "done-ev: qemu_clock_enable(false) before any timer list ran waits forever if "
      "timers_done_ev starts unset (before 2.4). expired: an icount-style warp sleeps "
      "to a virtual timer's expire_time and notifies only if timerlist_expired; with "
      "2.8.1's '<' the timer is not expired at equality (its deadline is already 0), "
      "no notify is sent and the main loop sleeps with the timer due (fixed in 2.9). "
      "Modern (QEMU 10.2): both fixes are in; nothing is found.";
  s.source = "QEMU-SEMANTICS.md 1.6; 3, R18";
  s.options = {{"item",
                {"both", "done-ev", "expired"},
                "stop the VM before any loop ran, then the icount warp; or only one"}};
  s.reverts = {"R18-done-ev"};
  s.fixes = {"R18-expired"};
  s.expected = [](const Options& o) {
    const std::string item = OptionValue(o, "item");
    const uint32_t bits = SwitchBits(o);
    if (item != "expired" && (bits & AIO_REVERT_R18_DONE_EV) != 0) {
      return sim::FailureKind::kDeadlock;
    }
    if (item != "done-ev" && GenerationOf(o) == core::AioGeneration::kLegacy &&
        (bits & AIO_FIX_R18_EXPIRED) == 0) {
      return sim::FailureKind::kLostWakeup;
    }
    return sim::FailureKind::kNone;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"R18"};
  s.exhaust_bound = 2;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
