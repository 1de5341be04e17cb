// core/aio/legacy/thread_pool.cc — follows QEMU 2.8.1 thread-pool.c (the legacy
// generation). The BlockAIOCB helpers both generations share are in
// core/aio/block_io.cc.
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Written from QEMU-SEMANTICS.md §1.7; names are QEMU's, the code is ours.
//
// Invariants (pool->lock protects request_list and the counters):
//   1. The semaphore's count equals the number of QUEUED requests on request_list,
//      plus the tokens thread_pool_free posts to stop workers; a cancel that removes
//      a queued request first takes one token (qemu_sem_timedwait(sem, 0)).
//   2. A request leaves THREAD_QUEUED only under pool->lock; after that only its
//      worker writes `state`, and `ret` is written before `state = THREAD_DONE`
//      (smp_wmb), read after it (smp_rmb).
//   3. `head` (every request not yet completed) and the `all_next` links are touched
//      by the home thread only (QEMU: "only accessed from one AioContext"; the `all`
//      entry "protected by the global mutex"). They are Shared, so the simulator can
//      preempt at and race-check them: thread_pool_submit_aio from a foreign thread
//      (claim S7) races there.
//   4. cur_threads counts workers that exist or will: spawn_thread adds to
//      cur_threads and new_threads; a new thread is created either by new_thread_bh
//      or by the newest worker when it starts (pending_threads counts those started
//      but not yet running), so at most one creation is in flight.
#include "core/aio/thread_pool.h"

#include <cerrno>

#include "core/aio/aio.h"
#include "core/aio/legacy/aio_internal.h"
#include "core/aio/names.h"
#include "core/platform/check.h"

namespace aiosim::core::legacy {

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
  QemuSemaphore sem{0};
  int max_threads = 64;
  QEMUBH* new_thread_bh = nullptr;

  Shared<ThreadPoolElement*> head{nullptr};  // home thread only (invariant 3)
  // FIFO of QUEUED requests, under lock.
  Shared<ThreadPoolElement*> request_first{nullptr};
  Shared<ThreadPoolElement*> request_last{nullptr};

  // Under lock.
  Shared<int> cur_threads{0};
  Shared<int> idle_threads{0};
  Shared<int> new_threads{0};
  Shared<int> pending_threads{0};
  Shared<bool> stopping{false};

  // With AIO_REVERT_R7 only (QEMU 2.0): synchronous cancels waiting for a worker,
  // under lock, and the condition the worker broadcasts when one is done.
  QemuCond check_cancel;
  Shared<int> pending_cancellations{0};
  // Not QEMU: requests named so far (core/aio/names.h; only while names are wanted).
  int aiosim_requests_named = 0;
};

ThreadPool* of(core::ThreadPool* pool) { return static_cast<ThreadPool*>(pool); }

// ---- request list (QTAILQ under pool->lock) --------------------------------------------

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
  ThreadPoolElement* it = pool->request_first.Load();
  while (it != req) {
    AIOSIM_ASSERT(it != nullptr);
    prev = it;
    it = it->reqs_next.Load();
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
  do_spawn_thread(pool);  // each new worker creates the next one, if any is owed

  while (!pool->stopping.Load()) {
    int ret;
    do {
      pool->idle_threads.Store(pool->idle_threads.Load() + 1);
      qemu_mutex_unlock(&pool->lock);
      ret = qemu_sem_timedwait(&pool->sem, 10000);
      qemu_mutex_lock(&pool->lock);
      pool->idle_threads.Store(pool->idle_threads.Load() - 1);
    } while (ret == -1 && pool->request_first.Load() != nullptr);
    if (ret == -1 || pool->stopping.Load()) break;  // idle for 10 s, or stopping

    ThreadPoolElement* req = pool->request_first.Load();
    request_list_remove(pool, req);
    req->state.Store(THREAD_ACTIVE);
    qemu_mutex_unlock(&pool->lock);

    int value = req->func(req->arg);
    req->ret.Store(value);
    smp_wmb();  // ret before state
    req->state.Store(THREAD_DONE);

    qemu_mutex_lock(&pool->lock);
    // 2.0: wake the synchronous cancels, which return before the completion ran.
    if ((pool->ctx->switches & AIO_REVERT_R7) && pool->pending_cancellations.Load() > 0) {
      qemu_cond_broadcast(&pool->check_cancel);
    }
    qemu_bh_schedule(pool->completion_bh);  // while holding pool->lock, as 2.8
  }

  pool->cur_threads.Store(pool->cur_threads.Load() - 1);
  qemu_cond_signal(&pool->worker_stopped);
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
  // Threads being created spawn the rest themselves; otherwise the home thread
  // creates one (QEMU: so it inherits the home thread's affinity, not a vCPU's).
  if (pool->pending_threads.Load() == 0) qemu_bh_schedule(pool->new_thread_bh);
}

// ---- completion ------------------------------------------------------------------------

