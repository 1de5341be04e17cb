// core/aio/tests/thread_pool_test.cc — conformance of the thread pool
// (QEMU-SEMANTICS.md §1.7, docs/modern-sources.md §2.7): exactly-once completion in
// the home thread, cancel, the thread limit, idle exit; on modern, thread-pool-min/max.
// SPDX-License-Identifier: GPL-2.0-or-later
#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "core/aio/aio.h"
#include "core/aio/tests/world.h"
#include "core/aio/thread_pool.h"
#include "gtest/gtest.h"

namespace aiosim::testing {
namespace {

using namespace aiosim::core;  // NOLINT

class ThreadPoolTest : public GenerationTest {};
AIOSIM_INSTANTIATE_FOR_GENERATIONS(ThreadPoolTest);

// One request: what its function saw and what its completion got.
struct Request {
  World* w = nullptr;
  int input = 0;
  Atomic<int> func_runs{0};
  Atomic<int> func_thread{-1};
  QemuSemaphore* gate = nullptr;     // if set, func waits on it
  QemuSemaphore* started = nullptr;  // if set, func posts it first
  int completions = 0;
  int ret = 0;
  ThreadId cb_thread = -1;
  int max_threads_seen = 0;
  Atomic<int64_t> func_end_ns{-1};  // when func returned (platform time)

  // The worker's last access to the request is a store-release of func_end_ns; this
  // load-acquire orders it before the request is freed in a way ThreadSanitizer sees.
  // (The pool orders it by smp_wmb and the request's state, fences TSan does not
  // model: without this, a test's end raced with Func's reads of r->w, 1 in 3 runs.)
  ~Request() { (void)func_end_ns.Load(MemOrder::kAcquire); }

  static int Func(void* opaque) {
    auto* r = static_cast<Request*>(opaque);
    atomic_inc(&r->func_runs);
    atomic_set(&r->func_thread, r->w->CurrentThread());
    if (r->started != nullptr) qemu_sem_post(r->started);
    // Wake the home thread if it waits (PollUntil) for func_runs to change: with a
    // BH, not a bare aio_notify, whose wake-up is lost if it lands between the
    // loop's check of func_runs and its raising notify_me (legacy has no `notified`
    // re-check), a race the simulator found once PollUntil stopped counting a wait
    // that only the watchdog ended.
    aio_bh_schedule_oneshot(r->w->ctx(), +[](void*) {}, nullptr);
    if (r->gate != nullptr) qemu_sem_wait(r->gate);
    const int ret = r->input * 2;
    r->func_end_ns.Store(r->w->NowNs(), MemOrder::kRelease);  // the last access to *r
    return ret;
  }
  static void Done(void* opaque, int ret) {
    auto* r = static_cast<Request*>(opaque);
    r->completions++;
    r->ret = ret;
    r->cb_thread = r->w->CurrentThread();
  }
};

TEST_P(ThreadPoolTest, EveryCallbackRunsExactlyOnceInTheHomeThreadWithItsResult) {
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    constexpr int kRequests = 150;  // more than max_threads
    std::vector<Request> reqs(kRequests);
    for (int i = 0; i < kRequests; i++) {
      reqs[i].w = &w;
      reqs[i].input = i;
      thread_pool_submit_aio(pool, Request::Func, &reqs[i], Request::Done, &reqs[i]);
    }
    int max_threads = 0;
    auto all_done = [&] {
      max_threads = std::max(max_threads, thread_pool_stats(pool).cur_threads);
      for (const Request& r : reqs) {
        if (r.completions == 0) return false;
      }
      return true;
    };
    EXPECT_TRUE(w.PollUntil(all_done, 20000));
    aio_poll(w.ctx(), false);
    EXPECT_LE(max_threads, 64);
    EXPECT_GE(max_threads, 1);
    for (const Request& r : reqs) {
      EXPECT_EQ(r.completions, 1);
      EXPECT_EQ(r.ret, r.input * 2);
      EXPECT_EQ(atomic_read(&r.func_runs), 1);
      EXPECT_EQ(r.cb_thread, w.CurrentThread());
      EXPECT_NE(atomic_read(&r.func_thread), w.CurrentThread()) << "func runs in a worker";
    }
  });
}

