// core/aio/legacy/aio_internal.h — the legacy generation (QEMU 2.8.1): its private
// structures (QEMU keeps them inside async.c, aio-posix.c and thread-pool.c) and its
// entry points, which core/aio/dispatch.cc calls for a legacy object. For the core's
// own files, its white-box tests and the scenarios that inspect 2.8.1's state; not
// part of the public API (core/aio/aio.h).
// SPDX-License-Identifier: GPL-2.0-or-later
#ifndef AIOSIM_CORE_AIO_LEGACY_AIO_INTERNAL_H_
#define AIOSIM_CORE_AIO_LEGACY_AIO_INTERNAL_H_

#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core::legacy {

struct AioContext;
struct AioHandler;
struct ThreadPool;

// QEMU 2.8.1 async.c's struct QEMUBH. ctx, cb and opaque never change after the BH
// is published.
struct QEMUBH : core::QEMUBH {
  AioContext* ctx = nullptr;
  QEMUBHFunc* cb = nullptr;
  void* opaque = nullptr;
  Shared<QEMUBH*> next{nullptr};
  // Set by xchg / mb_set, cleared by xchg in aio_bh_poll and by plain stores in
  // cancel and delete.
  Atomic<bool> scheduled{false};
  Shared<bool> idle{false};
  Shared<bool> deleted{false};
  // With AIO_REVERT_R1 only: `ctx` again, for the read that 2.0 makes after the
  // exchange. QEMU reads the plain field; here that read must be a scheduling point
  // that can find the BH freed (a plain field of a freed block is just poison), so it
  // goes through a Shared copy, written in bh_alloc under the switch only.
  Shared<AioContext*> ctx_late{nullptr};
};

// QEMU 2.8.1 aio-posix.c's struct AioHandler. `pfd.fd` never changes; the rest is
// rewritten in place by aio_set_fd_handler (the root of R11).
struct AioHandler {
  int fd = -1;
  Shared<int16_t> events{0};
  Shared<int16_t> revents{0};
  Shared<IOHandler*> io_read{nullptr};
  Shared<IOHandler*> io_write{nullptr};
  // Set for nodes made by aio_set_event_notifier: called with the notifier instead
  // of io_read(opaque). QEMU casts the handler's type instead; calling through a
  // cast function pointer is undefined behaviour in C++.
  Shared<EventNotifierHandler*> io_notify{nullptr};
  Shared<int> deleted{0};
  Shared<void*> opaque{nullptr};
  Shared<bool> is_external{false};
  Shared<AioHandler*> next{nullptr};
};

// QEMU 2.8.1's struct AioContext (runtime, generation, switches, name and the timer
// list group are in the public base). Fields that several threads touch are
// Atomic/Shared.
struct AioContext : core::AioContext {

  // The GSource reference count (aio_context_ref/unref).
  Atomic<int> refcnt{1};

  // aio_context_acquire/release: a recursive mutex since 2.8.
  QemuRecMutex lock;

  // fd handlers, newest first. Changed by aio_set_fd_handler under `lock` (the
  // caller's duty); nodes are only marked deleted while walking_handlers > 0.
  Shared<AioHandler*> aio_handlers{nullptr};
  Shared<int> walking_handlers{0};

  // Bottom halves, newest first. Insertion under bh_lock (any thread); removal of
  // deleted BHs under bh_lock by the outermost aio_bh_poll only.
  QemuMutex bh_lock;
  Shared<QEMUBH*> first_bh{nullptr};
  Shared<int> walking_bh{0};

  // Bit 0: between GSource prepare and check. Bits 1..31: 2 per blocking aio_poll in
  // its prepare/poll phase. aio_notify writes the eventfd only if non-zero.
  Atomic<uint32_t> notify_me{0};
  // Whether the eventfd may be set by aio_notify and not yet cleared by
  // aio_notify_accept.
  Atomic<bool> notified{false};
  std::unique_ptr<EventNotifier> notifier;

  // Created on first use by aio_get_thread_pool (home thread).
  Shared<core::ThreadPool*> thread_pool{nullptr};

  // aio_disable_external / aio_enable_external.
  Atomic<int> external_disable_cnt{0};

  // With AIO_REVERT_R3 only (QEMU 2.1-2.3): whether an aio_poll is in its dispatch
  // phase (or in a non-blocking poll). Plain in QEMU: written by aio_poll, read by
  // aio_notify in any thread.
  Shared<bool> dispatching{false};

  // The thread whose aio_poll calls AIO_FIX_R9_ACCEPT / AIO_FIX_R9_HOME accept (QEMU
  // 3.1/4.0's in_aio_context_home_thread): the thread that created the context until
  // aio_context_set_home_thread names another, as an IOThread adopts its context.
  // Plain: QEMU compares with the calling thread's own thread-local (my_iothread), so
  // there is no shared write to preempt or to race on.
  ThreadId home_thread = 0;
};