static void thread_pool_completion_bh(void* opaque) {
  auto* pool = static_cast<ThreadPool*>(opaque);
restart:
  // QLIST_FOREACH_SAFE: each element's successor is read before the element is
  // looked at (the body may free it).
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
      // If the callback runs a nested aio_poll to wait for another request that is
      // already done, this BH must run again inside it (R6; reverted: as 2.0, not).
      const bool reschedule = (pool->ctx->switches & AIO_REVERT_R6) == 0;
      if (reschedule) qemu_bh_schedule(pool->completion_bh);
      elem->cb(elem->opaque, elem->ret.Load());
      // We restart the scan anyway, so the schedule above is no longer needed
      // (b7a745dc33). In 2.8.1 this cancel is a plain store, which can also erase a
      // worker's schedule that raced with it (R8).
      if (reschedule) qemu_bh_cancel(pool->completion_bh);
      qemu_aio_unref(elem);
      goto restart;
    }
    qemu_aio_unref(elem);
  }
}

static void thread_pool_cancel(BlockAIOCB* acb) {
  auto* elem = static_cast<ThreadPoolElement*>(acb);
  ThreadPool* pool = elem->pool;
  qemu_mutex_lock(&pool->lock);
  // Still queued: steal the request from the workers by taking its semaphore token.
  // The wait does not block, so holding the lock keeps it QUEUED meanwhile.
  if (elem->state.Load() == THREAD_QUEUED && qemu_sem_timedwait(&pool->sem, 0) == 0) {
    request_list_remove(pool, elem);
    qemu_bh_schedule(pool->completion_bh);
    elem->state.Store(THREAD_DONE);
    elem->ret.Store(-ECANCELED);
  }
  qemu_mutex_unlock(&pool->lock);
}

// With R7 reverted: QEMU 2.0's synchronous cancel. A queued request is stolen as
// cancel_async does (here it still completes with -ECANCELED through the completion
// BH; 2.0 dropped it without a callback); otherwise wait until the worker has
// finished it. Either way the completion callback runs later, in some aio_poll after
// this returns: that is the bug.
static void thread_pool_cancel_sync(BlockAIOCB* acb) {
  auto* elem = static_cast<ThreadPoolElement*>(acb);
  ThreadPool* pool = elem->pool;
  qemu_mutex_lock(&pool->lock);
  if (elem->state.Load() == THREAD_QUEUED && qemu_sem_timedwait(&pool->sem, 0) == 0) {
    request_list_remove(pool, elem);
    qemu_bh_schedule(pool->completion_bh);
    elem->state.Store(THREAD_DONE);
    elem->ret.Store(-ECANCELED);
  } else {
    pool->pending_cancellations.Store(pool->pending_cancellations.Load() + 1);
    while (elem->state.Load() != THREAD_DONE) {
      qemu_cond_wait(&pool->check_cancel, &pool->lock);
    }
    pool->pending_cancellations.Store(pool->pending_cancellations.Load() - 1);
  }
  qemu_mutex_unlock(&pool->lock);
}

static core::AioContext* thread_pool_get_aio_context(BlockAIOCB* acb) {
  return static_cast<ThreadPoolElement*>(acb)->pool->ctx;
}

static void thread_pool_release(BlockAIOCB* acb) {
  platform_delete(static_cast<ThreadPoolElement*>(acb));
}

static const AIOCBInfo thread_pool_aiocb_info = {
    .cancel_async = thread_pool_cancel,
    .cancel = thread_pool_cancel_sync,
    .get_aio_context = thread_pool_get_aio_context,
    .release = thread_pool_release,
};

BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque) {
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
  req->all_next.Store(pool->head.Load());  // QLIST_INSERT_HEAD: home thread only (S7)
  pool->head.Store(req);

  qemu_mutex_lock(&pool->lock);
  if (pool->idle_threads.Load() == 0 &&
      pool->cur_threads.Load() < pool->max_threads) {
    spawn_thread(pool);
  }
  request_list_append(pool, req);
  qemu_mutex_unlock(&pool->lock);
  qemu_sem_post(&pool->sem);
  return req;
}

void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg) {
  thread_pool_submit_aio(pool, func, arg, nullptr, nullptr);
}

core::ThreadPool* thread_pool_new(AioContext* ctx) {
  auto* pool = platform_new<ThreadPool>();
  pool->generation = AioGeneration::kLegacy;
  pool->ctx = ctx;
  pool->completion_bh =
      aio_bh_new(ctx, thread_pool_completion_bh, pool, "thread_pool_completion_bh");
  pool->new_thread_bh = aio_bh_new(ctx, spawn_thread_bh_fn, pool, "spawn_thread_bh_fn");
  if (NamesWanted()) {  // not QEMU: names for the simulator's reports
    FieldNamer("pool")(pool->lock, "lock")(pool->worker_stopped, "worker_stopped")(
        pool->sem, "sem")(pool->head, "head")(pool->request_first, "request_first")(
        pool->request_last, "request_last")(pool->cur_threads, "cur_threads")(
        pool->idle_threads, "idle_threads")(pool->new_threads, "new_threads")(
        pool->pending_threads, "pending_threads")(pool->stopping, "stopping")(
        pool->check_cancel, "check_cancel")(pool->pending_cancellations,
                                            "pending_cancellations");
  }
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

  // Wake every worker until all have exited.
  pool->stopping.Store(true);
  while (pool->cur_threads.Load() > 0) {
    qemu_sem_post(&pool->sem);
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
  stats.max_threads = pool->max_threads;
  qemu_mutex_unlock(&pool->lock);
  for (ThreadPoolElement* elem = pool->head.Load(); elem != nullptr;
       elem = elem->all_next.Load()) {
    stats.requests++;
  }
  return stats;
}

}  // namespace aiosim::core::legacy