TEST_P(ThreadPoolTest, CancellingAQueuedRequestCompletesItWithEcanceledAndFuncNeverRuns) {
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    Request r;
    r.w = &w;
    r.input = 21;
    // A fresh pool creates its first worker from a BH, i.e. only once this thread
    // polls: the request is certainly still queued.
    BlockAIOCB* acb = thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    bdrv_aio_cancel_async(acb);
    EXPECT_TRUE(w.PollUntil([&] { return r.completions > 0; }));
    EXPECT_EQ(r.completions, 1);
    EXPECT_EQ(r.ret, -ECANCELED);
    // Workers take requests in FIFO order: once a request submitted after the
    // cancelled one has run, a worker would have taken the cancelled one first had
    // it still been queued.
    Request marker;
    marker.w = &w;
    thread_pool_submit_aio(pool, Request::Func, &marker, Request::Done, &marker);
    EXPECT_TRUE(w.PollUntil([&] { return marker.completions == 1; }));
    EXPECT_EQ(atomic_read(&r.func_runs), 0);
    EXPECT_EQ(r.completions, 1);
  });
}

TEST_P(ThreadPoolTest, SynchronousCancelOfAQueuedRequestReturnsAfterItsCallback) {
  AIOSIM_LEGACY_ONLY("a pool request has no get_aio_context since QEMU 8.0, so "
                     "bdrv_aio_cancel aborts on it");
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    Request r;
    r.w = &w;
    BlockAIOCB* acb = thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    bdrv_aio_cancel(acb);
    EXPECT_EQ(r.completions, 1);
    EXPECT_EQ(r.ret, -ECANCELED);
    EXPECT_EQ(atomic_read(&r.func_runs), 0);
  });
}

TEST_P(ThreadPoolTest, SynchronousCancelOfAnActiveRequestWaitsForItsRealResult) {
  AIOSIM_LEGACY_ONLY("a pool request has no get_aio_context since QEMU 8.0, so "
                     "bdrv_aio_cancel aborts on it");
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    QemuSemaphore gate(0), started(0);
    Request r;
    r.w = &w;
    r.input = 4;
    r.gate = &gate;
    r.started = &started;
    BlockAIOCB* acb = thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    // Poll until a worker has taken it (the worker is created by a BH).
    EXPECT_TRUE(w.PollUntil([&] { return atomic_read(&r.func_runs) == 1; }));
    qemu_sem_wait(&started);
    bool home_polled = false;
    ThreadId opener = w.Spawn("opener", [&] {
      // Open the gate only once bdrv_aio_cancel is waiting in aio_poll.
      home_polled = w.WaitUntilHomePolls();
      qemu_sem_post(&gate);
    });
    bdrv_aio_cancel(acb);  // too late to steal: waits for the real completion
    EXPECT_EQ(r.completions, 1);
    EXPECT_EQ(r.ret, 8);
    w.Join(opener);
    EXPECT_TRUE(home_polled) << "bdrv_aio_cancel returned before the request completed";
  });
}

TEST_P(ThreadPoolTest, NeverMoreThanMaxThreadsWorkers) {
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    constexpr int kRequests = 80;
    QemuSemaphore gate(0), started(0);
    std::vector<Request> reqs(kRequests);
    for (Request& r : reqs) {
      r.w = &w;
      r.gate = &gate;
      r.started = &started;
      thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    }
    // Every worker blocks in its request: exactly 64 must start, no more.
    auto started_count = [&] {
      int n = 0;
      for (const Request& r : reqs) n += atomic_read(&r.func_runs);
      return n;
    };
    EXPECT_TRUE(w.PollUntil([&] { return started_count() == 64; }, 20000));
    // No 65th func can start: every worker is blocked in its func, and the pool's
    // own count says no worker is owed (created or pending) beyond these 64.
    ThreadPoolStats stats = thread_pool_stats(pool);
    EXPECT_EQ(stats.cur_threads, 64);
    EXPECT_EQ(stats.max_threads, 64);
    EXPECT_EQ(stats.new_threads, 0);
    EXPECT_EQ(stats.pending_threads, 0);
    aio_poll(w.ctx(), false);
    EXPECT_EQ(started_count(), 64);
    for (int i = 0; i < kRequests; i++) qemu_sem_post(&gate);
    EXPECT_TRUE(w.PollUntil([&] {
      for (const Request& r : reqs) {
        if (r.completions == 0) return false;
      }
      return true;
    }, 20000));
    for (const Request& r : reqs) EXPECT_EQ(r.completions, 1);
    EXPECT_LE(thread_pool_stats(pool).cur_threads, 64);
  });
}

