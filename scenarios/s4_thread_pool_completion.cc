// scenarios/s4_thread_pool_completion.cc — claim S4: "a BH is meant for the second
// half of an asynchronous job: the first half completes elsewhere, the second half
// runs in the Aio context thread". The worked example is the thread pool. Follows QEMU
// 2.8.1 thread-pool.c: thread_pool_submit_aio, worker_thread (func, ret, smp_wmb,
// state = DONE, qemu_bh_schedule(completion_bh) under pool->lock) and
// thread_pool_completion_bh (the restart scan, the self-schedule before each callback
// and the cancel after it).
// SPDX-License-Identifier: GPL-2.0-or-later
//
// The home thread submits requests and polls until every callback has run; workers
// run the functions. Checked (contract C5): each function ran exactly once, in a
// worker; each callback ran exactly once, in the home thread, with its function's
// return value; and the home thread never waits forever (a lost completion would be a
// lost wakeup). mode=nested: the first callback to run waits for the other request
// with a nested blocking aio_poll, the situation R6 was about (the completion BH
// reschedules itself before each callback, so the nested poll still completes it).
//
// mode=nested is the default, so that `aiosim check` also runs it with --revert R6
// (3c80ca158c taken out: the BH no longer schedules itself before each callback): if
// both requests are done before the BH runs, one aio_bh_poll consumes both schedules,
// the nested poll sleeps with a done request, a lost wakeup. scenarios/r6_*.cc is that
// interleaving alone; here it is the contract's counter-example.
//
// Verdict: confirmed. Nothing is found in any mode with 2.8.1 (DFS exhausted at 1
// preemption; 2 is beyond 2,000,000 executions), nor with --races; with --revert R6,
// mode=nested → lost wakeup (found with no preemption: the default schedule runs both
// workers to completion before the home thread polls again); modes two and one do not
// nest, and the revert changes nothing there.
#include <string>

#include "core/aio/aio.h"
#include "core/aio/thread_pool.h"
#include "scenarios/catalog.h"
#include "scenarios/util.h"

namespace aiosim::scenarios {
namespace {

using namespace aiosim::core;  // NOLINT

constexpr int kMaxRequests = 2;

struct S4State;

struct S4Request {
  S4State* s = nullptr;
  int input = 0;
  Atomic<int> func_runs{0};
  Atomic<int> func_thread{-1};
  Atomic<bool> completed{false};  // for the pending predicate
  int completions = 0;            // home thread only
  int ret = 0;
  ThreadId cb_thread = -1;
};

struct S4State {
  sim::SimContext* c = nullptr;
  AioContext* ctx = nullptr;
  ThreadId home = -1;
  bool nested = false;
  int requests = 0;
  int completions = 0;
  S4Request reqs[kMaxRequests];
};

int S4Func(void* opaque) {
  auto* r = static_cast<S4Request*>(opaque);
  atomic_inc(&r->func_runs);
  atomic_set(&r->func_thread, r->s->c->platform().threads().Current());
  return 100 + r->input;
}

void S4Done(void* opaque, int ret) {
  auto* r = static_cast<S4Request*>(opaque);
  S4State* s = r->s;
  s->c->Check(r->completions == 0, "a thread-pool request's callback ran twice");
  r->completions++;
  atomic_set(&r->completed, true);
  r->ret = ret;
  r->cb_thread = s->c->platform().threads().Current();
  s->completions++;
  // The first callback waits for the other request inside a nested aio_poll, as a
  // block driver's synchronous wrapper would.
  if (s->nested && s->completions == 1) {
    while (s->completions < s->requests) aio_poll(s->ctx, true);
  }
}

sim::Body MakeBody(const Options& options) {
  const std::string mode = OptionValue(options, "mode");
  const uint32_t switches = SwitchBits(options);
  return [mode, switches, options](sim::SimContext& c) {
    AioRuntime rt(&c.platform(), switches);
    AioContext* ctx = aio_context_new(&rt, ContextOptions(options));
    S4State s;
    // Pending: a request whose function returned (its worker then sets THREAD_DONE
    // and schedules the completion BH without blocking) and whose callback has not run.
    c.SetPending([&s, ctx] {
      for (int i = 0; i < s.requests; i++) {
        if (s.reqs[i].func_runs.PlainLoad() > 0 && !s.reqs[i].completed.PlainLoad()) {
          return std::string(
              "a thread-pool request is done but its callback has not run");
        }
      }
      return PendingBhs(ctx);
    });
    s.c = &c;
    s.ctx = ctx;
    s.home = c.platform().threads().Current();
    s.nested = mode == "nested";
    s.requests = mode == "one" ? 1 : 2;
    ThreadPool* pool = aio_get_thread_pool(ctx);
    for (int i = 0; i < s.requests; i++) {
      s.reqs[i].s = &s;
      s.reqs[i].input = i;
      thread_pool_submit_aio(pool, S4Func, &s.reqs[i], S4Done, &s.reqs[i]);
    }
    while (s.completions < s.requests) aio_poll(ctx, true);

    for (int i = 0; i < s.requests; i++) {
      const S4Request& r = s.reqs[i];
      c.Check(atomic_read(&r.func_runs) == 1,
              "a request's function did not run exactly once");
      c.Check(atomic_read(&r.func_thread) != s.home,
              "a request's function ran in the home thread, not in a worker");
      c.Check(r.completions == 1, "a request's callback did not run exactly once");
      c.Check(r.cb_thread == s.home, "a completion callback ran outside the home thread");
      c.Check(r.ret == 100 + r.input,
              "a callback did not get its function's return value");
    }
    ThreadPoolStats stats = thread_pool_stats(pool);
    c.Check(stats.requests == 0, "a completed request is still on pool->head");
    c.Check(stats.cur_threads <= s.requests,
            "the pool started more workers than requests were submitted");
    aio_context_unref(ctx);  // thread_pool_free stops the workers
  };
}

}  // namespace

Scenario MakeS4() {
  Scenario s;
  s.id = "S4";
  s.title = "thread pool: every completion runs exactly once, in the home thread";
  s.summary =
      "The home thread submits requests to the thread pool and polls; workers run the "
      "functions and schedule the completion BH, whose callbacks run in the home "
      "thread. Confirmed (contract C5): every function runs once in a worker and every "
      "callback exactly once in the home thread with that function's result, with no "
      "lost completion, also when a callback waits for the other request in a nested "
      "aio_poll (R6's situation; the completion BH reschedules itself). Modern (QEMU "
      "10.2): the same, with the condition-variable pool.";
  s.source = "SEED-CLAIMS.md S4; QEMU-SEMANTICS.md 1.7, contract C5; R6";
  s.options = {
      {"mode",
       {"nested", "two", "one"},
       "two requests, the first callback waiting for the other in a nested aio_poll; "
       "two; or one"}};
  s.reverts = {"R6"};
  s.expected = [](const Options& o) {
    return OptionValue(o, "mode") == "nested" && (SwitchBits(o) & AIO_REVERT_R6) != 0
               ? sim::FailureKind::kLostWakeup
               : sim::FailureKind::kNone;
  };
  s.modern_status = Scenario::ModernStatus::kRuns;
  s.modern_why.clear();
  s.catalog = {"S4", "R6"};
  s.exhaust_bound = 1;  // DFS complete at 1 preemption; 2 exceeds 2,000,000 executions
  s.make = MakeBody;
  return s;
}

}  // namespace aiosim::scenarios
