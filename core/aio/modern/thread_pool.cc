// core/aio/modern/thread_pool.cc — follows QEMU 10.2.0 util/thread-pool.c (the AIO
// pool: ThreadPoolAio in QEMU's own names since 10.0) for the modern generation.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from docs/modern-sources.md §2.7; names are QEMU's, the code is ours.
// What changed since 2.8.1 (core/aio/legacy/thread_pool.cc):
//   - idle workers wait on a condition variable (request_cond), not a semaphore: a
//     wake-up carries no token, so a cancel never has to steal one (f4f71363fc);
//   - min_threads / max_threads come from the context (thread-pool-min/max, 7.1,
//     71ad4713cc) and thread_pool_update_params applies a change at once: it spawns
//     up to min, and signals surplus workers, which leave when they see
//     cur_threads > max_threads;
//   - a timed-out worker leaves only if the list is still empty and more than
//     min_threads exist; a leaving worker passes a wake-up on (request_cond);
//   - the completion BH is scheduled after the request is DONE and before the lock is
//     taken again (7.1), and QEMU brackets the BH with defer_call_begin/end (8.2);
//   - thread_pool_submit_aio asserts that the caller's current AioContext is the
//     pool's (8.0, aef04fc790: QEMU takes the pool from the current context), so the
//     2.8.1 misuse of claim S7 fails at once instead of racing;
//   - the ACB has no get_aio_context (8.0): bdrv_aio_cancel on it aborts, so only
//     bdrv_aio_cancel_async cancels a pool request.
// Not followed: thread_pool_submit_co and the coroutine callback (no coroutines
// here), defer_call (no callback in this project defers one: begin/end with nothing
// deferred does nothing), trace points, and the generic GThreadPool-based pool of
// 10.0 (a different API).
//
// Invariants (pool->lock protects request_list and the counters):
//   1. A request leaves THREAD_QUEUED only under pool->lock; after that only its
//      worker writes `state`; `ret` is written before `state = THREAD_DONE` (smp_wmb)
//      and read after it (smp_rmb). Plain fields in 10.2 (upstream e77508292c, after
//      10.2, makes them acquire/release).
//   2. `head` and the `all_next` links belong to the home thread (as legacy's).
//   3. cur_threads counts workers that exist or will; at most one creation is in
//      flight (new_thread_bh, or the newest worker creating the next).
//   4. A worker runs requests only while cur_threads <= max_threads.
#include "core/aio/thread_pool.h"

#include <cerrno>
#include <climits>

#include "core/aio/aio.h"
#include "core/aio/modern/aio_internal.h"
#include "core/aio/names.h"
#include "core/platform/check.h"

namespace aiosim::core::modern {

struct ThreadPoolElement : BlockAIOCB {
  ThreadPool* pool = nullptr;
  ThreadPoolFunc* func = nullptr;
  void* arg = nullptr;
  Shared<ThreadState> state{THREAD_QUEUED};
  Shared<int> ret{0};
  Shared<ThreadPoolElement*> reqs_next{nullptr};  // request_list, under pool->lock
  Shared<ThreadPoolElement*> all_next{nullptr};   // head, home thread only
};

struct ThreadPool : core::ThreadPool {
  AioContext* ctx = nullptr;
  QEMUBH* completion_bh = nullptr;
  QemuMutex lock;
  QemuCond worker_stopped;
  QemuCond request_cond;
  QEMUBH* new_thread_bh = nullptr;

  Shared<ThreadPoolElement*> head{nullptr};  // home thread only (invariant 2)

