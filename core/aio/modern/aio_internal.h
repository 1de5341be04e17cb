// core/aio/modern/aio_internal.h — the modern generation (QEMU 10.2.0): its private
// structures (QEMU keeps QEMUBH inside util/async.c and AioHandler in
// util/aio-posix.h; the AioContext fields follow include/block/aio.h) and its entry
// points, which core/aio/dispatch.cc calls for a modern object. For the core's own
// files, its white-box tests and the scenarios that inspect 10.2's state; not part
// of the public API (core/aio/aio.h).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Left out of the structures, with what that costs (docs/modern.md): coroutines
// (co_schedule_bh, scheduled_coroutines), linux-aio and io_uring, epoll (the single
// fd monitor is poll, as legacy's), `ctx->lock` (unused since 9.0 removed
// aio_context_acquire), aio_max_batch, io_poll_begin/io_poll_end (no public setter
// here: aio_set_event_notifier_poll is for virtqueues).
#ifndef AIOSIM_CORE_AIO_MODERN_AIO_INTERNAL_H_
#define AIOSIM_CORE_AIO_MODERN_AIO_INTERNAL_H_

#include "core/aio/aio.h"
#include "core/aio/modern/lockcnt.h"
#include "core/aio/thread_pool.h"
#include "core/platform/check.h"

namespace aiosim::core::modern {

struct AioContext;
struct ThreadPool;

// include/block/thread-pool.h.
constexpr int THREAD_POOL_MAX_THREADS_DEFAULT = 64;

// QEMUBH::flags (util/async.c).
enum : unsigned {
  BH_PENDING = 1u << 0,    // on ctx->bh_list or a slice, waiting for aio_bh_poll
  BH_SCHEDULED = 1u << 1,  // call the callback
  BH_DELETED = 1u << 2,    // free without calling it
  BH_ONESHOT = 1u << 3,    // free after calling it
  BH_IDLE = 1u << 4,       // periodic: polled at least every 10 ms, not progress
};

// QEMU 10.2 util/async.c's struct QEMUBH. ctx, name, cb, opaque and the guard never
// change after creation; they are Shared so that a read of a freed BH is a
// scheduling point the simulator reports as a use after free.
struct QEMUBH : core::QEMUBH {
  Shared<AioContext*> ctx{nullptr};
  const char* name = nullptr;
  Shared<QEMUBHFunc*> cb{nullptr};
  Shared<void*> opaque{nullptr};
  // The QSLIST link: written by the enqueuer while the BH is on no list (PENDING was
  // clear), and by aio_bh_poll (home thread) when it dequeues the BH.
  Shared<QEMUBH*> next{nullptr};
  Atomic<unsigned> flags{0};
  Shared<MemReentrancyGuard*> reentrancy_guard{nullptr};
};

// util/async.c's BHListSlice: the BHs one aio_bh_poll took from ctx->bh_list, on
// that call's stack. Home thread only.
struct BHListSlice {
  Shared<QEMUBH*> bh_list{nullptr};
  Shared<BHListSlice*> next{nullptr};
};

struct AioHandler;

// A QLIST of ready handlers (util/aio-posix.h's AioHandlerList), on the stack of an
// aio_poll or aio_dispatch. Home thread only. A node is on at most one: adding it to
// a nested call's list takes it off its parent's (aio_add_ready_handler).
struct AioHandlerList {
  Shared<AioHandler*> first{nullptr};
};

// util/aio-posix.h's AioPolledEvent (10.0+: per handler).
struct AioPolledEvent {
  Shared<int64_t> ns{0};  // current polling time in nanoseconds
};

// QEMU 10.2 util/aio-posix.h's struct AioHandler. A node's callbacks and fd never
// change once it is published: aio_set_fd_handler replaces the node instead. What
// does change: pfd.events (0 on removal), pfd.revents, poll_ready, and the links.
// QEMU's QLIST links are doubly linked; here each list is singly linked and a
// removal walks it from its head (the same nodes in the same order, with more
// scheduling points on removal). Membership flags stand in for QLIST_IS_INSERTED.
struct AioHandler {
  int fd = -1;
  Shared<int16_t> events{0};   // pfd.events
  Shared<int16_t> revents{0};  // pfd.revents
  Shared<IOHandler*> io_read{nullptr};
  Shared<IOHandler*> io_write{nullptr};
  Shared<AioPollFn*> io_poll{nullptr};
  Shared<IOHandler*> io_poll_ready{nullptr};
  // For nodes made by aio_set_event_notifier: called with the notifier, where QEMU
  // casts the handler to IOHandler (calling through a cast function pointer is
  // undefined behaviour in C++).
  Shared<EventNotifierHandler*> io_notify{nullptr};
  Shared<EventNotifierHandler*> io_notify_poll_ready{nullptr};
  Shared<void*> opaque{nullptr};

