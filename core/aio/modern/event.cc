// core/aio/modern/event.cc — follows QEMU 10.2.0 util/event.c, the futex build
// (HAVE_FUTEX), and, with QemuEventVersion::kQemu10_0, QEMU 10.0's
// util/qemu-thread-posix.c (the same event without the re-checking loop).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.6; names are QEMU's, the code is ours.
// Transitions: FREE -> SET and BUSY -> SET (set; from BUSY it wakes every sleeper),
// SET -> FREE (reset, an OR, so it cannot turn BUSY into FREE), FREE -> BUSY (a wait
// that is about to sleep). Differences from QEMU: none in the algorithm; `value` is
// the futex word itself (QEMU passes the event's address, whose first field it is).
#include "core/aio/modern/event.h"

#include "core/platform/check.h"

namespace aiosim::core::modern {

namespace {
constexpr unsigned EV_SET = 0;
constexpr unsigned EV_FREE = 1;
constexpr unsigned EV_BUSY = static_cast<unsigned>(-1);
}  // namespace

void qemu_event_init(QemuEvent* ev, bool init, QemuEventVersion version) {
  ev->value.PlainStore(init ? EV_SET : EV_FREE);
  ev->version = version;
  ev->initialized = true;
}

void qemu_event_destroy(QemuEvent* ev) {
  AIOSIM_ASSERT(ev->initialized);
  ev->initialized = false;
}

void qemu_event_set(QemuEvent* ev) {
  AIOSIM_ASSERT(ev->initialized);
  // A full barrier first: set publishes what the caller wrote, and it also reads
  // `value`, which a release alone would not order.
  smp_mb();
  if (qatomic_read(&ev->value) != EV_SET) {
    const unsigned old = qatomic_xchg(&ev->value, EV_SET);
    smp_mb__after_rmw();  // pairs with the barrier inside FUTEX_WAIT
    if (old == EV_BUSY) qemu_futex_wake_all(&ev->value);
  }
}

void qemu_event_reset(QemuEvent* ev) {
  AIOSIM_ASSERT(ev->initialized);
  // SET -> FREE; a no-op on FREE or BUSY (a concurrent reset, or reset and wait).
  qatomic_or(&ev->value, EV_FREE);
  // Orders the reset before the caller's check of its condition (pairs with set's
  // first barrier).
  smp_mb__after_rmw();
}

void qemu_event_wait(QemuEvent* ev) {
  AIOSIM_ASSERT(ev->initialized);
  for (;;) {
    // An acquire even on the fast path: a wait that returns at once must still see
    // what the setter published.
    const unsigned value = qatomic_load_acquire(&ev->value);
    if (value == EV_SET) return;
    // FREE -> BUSY tells qemu_event_set that someone may sleep. No retry is needed:
    // BUSY never goes back to FREE, so after the CAS the event is SET or BUSY.
    if (value == EV_FREE && qatomic_cmpxchg(&ev->value, EV_FREE, EV_BUSY) == EV_SET) {
      return;
    }
    qemu_futex_wait(&ev->value, EV_BUSY);
    // 10.0 returned here, whatever woke it.
    if (ev->version == QemuEventVersion::kQemu10_0) return;
  }
}

}  // namespace aiosim::core::modern
