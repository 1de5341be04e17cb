// core/aio/legacy/qemu_timer.cc — follows QEMU 2.8.1 qemu-timer.c (the legacy
// generation): a timer list's own functions, where 2.8.1 and 10.2 differ. What the
// two share (clocks, qemu_clock_enable's walk, groups, timer set-up) is in
// core/aio/qemu_timer.cc; core/aio/modern/qemu_timer.cc is 10.2's side.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.6; names are QEMU's, the code is ours. QEMU's
// icount warp (qemu_start_warp_timer in timerlist_rearm) and record/replay hooks are
// not followed: there is no icount here, so every clock counts for the deadline.
// 2.8.1's list links are plain everywhere (PlainLoad/PlainStore on the Atomic fields
// that 10.2 stores atomically).
#include <algorithm>
#include <cstdint>

#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/qemu_timer.h"
#include "core/platform/check.h"

namespace aiosim::core::legacy {

// 2.8.1's timer list: timers_done_ev is the seam's idealised QemuEvent. (2.8.1's own
// futex event has 10.0's single wait, docs/modern.md: a fidelity gap, noted.)
struct QEMUTimerList : core::QEMUTimerList {
  QEMUTimerList() : core::QEMUTimerList(AioGeneration::kLegacy) {}
  // Set whenever no callback of this list is running (starts set: e4efd8a488;
  // unset with AIO_REVERT_R18_DONE_EV).
  QemuEvent timers_done_ev{true};
};

static QEMUTimerList* of(core::QEMUTimerList* tl) { return static_cast<QEMUTimerList*>(tl); }

static bool timer_expired_ns(QEMUTimer* timer_head, int64_t current_time) {
  return timer_head != nullptr && timer_head->expire_time.Load() <= current_time;
}

core::QEMUTimerList* timerlist_new(AioRuntime* rt, QEMUClockType type,
                                   QEMUTimerListNotifyCB* cb, void* opaque) {
  auto* tl = platform_new<QEMUTimerList>();
  // Before 2.4 (e4efd8a488 reverted) the event started unset: qemu_clock_enable(false)
  // then waits until this list's timers have run at least once.
  if (rt->switches() & AIO_REVERT_R18_DONE_EV) qemu_event_reset(&tl->timers_done_ev);
  tl->runtime = rt;
  tl->clock = rt->clock(type);
  tl->notify_cb = cb;
  tl->notify_opaque = opaque;
  timerlist_register(tl);
  return tl;
}

void timerlist_free(core::QEMUTimerList* timer_list) {
  AIOSIM_ASSERT(!legacy::timerlist_has_timers(timer_list));
  timerlist_unregister(timer_list);
  platform_delete(of(timer_list));
}

void timerlist_wait_done(core::QEMUTimerList* timer_list) {
  qemu_event_wait(&of(timer_list)->timers_done_ev);
}

// A plain read of the head, as in 2.8.
bool timerlist_has_timers(core::QEMUTimerList* timer_list) {
  return timer_list->active_timers.PlainLoad() != nullptr;
}

bool timerlist_expired(core::QEMUTimerList* timer_list) {
  qemu_mutex_lock(&timer_list->active_timers_lock);
  QEMUTimer* head = timer_list->active_timers.PlainLoad();
  if (head == nullptr) {
    qemu_mutex_unlock(&timer_list->active_timers_lock);
    return false;
  }
  int64_t expire_time = head->expire_time.Load();
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  // '<' up to 2.8, while the deadline is already 0 at equality; 2.9 compares with
  // '<=' (33bef0b994).
  const int64_t now = qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);
  if (timer_list->runtime->switches() & AIO_FIX_R18_EXPIRED) return expire_time <= now;
  return expire_time < now;
}

int64_t timerlist_deadline_ns(core::QEMUTimerList* timer_list) {
  if (!timer_list->clock->enabled.Load()) return -1;
  // The list may change as soon as the lock is dropped; callers re-evaluate after
  // being notified, which every insertion at the head does.
  qemu_mutex_lock(&timer_list->active_timers_lock);
  QEMUTimer* head = timer_list->active_timers.PlainLoad();
  if (head == nullptr) {
    qemu_mutex_unlock(&timer_list->active_timers_lock);
    return -1;
  }
  int64_t expire_time = head->expire_time.Load();
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  int64_t delta =
      expire_time - qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);
  return delta <= 0 ? 0 : delta;
}

