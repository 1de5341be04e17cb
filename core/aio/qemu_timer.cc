// core/aio/qemu_timer.cc — follows QEMU 2.8.1 qemu-timer.c and QEMU 10.2.0
// util/qemu-timer.c where the two are the same: clocks, qemu_clock_enable's walk of a
// clock's lists, timer list groups, timer set-up and the scaled wrappers; and the
// public timer-list functions, each handing its list to its generation's code
// (core/aio/legacy/qemu_timer.cc, core/aio/modern/qemu_timer.cc), as dispatch.cc
// does for contexts. The generation is a plain field of the list, written before the
// list is shared: a dispatch adds no scheduling point.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.6 and docs/modern-sources.md §2.8; names are
// QEMU's, the code is ours. Not followed: icount (every clock counts for the
// deadline), record/replay, timer attributes (QEMU_TIMER_ATTR_EXTERNAL, 10.x), and
// 10.x's qemu_clock_deadline_ns_all (icount only).
#include "core/aio/qemu_timer.h"

#include <algorithm>
#include <cstdint>

#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/names.h"
#include "core/platform/check.h"

namespace aiosim::core {

namespace {
bool IsLegacy(const QEMUTimerList* tl) { return tl->generation == AioGeneration::kLegacy; }
}  // namespace

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
      if (IsLegacy(tl)) {
        legacy::timerlist_wait_done(tl);  // qemu_event_wait(&tl->timers_done_ev)
      } else {
        modern::timerlist_wait_done(tl);
      }
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

// The registry of a clock's lists (QEMU: QLIST_INSERT_HEAD / QLIST_REMOVE on
// clock->timerlists under the BQL).
void timerlist_register(QEMUTimerList* tl) {
  AioRuntime* rt = tl->runtime;
  qemu_mutex_lock(rt->timerlists_lock());
  tl->clock_next.Store(tl->clock->timerlists.Load());
  tl->clock->timerlists.Store(tl);
  qemu_mutex_unlock(rt->timerlists_lock());
}

void timerlist_unregister(QEMUTimerList* timer_list) {
  AioRuntime* rt = timer_list->runtime;
  qemu_mutex_lock(rt->timerlists_lock());
  Shared<QEMUTimerList*>* link = &timer_list->clock->timerlists;
  while (link->Load() != timer_list) link = &link->Load()->clock_next;
  link->Store(timer_list->clock_next.Load());
  qemu_mutex_unlock(rt->timerlists_lock());
}

QEMUTimerList* timerlist_new(AioRuntime* rt, QEMUClockType type, QEMUTimerListNotifyCB* cb,
                             void* opaque, AioGeneration generation) {
  if (generation == AioGeneration::kLegacy) {
    return legacy::timerlist_new(rt, type, cb, opaque);
  }
  return modern::timerlist_new(rt, type, cb, opaque);
}
void timerlist_free(QEMUTimerList* timer_list) {
  if (IsLegacy(timer_list)) return legacy::timerlist_free(timer_list);
  modern::timerlist_free(timer_list);
}
bool timerlist_has_timers(QEMUTimerList* timer_list) {
  if (IsLegacy(timer_list)) return legacy::timerlist_has_timers(timer_list);
  return modern::timerlist_has_timers(timer_list);
}
bool timerlist_expired(QEMUTimerList* timer_list) {
  if (IsLegacy(timer_list)) return legacy::timerlist_expired(timer_list);
  return modern::timerlist_expired(timer_list);
}
int64_t timerlist_deadline_ns(QEMUTimerList* timer_list) {
  if (IsLegacy(timer_list)) return legacy::timerlist_deadline_ns(timer_list);
  return modern::timerlist_deadline_ns(timer_list);
}
bool timerlist_run_timers(QEMUTimerList* timer_list) {
  if (IsLegacy(timer_list)) return legacy::timerlist_run_timers(timer_list);
  return modern::timerlist_run_timers(timer_list);
}

QEMUClockType timerlist_get_clock(QEMUTimerList* timer_list) {
  return timer_list->clock->type;
}

void timerlist_notify(QEMUTimerList* timer_list) {
  if (timer_list->notify_cb != nullptr) timer_list->notify_cb(timer_list->notify_opaque);
}

void timerlistgroup_init(AioRuntime* rt, QEMUTimerListGroup* tlg, QEMUTimerListNotifyCB* cb,
                         void* opaque, AioGeneration generation) {
  for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
    tlg->tl[type] =
        timerlist_new(rt, static_cast<QEMUClockType>(type), cb, opaque, generation);
  }
}

void timerlistgroup_name_fields(QEMUTimerListGroup* tlg, const std::string& owner) {
  if (!NamesWanted()) return;
  static const char* const kClock[] = {"realtime", "virtual", "host", "virtual_rt"};
  for (int type = 0; type < QEMU_CLOCK_MAX; type++) {
    QEMUTimerList* tl = tlg->tl[type];
    if (tl == nullptr) continue;
    const char* clock = type < 4 ? kClock[type] : "clock";
    FieldNamer(owner + "->tlg[" + clock + "]")(tl->active_timers_lock,
                                                              "active_timers_lock")(
        tl->active_timers, "active_timers")(tl->clock_next, "clock_next");
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
  if (NamesWanted()) {  // not QEMU: names for the simulator's reports
    FieldNamer("timer")(ts->expire_time, "expire_time")(ts->next, "next");
  }
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

void timer_del(QEMUTimer* ts) {
  QEMUTimerList* timer_list = ts->timer_list;
  if (timer_list == nullptr) return;
  if (IsLegacy(timer_list)) return legacy::timer_del(ts);
  modern::timer_del(ts);
}
void timer_mod_ns(QEMUTimer* ts, int64_t expire_time) {
  if (IsLegacy(ts->timer_list)) return legacy::timer_mod_ns(ts, expire_time);
  modern::timer_mod_ns(ts, expire_time);
}
void timer_mod_anticipate_ns(QEMUTimer* ts, int64_t expire_time) {
  if (IsLegacy(ts->timer_list)) return legacy::timer_mod_anticipate_ns(ts, expire_time);
  modern::timer_mod_anticipate_ns(ts, expire_time);
}

void timer_mod(QEMUTimer* ts, int64_t expire_time) {
  timer_mod_ns(ts, expire_time * ts->scale);
}

void timer_mod_anticipate(QEMUTimer* ts, int64_t expire_time) {
  timer_mod_anticipate_ns(ts, expire_time * ts->scale);
}

// Reads expire_time without the lock (as QEMU).
bool timer_pending(QEMUTimer* ts) { return ts->expire_time.Load() >= 0; }

static bool timer_expired_ns(QEMUTimer* timer_head, int64_t current_time) {
  return timer_head != nullptr && timer_head->expire_time.Load() <= current_time;
}

bool timer_expired(QEMUTimer* ts, int64_t current_time) {
  return timer_expired_ns(ts, current_time * ts->scale);
}

int64_t timer_expire_time_ns(QEMUTimer* ts) {
  return timer_pending(ts) ? ts->expire_time.Load() : -1;
}

}  // namespace aiosim::core
