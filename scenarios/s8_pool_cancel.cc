// scenarios/s8_pool_cancel.cc — claim S8: "thread_pool_cancel removes a request that
// is still queued by taking a token from the semaphore, and completes it with
// -ECANCELED". Follows QEMU 2.8.1 thread-pool.c (thread_pool_cancel, worker_thread,
// thread_pool_completion_bh, thread_pool_submit_aio) and block/io.c (bdrv_aio_cancel,
// bdrv_aio_cancel_async), with AIO_REVERT_R7 on request (--revert R7).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread and the pool's workers. The home thread first runs one
// warm-up request to completion, so that a worker exists and waits on pool->sem when
// the requests under test arrive (in QEMU the pool is warm: workers live 10 s). Then
// it submits `requests` requests (1 or 2) and at once cancels the first one, either
// with bdrv_aio_cancel_async and then polls until every callback ran (cancel=async),
// or with bdrv_aio_cancel, which polls until the ACB is released (cancel=sync). The
// worker, woken by the submit's qemu_sem_post, races the cancel for the lock: every
// interleaving is explored. The cancel steals the request if it is still QUEUED and a
// token can be taken (qemu_sem_timedwait(&pool->sem, 0) == 0): the token need not be
// the request's own; with requests=2 a worker that has already taken a token for the
// head of the queue takes the second request instead. If the worker took the only
// token, or the request is ACTIVE, the cancel leaves it to finish.
//
// Checked: each callback runs exactly once, in the home thread, with its function's
// result or -ECANCELED; -ECANCELED iff the function never ran (checked when the
// callback runs and again after the pool has been freed, when no worker can run it
// any more); only the cancelled request may get -ECANCELED; after bdrv_aio_cancel
// returns, its callback has run.
//
// Verdict: confirmed. Nothing is found in 2.8.1 (exhaustive search to the bounds
// declared below: 2 preemptions for requests=1, about 120,000 executions; 1 for
// requests=2, whose bound 2 is complete too but too slow for CI: 854,741), and with --races nothing beyond QEMU 2.8's
// races by design (T4: the request's state, ordered by smp_wmb/smp_rmb). With one
// preemption DFS reaches the steal, the active request left to finish, and (with
// requests=2) the steal with another request's token: the worker, woken by the first
// post, blocks on pool->lock held by the second submit, and the cancel takes the
// remaining token. A worker that took the only token but not yet the lock (the
// cancel then finds the request QUEUED and no token) needs two preemptions.
// --revert R7 (cancel=sync only; QEMU 2.0's synchronous cancel) returns before the
// callback ran, in every interleaving: found as an assertion at once. Scenario R7 shows
// what that does to a caller (a use after free).
#include <cerrno>

#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

constexpr int kMaxRequests = 2;

struct S8Request {
  sim::SimContext* c = nullptr;
  ThreadId home = -1;
  int result = 0;          // what the function returns
  bool cancelled = false;  // home thread only
  Atomic<bool> func_ran{false};
  int completions = 0;  // the callback's: home thread only
  int ret = 0;          // the callback's
};

int S8Func(void* arg) {
  auto* r = static_cast<S8Request*>(arg);
  atomic_set(&r->func_ran, true);
  return r->result;
}

void S8Done(void* opaque, int ret) {
  auto* r = static_cast<S8Request*>(opaque);
  sim::SimContext& c = *r->c;
  c.Check(r->completions == 0, "a pool request's completion callback ran twice");
  c.Check(c.platform().threads().Current() == r->home,
          "a pool request's completion callback ran outside the home thread");
  if (ret == -ECANCELED) {
    c.Check(r->cancelled, "a request that was not cancelled completed with -ECANCELED");
    c.Check(!atomic_read(&r->func_ran),
            "a request completed with -ECANCELED although its function ran");
  } else {
    c.Check(atomic_read(&r->func_ran) && ret == r->result,
            "a request completed with another value than its function's result");
  }
  r->ret = ret;
  r->completions++;
}