  // Under lock: the FIFO of QUEUED requests and the counters.
  Shared<ThreadPoolElement*> request_first{nullptr};
  Shared<ThreadPoolElement*> request_last{nullptr};
  Shared<int> cur_threads{0};
  Shared<int> idle_threads{0};
  Shared<int> new_threads{0};      // backlog of threads to create
  Shared<int> pending_threads{0};  // created, not running yet
  Shared<int> min_threads{0};
  Shared<int> max_threads{0};
  // Not QEMU: requests named so far (core/aio/names.h; only while names are wanted).
  int aiosim_requests_named = 0;
};

ThreadPool* of(core::ThreadPool* pool) { return static_cast<ThreadPool*>(pool); }

// ---- request_list (a QTAILQ under pool->lock) ------------------------------------------

static void request_list_append(ThreadPool* pool, ThreadPoolElement* req) {
  req->reqs_next.Store(nullptr);
  if (ThreadPoolElement* last = pool->request_last.Load()) {
    last->reqs_next.Store(req);
  } else {
    pool->request_first.Store(req);
  }
  pool->request_last.Store(req);
}

static void request_list_remove(ThreadPool* pool, ThreadPoolElement* req) {
  ThreadPoolElement* prev = nullptr;
  for (ThreadPoolElement* it = pool->request_first.Load(); it != req;
       it = it->reqs_next.Load()) {
    AIOSIM_ASSERT(it != nullptr);
    prev = it;
  }
  ThreadPoolElement* next = req->reqs_next.Load();
  if (prev != nullptr) {
    prev->reqs_next.Store(next);
  } else {
    pool->request_first.Store(next);
  }
  if (pool->request_last.Load() == req) pool->request_last.Store(prev);
  req->reqs_next.Store(nullptr);
}

// ---- workers ---------------------------------------------------------------------------

static void do_spawn_thread(ThreadPool* pool);

static void worker_thread(ThreadPool* pool) {
  qemu_mutex_lock(&pool->lock);
  pool->pending_threads.Store(pool->pending_threads.Load() - 1);
  do_spawn_thread(pool);  // the newest worker creates the next one, if one is owed

  while (pool->cur_threads.Load() <= pool->max_threads.Load()) {
    if (pool->request_first.Load() == nullptr) {
      pool->idle_threads.Store(pool->idle_threads.Load() + 1);
      const bool woken = qemu_cond_timedwait(&pool->request_cond, &pool->lock, 10000);
      pool->idle_threads.Store(pool->idle_threads.Load() - 1);
      // Timed out, nothing to do, and more threads than must stay warm: leave.
      if (!woken && pool->request_first.Load() == nullptr &&
          pool->cur_threads.Load() > pool->min_threads.Load()) {
        break;
      }
      continue;  // re-check the limit before taking a request
    }

    ThreadPoolElement* req = pool->request_first.Load();
    request_list_remove(pool, req);
    req->state.Store(THREAD_ACTIVE);
    qemu_mutex_unlock(&pool->lock);

    const int value = req->func(req->arg);
    req->ret.Store(value);
    smp_wmb();  // ret before state
    req->state.Store(THREAD_DONE);

    qemu_bh_schedule(pool->completion_bh);  // before taking the lock again (7.1)
    qemu_mutex_lock(&pool->lock);
  }

  pool->cur_threads.Store(pool->cur_threads.Load() - 1);
  qemu_cond_signal(&pool->worker_stopped);
  // The wake-up that made this thread leave (cur_threads > max_threads) may have been
  // meant for work: pass it on.
  qemu_cond_signal(&pool->request_cond);
  qemu_mutex_unlock(&pool->lock);
}

// REQUIRES: pool->lock held.
static void do_spawn_thread(ThreadPool* pool) {
  if (pool->new_threads.Load() == 0) return;
  pool->new_threads.Store(pool->new_threads.Load() - 1);
  pool->pending_threads.Store(pool->pending_threads.Load() + 1);
  QemuThread t;
  qemu_thread_create(&pool->ctx->runtime->platform()->threads(), &t, "worker",
                     [pool] { worker_thread(pool); }, QEMU_THREAD_DETACHED);
}

static void spawn_thread_bh_fn(void* opaque) {
  auto* pool = static_cast<ThreadPool*>(opaque);
  qemu_mutex_lock(&pool->lock);
  do_spawn_thread(pool);
  qemu_mutex_unlock(&pool->lock);
}

// REQUIRES: pool->lock held.
static void spawn_thread(ThreadPool* pool) {
  pool->cur_threads.Store(pool->cur_threads.Load() + 1);
  pool->new_threads.Store(pool->new_threads.Load() + 1);
  // Threads being created spawn the rest; otherwise the home thread creates one, so
  // that it inherits the home thread's affinity rather than a vCPU's.
  if (pool->pending_threads.Load() == 0) qemu_bh_schedule(pool->new_thread_bh);
}

// ---- completion ------------------------------------------------------------------------

static void thread_pool_completion_bh(void* opaque) {
  auto* pool = static_cast<ThreadPool*>(opaque);
  // (defer_call_begin: see the file comment.)
restart:
  // QLIST_FOREACH_SAFE: the successor is read before the element is looked at.
  Shared<ThreadPoolElement*>* link = &pool->head;
  while (ThreadPoolElement* elem = link->Load()) {
    ThreadPoolElement* next = elem->all_next.Load();
    if (elem->state.Load() != THREAD_DONE) {
      link = &elem->all_next;
      continue;
    }
    link->Store(next);  // QLIST_REMOVE(elem, all)
    if (elem->cb != nullptr) {
      smp_rmb();  // state before ret
      // In case the callback runs a nested aio_poll to wait for another request
      // that completed at the same time (R6; reverted with AIO_REVERT_R6: not).
      const bool reschedule = (pool->ctx->switches & AIO_REVERT_R6) == 0;
      if (reschedule) qemu_bh_schedule(pool->completion_bh);
      elem->cb(elem->opaque, elem->ret.Load());
      // Safe whoever scheduled it meanwhile: the scan restarts anyway. In 10.2 this
      // cancel is an atomic fetch_and, so it cannot erase a concurrent schedule's
      // notify (2.8.1's plain store could: R8).
      if (reschedule) qemu_bh_cancel(pool->completion_bh);
      qemu_aio_unref(elem);
      goto restart;
    }
    qemu_aio_unref(elem);
  }
  // (defer_call_end)
}

static void thread_pool_cancel(BlockAIOCB* acb) {
  auto* elem = static_cast<ThreadPoolElement*>(acb);
  ThreadPool* pool = elem->pool;
  qemu_mutex_lock(&pool->lock);  // QEMU_LOCK_GUARD
  if (elem->state.Load() == THREAD_QUEUED) {
    request_list_remove(pool, elem);
    qemu_bh_schedule(pool->completion_bh);
    // 10.2's order: DONE before ret. The completion BH runs in this same thread, so
    // the order is harmless here (e77508292c, after 10.2, swaps it anyway).
    elem->state.Store(THREAD_DONE);
    elem->ret.Store(-ECANCELED);
  }
  qemu_mutex_unlock(&pool->lock);
}

static void thread_pool_release(BlockAIOCB* acb) {
  platform_delete(static_cast<ThreadPoolElement*>(acb));
}

// No get_aio_context since 8.0: bdrv_aio_cancel cannot wait for a pool request.
static const AIOCBInfo thread_pool_aiocb_info = {
    .cancel_async = thread_pool_cancel,
    .cancel = nullptr,
    .get_aio_context = nullptr,
    .release = thread_pool_release,
};

BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque) {
  // QEMU takes the pool from the current context and asserts it is the pool's; the
  // API here passes the pool, so the assertion is the whole check.
  if (qemu_get_current_aio_context() != pool->ctx) {
    CheckFailed("thread_pool_submit_aio: the calling thread's AioContext is not the "
                "pool's (QEMU 8.0+ asserts pool->ctx == qemu_get_current_aio_context())");
  }
  auto* req = platform_new<ThreadPoolElement>();
  if (NamesWanted()) {  // not QEMU: "req#N", N counting this pool's requests from 1
    FieldNamer(std::string("req#") + std::to_string(++pool->aiosim_requests_named))(
        req->state, "state")(req->ret, "ret")(req->reqs_next, "reqs_next")(req->all_next,
                                                                          "all_next");
  }
  req->aiocb_info = &thread_pool_aiocb_info;
  req->cb = cb;
  req->opaque = opaque;
  req->func = func;
  req->arg = arg;
  req->state.Store(THREAD_QUEUED);
  req->pool = pool;
  req->all_next.Store(pool->head.Load());  // QLIST_INSERT_HEAD, without the lock
  pool->head.Store(req);

  qemu_mutex_lock(&pool->lock);
  if (pool->idle_threads.Load() == 0 &&
      pool->cur_threads.Load() < pool->max_threads.Load()) {
    spawn_thread(pool);
  }
  request_list_append(pool, req);
  qemu_mutex_unlock(&pool->lock);
  qemu_cond_signal(&pool->request_cond);  // after the unlock, as QEMU
  return req;
}

