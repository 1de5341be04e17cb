// core/aio/modern/qemu_timer.cc — follows QEMU 10.2.0 util/qemu-timer.c (the modern
// generation): a timer list's own functions, where 10.2 and 2.8.1 differ. What the
// two share is in core/aio/qemu_timer.cc; core/aio/legacy/qemu_timer.cc is 2.8.1's.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.8; names are QEMU's, the code is ours. What
// 10.2 does differently from 2.8.1:
//   - timerlist_has_timers, timerlist_expired and timerlist_deadline_ns first peek at
//     the head with qatomic_read, without the lock; deadline_ns peeks before it reads
//     `enabled`;
//   - timer_del_locked and timer_mod_ns_locked publish a link with qatomic_set, while
//     timerlist_run_timers unlinks the head with a plain store (both under the lock:
//     QEMU's own mix, which the race detector sees as such against the peeks);
//   - timerlist_run_timers holds the lock across its loop, dropping it only around
//     each callback;
//   - timerlist_expired compares with '<=' (2.9, 33bef0b994);
//   - timerlist_rearm only notifies (10.0, 02ae315467: no icount warp);
//   - timers_done_ev is QEMU's futex QemuEvent (modern/event.cc), with its stale
//     wake-ups; 10.1's re-checking wait.
// Not followed: record/replay checkpoints, timer attributes.
#include <algorithm>
#include <cstdint>

#include "core/aio/aio.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/modern/event.h"
#include "core/aio/qemu_timer.h"
#include "core/platform/check.h"

namespace aiosim::core::modern {

struct QEMUTimerList : core::QEMUTimerList {
  QEMUTimerList() : core::QEMUTimerList(AioGeneration::kModern) {}
  // "lightweight method to mark the end of timerlist's running": set whenever no
  // callback of this list is running; starts set.
  QemuEvent timers_done_ev;
};

static QEMUTimerList* of(core::QEMUTimerList* tl) { return static_cast<QEMUTimerList*>(tl); }

static bool timer_expired_ns(QEMUTimer* timer_head, int64_t current_time) {
  return timer_head != nullptr && timer_head->expire_time.Load() <= current_time;
}

core::QEMUTimerList* timerlist_new(AioRuntime* rt, QEMUClockType type,
                                   QEMUTimerListNotifyCB* cb, void* opaque) {
  auto* tl = platform_new<QEMUTimerList>();
  // Starts set (e4efd8a488, 2.4); unset with AIO_REVERT_R18_DONE_EV.
  qemu_event_init(&tl->timers_done_ev, (rt->switches() & AIO_REVERT_R18_DONE_EV) == 0);
  tl->runtime = rt;
  tl->clock = rt->clock(type);
  tl->notify_cb = cb;
  tl->notify_opaque = opaque;
  timerlist_register(tl);
  return tl;
}

void timerlist_free(core::QEMUTimerList* timer_list) {
  AIOSIM_ASSERT(!modern::timerlist_has_timers(timer_list));
  timerlist_unregister(timer_list);
  platform_delete(of(timer_list));
}

void timerlist_wait_done(core::QEMUTimerList* timer_list) {
  qemu_event_wait(&of(timer_list)->timers_done_ev);
}

bool timerlist_has_timers(core::QEMUTimerList* timer_list) {
  return qatomic_read(&timer_list->active_timers) != nullptr;
}

bool timerlist_expired(core::QEMUTimerList* timer_list) {
  if (qatomic_read(&timer_list->active_timers) == nullptr) return false;
  qemu_mutex_lock(&timer_list->active_timers_lock);  // WITH_QEMU_LOCK_GUARD
  QEMUTimer* head = timer_list->active_timers.PlainLoad();
  if (head == nullptr) {
    qemu_mutex_unlock(&timer_list->active_timers_lock);
    return false;
  }
  const int64_t expire_time = head->expire_time.Load();
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  return expire_time <= qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);
}

