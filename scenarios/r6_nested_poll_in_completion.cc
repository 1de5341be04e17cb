// scenarios/r6_nested_poll_in_completion.cc — catalog R6 (3c80ca158c, fixed in QEMU
// 2.1): a thread-pool completion callback that waits for another request in a nested
// blocking aio_poll sleeps forever when that request was already done. Follows QEMU
// 2.8.1 thread-pool.c (worker_thread, thread_pool_completion_bh) and async.c
// (aio_bh_poll's atomic_xchg on `scheduled`), with AIO_REVERT_R6 on request
// (--revert R6: the completion BH no longer schedules itself before each callback,
// nor cancels that schedule after it, b7a745dc33).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// Threads: the home thread submits two requests to its context's thread pool and
// polls until both callbacks ran; two workers (spawned by the pool) run the functions,
// each ending with qemu_bh_schedule(completion_bh). The first callback to run waits
// for the other request with `while (!other done) aio_poll(ctx, true)`, as a
// synchronous block-layer wrapper did. The historic interleaving: both workers finish
// before the completion BH runs, so their two schedules are consumed by one
// aio_bh_poll (the xchg clears `scheduled` once). The BH's scan reaches the first DONE
// request, calls its callback, and the nested poll is left with the other DONE
// request and nobody to schedule the BH again. Reverted, it sleeps in ppoll while a
// request is done and uncompleted: a lost wakeup (the idle workers exit after 10 s of
// virtual time, then nothing can run). With the fix (2.1+, and 2.8.1), the BH is
// scheduled again before each callback, so the nested poll runs it (nested) and
// completes the other request.
//
// Verdict: revert=R6 → lost wakeup (found by every strategy); default (2.8.1) → none,
// DFS exhausted at exhaust_bound. With --races the default stays clean (the race on
// the pool's head / refcnt does not arise: both are home-thread only).
#include <string>

#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

struct R6State;

struct R6Request {
  R6State* s = nullptr;
  Atomic<bool> func_returned{false};  // set by the worker, as func's last act
  Atomic<bool> completed{false};      // set by the callback (home thread)
};

struct R6State {
  sim::SimContext* c = nullptr;
  AioContext* ctx = nullptr;
  int callbacks = 0;  // home thread only
  R6Request reqs[2];
};

int R6Func(void* opaque) {
  atomic_set(&static_cast<R6Request*>(opaque)->func_returned, true);
  return 0;
}

void R6Done(void* opaque, int) {
  auto* r = static_cast<R6Request*>(opaque);
  R6State* s = r->s;
  s->c->Check(!atomic_read(&r->completed), "a completion callback ran twice");
  atomic_set(&r->completed, true);
  if (++s->callbacks == 1) {
    // The first callback needs the other request's result: wait for it.
    R6Request* other = r == &s->reqs[0] ? &s->reqs[1] : &s->reqs[0];
    while (!atomic_read(&other->completed)) aio_poll(s->ctx, true);
  }
}

sim::Body MakeBody(const Options& options) {
  const uint32_t switches = SwitchBits(options);
  return [switches, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    R6State s;
    s.c = &c;
    s.ctx = ctx;
    c.SetPending([&s, ctx] {
      for (const R6Request& r : s.reqs) {
        if (r.func_returned.PlainLoad() && !r.completed.PlainLoad()) {
          return std::string(
              "a thread-pool request is done but its callback has not run");
        }
      }
      return PendingBhs(ctx);
    });
    ThreadPool* pool = aio_get_thread_pool(ctx);
    for (R6Request& r : s.reqs) {
      r.s = &s;
      thread_pool_submit_aio(pool, R6Func, &r, R6Done, &r);
    }
    while (s.callbacks < 2) aio_poll(ctx, true);
    aio_context_unref(ctx);  // thread_pool_free stops the workers
  };
}

}  // namespace

Scenario MakeR6() {
  Scenario s;
  s.id = "R6";
  s.title =
      "thread pool: a nested aio_poll in a completion callback misses a done request";
  s.summary =
      "Two pool requests finish before the completion BH runs, so one aio_bh_poll "
      "consumes both schedules. The first callback waits for the other request in a "
      "nested blocking aio_poll. With the fix reverted nobody schedules the BH again and "
      "the nested poll sleeps with a done request (a lost wakeup); since 2.1 the BH "
      "schedules itself before each callback and the nested poll completes it. Modern "
      "(QEMU 10.2): the same self-schedule; nothing is found.";
  s.source = "QEMU-SEMANTICS.md 1.7; 3, R6";
  s.reverts = {"R6"};
  s.expected = FailsWith(AIO_REVERT_R6, sim::FailureKind::kLostWakeup);
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"R6"};
  s.exhaust_bound = 1;  // DFS complete at 1 preemption; 2 exceeds 2,000,000 executions
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
