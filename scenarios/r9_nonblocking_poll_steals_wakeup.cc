// scenarios/r9_nonblocking_poll_steals_wakeup.cc — catalog R9 (b37548fcd1, fixed in
// QEMU 3.1; bug 2.4–3.0; 0dc165c1bd in 4.0): a non-blocking aio_poll from another
// thread consumes the wakeup that a blocking aio_poll needed. QEMU 2.8.1 has the bug:
// aio_poll calls aio_notify_accept whether or not it blocks. Follows 2.8.1
// aio-posix.c (aio_poll) and async.c (aio_bh_schedule_oneshot, aio_notify,
// aio_notify_accept), with the later fixes on request (--fix R9-accept, --fix
// R9-home).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// An "iothread" adopts the context, as QEMU's IOThread does (iothread_run sets its
// thread-local my_iothread, which in_aio_context_home_thread compares with; here
// aio_context_set_home_thread: for an IOThread's context the two agree, only that
// thread is home; for the main context 3.1-5.x count every non-IOThread thread as
// home, which the core's single home thread does not model and this scenario does
// not need), and the main thread waits until it has (as
// iothread_complete waits for the thread to start); then the iothread runs
// `while (!stop) aio_poll(ctx, true)`. Once the iothread is inside its blocking
// aio_poll (notify_me != 0: the bug report's starting point; earlier, the main
// thread's poll could run the stop BH between the iothread's check of `stop` and
// its aio_poll, a hang of this program that neither fix is about), the main thread
// asks it to stop the robust
// way, with a BH (aio_bh_schedule_oneshot sets `stop`, its aio_notify sets the
// eventfd: drained_end), and then, as bdrv_set_aio_context did, runs
// aio_poll(ctx, false) itself. After the join the context goes back to the main
// thread (aio_context_set_home_thread), which runs the last poll. Property: the
// iothread stops (the main thread's join returns).
//
// Verdicts:
// - default (2.8.1 as shipped): found, a lost wakeup. The main thread's poll calls
//   aio_notify_accept, which clears the eventfd the BH's aio_notify set (and may run
//   the BH in the main thread): the iothread, already asleep in ppoll with
//   notify_me == 2, is never woken, and the join waits forever.
// - --fix R9-accept (b37548fcd1, 3.1): aio_notify_accept only in a blocking
//   aio_poll, after its poll; the main thread's non-blocking poll leaves the eventfd
//   set, so the iothread's ppoll returns. Its other half, "a blocking aio_poll only
//   in the home thread", holds here: the iothread is the home thread. Nothing is
//   found, DFS exhausted at the bound below.
// - --fix R9-home (0dc165c1bd, 4.0): every aio_poll asserts that it runs in the
//   home thread; the main thread's aio_poll(ctx, false) trips that assertion in
//   every interleaving (the iothread adopted the context before main goes on), so
//   the silent steal becomes a caught misuse: found, an assertion. (4.0 keeps 3.1's
//   accept-only-when-blocking; this switch alone shows that the assertion by itself
//   already rules the steal out, since no foreign thread gets to poll.)
#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R9State {
  Atomic<bool> stop{false};
  Atomic<bool> exited{false};
  QemuSemaphore started{0};  // the iothread has adopted the context
};

void StopCallback(void* opaque) {
  atomic_set(&static_cast<R9State*>(opaque)->stop, true);
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const AioContextOptions ctx_options = ContextOptions(options);
  return [switches, ctx_options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ctx_options);
    R9State s;
    c.SetPending([&s] {
      return s.stop.PlainLoad() && !s.exited.PlainLoad()
                 ? std::string(
                       "the IOThread was asked to stop but still sleeps in aio_poll")
                 : std::string();
    });
    const ThreadId main_thread = c.platform().threads().Current();
    ThreadId iothread = Spawn(c, "iothread", [&] {
      aio_context_set_home_thread(ctx, c.platform().threads().Current());
      qemu_sem_post(&s.started);
      while (!atomic_read(&s.stop)) aio_poll(ctx, true);
      atomic_set(&s.exited, true);
    });
    qemu_sem_wait(&s.started);
    // The bug report's starting point: the IOThread is inside its blocking aio_poll
    // (notify_me += 2 done). Without this, the main thread's poll could run the stop
    // BH between the IOThread's check of `stop` and its aio_poll, before notify_me
    // says anyone will sleep: a hang of this program that no fix of R9 is about.
    while (ctx->generation == AioGeneration::kModern
               ? atomic_read(&core::modern::of(ctx)->notify_me) == 0
               : atomic_read(&core::legacy::of(ctx)->notify_me) == 0) {
      SleepMs(1);
    }
    aio_bh_schedule_oneshot(ctx, StopCallback,
                            &s);  // e.g. drained_end: wake the IOThread
    aio_poll(ctx, false);         // e.g. bdrv_set_aio_context
    Join(c, iothread);
    aio_context_set_home_thread(ctx, main_thread);  // back to the main loop
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR9() {
  Scenario s;
  s.id = "R9";
  s.title = "a non-blocking aio_poll in another thread steals a blocking poll's wakeup";
  s.summary =
      "The IOThread sleeps in a blocking aio_poll; the main thread schedules a BH (its "
      "aio_notify sets the eventfd) and then runs aio_poll(ctx, false), whose "
      "aio_notify_accept clears it (a lost wakeup in QEMU 2.4-3.0). --fix R9-accept "
      "(3.1) accepts only in blocking polls: nothing is found. --fix R9-home (4.0) "
      "asserts the home thread in every aio_poll: the main thread's poll is caught "
      "as an assertion.";
  s.source = "QEMU-SEMANTICS.md 3, R9";
  s.fixes = {"R9-accept", "R9-home"};
  // Modern (QEMU 10.2): every aio_poll asserts the home thread (4.0's fix), so the
  // main thread's poll of the IOThread's context is caught as an assertion, as with
  // --fix R9-home.
  s.expected = [](const Options& o) {
    if (GenerationOf(o) == AioGeneration::kModern) return sim::FailureKind::kAssertion;
    const uint32_t bits = SwitchBits(o);
    if (bits & AIO_FIX_R9_HOME) return sim::FailureKind::kAssertion;
    if (bits & AIO_FIX_R9_ACCEPT) return sim::FailureKind::kNone;
    return sim::FailureKind::kLostWakeup;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"R9"};
  // The R9-accept variant. Bound 3 is exhausted too (72,514 executions, about 6 s in
  // the release build), but tools/tests/catalog_cli_test.cc runs `aiosim check S3 R9`
  // in the dev, asan and tsan builds under a 300 s timeout, where bound 3 costs about
  // a minute in dev alone.
  s.exhaust_bound = 2;
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