  // node: ctx->aio_handlers, published with a store-release (QLIST_INSERT_HEAD_RCU).
  Atomic<AioHandler*> node_next{nullptr};
  // node_deleted: ctx->deleted_aio_handlers.
  Shared<bool> on_deleted{false};
  Atomic<AioHandler*> deleted_next{nullptr};
  // node_poll: ctx->poll_aio_handlers (home thread, and aio_set_fd_handler's
  // immediate removal at a zero count).
  Shared<bool> on_poll{false};
  Shared<AioHandler*> poll_next{nullptr};
  // node_ready: one AioHandlerList.
  Shared<AioHandlerList*> ready_on{nullptr};
  Shared<AioHandler*> ready_next{nullptr};

  AioPolledEvent poll;
  Shared<int64_t> poll_idle_timeout{0};
  Shared<bool> poll_ready{false};
};

// QEMU 10.2's struct AioContext (include/block/aio.h; runtime, generation, switches,
// name and the timer list group are in the public base).
struct AioContext : core::AioContext {
  // The GSource reference count (g_source_ref/unref).
  Atomic<int> refcnt{1};

  // ctx->list_lock: visitors of the handler lists count themselves in it; whoever
  // frees a node takes its lock at a zero count.
  QemuLockCnt list_lock;
  // Every handler, newest first, the replaced and removed ones included until they
  // are freed (RCU publication; readers hold list_lock's count).
  Atomic<AioHandler*> aio_handlers{nullptr};
  // Replaced or removed while someone was visiting: freed by the outermost visitor
  // (aio_free_deleted_handlers).
  Atomic<AioHandler*> deleted_aio_handlers{nullptr};
  // Handlers with io_poll that have fired at least once (adaptive polling).
  Shared<AioHandler*> poll_aio_handlers{nullptr};
  Shared<bool> poll_started{false};
  // How many handlers have no io_poll: while non-zero, userspace polling cannot see
  // every event, so the loop must wait in the system call (fdmon-poll's need_wait).
  Atomic<int> poll_disable_cnt{0};
  // aio_context_set_poll_params: written without synchronisation, by design.
  Shared<int64_t> poll_max_ns{0};
  Shared<int64_t> poll_grow{0};
  Shared<int64_t> poll_shrink{0};

  // Pending BHs, pushed by any thread (QSLIST_INSERT_HEAD_ATOMIC), taken whole by
  // aio_bh_poll (QSLIST_MOVE_ATOMIC).
  Atomic<QEMUBH*> bh_list{nullptr};
  // The slices of the active, possibly nested, aio_bh_poll calls, outermost first
  // (a QSIMPLEQ). Home thread only.
  Shared<BHListSlice*> bh_slice_first{nullptr};
  Shared<BHListSlice*> bh_slice_last{nullptr};

  // Bit 0: between GSource prepare and check. Bits 1..31: 2 per aio_poll that may
  // block. Written by the home thread only (plain read plus atomic store).
  Atomic<unsigned> notify_me{0};
  // Set by every aio_notify, cleared by aio_notify_accept.
  Atomic<bool> notified{false};
  std::unique_ptr<EventNotifier> notifier;

  Shared<core::ThreadPool*> thread_pool{nullptr};
  // thread-pool-min/max (7.1): written by aio_context_set_thread_pool_params, read by
  // the pool under its lock.
  Shared<int> thread_pool_min{0};
  Shared<int> thread_pool_max{THREAD_POOL_MAX_THREADS_DEFAULT};

