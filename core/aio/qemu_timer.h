// core/aio/qemu_timer.h — follows QEMU 2.8.1 include/qemu/timer.h (and, for a modern
// context's lists, QEMU 10.2.0's): clocks, timer lists, timer list groups and timers.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Differences from QEMU, all forced by having no globals (a simulation must be able
// to run many independent worlds in one process):
//   - QEMU's global clocks (qemu_clocks[]) live in an AioRuntime; the functions that
//     name a clock type take the runtime as their first argument;
//   - there is no global main_loop_tlg, so timer_new_ns/ms/us take the AioContext
//     whose timer list group they use (QEMU's aio_timer_new).
//
// Threading (as QEMU): timer_mod*, timer_del and timer_pending may be called from any
// thread; a timer list's active list is protected by active_timers_lock; callbacks run
// in the thread that runs timerlist_run_timers, without that lock. timer_del does not
// wait for a callback already running (the race the seed's claim S6 is about).
//
// Generations: a timer list follows its context's (timerlist_new takes one). Where
// they differ (core/aio/legacy/qemu_timer.cc, core/aio/modern/qemu_timer.cc):
// 10.2 peeks at the list head atomically before taking the lock, links timers with
// atomic stores, holds the lock across timerlist_run_timers' loop, compares
// timerlist_expired with '<=' (2.9), and its timers_done_ev is QEMU's own futex
// QemuEvent (util/event.c) where legacy's is the seam's idealised event.
#ifndef AIOSIM_CORE_AIO_QEMU_TIMER_H_
#define AIOSIM_CORE_AIO_QEMU_TIMER_H_

#include <cstdint>

#include "core/aio/generation.h"
#include "core/platform/clock.h"
#include "core/platform/sync.h"

namespace aiosim::core {

class AioRuntime;
struct AioContext;
struct QEMUTimerList;

using QEMUTimerCB = void(void* opaque);
using QEMUTimerListNotifyCB = void(void* opaque);

// One per clock type and runtime (QEMU's QEMUClock).
struct QEMUClock {
  QEMUClockType type = QEMU_CLOCK_REALTIME;
  // Read without a lock by timerlist_run_timers, written by qemu_clock_enable.
  // AioRuntime's constructor sets it (false for QEMU_CLOCK_VIRTUAL, as 2.8.1).
  Shared<bool> enabled{true};
  // Every timer list of this clock, newest first, linked through
  // QEMUTimerList::clock_next. Changed by timerlist_new/timerlist_free (any thread
  // that creates or frees an AioContext) under AioRuntime's timerlists_lock, where
  // QEMU relies on the BQL.
  Shared<QEMUTimerList*> timerlists{nullptr};
};

struct QEMUTimer {
  // -1 exactly when the timer is not on its list. Written under the list's lock,
  // read without it by timer_pending and timer_expired (as QEMU).
  Shared<int64_t> expire_time{-1};
  QEMUTimerList* timer_list = nullptr;
  QEMUTimerCB* cb = nullptr;
  void* opaque = nullptr;
  // Under active_timers_lock. Atomic because 10.2 stores a link with qatomic_set
  // (timer_del_locked, timer_mod_ns_locked); every other access, and all of 2.8.1's,
  // is plain (PlainLoad/PlainStore).
  Atomic<QEMUTimer*> next{nullptr};
  int scale = SCALE_NS;
};

// A timer list (QEMU keeps the struct private to qemu-timer.c): each generation
// derives its own, adding its timers_done_ev. These fields are for the generations'
// qemu_timer.cc and core/aio/qemu_timer.cc only. `generation` is fixed at creation.
struct QEMUTimerList {
  AioGeneration generation;
  QEMUClock* clock = nullptr;
  QemuMutex active_timers_lock;
  // Sorted by expire_time, FIFO on ties. Under active_timers_lock, except 10.2's
  // lock-free peeks (qatomic_read) and 2.8.1's plain early read in run_timers.
  Atomic<QEMUTimer*> active_timers{nullptr};
  Shared<QEMUTimerList*> clock_next{nullptr};  // in clock->timerlists, as timerlists
  QEMUTimerListNotifyCB* notify_cb = nullptr;
  void* notify_opaque = nullptr;
  AioRuntime* runtime = nullptr;

