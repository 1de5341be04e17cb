// core/aio/modern/lockcnt.h — follows QEMU 10.2.0 include/qemu/lockcnt.h: QemuLockCnt,
// a counter of concurrent visitors (e.g. of a handler list) with a lock that only
// someone who wants to free things takes. The modern generation's aio_poll and
// aio_set_fd_handler use it for ctx->list_lock; 2.8.1 has no QemuLockCnt (it came in
// 2.9), so the legacy generation never includes this.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The build QEMU uses on Linux (util/lockcnt.c under HAVE_FUTEX): one 32-bit word,
// bits 0-1 a futex lock (free, locked, locked with sleepers), bits 2-31 the counter.
// Contract, as QEMU documents it:
//   - qemu_lockcnt_inc / qemu_lockcnt_dec bracket a visit; inc waits while the counter
//     is zero and the lock is held (so a freer that took the lock at zero sees no new
//     visitor until it unlocks);
//   - qemu_lockcnt_dec_and_lock: decrement; if that took the counter to zero, return
//     true with the lock held (the counter cannot become non-zero until the unlock);
//   - qemu_lockcnt_dec_if_lock: the same, but only if the counter is 1; otherwise
//     change nothing and return false;
//   - qemu_lockcnt_lock / qemu_lockcnt_unlock: the lock alone (the counter may change
//     meanwhile, from non-zero);
//   - qemu_lockcnt_inc_and_unlock: increment and unlock as one step;
//   - qemu_lockcnt_count: the counter (a racy read).
// Threading: every function may be called from any thread.
#ifndef AIOSIM_CORE_AIO_MODERN_LOCKCNT_H_
#define AIOSIM_CORE_AIO_MODERN_LOCKCNT_H_

#include "core/platform/sync.h"

namespace aiosim::core {

struct QemuLockCnt {
  Atomic<unsigned> count;
};

void qemu_lockcnt_init(QemuLockCnt* lockcnt);
void qemu_lockcnt_destroy(QemuLockCnt* lockcnt);
void qemu_lockcnt_inc(QemuLockCnt* lockcnt);
void qemu_lockcnt_dec(QemuLockCnt* lockcnt);
bool qemu_lockcnt_dec_and_lock(QemuLockCnt* lockcnt);
bool qemu_lockcnt_dec_if_lock(QemuLockCnt* lockcnt);
void qemu_lockcnt_lock(QemuLockCnt* lockcnt);
void qemu_lockcnt_unlock(QemuLockCnt* lockcnt);
void qemu_lockcnt_inc_and_unlock(QemuLockCnt* lockcnt);
unsigned qemu_lockcnt_count(QemuLockCnt* lockcnt);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_MODERN_LOCKCNT_H_
