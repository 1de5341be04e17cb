// core/aio/modern/lockcnt.cc — follows QEMU 10.2.0 util/lockcnt.c, the futex build
// (HAVE_FUTEX): the counter and a three-state futex lock share one word.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.5; names are QEMU's, the code is ours. The
// lock is the "mutex2" of Drepper's "Futexes Are Tricky": a thread that finds it held
// marks it contended (WAITING) before it sleeps, and an unlock that finds it
// contended wakes one sleeper. A thread that has slept once cannot know whether
// others still sleep, so from then on it takes the lock as WAITING, and if it leaves
// without the lock it passes the wake-up on.
//
// Differences from QEMU: none in the algorithm. QEMU's tracepoints are left out. The
// word is `unsigned` as in QEMU's struct; the locals are `int` as in QEMU's code.
#include "core/aio/modern/lockcnt.h"

#include "core/platform/check.h"

namespace aiosim::core {

namespace {

constexpr int QEMU_LOCKCNT_STATE_MASK = 3;
constexpr int QEMU_LOCKCNT_STATE_FREE = 0;     // unlocked
constexpr int QEMU_LOCKCNT_STATE_LOCKED = 1;   // locked, nobody asleep on it
constexpr int QEMU_LOCKCNT_STATE_WAITING = 2;  // locked, maybe someone asleep
constexpr int QEMU_LOCKCNT_COUNT_STEP = 4;
constexpr int QEMU_LOCKCNT_COUNT_SHIFT = 2;

int State(int val) { return val & QEMU_LOCKCNT_STATE_MASK; }

int ReadCount(QemuLockCnt* lockcnt) {
  return static_cast<int>(qatomic_read(&lockcnt->count));
}
int CmpxchgCount(QemuLockCnt* lockcnt, int expected, int desired) {
  return static_cast<int>(qatomic_cmpxchg(
      &lockcnt->count, static_cast<unsigned>(expected), static_cast<unsigned>(desired)));
}

// `*val` is the caller's latest view of the word. If the lock looks free, one
// compare-and-swap to `new_if_free`: on success `*val` becomes `new_if_free` and the
// result is true. Otherwise (or when the swap lost a race) wait until the lock is
// free, marking it contended and sleeping as needed, and return false with `*val`
// re-read, without trying again: the caller recomputes what to swap in. `*waited` is
// set once this thread has slept.
bool qemu_lockcnt_cmpxchg_or_wait(QemuLockCnt* lockcnt, int* val, int new_if_free,
                                  bool* waited) {
  if (State(*val) == QEMU_LOCKCNT_STATE_FREE) {
    const int expected = *val;
    *val = CmpxchgCount(lockcnt, expected, new_if_free);
    if (*val == expected) {
      *val = new_if_free;
      return true;
    }
  }
  while (State(*val) != QEMU_LOCKCNT_STATE_FREE) {
    if (State(*val) == QEMU_LOCKCNT_STATE_LOCKED) {
      // Held, nobody asleep yet: say that someone is about to sleep.
      const int expected = *val;
      const int contended =
          expected - QEMU_LOCKCNT_STATE_LOCKED + QEMU_LOCKCNT_STATE_WAITING;
      *val = CmpxchgCount(lockcnt, expected, contended);
      if (*val == expected) *val = contended;
      continue;
    }
    AIOSIM_ASSERT(State(*val) == QEMU_LOCKCNT_STATE_WAITING);  // QEMU: abort()
    *waited = true;
    qemu_futex_wait(&lockcnt->count, static_cast<unsigned>(*val));
    *val = ReadCount(lockcnt);
  }
  return false;
}

void lockcnt_wake(QemuLockCnt* lockcnt) { qemu_futex_wake_single(&lockcnt->count); }

}  // namespace

void qemu_lockcnt_init(QemuLockCnt* lockcnt) { lockcnt->count.PlainStore(0); }

void qemu_lockcnt_destroy(QemuLockCnt*) {}

void qemu_lockcnt_inc(QemuLockCnt* lockcnt) {
  int val = ReadCount(lockcnt);
  bool waited = false;
  for (;;) {
    if (val >= QEMU_LOCKCNT_COUNT_STEP) {
      // Visitors already inside: join them, whatever the lock's state.
      const int expected = val;
      val = CmpxchgCount(lockcnt, val, val + QEMU_LOCKCNT_COUNT_STEP);
      if (val == expected) break;
    } else if (qemu_lockcnt_cmpxchg_or_wait(lockcnt, &val, QEMU_LOCKCNT_COUNT_STEP,
                                            &waited)) {
      // From zero: (0, free) -> (1, free), waiting out a holder.
      break;
    }
  }
  // A thread that slept was handed the wake-up meant for the lock; it leaves without
  // the lock, so it passes the wake-up on.
  if (waited) lockcnt_wake(lockcnt);
}

void qemu_lockcnt_dec(QemuLockCnt* lockcnt) {
  qatomic_sub(&lockcnt->count, QEMU_LOCKCNT_COUNT_STEP);
}

bool qemu_lockcnt_dec_and_lock(QemuLockCnt* lockcnt) {
  int val = ReadCount(lockcnt);
  int locked_state = QEMU_LOCKCNT_STATE_LOCKED;
  bool waited = false;
  for (;;) {
    if (val >= 2 * QEMU_LOCKCNT_COUNT_STEP) {
      const int expected = val;
      val = CmpxchgCount(lockcnt, val, val - QEMU_LOCKCNT_COUNT_STEP);
      if (val == expected) break;
    } else {
      // The last visitor: (1, free) -> (0, locked), or (0, waiting) after a sleep.
      if (qemu_lockcnt_cmpxchg_or_wait(lockcnt, &val, locked_state, &waited)) {
        return true;
      }
      if (waited) locked_state = QEMU_LOCKCNT_STATE_WAITING;
    }
  }
  if (waited) lockcnt_wake(lockcnt);
  return false;
}

bool qemu_lockcnt_dec_if_lock(QemuLockCnt* lockcnt) {
  int val = ReadCount(lockcnt);
  int locked_state = QEMU_LOCKCNT_STATE_LOCKED;
  bool waited = false;
  while (val < 2 * QEMU_LOCKCNT_COUNT_STEP) {
    if (qemu_lockcnt_cmpxchg_or_wait(lockcnt, &val, locked_state, &waited)) {
      return true;
    }
    if (waited) locked_state = QEMU_LOCKCNT_STATE_WAITING;
  }
  if (waited) lockcnt_wake(lockcnt);
  return false;
}

void qemu_lockcnt_lock(QemuLockCnt* lockcnt) {
  int val = ReadCount(lockcnt);
  int step = QEMU_LOCKCNT_STATE_LOCKED;
  bool waited = false;
  // `val + step` only matters when val's state bits are free, so it keeps the counter
  // and sets the state.
  while (!qemu_lockcnt_cmpxchg_or_wait(lockcnt, &val, val + step, &waited)) {
    if (waited) step = QEMU_LOCKCNT_STATE_WAITING;
  }
}

void qemu_lockcnt_inc_and_unlock(QemuLockCnt* lockcnt) {
  int val = ReadCount(lockcnt);
  int expected;
  do {
    expected = val;
    const int desired = (val + QEMU_LOCKCNT_COUNT_STEP) & ~QEMU_LOCKCNT_STATE_MASK;
    val = CmpxchgCount(lockcnt, val, desired);
  } while (val != expected);
  if (val & QEMU_LOCKCNT_STATE_WAITING) lockcnt_wake(lockcnt);
}

void qemu_lockcnt_unlock(QemuLockCnt* lockcnt) {
  int val = ReadCount(lockcnt);
  int expected;
  do {
    expected = val;
    const int desired = val & ~QEMU_LOCKCNT_STATE_MASK;
    val = CmpxchgCount(lockcnt, val, desired);
  } while (val != expected);
  if (val & QEMU_LOCKCNT_STATE_WAITING) lockcnt_wake(lockcnt);
}

unsigned qemu_lockcnt_count(QemuLockCnt* lockcnt) {
  return qatomic_read(&lockcnt->count) >> QEMU_LOCKCNT_COUNT_SHIFT;
}

}  // namespace aiosim::core
