// core/aio/modern/event.h — follows QEMU 10.2.0 include/qemu/thread.h's QemuEvent and
// util/event.c (the futex build, HAVE_FUTEX): a manual-reset event in one word, as
// QEMU itself runs it, for the modern generation (timers_done_ev). The seam's
// QemuEvent (core/platform/sync.h) is an idealised event that the legacy core uses;
// this one has QEMU's states and QEMU's wake-ups, stale ones included.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// States of `value`: SET (0), FREE (1, reset, nobody waits), BUSY (-1, reset, someone
// may sleep in the futex). Contract: qemu_event_wait returns once the event is set;
// qemu_event_reset makes later waits block until the next qemu_event_set.
//
// QemuEventVersion::kQemu10_0 is QEMU 10.0 and earlier (util/qemu-thread-posix.c):
// qemu_event_wait sleeps in the futex once and returns without re-checking, so a
// wake-up meant for an earlier set (or a spurious one) ends the wait with the event
// unset. Fixed in 10.1 by "futex: Check value after qemu_futex_wait()"
// (6e2d11bf04), which made the wait a loop.
#ifndef AIOSIM_CORE_AIO_MODERN_EVENT_H_
#define AIOSIM_CORE_AIO_MODERN_EVENT_H_

#include "core/platform/sync.h"

namespace aiosim::core::modern {

enum class QemuEventVersion {
  kQemu10_1,  // 10.1 and later: the wait re-checks after every futex return
  kQemu10_0,  // 10.0 and earlier: one futex wait, no re-check
};

struct QemuEvent {
  Atomic<unsigned> value;
  bool initialized = false;
  QemuEventVersion version = QemuEventVersion::kQemu10_1;
};

void qemu_event_init(QemuEvent* ev, bool init,
                     QemuEventVersion version = QemuEventVersion::kQemu10_1);
void qemu_event_destroy(QemuEvent* ev);
void qemu_event_set(QemuEvent* ev);
void qemu_event_reset(QemuEvent* ev);
void qemu_event_wait(QemuEvent* ev);

}  // namespace aiosim::core::modern

#endif  // AIOSIM_CORE_AIO_MODERN_EVENT_H_