bool timerlist_run_timers(core::QEMUTimerList* core_list) {
  QEMUTimerList* timer_list = of(core_list);
  bool progress = false;
  // Both reads are plain and without active_timers_lock, as in 2.8.1: an empty list
  // (or a disabled clock) takes no lock at all. The head may be changing in another
  // thread; a timer armed after this read wakes the loop through timerlist_notify.
  // As in 2.8.1, an empty list returns before timers_done_ev is touched (only a
  // non-empty one resets it and sets it again when done, also when its clock is
  // disabled): with AIO_REVERT_R18_DONE_EV a list that never had a timer never sets
  // its event, however often it is polled.
  if (timer_list->active_timers.PlainLoad() == nullptr) return progress;
  qemu_event_reset(&timer_list->timers_done_ev);
  if (!timer_list->clock->enabled.Load()) {
    qemu_event_set(&timer_list->timers_done_ev);  // QEMU's `goto out`
    return progress;
  }

  const int64_t current_time =
      qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);  // once
  for (;;) {
    qemu_mutex_lock(&timer_list->active_timers_lock);
    QEMUTimer* ts = timer_list->active_timers.PlainLoad();
    if (!timer_expired_ns(ts, current_time)) {
      qemu_mutex_unlock(&timer_list->active_timers_lock);
      break;
    }
    // Off the list before the callback runs, which may re-arm or delete it.
    timer_list->active_timers.PlainStore(ts->next.PlainLoad());
    ts->next.PlainStore(nullptr);
    ts->expire_time.Store(-1);
    QEMUTimerCB* cb = ts->cb;
    void* opaque = ts->opaque;
    qemu_mutex_unlock(&timer_list->active_timers_lock);

    cb(opaque);  // without the lock: the list may change under us
    progress = true;
  }
  qemu_event_set(&timer_list->timers_done_ev);
  return progress;
}

static void timer_del_locked(core::QEMUTimerList* timer_list, QEMUTimer* ts) {
  ts->expire_time.Store(-1);
  Atomic<QEMUTimer*>* pt = &timer_list->active_timers;
  while (QEMUTimer* t = pt->PlainLoad()) {
    if (t == ts) {
      pt->PlainStore(t->next.PlainLoad());
      break;
    }
    pt = &t->next;
  }
}

// Inserts after every timer due at or before `expire_time` (FIFO among equals).
// Returns whether the timer became the head, i.e. the deadline moved earlier.
static bool timer_mod_ns_locked(core::QEMUTimerList* timer_list, QEMUTimer* ts,
                                int64_t expire_time) {
  Atomic<QEMUTimer*>* pt = &timer_list->active_timers;
  while (timer_expired_ns(pt->PlainLoad(), expire_time)) pt = &pt->PlainLoad()->next;
  ts->expire_time.Store(std::max<int64_t>(expire_time, 0));
  ts->next.PlainStore(pt->PlainLoad());
  pt->PlainStore(ts);
  return pt == &timer_list->active_timers;
}

// The new head may be sooner than what a sleeping loop computed: wake it. (2.8.1
// also starts the icount warp timer here for QEMU_CLOCK_VIRTUAL: no icount here.)
static void timerlist_rearm(core::QEMUTimerList* timer_list) {
  timerlist_notify(timer_list);
}

void timer_del(QEMUTimer* ts) {
  core::QEMUTimerList* timer_list = ts->timer_list;
  qemu_mutex_lock(&timer_list->active_timers_lock);
  timer_del_locked(timer_list, ts);
  qemu_mutex_unlock(&timer_list->active_timers_lock);
}

void timer_mod_ns(QEMUTimer* ts, int64_t expire_time) {
  core::QEMUTimerList* timer_list = ts->timer_list;
  qemu_mutex_lock(&timer_list->active_timers_lock);
  timer_del_locked(timer_list, ts);
  bool rearm = timer_mod_ns_locked(timer_list, ts, expire_time);
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  if (rearm) timerlist_rearm(timer_list);
}

void timer_mod_anticipate_ns(QEMUTimer* ts, int64_t expire_time) {
  core::QEMUTimerList* timer_list = ts->timer_list;
  bool rearm = false;
  qemu_mutex_lock(&timer_list->active_timers_lock);
  int64_t current = ts->expire_time.Load();
  if (current == -1 || current > expire_time) {
    if (current != -1) timer_del_locked(timer_list, ts);
    rearm = timer_mod_ns_locked(timer_list, ts, expire_time);
  }
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  if (rearm) timerlist_rearm(timer_list);
}

}  // namespace aiosim::core::legacy