TEST_P(ThreadPoolTest, SubmitWithoutCallbackRunsTheFunction) {
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    Request r;
    r.w = &w;
    thread_pool_submit(pool, Request::Func, &r);
    EXPECT_EQ(thread_pool_stats(pool).requests, 1);
    // No callback to observe: wait until the completion BH has retired the request
    // (it left pool->head), which thread_pool_free (at the end of the test) requires.
    EXPECT_TRUE(w.PollUntil([&] { return thread_pool_stats(pool).requests == 0; }));
    EXPECT_EQ(atomic_read(&r.func_runs), 1);
    EXPECT_EQ(r.completions, 0);
  });
}

TEST_P(ThreadPoolTest, IdleWorkersExitAfterTenSeconds) {
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    Request r;
    r.w = &w;
    thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    EXPECT_TRUE(w.PollUntil([&] { return r.completions == 1; }));
    // The worker went idle (sem_timedwait for 10 s) after func returned, so at any
    // time T it has been idle for at most T - func_end. Time is what is under test
    // here, so this test sleeps; each check is about what happened when.
    const int64_t func_end = atomic_read(&r.func_end_ns);
    ASSERT_GE(func_end, 0);
    w.SleepMs(9000);
    const int cur_threads = thread_pool_stats(pool).cur_threads;
    const int64_t checked = w.NowNs();
    if (cur_threads == 0) {
      EXPECT_GE(checked - func_end, 10000 * SCALE_MS) << "exited before 10 s idle";
    } else {
      EXPECT_EQ(cur_threads, 1);
    }
    // Wait for the exit itself (bounded, generously).
    bool exited = false;
    while (!exited && w.NowNs() - func_end < 60000 * SCALE_MS) {
      exited = thread_pool_stats(pool).cur_threads == 0;
      if (!exited) w.SleepMs(100);
    }
    EXPECT_TRUE(exited) << "an idle worker never exited";
    EXPECT_GE(w.NowNs() - func_end, 10000 * SCALE_MS) << "exited before 10 s idle";
  });
}

TEST_P(ThreadPoolTest, FreeingThePoolStopsItsWorkers) {
  RunInWorld([](World& w) {
    // A context of our own, so that its finalization (which frees the pool) happens
    // inside the test. A modern context's home is the thread that creates it, and a
    // thread that already runs one keeps it (modern submit asserts the caller's
    // current context): so on modern the context gets a thread of its own, as an
    // IOThread does.
    auto body = [&w] {
      AioContext* ctx = aio_context_new(w.runtime(), {.generation = w.generation()});
      ThreadPool* pool = aio_get_thread_pool(ctx);
      std::vector<Request> reqs(8);
      for (Request& r : reqs) {
        r.w = &w;
        thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
      }
      // Bounded by time, not by a count of polls: in 2.8.1 aio_notify sets the
      // eventfd before `notified`, so while a notifying thread is descheduled between
      // the two, every blocking poll returns at once with nothing to accept. On a
      // loaded machine 1,000 polls went by that way in 10 ms (3 of 200 runs beside two
      // CPU hogs).
      const int64_t start = w.NowNs();
      for (;;) {
        bool done = true;
        for (const Request& r : reqs) done = done && r.completions == 1;
        if (done || w.NowNs() - start > 60000 * SCALE_MS) break;
        aio_poll(ctx, true);
      }
      for (const Request& r : reqs) EXPECT_EQ(r.completions, 1);
      EXPECT_GE(thread_pool_stats(pool).cur_threads, 1);
      aio_context_unref(ctx);  // thread_pool_free: returns once every worker stopped
    };
    if (w.generation() == AioGeneration::kModern) {
      w.Join(w.Spawn("iothread", body));
    } else {
      body();
    }
  });
}

// ---- modern only: thread-pool-min/max (QEMU 7.1) ---------------------------------------

