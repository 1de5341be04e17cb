// core/aio/thread_pool.h — follows QEMU 2.8.1 include/block/thread-pool.h and the
// BlockAIOCB parts of include/block/aio.h and block/io.c; for a modern context, QEMU
// 10.2.0's (the AIO pool, ThreadPoolAio in 10.2's names).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// A ThreadPool runs blocking functions in worker threads and delivers each result to
// a completion callback in the AioContext's home thread (the BH "second half" of the
// seed's claim S4). Up to max_threads (64) workers; a worker idle for 10 s exits
// (modern: unless only min_threads are left).
//
// Threading (as QEMU): thread_pool_submit_aio, bdrv_aio_cancel* and thread_pool_free
// are for the AioContext's home thread only (claim S7 is about calling submit from
// elsewhere: legacy races, modern fails its assertion at once). Completion callbacks
// run in the home thread, each exactly once, with func's return value or -ECANCELED
// (then func never ran).
//
// The generations differ (docs/modern.md): legacy's idle workers wait on a
// semaphore, modern's on a condition variable; modern has thread-pool-min/max
// (aio_context_set_thread_pool_params); a modern pool request has no
// get_aio_context, so bdrv_aio_cancel on it fails as QEMU 8.0+ aborts (use
// bdrv_aio_cancel_async).
#ifndef AIOSIM_CORE_AIO_THREAD_POOL_H_
#define AIOSIM_CORE_AIO_THREAD_POOL_H_

#include "core/aio/aio.h"

namespace aiosim::core {

struct BlockAIOCB;

// A thread pool: each generation derives its own (QEMU keeps the struct private to
// thread-pool.c). `generation` is fixed at creation.
struct ThreadPool {
  AioGeneration generation = AioGeneration::kLegacy;

 protected:
  ThreadPool() = default;
  ~ThreadPool() = default;
};

using ThreadPoolFunc = int(void* opaque);
using BlockCompletionFunc = void(void* opaque, int ret);

struct AIOCBInfo {
  void (*cancel_async)(BlockAIOCB* acb) = nullptr;
  // Only with AIO_REVERT_R7: QEMU 2.0's synchronous `cancel` (3391f5e51c removed it),
  // which bdrv_aio_cancel then calls instead of cancel_async plus aio_poll.
  void (*cancel)(BlockAIOCB* acb) = nullptr;
  AioContext* (*get_aio_context)(BlockAIOCB* acb) = nullptr;
  // Frees the ACB when its last reference goes (QEMU: g_free of aiocb_size bytes).
  void (*release)(BlockAIOCB* acb) = nullptr;
};

// QEMU's BlockAIOCB: the handle of one asynchronous request.
struct BlockAIOCB {
  const AIOCBInfo* aiocb_info = nullptr;
  BlockCompletionFunc* cb = nullptr;
  void* opaque = nullptr;
  Shared<int> refcnt{1};  // home thread only (qemu_aio_ref/unref are not thread-safe)
};

void qemu_aio_ref(BlockAIOCB* acb);
void qemu_aio_unref(BlockAIOCB* acb);
// Asks for cancellation and returns at once. The callback still runs exactly once.
void bdrv_aio_cancel_async(BlockAIOCB* acb);
// Cancels and waits (aio_poll on the ACB's context) until the callback has run.
// With AIO_REVERT_R7, as QEMU 2.0: returns once the request is no longer running,
// before its callback ran.
void bdrv_aio_cancel(BlockAIOCB* acb);

enum ThreadState { THREAD_QUEUED, THREAD_ACTIVE, THREAD_DONE };
const char* ThreadStateName(ThreadState state);

ThreadPool* thread_pool_new(AioContext* ctx);
// Stops every worker and frees the pool. REQUIRES: no request outstanding.
void thread_pool_free(ThreadPool* pool);
BlockAIOCB* thread_pool_submit_aio(ThreadPool* pool, ThreadPoolFunc* func, void* arg,
                                   BlockCompletionFunc* cb, void* opaque);
// Fire and forget: no callback.
void thread_pool_submit(ThreadPool* pool, ThreadPoolFunc* func, void* arg);

// Counters for tests and the demo (not in QEMU). REQUIRES: the home thread.
struct ThreadPoolStats {
  // Read under the pool's lock.
  int cur_threads = 0;
  int idle_threads = 0;
  int new_threads = 0;
  int pending_threads = 0;
  int min_threads = 0;  // legacy: always 0
  int max_threads = 0;
  // Requests submitted whose completion has not yet been retired by the completion
  // BH (the length of pool->head, a home-thread list): 0 means thread_pool_free may
  // be called.
  int requests = 0;
};
ThreadPoolStats thread_pool_stats(ThreadPool* pool);

// util/async.c (7.1): sets the context's thread-pool-min/max and applies them to its
// pool at once, if it has one (spawning up to min, asking workers above max to leave).
// Rejects min > max, max <= 0, min < 0 and values above INT_MAX: returns false and
// says why in *error. Modern contexts only (legacy fails: QEMU 2.8.1 has no such
// call). REQUIRES: the home thread.
bool aio_context_set_thread_pool_params(AioContext* ctx, int64_t min, int64_t max,
                                        std::string* error);

}  // namespace aiosim::core

#endif  // AIOSIM_CORE_AIO_THREAD_POOL_H_