  // Not QEMU: the thread that last made this context its current one (the creator,
  // then aio_context_set_home_thread's caller). QEMU identifies the home thread by
  // its TLS alone; when a context moves to an IOThread, the thread it left runs
  // another context (QEMU's main thread: qemu_aio_context), so its TLS no longer
  // names this one. Here the thread it left keeps its TLS, so in_aio_context_home_thread
  // also compares this id. Plain, as legacy's: written by the new home thread before
  // it polls, read by a thread asking about itself.
  ThreadId home_thread = 0;

};

// Not QEMU: names the context's fields in the simulator's reports (core/aio/names.h).
void aio_context_name_fields(AioContext* ctx);

// The modern object behind a public pointer. REQUIRES: a modern object.
inline AioContext* of(core::AioContext* ctx) { return static_cast<AioContext*>(ctx); }
inline QEMUBH* of(core::QEMUBH* bh) { return static_cast<QEMUBH*>(bh); }
ThreadPool* of(core::ThreadPool* pool);

// Test-only, not QEMU: when set, aio_poll skips its re-check of `notified` after
// raising notify_me (5.0's "don't block if aio_notify() was called"), the canary of
// core/aio/tests/modern_sim_test.cc. Never set outside that test; read by simulated
// threads only while no simulation changes it.
extern bool aio_test_skip_notified_recheck;

// Test-only, not QEMU: if set, called with +1 when a BH of `ctx` is allocated and -1
// when it is freed, so that tests can count live BHs (a modern BH is on no list until
// it is scheduled, so no list counts it). Set before any thread runs and never
// changed after; the core never reads what it counts, and the call is no scheduling
// point.
extern void (*aio_test_bh_count_hook)(AioContext* ctx, int delta);

// ---- entry points (core/aio/dispatch.cc), as core/aio/aio.h documents them ------------

AioContext* aio_context_new(AioRuntime* rt, const AioContextOptions& options,
                            std::string* error);
void aio_context_ref(AioContext* ctx);
void aio_context_unref(AioContext* ctx);
void aio_context_set_home_thread(AioContext* ctx, ThreadId thread);
bool in_aio_context_home_thread(AioContext* ctx);
core::ThreadPool* aio_get_thread_pool(AioContext* ctx);
// include/block/aio.h: the calling thread's AioContext (its TLS), or null.
AioContext* qemu_get_current_aio_context();
void qemu_set_current_aio_context(AioContext* ctx);

QEMUBH* aio_bh_new_full(AioContext* ctx, QEMUBHFunc* cb, void* opaque, const char* name,
                        MemReentrancyGuard* reentrancy_guard);
void aio_bh_schedule_oneshot_full(AioContext* ctx, QEMUBHFunc* cb, void* opaque,
                                  const char* name);
void qemu_bh_schedule(QEMUBH* bh);
void qemu_bh_schedule_idle(QEMUBH* bh);
void qemu_bh_cancel(QEMUBH* bh);
void qemu_bh_delete(QEMUBH* bh);
int aio_bh_poll(AioContext* ctx);
int64_t aio_compute_timeout(AioContext* ctx);

void aio_notify(AioContext* ctx);
void aio_notify_accept(AioContext* ctx);

void aio_set_fd_handler(AioContext* ctx, int fd, IOHandler* io_read, IOHandler* io_write,
                        AioPollFn* io_poll, IOHandler* io_poll_ready, void* opaque);
void aio_set_event_notifier(AioContext* ctx, EventNotifier* notifier,
                            EventNotifierHandler* io_read, AioPollFn* io_poll,
                            EventNotifierHandler* io_poll_ready);
void aio_context_set_poll_params(AioContext* ctx, int64_t max_ns, int64_t grow,
                                 int64_t shrink);

bool aio_context_set_thread_pool_params(AioContext* ctx, int64_t min, int64_t max,
                                        std::string* error);

core::ThreadPool* thread_pool_new(AioContext* ctx);
void thread_pool_free(ThreadPool* pool);
BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque);
void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg);
void thread_pool_update_params(ThreadPool* pool, AioContext* ctx);
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

bool aio_prepare(AioContext* ctx);
bool aio_pending(AioContext* ctx);
void aio_dispatch(AioContext* ctx);
bool aio_poll(AioContext* ctx, bool blocking);
// aio_context_destroy (util/aio-posix.c): the fd monitor's teardown, then the
// deleted handlers.
void aio_context_destroy(AioContext* ctx);

bool aio_ctx_prepare(AioContext* ctx, int* timeout_ms);
bool aio_ctx_check(AioContext* ctx);
bool aio_ctx_dispatch(AioContext* ctx);
void aio_ctx_query(AioContext* ctx, absl::InlinedVector<PollFd, 8>* fds);
void aio_ctx_set_revents(AioContext* ctx, const PollFd& pfd);

// Walks ctx->aio_handlers the way QLIST_FOREACH_RCU does (a consume load per link).
template <class Fn>
void aio_for_each_handler(AioContext* ctx, Fn&& fn) {
  for (AioHandler* node = qatomic_rcu_read(&ctx->aio_handlers); node != nullptr;
       node = qatomic_rcu_read(&node->node_next)) {
    fn(node);
  }
}

}  // namespace aiosim::core::modern

#endif  // AIOSIM_CORE_AIO_MODERN_AIO_INTERNAL_H_