TEST_P(ThreadPoolTest, ThreadPoolParamsRejectMinAboveMaxAndNonPositiveMax) {
  AIOSIM_MODERN_ONLY("thread-pool-min/max came in QEMU 7.1");
  RunInWorld([](World& w) {
    std::string error;
    EXPECT_FALSE(aio_context_set_thread_pool_params(w.ctx(), 4, 2, &error));
    EXPECT_EQ(error, "bad thread-pool-min/thread-pool-max values");
    EXPECT_FALSE(aio_context_set_thread_pool_params(w.ctx(), 0, 0, &error));
    EXPECT_FALSE(aio_context_set_thread_pool_params(w.ctx(), -1, 2, &error));
    EXPECT_FALSE(aio_context_set_thread_pool_params(w.ctx(), 0, int64_t{INT_MAX} + 1,
                                                    &error));
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    ThreadPoolStats stats = thread_pool_stats(pool);
    EXPECT_EQ(stats.min_threads, 0);
    EXPECT_EQ(stats.max_threads, 64);  // THREAD_POOL_MAX_THREADS_DEFAULT, unchanged
    EXPECT_TRUE(aio_context_set_thread_pool_params(w.ctx(), 2, 2, &error));
    stats = thread_pool_stats(pool);
    EXPECT_EQ(stats.min_threads, 2);
    EXPECT_EQ(stats.max_threads, 2);
  });
}

TEST_P(ThreadPoolTest, RaisingMinSpawnsWarmWorkersThatOutliveTheIdleTimeout) {
  AIOSIM_MODERN_ONLY("thread-pool-min/max came in QEMU 7.1");
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    EXPECT_EQ(thread_pool_stats(pool).cur_threads, 0);
    std::string error;
    ASSERT_TRUE(aio_context_set_thread_pool_params(w.ctx(), 2, 4, &error)) << error;
    // cur_threads counts the two at once; they are created from new_thread_bh, i.e.
    // when this thread polls, the second by the first.
    EXPECT_EQ(thread_pool_stats(pool).cur_threads, 2);
    EXPECT_TRUE(w.PollEveryMsUntil([&] {
      ThreadPoolStats s = thread_pool_stats(pool);
      return s.idle_threads == 2 && s.new_threads == 0 && s.pending_threads == 0;
    }, 20000));
    // Past the 10 s idle timeout, both stay: nobody leaves at or below min_threads.
    // Time is what is under test here, so this test sleeps.
    w.SleepMs(10500);
    EXPECT_EQ(thread_pool_stats(pool).cur_threads, 2);
    // A request is taken by a warm worker: no new thread.
    Request r;
    r.w = &w;
    thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    EXPECT_EQ(thread_pool_stats(pool).cur_threads, 2);
    EXPECT_TRUE(w.PollUntil([&] { return r.completions == 1; }, 20000));
    EXPECT_EQ(r.ret, 0);
  });
}

TEST_P(ThreadPoolTest, LoweringMaxMakesSurplusIdleWorkersLeaveWithoutTheTimeout) {
  AIOSIM_MODERN_ONLY("thread-pool-min/max came in QEMU 7.1");
  RunInWorld([](World& w) {
    ThreadPool* pool = aio_get_thread_pool(w.ctx());
    std::string error;
    ASSERT_TRUE(aio_context_set_thread_pool_params(w.ctx(), 4, 4, &error)) << error;
    EXPECT_TRUE(w.PollEveryMsUntil(
        [&] { return thread_pool_stats(pool).idle_threads == 4; }, 20000));
    const int64_t lowered = w.NowNs();
    ASSERT_TRUE(aio_context_set_thread_pool_params(w.ctx(), 0, 1, &error)) << error;
    // update_params signals request_cond once per surplus worker; each woken worker
    // sees cur_threads > max_threads and leaves, passing a signal on. Well before the
    // 10 s idle timeout could have done it:
    EXPECT_TRUE(w.PollEveryMsUntil(
        [&] { return thread_pool_stats(pool).cur_threads == 1; }, 5000));
    EXPECT_LT(w.NowNs() - lowered, 10000 * SCALE_MS);
    // The one left still serves requests.
    Request r;
    r.w = &w;
    r.input = 3;
    thread_pool_submit_aio(pool, Request::Func, &r, Request::Done, &r);
    EXPECT_TRUE(w.PollUntil([&] { return r.completions == 1; }, 20000));
    EXPECT_EQ(r.ret, 6);
    EXPECT_LE(thread_pool_stats(pool).cur_threads, 1);
  });
}

}  // namespace
}  // namespace aiosim::testing