 protected:
  explicit QEMUTimerList(AioGeneration g) : generation(g) {}
  ~QEMUTimerList() = default;
};

// For the generations' qemu_timer.cc: adds a new list to its clock's lists / takes it
// off (under the runtime's timerlists_lock, where QEMU relies on the BQL).
void timerlist_register(QEMUTimerList* timer_list);
void timerlist_unregister(QEMUTimerList* timer_list);

struct QEMUTimerListGroup {
  QEMUTimerList* tl[QEMU_CLOCK_MAX] = {};
};

// ---- clocks ----------------------------------------------------------------------------
int64_t qemu_clock_get_ns(AioRuntime* rt, QEMUClockType type);
int64_t qemu_clock_get_ms(AioRuntime* rt, QEMUClockType type);
// Every clock starts enabled except QEMU_CLOCK_VIRTUAL, which QEMU enables at VM
// start: call qemu_clock_enable(rt, QEMU_CLOCK_VIRTUAL, true) before relying on its
// timers. A disabled clock's timers do not run and do not count in deadlines.
// Disabling waits until no callback of this clock is running in any of its lists,
// holding no lock while it waits (as QEMU): such a callback may create or free an
// AioContext. REQUIRES: not called from such a callback (it would wait for itself);
// no list of this clock is freed while it waits (QEMU: its caller holds the BQL).
void qemu_clock_enable(AioRuntime* rt, QEMUClockType type, bool enabled);
// Test-only, not QEMU: when set, qemu_clock_enable(false) returns without waiting for
// the clock's timer lists' timers_done_ev — a canary that shows the property suites'
// clock clause ("no timer callback runs once qemu_clock_enable(false) returns") can
// fail. Never set outside tests; read only while no simulation changes it.
extern bool aio_test_clock_enable_skips_wait;
bool qemu_clock_use_for_deadline(QEMUClockType type);

// -1 is infinite; returns the sooner of the two.
int64_t qemu_soonest_timeout(int64_t timeout1, int64_t timeout2);
// ns (-1 = infinite) to a poll(2) timeout in ms, rounding up.
int qemu_timeout_ns_to_ms(int64_t ns);

// ---- timer lists -----------------------------------------------------------------------
// A list of `generation`'s (a context's lists are of the context's generation).
QEMUTimerList* timerlist_new(AioRuntime* rt, QEMUClockType type,
                             QEMUTimerListNotifyCB* cb, void* opaque,
                             AioGeneration generation = AioGeneration::kLegacy);
// REQUIRES: no timer left on the list.
void timerlist_free(QEMUTimerList* timer_list);
bool timerlist_has_timers(QEMUTimerList* timer_list);
bool timerlist_expired(QEMUTimerList* timer_list);
// ns until the first timer expires, 0 if already expired, -1 if none or disabled.
int64_t timerlist_deadline_ns(QEMUTimerList* timer_list);
QEMUClockType timerlist_get_clock(QEMUTimerList* timer_list);
// Runs every timer whose expire_time <= now (now read once); returns whether any ran.
bool timerlist_run_timers(QEMUTimerList* timer_list);
void timerlist_notify(QEMUTimerList* timer_list);

void timerlistgroup_init(AioRuntime* rt, QEMUTimerListGroup* tlg,
                         QEMUTimerListNotifyCB* cb, void* opaque,
                         AioGeneration generation = AioGeneration::kLegacy);
void timerlistgroup_deinit(QEMUTimerListGroup* tlg);
// Not QEMU: names the group's lists for the simulator's reports (core/aio/names.h).
void timerlistgroup_name_fields(QEMUTimerListGroup* tlg, const std::string& owner);
bool timerlistgroup_run_timers(QEMUTimerListGroup* tlg);
int64_t timerlistgroup_deadline_ns(QEMUTimerListGroup* tlg);

// ---- timers ----------------------------------------------------------------------------
void timer_init_tl(QEMUTimer* ts, QEMUTimerList* timer_list, int scale, QEMUTimerCB* cb,
                   void* opaque);
QEMUTimer* timer_new_tl(QEMUTimerList* timer_list, int scale, QEMUTimerCB* cb, void* opaque);
void aio_timer_init(AioContext* ctx, QEMUTimer* ts, QEMUClockType type, int scale,
                    QEMUTimerCB* cb, void* opaque);
QEMUTimer* aio_timer_new(AioContext* ctx, QEMUClockType type, int scale, QEMUTimerCB* cb,
                         void* opaque);
QEMUTimer* timer_new_ns(AioContext* ctx, QEMUClockType type, QEMUTimerCB* cb, void* opaque);
QEMUTimer* timer_new_us(AioContext* ctx, QEMUClockType type, QEMUTimerCB* cb, void* opaque);
QEMUTimer* timer_new_ms(AioContext* ctx, QEMUClockType type, QEMUTimerCB* cb, void* opaque);
// REQUIRES: the timer is not pending (timer_del first).
void timer_free(QEMUTimer* ts);

void timer_del(QEMUTimer* ts);
// Arms at `expire_time` ns (negative = 0). Moves the timer if already armed.
void timer_mod_ns(QEMUTimer* ts, int64_t expire_time);
// Arms at `expire_time` in the timer's scale.
void timer_mod(QEMUTimer* ts, int64_t expire_time);
// Arms only if not armed or if the new time is sooner.
void timer_mod_anticipate_ns(QEMUTimer* ts, int64_t expire_time);
void timer_mod_anticipate(QEMUTimer* ts, int64_t expire_time);
bool timer_pending(QEMUTimer* ts);
// expire_time <= current_time * scale. As in QEMU, this is also true for a timer
// that is not pending (its expire_time is -1).
bool timer_expired(QEMUTimer* ts, int64_t current_time);
// In ns; -1 if not pending.
int64_t timer_expire_time_ns(QEMUTimer* ts);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_QEMU_TIMER_H_
