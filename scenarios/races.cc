// scenarios/races.cc — see races.h. Statuses follow QEMU-SEMANTICS.md §0 and §3 against
// QEMU 2.8.1 (0x88888888/qemu-2.8.1).
// SPDX-License-Identifier: GPL-2.0-or-later
#include "scenarios/races.h"

#include "absl/strings/ascii.h"

namespace aiosim::scenarios {

const char* RaceStatusName(RaceStatus status) {
  switch (status) {
    case RaceStatus::kPresent:
      return "present";
    case RaceStatus::kFixed:
      return "fixed";
    case RaceStatus::kWeakMemory:
      return "needs weak memory";
    case RaceStatus::kNotApplicable:
      return "n/a";
    case RaceStatus::kNotYetBuilt:
      return "not built yet";
  }
  return "invalid";
}

const std::vector<RaceEntry>& Races() {
  using S = RaceStatus;
  static const std::vector<RaceEntry>* races = new std::vector<RaceEntry>{
      {"R1", "qemu_bh_schedule reads bh->ctx after publishing", "924fe1293c (2.1)",
       S::kFixed, "--revert R1 loads ctx after the exchange", S::kFixed,
       "aio_bh_enqueue loads bh->ctx before the fetch_or that can publish the BH "
       "(checked: R1 --generation modern)"},
      {"R2", "BH barriers too weak (stale state / scheduled)", "e8d3b1a25f (2.3)",
       S::kWeakMemory,
       "a store seen late by another CPU; no effect under sequential consistency",
       S::kWeakMemory,
       "5.0's flag word: the enqueue's fetch_or pairs with the dequeue's fetch_and; the "
       "barriers matter only with reordering"},
      {"R3", "the ctx->dispatching optimisation skips a needed notify",
       "eabc977973 (2.4)", S::kFixed, "--revert R3 brings back ctx->dispatching",
       S::kFixed,
       "no ctx->dispatching (notify_me counts pollers); R3's scenario still loses a "
       "wakeup on modern, by another route: M1 (the notifier's handler drains the "
       "eventfd in a vCPU's nested dispatch while the main loop is between prepare and "
       "poll; checked: R3 --generation modern)"},
      {"R4", "the eventfd cleared after dispatch", "21a03d17f2, 05e514b1d4 (2.4)",
       S::kFixed, "--revert R4: no aio_notify_accept", S::kFixed,
       "aio_notify sets notified and aio_poll re-checks it after raising notify_me, so "
       "the notifier handler's drain cannot lose a wakeup in aio_poll (checked: R4 "
       "--generation modern, the vCPU polling the main context under the BQL); the "
       "GSource path does not re-check notified: see R3"},
      {"R5", "AioContext lock contention versus notify_me", "ca96ac44dc (2.4)",
       S::kNotApplicable, "needs the RFifoLock era (before 2.8)", S::kNotApplicable,
       "no RFifoLock, and no AioContext lock since 9.0"},
      {"R6", "thread pool: nested aio_poll inside a completion callback",
       "3c80ca158c (2.1)", S::kFixed,
       "--revert R6: the completion BH does not reschedule itself", S::kFixed,
       "10.2's completion BH schedules itself before each callback, as 2.8.1's; "
       "--revert R6 takes it out of 10.2's code too and the lost wakeup is back "
       "(checked: R6 and S4 mode=nested --generation modern, both ways)"},
      {"R7", "a callback after a synchronous cancel returned",
       "271c0f68b4, 3391f5e51c (2.1, 2.2)", S::kFixed,
       "--revert R7: synchronous cancel returns before the completion ran",
       S::kNotApplicable,
       "a pool request has no get_aio_context since 8.0, so bdrv_aio_cancel aborts on "
       "it; the pool is cancelled with bdrv_aio_cancel_async only (S8 --generation "
       "modern)"},
      {"R8", "qemu_bh_cancel as a plain store erases a concurrent schedule",
       "ef6dada8b4 (2.11)", S::kWeakMemory,
       "the restart scan's stale read of req->state needs reordering; --fix R8 is the "
       "atomic_mb_set cancel",
       S::kWeakMemory,
       "qemu_bh_cancel is a fetch_and on the flag word (an RMW never erases a concurrent "
       "schedule); the pool's restart scan still reads req->state plainly (10.2; "
       "acquire after 10.2, e77508292c), which matters only with reordering"},
      {"R9", "a non-blocking aio_poll in another thread steals a wakeup",
       "b37548fcd1 (3.1), 0dc165c1bd (4.0)", S::kPresent,
       "--fix R9-accept accepts only in blocking polls; --fix R9-home asserts the home "
       "thread",
       S::kFixed,
       "aio_poll asserts in_aio_context_home_thread, so only the home thread polls and "
       "accepts (checked: R9 --generation modern, the main thread's poll is caught)"},
      {"R10", "aio_enable_external does not notify", "321d1dba8b (2.10)", S::kPresent,
       "--fix R10: aio_enable_external calls aio_notify", S::kNotApplicable,
       "QEMU 8.2 removed is_external and aio_disable_external/aio_enable_external"},
      {"R11", "concurrent aio_poll and aio_set_fd_handler (in-place rewrite)",
       "fef1660132 (4.0)", S::kPresent,
       "present when aio_set_fd_handler is called from a foreign thread without the "
       "context lock (R11 caller=foreign); a caller holding aio_context_acquire is safe "
       "in 2.8.1 (caller=acquire), the race opened in 2.9; the fix (copy-on-write "
       "nodes) is not a small change of 2.8.1",
       S::kFixed,
       "copy-on-write nodes under QemuLockCnt (4.0): a foreign aio_set_fd_handler is "
       "legal (checked: S5 caller=foreign and R11 op=remove --generation modern); its "
       "plain writes of the old node are races by design (T12); R11 op=update still "
       "fails on modern, another way: a handler already dispatched runs after its "
       "replacement returned"},
      {"R12", "seq-cst RMW versus relaxed loads (lost wakeup on ARM)", "5710a3e09f (5.0)",
       S::kWeakMemory,
       "--fix R12 adds the explicit barriers; visible only with reordering",
       S::kWeakMemory,
       "5.0's explicit smp_mb and store-release are in modern; visible only with "
       "reordering"},
      {"R13", "aio_wait_kick missing barrier", "7455ff1aa015 (7.1)", S::kNotApplicable,
       "AIO_WAIT_WHILE does not exist in 2.8.1", S::kWeakMemory,
       "7.1's barrier pair is in modern (core/aio/modern/aio_wait.cc: smp_mb__after_rmw "
       "after the waiter's increment, smp_mb before the kicker's read); without it a "
       "waiter and a kicker each miss the other's write only with reordering"},
      {"R16", "a nested BH poll frees BHs still in the outer walk",
       "7887f6201f, 648fb0ea5e (1.0)", S::kFixed,
       "--revert R16: every aio_bh_poll frees deleted BHs", S::kFixed,
       "a nested aio_bh_poll runs the outer slices first and frees only what it dequeued "
       "itself (checked: R16 --generation modern)"},
      {"R18",
       "smaller races: timers_done_ev, expired '<', poll_disable_cnt, epoll free order",
       "e4efd8a488 (2.4), 33bef0b994 (2.9), d7be5dd19c (3.1), 0ed39f3df2 (2.5)",
       S::kFixed,
       "--revert R18-done-ev; --fix R18-expired; poll_disable_cnt and epoll do not exist "
       "here",
       S::kFixed,
       "timers_done_ev starts set and timerlist_expired compares with '<=' (checked: R18 "
       "--generation modern; --revert R18-done-ev brings the deadlock back there too); "
       "poll_disable_cnt is modelled, unordered by design"},
      // Not in QEMU-SEMANTICS.md: found by the property suites (docs/properties.md).
      {"P1",
       "qemu_bh_schedule after qemu_bh_schedule_idle does not wake a sleeping aio_poll",
       "QEMU 5.0's BH rewrite: aio_bh_enqueue always calls aio_notify", S::kPresent,
       "--fix P1: qemu_bh_schedule notifies even when the BH was already scheduled",
       S::kFixed,
       "aio_bh_enqueue calls aio_notify on every schedule (checked: P1 and S2 mode=race "
       "--generation modern)"},
      // Not in QEMU-SEMANTICS.md: found by this simulator on the modern core.
      {"M1", "a vCPU's aio_poll of the main context eats the main loop's wakeup",
       "none known (docs/modern.md)", S::kNotApplicable,
       "2.8.1's notifier handler does nothing: aio_notify_accept clears the eventfd "
       "before the BH pass, so a later completion's write stays for the main loop "
       "(checked: M1, nothing found)",
       S::kPresent,
       "with the poll fd monitor: the context notifier's handler drains the eventfd in "
       "the vCPU's dispatch, after its BH pass, while the main loop is between prepare "
       "and poll (checked: M1 and R3 --generation modern); not settled for 10.2's "
       "io_uring fd monitor"},
  };
  return *races;
}

const RaceEntry* FindRace(std::string_view id) {
  for (const RaceEntry& r : Races()) {
    if (absl::AsciiStrToUpper(std::string(id)) == absl::AsciiStrToUpper(r.id)) return &r;
  }
  return nullptr;
}

}  // namespace aiosim::scenarios