int64_t timerlist_deadline_ns(core::QEMUTimerList* timer_list) {
  if (qatomic_read(&timer_list->active_timers) == nullptr) return -1;
  if (!timer_list->clock->enabled.Load()) return -1;
  // The list may change once the lock is dropped; whoever moves the deadline earlier
  // notifies, and the caller then computes it again.
  qemu_mutex_lock(&timer_list->active_timers_lock);
  QEMUTimer* head = timer_list->active_timers.PlainLoad();
  if (head == nullptr) {
    qemu_mutex_unlock(&timer_list->active_timers_lock);
    return -1;
  }
  const int64_t expire_time = head->expire_time.Load();
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  const int64_t delta =
      expire_time - qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);
  return delta <= 0 ? 0 : delta;
}

bool timerlist_run_timers(core::QEMUTimerList* core_list) {
  QEMUTimerList* timer_list = of(core_list);
  bool progress = false;
  // An empty list returns before the event is touched, as in 2.8.1.
  if (qatomic_read(&timer_list->active_timers) == nullptr) return false;

  qemu_event_reset(&timer_list->timers_done_ev);
  if (timer_list->clock->enabled.Load()) {
    const int64_t current_time =
        qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);  // once
    qemu_mutex_lock(&timer_list->active_timers_lock);
    while (QEMUTimer* ts = timer_list->active_timers.PlainLoad()) {
      if (!timer_expired_ns(ts, current_time)) break;
      // Off the list before the callback runs, which may re-arm or delete it. A
      // plain store of the head, as 10.2.
      timer_list->active_timers.PlainStore(ts->next.PlainLoad());
      ts->next.PlainStore(nullptr);
      ts->expire_time.Store(-1);
      QEMUTimerCB* cb = ts->cb;
      void* opaque = ts->opaque;
      qemu_mutex_unlock(&timer_list->active_timers_lock);
      cb(opaque);  // without the lock: the list may change under us
      qemu_mutex_lock(&timer_list->active_timers_lock);
      progress = true;
    }
    qemu_mutex_unlock(&timer_list->active_timers_lock);
  }
  // out:
  qemu_event_set(&timer_list->timers_done_ev);
  return progress;
}

static void timer_del_locked(core::QEMUTimerList* timer_list, QEMUTimer* ts) {
  ts->expire_time.Store(-1);
  Atomic<QEMUTimer*>* pt = &timer_list->active_timers;
  while (QEMUTimer* t = pt->PlainLoad()) {
    if (t == ts) {
      qatomic_set(pt, t->next.PlainLoad());
      break;
    }
    pt = &t->next;
  }
}

// Inserts after every timer due at or before `expire_time` (FIFO among equals);
// returns whether the timer became the head.
static bool timer_mod_ns_locked(core::QEMUTimerList* timer_list, QEMUTimer* ts,
                                int64_t expire_time) {
  Atomic<QEMUTimer*>* pt = &timer_list->active_timers;
  for (QEMUTimer* t = pt->PlainLoad(); timer_expired_ns(t, expire_time);
       t = pt->PlainLoad()) {
    pt = &t->next;
  }
  ts->expire_time.Store(std::max<int64_t>(expire_time, 0));
  ts->next.PlainStore(pt->PlainLoad());
  qatomic_set(pt, ts);
  return pt == &timer_list->active_timers;
}

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
  const bool rearm = timer_mod_ns_locked(timer_list, ts, expire_time);
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  if (rearm) timerlist_rearm(timer_list);
}

void timer_mod_anticipate_ns(QEMUTimer* ts, int64_t expire_time) {
  core::QEMUTimerList* timer_list = ts->timer_list;
  bool rearm = false;
  qemu_mutex_lock(&timer_list->active_timers_lock);  // WITH_QEMU_LOCK_GUARD
  // 10.2 reads expire_time again for each test (2.8.1 read it once).
  if (ts->expire_time.Load() == -1 || ts->expire_time.Load() > expire_time) {
    if (ts->expire_time.Load() != -1) timer_del_locked(timer_list, ts);
    rearm = timer_mod_ns_locked(timer_list, ts, expire_time);
  }
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  if (rearm) timerlist_rearm(timer_list);
}

}  // namespace aiosim::core::modern