bool AllCompleted(S8Request* reqs, int n) {
  for (int i = 0; i < n; i++) {
    if (reqs[i].completions == 0) return false;
  }
  return true;
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  const bool sync = OptionValue(options, "cancel") == "sync";
  const int requests = std::stoi(OptionValue(options, "requests"));
  return [switches, sync, requests, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    ThreadPool* pool = aio_get_thread_pool(ctx);
    const ThreadId home = c.platform().threads().Current();
    S8Request warm;
    S8Request reqs[kMaxRequests];
    for (S8Request* r : {&warm, &reqs[0], &reqs[1]}) {
      r->c = &c;
      r->home = home;
    }
    for (int i = 0; i < requests; i++) reqs[i].result = 10 * (i + 1);
    c.SetPending([&reqs, requests] {
      for (int i = 0; i < requests; i++) {
        if (reqs[i].completions == 0) {
          return std::string("a pool request's completion callback has not run");
        }
      }
      return std::string();
    });

    // Warm-up: the pool's first worker is created by new_thread_bh in this poll.
    warm.result = 1;
    thread_pool_submit_aio(pool, S8Func, &warm, S8Done, &warm);
    while (warm.completions == 0) aio_poll(ctx, true);

    BlockAIOCB* acbs[kMaxRequests] = {};
    for (int i = 0; i < requests; i++) {
      acbs[i] = thread_pool_submit_aio(pool, S8Func, &reqs[i], S8Done, &reqs[i]);
    }
    reqs[0].cancelled = true;
    if (sync) {
      bdrv_aio_cancel(acbs[0]);
      c.Check(reqs[0].completions == 1,
              "bdrv_aio_cancel returned before the request's completion callback ran");
    } else {
      bdrv_aio_cancel_async(acbs[0]);
    }
    while (!AllCompleted(reqs, requests)) aio_poll(ctx, true);

    aio_context_unref(ctx);  // thread_pool_free: every worker has exited
    for (int i = 0; i < requests; i++) {
      c.Check(reqs[i].completions == 1,
              "a pool request's completion callback did not run exactly once");
      c.Check(reqs[i].ret != -ECANCELED || !atomic_read(&reqs[i].func_ran),
              "the function of a request that completed with -ECANCELED ran later");
    }
  };
}

}  // namespace

Scenario MakeS8() {
  Scenario s;
  s.id = "S8";
  s.title = "thread_pool_cancel steals a queued request through the semaphore";
  s.summary =
      "With a warm worker waiting on pool->sem, the home thread submits one or two "
      "requests and cancels the first at once (bdrv_aio_cancel_async, or "
      "bdrv_aio_cancel, which polls until the ACB is released), racing the worker for "
      "the pool lock. A request still QUEUED whose token can be taken is removed and "
      "completes with -ECANCELED, its function never run; otherwise it completes with "
      "its function's result. Every callback runs exactly once, and after "
      "bdrv_aio_cancel returns it has run. Confirmed (exhaustive search); --revert R7 "
      "(QEMU 2.0's synchronous cancel) returns before the callback ran. Modern (QEMU "
      "10.2): no semaphore; a cancel removes every request still QUEUED, under the "
      "lock (cancel=async only: a pool request has no get_aio_context since 8.0, so "
      "bdrv_aio_cancel aborts on it).";
  s.source = "SEED-CLAIMS.md S8; QEMU-SEMANTICS.md 1.7, contract C5; 3, R7";
  s.options = {{"cancel",
                {"sync", "async"},
                "bdrv_aio_cancel, or bdrv_aio_cancel_async",
                {{"sync", "a pool request has no get_aio_context since QEMU 8.0, so "
                          "bdrv_aio_cancel aborts on it"}}},
               {"requests",
                {"1", "2"},
                "how many requests are submitted (the first is cancelled)"}};
  s.reverts = {"R7"};
  s.expected = [](const Options& o) {
    return (SwitchBits(o) & AIO_REVERT_R7) != 0 && OptionValue(o, "cancel") == "sync"
               ? sim::FailureKind::kAssertion
               : sim::FailureKind::kNone;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S8"};
  // requests=1: complete at 2 preemptions (about 120,000 executions), which covers the
  // worker that took the only token but not yet the lock; requests=2 at 1 (at 2:
  // 854,741 executions, 40 s, too long for CI).
  s.exhaust_bound = 1;
  s.exhaust_bound_for = [](const Options& o) {
    return OptionValue(o, "requests") == "1" ? 2 : 1;
  };
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