void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg) {
  thread_pool_submit_aio(pool, func, arg, nullptr, nullptr);
}

void thread_pool_update_params(ThreadPool* pool, AioContext* ctx) {
  qemu_mutex_lock(&pool->lock);
  pool->min_threads.Store(ctx->thread_pool_min.Load());
  pool->max_threads.Store(ctx->thread_pool_max.Load());
  // Up to min now; above max, wake that many workers, which see the limit and leave.
  for (int i = pool->cur_threads.Load(); i < pool->min_threads.Load(); i++) {
    spawn_thread(pool);
  }
  for (int i = pool->cur_threads.Load(); i > pool->max_threads.Load(); i--) {
    qemu_cond_signal(&pool->request_cond);
  }
  qemu_mutex_unlock(&pool->lock);
}

core::ThreadPool* thread_pool_new(AioContext* ctx) {
  auto* pool = platform_new<ThreadPool>();
  pool->generation = AioGeneration::kModern;
  pool->ctx = ctx;
  pool->completion_bh = aio_bh_new_full(ctx, thread_pool_completion_bh, pool,
                                        "thread_pool_completion_bh", nullptr);
  pool->new_thread_bh =
      aio_bh_new_full(ctx, spawn_thread_bh_fn, pool, "spawn_thread_bh_fn", nullptr);
  if (NamesWanted()) {  // not QEMU: names for the simulator's reports
    FieldNamer("pool")(pool->lock, "lock")(pool->worker_stopped, "worker_stopped")(
        pool->request_cond, "request_cond")(pool->head, "head")(pool->request_first,
                                                                  "request_first")(
        pool->request_last, "request_last")(pool->cur_threads, "cur_threads")(
        pool->idle_threads, "idle_threads")(pool->new_threads, "new_threads")(
        pool->pending_threads, "pending_threads")(pool->min_threads, "min_threads")(
        pool->max_threads, "max_threads");
  }
  thread_pool_update_params(pool, ctx);
  return pool;
}

