// core/platform/poller.h — the poll seam: QEMU's qemu_poll_ns step and event notifiers.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The core waits for fds exactly once per aio_poll / main-loop iteration: it hands a
// set of PollFd (QEMU's GPollFD) and a timeout in ns to Poller::Poll and gets revents
// back, level-triggered, as ppoll(2) gives them. Event notifiers (QEMU's
// util/event_notifier-posix.c, an eventfd on Linux) are fds that belong to the same
// poller, so the poller creates them.
//
// Threading: Poll may run in several threads at once on disjoint or shared fds (as
// ppoll can); EventNotifier::Set and TestAndClear may be called from any thread.
// Determinism (simulator): Poll is a blocking scheduling point; its timeout is
// virtual; readiness changes only through recorded events.
#ifndef AIOSIM_CORE_PLATFORM_POLLER_H_
#define AIOSIM_CORE_PLATFORM_POLLER_H_

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/platform/sync_types.h"

namespace aiosim::core {

// glib's GIOCondition bits, which equal the Linux POLL* values.
inline constexpr int16_t G_IO_IN = 1;
inline constexpr int16_t G_IO_PRI = 2;
inline constexpr int16_t G_IO_OUT = 4;
inline constexpr int16_t G_IO_ERR = 8;
inline constexpr int16_t G_IO_HUP = 16;
inline constexpr int16_t G_IO_NVAL = 32;

// QEMU's GPollFD.
struct PollFd {
  int fd = -1;
  int16_t events = 0;
  int16_t revents = 0;
};

// An eventfd-like counter: Set makes the fd readable until TestAndClear.
class EventNotifier {
 public:
  virtual ~EventNotifier() = default;
  // Makes fd() readable. Returns 0 or a negative errno. Any thread.
  // `loc`: the caller's line, for the simulator's reports (here and below).
  virtual int Set(SrcLoc loc = SrcLoc::current()) = 0;
  // Returns whether the notifier was set, and clears it. Any thread.
  virtual bool TestAndClear(SrcLoc loc = SrcLoc::current()) = 0;
  // The fd to poll for G_IO_IN. Stable for the notifier's lifetime.
  virtual int fd() const = 0;
  // Names the notifier's counter in the simulator's reports; nothing on the host.
  virtual void SetName(const char* /*name*/) {}
};

class Poller {
 public:
  virtual ~Poller() = default;
  // QEMU's qemu_poll_ns: waits until one of `fds` is ready or `timeout_ns` passes
  // (-1 = forever, 0 = just check). Fills revents; returns the number of fds with a
  // non-zero revents, 0 on timeout, or a negative errno (-EINTR may happen).
  virtual int Poll(PollFd* fds, size_t nfds, int64_t timeout_ns,
                   SrcLoc loc = SrcLoc::current()) = 0;
  // QEMU's event_notifier_init(e, active). Returns nullptr if the OS refused.
  virtual std::unique_ptr<EventNotifier> NewEventNotifier(bool active) = 0;
};

// QEMU-named wrappers (include/qemu/event_notifier.h).
inline int event_notifier_set(EventNotifier* e, SrcLoc loc = SrcLoc::current()) {
  return e->Set(loc);
}
inline int event_notifier_test_and_clear(EventNotifier* e, SrcLoc loc = SrcLoc::current()) {
  return e->TestAndClear(loc) ? 1 : 0;
}
inline int event_notifier_get_fd(const EventNotifier* e) { return e->fd(); }

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_PLATFORM_POLLER_H_