// The legacy object behind a public pointer. REQUIRES: a legacy object. (A plain
// cast, no read: a freed object is reported at its first access, as before.)
inline AioContext* of(core::AioContext* ctx) { return static_cast<AioContext*>(ctx); }
inline QEMUBH* of(core::QEMUBH* bh) { return static_cast<QEMUBH*>(bh); }
ThreadPool* of(core::ThreadPool* pool);

// ---- entry points (core/aio/dispatch.cc), as core/aio/aio.h and thread_pool.h
// document them ------------------------------------------------------------------------

AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options,
                            std::string* error);
void aio_context_ref(AioContext* ctx);
void aio_context_unref(AioContext* ctx);
void aio_context_acquire(AioContext* ctx);
void aio_context_release(AioContext* ctx);
void aio_context_set_home_thread(AioContext* ctx, ThreadId thread);
bool in_aio_context_home_thread(AioContext* ctx);
core::ThreadPool* aio_get_thread_pool(AioContext* ctx);

// `name` (not QEMU: 2.8.1's BHs have none) only names the BH in the simulator's
// reports.
QEMUBH* aio_bh_new(AioContext* ctx, QEMUBHFunc* cb, void* opaque,
                   const char* name = nullptr);
// Not QEMU: names the context's fields in the simulator's reports (core/aio/names.h).
void aio_context_name_fields(AioContext* ctx);
void aio_bh_schedule_oneshot(AioContext* ctx, QEMUBHFunc* cb, void* opaque);
void qemu_bh_schedule(QEMUBH* bh);
void qemu_bh_schedule_idle(QEMUBH* bh);
void qemu_bh_cancel(QEMUBH* bh);
void qemu_bh_delete(QEMUBH* bh);
int aio_bh_poll(AioContext* ctx);
int64_t aio_compute_timeout(AioContext* ctx);

void aio_notify(AioContext* ctx);
void aio_notify_accept(AioContext* ctx);

void aio_set_fd_handler(AioContext* ctx, int fd, bool is_external, IOHandler* io_read,
                        IOHandler* io_write, void* opaque);
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier, bool is_external,
                            EventNotifierHandler* io_read);
void aio_disable_external(AioContext* ctx);
void aio_enable_external(AioContext* ctx);
bool aio_external_disabled(AioContext* ctx);
bool aio_node_check(AioContext* ctx, bool is_external);

bool aio_prepare(AioContext* ctx);
bool aio_pending(AioContext* ctx);
bool aio_dispatch(AioContext* ctx);
bool aio_poll(AioContext* ctx, bool blocking);

bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms);
bool aio_ctx_check(AioContext* ctx);
bool aio_ctx_dispatch(AioContext* ctx);
void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds);
void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd);

core::ThreadPool* thread_pool_new(AioContext* ctx);
void thread_pool_free(ThreadPool* pool);
BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque);
void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg);
ThreadPoolStats thread_pool_stats(ThreadPool* pool);

// ---- timer lists (qemu_timer.cc; core/aio/qemu_timer.cc dispatches) ------------------
core::QEMUTimerList* timerlist_new(AioRuntime* rt, QEMUClockType type,
                                   QEMUTimerListNotifyCB* cb, void* opaque);
void timerlist_free(core::QEMUTimerList* timer_list);
// qemu_event_wait(&timer_list->timers_done_ev), for qemu_clock_enable.
void timerlist_wait_done(core::QEMUTimerList* timer_list);
bool timerlist_has_timers(core::QEMUTimerList* timer_list);
bool timerlist_expired(core::QEMUTimerList* timer_list);
int64_t timerlist_deadline_ns(core::QEMUTimerList* timer_list);
bool timerlist_run_timers(core::QEMUTimerList* timer_list);
// REQUIRES: ts->timer_list is set.
void timer_del(QEMUTimer* ts);
void timer_mod_ns(QEMUTimer* ts, int64_t expire_time);
void timer_mod_anticipate_ns(QEMUTimer* ts, int64_t expire_time);

// With AIO_REVERT_R3 (QEMU 2.1-2.3 async.c): sets ctx->dispatching; entering a
// phase that may block (false) is followed by a full barrier, so that the flag is
// visible before e.g. bh->scheduled is read.
void aio_set_dispatching(AioContext* ctx, bool dispatching);

// For the main-loop driver (glib's g_source_add_poll set): every registered,
// undeleted node of `ctx`, newest first.
template <class Fn>
void aio_for_each_gsource_poll(AioContext* ctx, Fn&& fn) {
  for (AioHandler* node = ctx->aio_handlers.Load(); node != nullptr;
       node = node->next.Load()) {
    if (!node->deleted.Load()) fn(node);
  }
}

}  // namespace aiosim::core::legacy

#endif  // AIOSIM_CORE_AIO_LEGACY_AIO_INTERNAL_H_