void thread_pool_free(ThreadPool* pool) {
  if (pool == nullptr) return;
  AIOSIM_ASSERT(pool->head.Load() == nullptr);

  qemu_mutex_lock(&pool->lock);
  // No more new threads: forget the ones owed but not yet created.
  qemu_bh_delete(pool->new_thread_bh);
  pool->cur_threads.Store(pool->cur_threads.Load() - pool->new_threads.Load());
  pool->new_threads.Store(0);

  // Every worker sees cur_threads > 0 == max_threads and leaves.
  pool->max_threads.Store(0);
  qemu_cond_broadcast(&pool->request_cond);
  while (pool->cur_threads.Load() > 0) {
    qemu_cond_wait(&pool->worker_stopped, &pool->lock);
  }
  qemu_mutex_unlock(&pool->lock);

  qemu_bh_delete(pool->completion_bh);
  platform_delete(pool);
}

ThreadPoolStats thread_pool_stats(ThreadPool* pool) {
  ThreadPoolStats stats;
  qemu_mutex_lock(&pool->lock);
  stats.cur_threads = pool->cur_threads.Load();
  stats.idle_threads = pool->idle_threads.Load();
  stats.new_threads = pool->new_threads.Load();
  stats.pending_threads = pool->pending_threads.Load();
  stats.min_threads = pool->min_threads.Load();
  stats.max_threads = pool->max_threads.Load();
  qemu_mutex_unlock(&pool->lock);
  for (ThreadPoolElement* elem = pool->head.Load(); elem != nullptr;
       elem = elem->all_next.Load()) {
    stats.requests++;
  }
  return stats;
}

// util/async.c's aio_context_set_thread_pool_params (7.1).
bool aio_context_set_thread_pool_params(AioContext* ctx, int64_t min, int64_t max,
                                        std::string* error) {
  if (min > max || max <= 0 || min < 0 || min > INT_MAX || max > INT_MAX) {
    if (error != nullptr) *error = "bad thread-pool-min/thread-pool-max values";
    return false;
  }
  ctx->thread_pool_min.Store(static_cast<int>(min));
  ctx->thread_pool_max.Store(static_cast<int>(max));
  if (core::ThreadPool* pool = ctx->thread_pool.Load()) {
    thread_pool_update_params(of(pool), ctx);
  }
  return true;
}

}  // namespace aiosim::core::modern
