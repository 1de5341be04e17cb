// core/aio/legacy/qemu_timer.cc — follows QEMU 2.8.1 qemu-timer.c (the legacy
// generation): clocks, timer lists sorted by deadline, timer list groups and timers.
// Unlike the rest of core/aio/legacy/, these are the public timer functions
// themselves (namespace aiosim::core, no dispatch): the timer structs are public
// (qemu_timer.h) and legacy is the only generation with timers yet. The modern
// generation's qemu-timer.c (docs/modern.md, step 5) moves them behind dispatch.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.6; names are QEMU's, the code is ours. QEMU's
// icount warp (qemu_start_warp_timer) and record/replay hooks are not followed: there
// is no icount here, so every clock counts for the deadline.
#include "core/aio/qemu_timer.h"

#include <algorithm>
#include <cstdint>

#include "core/aio/aio.h"
#include "core/platform/check.h"

namespace aiosim::core {

// ---- clocks ----------------------------------------------------------------------------

int64_t qemu_clock_get_ns(AioRuntime* rt, QEMUClockType type) {
  return rt->platform()->clock().NowNs(type);
}

int64_t qemu_clock_get_ms(AioRuntime* rt, QEMUClockType type) {
  return qemu_clock_get_ns(rt, type) / SCALE_MS;
}

bool qemu_clock_use_for_deadline(QEMUClockType) { return true; }  // no icount

// timerlist_notify is aio_notify (or nothing), which takes no lock, so the registry
// lock may be held across it.
static void qemu_clock_notify(AioRuntime* rt, QEMUClockType type) {
  qemu_mutex_lock(rt->timerlists_lock());
  for (QEMUTimerList* tl = rt->clock(type)->timerlists.Load(); tl != nullptr;
       tl = tl->clock_next.Load()) {
    timerlist_notify(tl);
  }
  qemu_mutex_unlock(rt->timerlists_lock());
}

bool aio_test_clock_enable_skips_wait = false;

void qemu_clock_enable(AioRuntime* rt, QEMUClockType type, bool enabled) {
  QEMUClock* clock = rt->clock(type);
  bool old = clock->enabled.Load();
  clock->enabled.Store(enabled);
  if (enabled && !old) {
    qemu_clock_notify(rt, type);
  } else if (!enabled && old && !aio_test_clock_enable_skips_wait) {  // see the .h
    // Wait until no callback of this clock is in flight in any list (3c05341157).
    // QEMU walks the lists under the BQL only and holds no lock of its own while it
    // waits; a callback being waited for may create or free an AioContext, i.e. take
    // the registry lock (timerlist_new/free). So the lock guards each step of the
    // walk and is dropped around each wait. As in QEMU, the list waited on must not
    // be freed meanwhile (the simulator reports that as a use after free).
    qemu_mutex_lock(rt->timerlists_lock());
    QEMUTimerList* tl = clock->timerlists.Load();
    while (tl != nullptr) {
      qemu_mutex_unlock(rt->timerlists_lock());
      qemu_event_wait(&tl->timers_done_ev);
      qemu_mutex_lock(rt->timerlists_lock());
      tl = tl->clock_next.Load();
    }
    qemu_mutex_unlock(rt->timerlists_lock());
  }
}

int64_t qemu_soonest_timeout(int64_t timeout1, int64_t timeout2) {
  // -1 compares as the largest unsigned value, i.e. infinity.
  return static_cast<uint64_t>(timeout1) < static_cast<uint64_t>(timeout2) ? timeout1
                                                                           : timeout2;
}

int qemu_timeout_ns_to_ms(int64_t ns) {
  if (ns < 0) return -1;
  if (ns == 0) return 0;
  int64_t ms = (ns + SCALE_MS - 1) / SCALE_MS;  // round up: better late than spinning
  return static_cast<int>(std::min<int64_t>(ms, INT32_MAX));
}

// ---- timer lists -----------------------------------------------------------------------

QEMUTimerList* timerlist_new(AioRuntime* rt, QEMUClockType type, QEMUTimerListNotifyCB* cb,
                             void* opaque) {
  auto* tl = platform_new<QEMUTimerList>();
  // Before 2.4 (e4efd8a488 reverted) the event started unset: qemu_clock_enable(false)
  // then waits until this list's timers have run at least once.
  if (rt->switches() & AIO_REVERT_R18_DONE_EV) qemu_event_reset(&tl->timers_done_ev);
  tl->runtime = rt;
  tl->clock = rt->clock(type);
  tl->notify_cb = cb;
  tl->notify_opaque = opaque;
  qemu_mutex_lock(rt->timerlists_lock());
  tl->clock_next.Store(tl->clock->timerlists.Load());
  tl->clock->timerlists.Store(tl);
  qemu_mutex_unlock(rt->timerlists_lock());
  return tl;
}

void timerlist_free(QEMUTimerList* timer_list) {
  AIOSIM_ASSERT(!timerlist_has_timers(timer_list));
  AioRuntime* rt = timer_list->runtime;
  qemu_mutex_lock(rt->timerlists_lock());
  Shared<QEMUTimerList*>* link = &timer_list->clock->timerlists;
  while (link->Load() != timer_list) link = &link->Load()->clock_next;
  link->Store(timer_list->clock_next.Load());
  qemu_mutex_unlock(rt->timerlists_lock());
  platform_delete(timer_list);
}

// A plain read of the head, as in 2.8.
bool timerlist_has_timers(QEMUTimerList* timer_list) {
  return timer_list->active_timers.Load() != nullptr;
}

static bool timer_expired_ns(QEMUTimer* timer_head, int64_t current_time) {
  return timer_head != nullptr && timer_head->expire_time.Load() <= current_time;
}

bool timerlist_expired(QEMUTimerList* timer_list) {
  qemu_mutex_lock(&timer_list->active_timers_lock);
  QEMUTimer* head = timer_list->active_timers.Load();
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

int64_t timerlist_deadline_ns(QEMUTimerList* timer_list) {
  if (!timer_list->clock->enabled.Load()) return -1;
  // The list may change as soon as the lock is dropped; callers re-evaluate after
  // being notified, which every insertion at the head does.
  qemu_mutex_lock(&timer_list->active_timers_lock);
  QEMUTimer* head = timer_list->active_timers.Load();
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

QEMUClockType timerlist_get_clock(QEMUTimerList* timer_list) {
  return timer_list->clock->type;
}

void timerlist_notify(QEMUTimerList* timer_list) {
  if (timer_list->notify_cb != nullptr) timer_list->notify_cb(timer_list->notify_opaque);
}

bool timerlist_run_timers(QEMUTimerList* timer_list) {
  bool progress = false;
  // Both reads are plain and without active_timers_lock, as in 2.8.1: an empty list
  // (or a disabled clock) takes no lock at all. The head may be changing in another
  // thread; a timer armed after this read wakes the loop through timerlist_notify.
  // As in 2.8.1, an empty list returns before timers_done_ev is touched (only a
  // non-empty one resets it and sets it again when done, also when its clock is
  // disabled): with AIO_REVERT_R18_DONE_EV a list that never had a timer never sets
  // its event, however often it is polled.
  if (timer_list->active_timers.Load() == nullptr) return progress;
  qemu_event_reset(&timer_list->timers_done_ev);
  if (!timer_list->clock->enabled.Load()) {
    qemu_event_set(&timer_list->timers_done_ev);  // QEMU's `goto out`
    return progress;
  }

  const int64_t current_time =
      qemu_clock_get_ns(timer_list->runtime, timer_list->clock->type);  // once
  for (;;) {
    qemu_mutex_lock(&timer_list->active_timers_lock);
    QEMUTimer* ts = timer_list->active_timers.Load();
    if (!timer_expired_ns(ts, current_time)) {
      qemu_mutex_unlock(&timer_list->active_timers_lock);
      break;
    }
    // Off the list before the callback runs, which may re-arm or delete it.
    timer_list->active_timers.Store(ts->next.Load());
    ts->next.Store(nullptr);
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

void timerlistgroup_init(AioRuntime* rt, QEMUTimerListGroup* tlg, QEMUTimerListNotifyCB* cb,
                         void* opaque) {
  for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
    tlg->tl[type] = timerlist_new(rt, static_cast<QEMUClockType>(type), cb, opaque);
  }
}

void timerlistgroup_deinit(QEMUTimerListGroup* tlg) {
  for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
    timerlist_free(tlg->tl[type]);
    tlg->tl[type] = nullptr;
  }
}

bool timerlistgroup_run_timers(QEMUTimerListGroup* tlg) {
  bool progress = false;
  for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
    progress |= timerlist_run_timers(tlg->tl[type]);
  }
  return progress;
}

int64_t timerlistgroup_deadline_ns(QEMUTimerListGroup* tlg) {
  int64_t deadline = -1;
  for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
    if (qemu_clock_use_for_deadline(static_cast<QEMUClockType>(type))) {
      deadline = qemu_soonest_timeout(deadline, timerlist_deadline_ns(tlg->tl[type]));
    }
  }
  return deadline;
}

// ---- timers ----------------------------------------------------------------------------

void timer_init_tl(QEMUTimer* ts, QEMUTimerList* timer_list, int scale, QEMUTimerCB* cb,
                   void* opaque) {
  ts->timer_list = timer_list;
  ts->cb = cb;
  ts->opaque = opaque;
  ts->scale = scale;
  ts->expire_time.Store(-1);  // (QEMU does not touch `next` here either)
}

QEMUTimer* timer_new_tl(QEMUTimerList* timer_list, int scale, QEMUTimerCB* cb,
                        void* opaque) {
  auto* ts = platform_new<QEMUTimer>();
  timer_init_tl(ts, timer_list, scale, cb, opaque);
  return ts;
}

void aio_timer_init(AioContext* ctx, QEMUTimer* ts, QEMUClockType type, int scale,
                    QEMUTimerCB* cb, void* opaque) {
  timer_init_tl(ts, ctx->tlg.tl[type], scale, cb, opaque);
}

QEMUTimer* aio_timer_new(AioContext* ctx, QEMUClockType type, int scale, QEMUTimerCB* cb,
                         void* opaque) {
  return timer_new_tl(ctx->tlg.tl[type], scale, cb, opaque);
}

QEMUTimer* timer_new_ns(AioContext* ctx, QEMUClockType type, QEMUTimerCB* cb, void* opaque) {
  return aio_timer_new(ctx, type, SCALE_NS, cb, opaque);
}

QEMUTimer* timer_new_us(AioContext* ctx, QEMUClockType type, QEMUTimerCB* cb, void* opaque) {
  return aio_timer_new(ctx, type, SCALE_US, cb, opaque);
}

QEMUTimer* timer_new_ms(AioContext* ctx, QEMUClockType type, QEMUTimerCB* cb, void* opaque) {
  return aio_timer_new(ctx, type, SCALE_MS, cb, opaque);
}

void timer_free(QEMUTimer* ts) {
  AIOSIM_ASSERT(!timer_pending(ts));
  platform_delete(ts);
}

static void timer_del_locked(QEMUTimerList* timer_list, QEMUTimer* ts) {
  ts->expire_time.Store(-1);
  Shared<QEMUTimer*>* pt = &timer_list->active_timers;
  while (QEMUTimer* t = pt->Load()) {
    if (t == ts) {
      pt->Store(t->next.Load());
      break;
    }
    pt = &t->next;
  }
}

// Inserts after every timer due at or before `expire_time` (FIFO among equals).
// Returns whether the timer became the head, i.e. the deadline moved earlier.
static bool timer_mod_ns_locked(QEMUTimerList* timer_list, QEMUTimer* ts,
                                int64_t expire_time) {
  Shared<QEMUTimer*>* pt = &timer_list->active_timers;
  while (timer_expired_ns(pt->Load(), expire_time)) pt = &pt->Load()->next;
  ts->expire_time.Store(std::max<int64_t>(expire_time, 0));
  ts->next.Store(pt->Load());
  pt->Store(ts);
  return pt == &timer_list->active_timers;
}

// The new head may be sooner than what a sleeping loop computed: wake it.
static void timerlist_rearm(QEMUTimerList* timer_list) { timerlist_notify(timer_list); }

void timer_del(QEMUTimer* ts) {
  QEMUTimerList* timer_list = ts->timer_list;
  if (timer_list == nullptr) return;
  qemu_mutex_lock(&timer_list->active_timers_lock);
  timer_del_locked(timer_list, ts);
  qemu_mutex_unlock(&timer_list->active_timers_lock);
}

void timer_mod_ns(QEMUTimer* ts, int64_t expire_time) {
  QEMUTimerList* timer_list = ts->timer_list;
  qemu_mutex_lock(&timer_list->active_timers_lock);
  timer_del_locked(timer_list, ts);
  bool rearm = timer_mod_ns_locked(timer_list, ts, expire_time);
  qemu_mutex_unlock(&timer_list->active_timers_lock);
  if (rearm) timerlist_rearm(timer_list);
}

void timer_mod_anticipate_ns(QEMUTimer* ts, int64_t expire_time) {
  QEMUTimerList* timer_list = ts->timer_list;
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

void timer_mod(QEMUTimer* ts, int64_t expire_time) {
  timer_mod_ns(ts, expire_time * ts->scale);
}

void timer_mod_anticipate(QEMUTimer* ts, int64_t expire_time) {
  timer_mod_anticipate_ns(ts, expire_time * ts->scale);
}

// Reads expire_time without the lock (as QEMU).
bool timer_pending(QEMUTimer* ts) { return ts->expire_time.Load() >= 0; }

bool timer_expired(QEMUTimer* ts, int64_t current_time) {
  return timer_expired_ns(ts, current_time * ts->scale);
}

int64_t timer_expire_time_ns(QEMUTimer* ts) {
  return timer_pending(ts) ? ts->expire_time.Load() : -1;
}

}  // namespace aiosim::core
