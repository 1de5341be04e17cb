// scenarios/r9_nonblocking_poll_steals_wakeup.cc — catalog R9 (b37548fcd1, fixed in
// QEMU 3.1; bug 2.4–3.0): a non-blocking aio_poll from another thread consumes the
// wakeup that a blocking aio_poll needed. QEMU 2.8.1 has the bug: aio_poll calls
// aio_notify_accept whether or not it blocks, so no switch is needed.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// An "iothread" runs `while (!stop) aio_poll(ctx, true)`. The main thread asks it to
// stop the robust way, with a BH (aio_bh_schedule_oneshot sets `stop`), and then, as
// bdrv_set_aio_context did, runs aio_poll(ctx, false) itself. That poll's
// aio_notify_accept clears the eventfd the BH's aio_notify set (and may run the BH in
// the main thread): the iothread, already asleep in ppoll, is never woken — the main
// thread's join waits forever.
#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R9State {
  Atomic<bool> stop{false};
  Atomic<bool> exited{false};
};

void StopCallback(void* opaque) { atomic_set(&static_cast<R9State*>(opaque)->stop, true); }

sim::Body MakeBody(const Options&) {
  return [](sim::SimContext& c) {
    AioRuntime rt(&c.platform());
    AioContext* ctx = aio_context_new(&rt);
    R9State s;
    c.SetPending([&s] {
      return s.stop.PlainLoad() && !s.exited.PlainLoad()
                 ? std::string("the IOThread was asked to stop but still sleeps in aio_poll")
                 : std::string();
    });
    ThreadId iothread = Spawn(c, "iothread", [&] {
      while (!atomic_read(&s.stop)) aio_poll(ctx, true);
      atomic_set(&s.exited, true);
    });
    aio_bh_schedule_oneshot(ctx, StopCallback, &s);  // e.g. drained_end: wake the IOThread
    aio_poll(ctx, false);                            // e.g. bdrv_set_aio_context
    Join(c, iothread);
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
      "aio_notify_accept clears it. QEMU 2.4-3.0 accept in every poll; 3.1 accepts "
      "only in blocking ones.";
  s.source = "QEMU-SEMANTICS.md 3, R9";
  s.expected = [](const Options&) { return sim::FailureKind::kLostWakeup; };
  s.catalog = {"R9"};
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
