// scenarios/r10_enable_external_no_notify.cc — catalog R10 (321d1dba8b, fixed in
// QEMU 2.10; bug 2.5–2.9): aio_enable_external only decrements the counter, so an
// aio_poll that built its poll set while external clients were disabled stays blocked
// on a set without the external fd. Follows QEMU 2.8.1 aio-posix.c (aio_poll builds
// pollfds from the nodes that pass aio_node_check; aio_dispatch checks it again) and
// include/block/aio.h (aio_disable_external: atomic_inc; aio_enable_external:
// atomic_dec, no notify), with AIO_FIX_R10 on request (--fix R10: 2.10's
// aio_enable_external calls aio_notify when the count drops to zero).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the main thread registers an external handler on an event notifier's fd (a
// virtio ioeventfd, which QEMU registers with aio_set_event_notifier(ctx, e, true, cb);
// here aio_set_fd_handler(ctx, fd, true, io_read, NULL, opaque), the same kind of
// node) and disables external clients, as bdrv_drained_begin does; an "iothread" runs
// `while (!handled) aio_poll(ctx, true)`. The main thread then kicks the device
// (event_notifier_set(e): the guest's request) and ends the drained section
// (aio_enable_external), and joins the iothread. The property: the kick is handled.
// With 2.8.1's enable, once the iothread has built its poll set while external clients
// were disabled (one preemption: the iothread runs before the main thread's enable),
// it sleeps in ppoll on the context's own notifier only; nothing writes that eventfd,
// so the ready handler never runs and the main thread's join waits forever — a lost
// wakeup (the pending work: an external fd that is ready, with external clients
// enabled, whose handler has not run). That is the "device dead after
// blockdev-snapshot-sync" hang. With --fix R10 the last enable calls aio_notify; the
// iothread's blocking poll has raised notify_me before it read the counter, so the
// eventfd is written, the poll returns and the next iteration polls the external fd.
//
// --races: the fixed variant is clean. The default variant's enable asserts on a plain
// read of the counter, as QEMU's does; that is no race here (only the main thread
// writes the counter), and --races finds the lost wakeup as without it.
#include <string>

#include "core/aio/aio.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R10State {
  EventNotifier* e = nullptr;  // the device's ioeventfd
  Atomic<bool> kicked{false};  // event_notifier_set(e) was called
  Atomic<bool> handled{false};
};

// The virtio queue handler (io_read of the ioeventfd's fd): consumes the kick.
void DeviceKick(void* opaque) {
  auto* s = static_cast<R10State*>(opaque);
  (void)event_notifier_test_and_clear(s->e);
  atomic_set(&s->handled, true);
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  return [switches](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt);
    std::unique_ptr<EventNotifier> e = c.platform().poller().NewEventNotifier(false);
    R10State s;
    s.e = e.get();
    c.SetPending([&s, ctx] {
      return s.kicked.PlainLoad() && !s.handled.PlainLoad() &&
                     core::legacy::of(ctx)->external_disable_cnt.PlainLoad() == 0
                 ? std::string(
                       "an external fd is ready and external clients are enabled, but "
                       "its handler has not run")
                 : std::string();
    });
    // An external fd handler on the ioeventfd.
    const int fd = event_notifier_get_fd(s.e);
    aio_set_fd_handler(ctx, fd, true, DeviceKick, nullptr, &s);
    aio_disable_external(ctx);  // bdrv_drained_begin

    ThreadId iothread = Spawn(c, "iothread", [&] {
      while (!atomic_read(&s.handled)) aio_poll(ctx, true);
    });
    atomic_set(&s.kicked, true);
    event_notifier_set(s.e);   // the guest kicks the queue during the drained section
    aio_enable_external(ctx);  // bdrv_drained_end
    Join(c, iothread);         // never returns after a lost wakeup

    c.Check(atomic_read(&s.handled), "the external handler did not run");
    aio_set_fd_handler(ctx, fd, true, nullptr, nullptr, nullptr);
    aio_poll(ctx, false);
    aio_context_unref(ctx);
  };
}

}  // namespace

Scenario MakeR10() {
  Scenario s;
  s.id = "R10";
  s.title = "aio_enable_external does not notify: a poll built while disabled sleeps on";
  s.summary =
      "The main thread disables external clients (drained_begin); the IOThread's "
      "blocking aio_poll builds its poll set without the external ioeventfd and sleeps; "
      "the guest kicks the ioeventfd and the main thread enables external clients "
      "(drained_end). In 2.8.1 the enable only decrements the counter, so nothing wakes "
      "the poll and the kick is never handled (a lost wakeup). 2.10 (--fix R10) calls "
      "aio_notify when the count drops to zero.";
  s.source = "QEMU-SEMANTICS.md 3, R10; 1.4 (external-enabled nodes only)";
  s.fixes = {"R10"};
  s.expected = [](const Options& o) {
    return (SwitchBits(o) & AIO_FIX_R10) != 0 ? sim::FailureKind::kNone
                                              : sim::FailureKind::kLostWakeup;
  };
  s.modern_status = Scenario::ModernStatus::kNotApplicable;
  s.modern_why = "QEMU 8.2 removed is_external and aio_disable_external/aio_enable_external";
  s.catalog = {"R10"};
  s.exhaust_bound = 4;  // fix=R10: 69,338 executions, about 3 s in release (5: 15 s)
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
